"""Helpers for the "DynamoDB, complete" end-to-end tests (issue 6): secondary indexes, batches,
transactions, TTL, streams, stream triggers and schedules, table settings, PynamoDB.

* ``tables``: a fixture that creates tables from full CreateTable arguments (indexes, streams,
  tags, ...) and deletes every one of them after the test.
* ``ArgsServer``: ``stratus start`` without an app, with extra flags (``--ttl-sweep-interval``)
  and environment variables (``STRATUS_ITEM_COLLECTION_LIMIT_BYTES``).
* ``AppServer``: ``stratus start APP_DIR`` with ``--in-memory`` or ``--data-dir``, stopped by PID.
* ``streams_client``, ``stream_records``: the DynamoDB Streams API and reading a whole shard.
* ``wait_until``: bounded polling; ``item_size``: DynamoDB's item size for S/N/BOOL attributes.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import REGION, StratusServer, free_port, stratus_bin, wait_table_active, wait_table_gone

ACCOUNT = "000000000000"
READY_MARKER = "Stratus ready"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Polls ``predicate`` until it returns something truthy (bounded); returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s")
        time.sleep(interval)


def error_of(call, *args, **kwargs) -> ClientError:
    """Calls and returns the ClientError raised (fails the test when the call succeeds)."""
    try:
        result = call(*args, **kwargs)
    except ClientError as error:
        return error
    raise AssertionError(f"expected an error, the call succeeded: {str(result)[:400]}")


def code_and_message(error: ClientError) -> tuple[str, str]:
    return error.response["Error"]["Code"], error.response["Error"].get("Message", "")


# -- tables --------------------------------------------------------------------

def key_schema(hash_key: str, range_key: str | None = None) -> list[dict]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def attribute_definitions(**types: str) -> list[dict]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def index(name: str, hash_key: str, range_key: str | None = None, projection: str = "ALL",
          non_key: list[str] | None = None, throughput: tuple[int, int] | None = None) -> dict:
    spec = {"IndexName": name, "KeySchema": key_schema(hash_key, range_key),
            "Projection": {"ProjectionType": projection}}
    if non_key is not None:
        spec["Projection"]["NonKeyAttributes"] = non_key
    if throughput is not None:
        spec["ProvisionedThroughput"] = {"ReadCapacityUnits": throughput[0], "WriteCapacityUnits": throughput[1]}
    return spec


@pytest.fixture
def tables(ddb):
    """``tables(**CreateTable kwargs)`` creates a uniquely named table (unless TableName is given),
    waits until it is ACTIVE and returns its name; each is deleted after the test."""
    created: list[str] = []

    def create(**kwargs) -> str:
        kwargs.setdefault("TableName", unique("ddb6"))
        kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
        ddb.create_table(**kwargs)
        created.append(kwargs["TableName"])
        wait_table_active(ddb, kwargs["TableName"])
        return kwargs["TableName"]

    yield create
    for name in created:
        try:
            ddb.delete_table(TableName=name)
            wait_table_gone(ddb, name)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


# -- item sizes ----------------------------------------------------------------

def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def item_size(item: dict) -> int:
    """DynamoDB's size of an item (low-level form) made of S, N and BOOL attributes."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        (kind, raw), = value.items()
        if kind == "S":
            total += len(raw.encode())
        elif kind == "N":
            total += _number_size(raw)
        elif kind == "BOOL":
            total += 1
        else:
            raise ValueError(f"item_size does not handle {kind}")
    return total


# -- streams -------------------------------------------------------------------

def streams_client(endpoint: str, parameter_validation: bool = True):
    return boto3.client(
        "dynamodbstreams", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, parameter_validation=parameter_validation,
                      connect_timeout=5, read_timeout=30),
    )


def shard_of(streams, stream_arn: str) -> str:
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    assert len(shards) == 1, shards
    return shards[0]["ShardId"]


def stream_records(streams, stream_arn: str, iterator_type: str = "TRIM_HORIZON",
                   sequence: str | None = None, limit: int | None = None, max_calls: int = 200) -> list[dict]:
    """Every record from the iterator on, following NextShardIterator until a call returns
    nothing (bounded by ``max_calls``)."""
    args = {"StreamArn": stream_arn, "ShardId": shard_of(streams, stream_arn), "ShardIteratorType": iterator_type}
    if sequence is not None:
        args["SequenceNumber"] = sequence
    iterator = streams.get_shard_iterator(**args)["ShardIterator"]
    records: list[dict] = []
    for _ in range(max_calls):
        page = streams.get_records(ShardIterator=iterator, **({"Limit": limit} if limit else {}))
        records.extend(page["Records"])
        iterator = page.get("NextShardIterator")
        if not page["Records"] or iterator is None:
            return records
    raise AssertionError(f"the shard was not read to its end in {max_calls} GetRecords calls")


# -- servers -------------------------------------------------------------------

class ArgsServer(StratusServer):
    """``stratus start --in-memory`` (no app) with extra flags and, when ``env`` is given, extra
    environment variables (set through ``env NAME=VALUE ...``, which execs Stratus, so the PID
    stopped is Stratus's own)."""

    def __init__(self, extra_args: list[str], env: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.extra_args = list(extra_args)
        self.env = dict(env or {})

    def command(self) -> list[str]:
        prefix = ["env", *(f"{name}={value}" for name, value in self.env.items())] if self.env else []
        return prefix + super().command() + self.extra_args


class AppServer:
    """One ``stratus start APP_DIR`` child process (``--in-memory`` unless ``data_dir``),
    stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, app_dir: Path, data_dir: Path | None = None, extra_args: list[str] | None = None):
        self.app_dir = Path(app_dir)
        self.data_dir = data_dir
        self.port = free_port()
        self.api_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.extra_args = list(extra_args or [])
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    def command(self) -> list[str]:
        storage = ["--data-dir", str(self.data_dir)] if self.data_dir is not None else ["--in-memory"]
        return [str(stratus_bin()), "start", str(self.app_dir), "--host", "127.0.0.1",
                "--aws-port", str(self.port), "--api-port", str(self.api_port), *storage, *self.extra_args]

    def start(self, timeout: float = 30.0) -> "AppServer":
        if not stratus_bin().exists():
            raise RuntimeError(f"Stratus binary not found at {stratus_bin()}; set STRATUS_BIN")
        self._lines = []
        self._ready.clear()
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                return self
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise RuntimeError(f"Stratus exited with {self.proc.returncode} before {READY_MARKER!r}.\n"
                                   f"Command: {' '.join(self.command())}\nOutput:\n{self.output()}")
        self.stop()
        raise RuntimeError(f"Stratus not ready within {timeout:.0f}s.\nOutput:\n{self.output()}")

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._lines.append(line)
            if READY_MARKER in line:
                self._ready.set()

    def output(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def stop(self, grace: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(grace)
        if self._reader is not None:
            self._reader.join(2)
        return self.proc.returncode


def read_jsonl(path: Path) -> list[dict]:
    """The JSON lines of a file written by a test function (a torn last line is left out)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


SEQUENCE_RE = re.compile(r"^[0-9]{21,40}$")
