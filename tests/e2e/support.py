"""Helpers shared by the Stratus end-to-end tests.

* ``StratusServer``: start/stop one ``stratus start`` process (by PID only).
* ``free_port``: pick a free loopback port.
* ``make_client`` / ``make_resource``: boto3 objects pointed at an endpoint.
* ``wait_table_active`` / ``wait_table_gone``: bounded polling loops.
* ``expect_error``: call something and return the botocore ClientError.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "stratus"
REGION = "us-east-1"
ACCOUNT = "000000000000"
READY_MARKER = "Stratus ready"
READY_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0


def stratus_bin() -> Path:
    return Path(os.environ.get("STRATUS_BIN", str(DEFAULT_BIN)))


def external_endpoint() -> str | None:
    """The endpoint given by STRATUS_E2E_ENDPOINT, or None to spawn the binary."""
    value = os.environ.get("STRATUS_E2E_ENDPOINT", "").strip()
    return value.rstrip("/") or None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StratusServer:
    """One ``stratus start`` child process.

    Output (stdout+stderr) is collected by a reader thread so that a failure to
    start can be reported with everything the server printed.
    """

    def __init__(self, data_dir: str | os.PathLike | None = None, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------
    def command(self) -> list[str]:
        cmd = [str(stratus_bin()), "start", "--aws-port", str(self.port), "--host", "127.0.0.1"]
        if self.data_dir is None:
            cmd.append("--in-memory")
        else:
            cmd += ["--data-dir", str(self.data_dir)]
        return cmd

    def start(self, timeout: float = READY_TIMEOUT_S) -> "StratusServer":
        binary = stratus_bin()
        if not binary.exists():
            raise RuntimeError(
                f"Stratus binary not found at {binary}. Build it (cargo build) or set STRATUS_BIN, "
                "or set STRATUS_E2E_ENDPOINT to test an already running endpoint."
            )
        self._lines = []
        self._ready.clear()
        self.proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                break
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise RuntimeError(
                    f"Stratus exited with code {self.proc.returncode} before printing "
                    f"{READY_MARKER!r}. Command: {' '.join(self.command())}\nOutput:\n{self.output()}"
                )
        else:
            self.stop()
            raise RuntimeError(
                f"Stratus did not print {READY_MARKER!r} within {timeout:.0f}s. "
                f"Command: {' '.join(self.command())}\nOutput:\n{self.output()}"
            )
        return self

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line)
            if READY_MARKER in line:
                self._ready.set()

    def output(self) -> str:
        return "".join(self._lines)

    def stop(self, grace: float = STOP_GRACE_S) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds. Returns the exit code."""
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

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(STOP_GRACE_S)
        if self._reader is not None:
            self._reader.join(2)

    def health_status(self) -> int:
        with urllib.request.urlopen(f"{self.endpoint}/_stratus/health", timeout=5) as resp:
            return resp.status


# -- boto3 -------------------------------------------------------------------

def client_config(parameter_validation: bool = True) -> Config:
    return Config(
        retries={"max_attempts": 1},
        parameter_validation=parameter_validation,
        connect_timeout=5,
        read_timeout=60,
    )


def make_client(endpoint: str, parameter_validation: bool = True):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=client_config(parameter_validation),
    )


def make_resource(endpoint: str):
    return boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=client_config(),
    )


def wait_table_active(client, name: str, timeout: float = 15.0) -> dict:
    """Poll DescribeTable (bounded) until the table is ACTIVE; return the description."""
    deadline = time.monotonic() + timeout
    while True:
        desc = client.describe_table(TableName=name)["Table"]
        if desc["TableStatus"] == "ACTIVE":
            return desc
        if time.monotonic() > deadline:
            raise AssertionError(f"table {name} not ACTIVE after {timeout}s: {desc['TableStatus']}")
        time.sleep(0.05)


def wait_table_gone(client, name: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.describe_table(TableName=name)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise
        time.sleep(0.05)
    raise AssertionError(f"table {name} still exists after {timeout}s")


def expect_error(fn, *args, **kwargs) -> ClientError:
    """Call ``fn`` and return the ClientError it raises (fail if it succeeds)."""
    with pytest.raises(ClientError) as info:
        fn(*args, **kwargs)
    return info.value


def assert_error(err: ClientError, code: str, message: str | None = None) -> None:
    got_code = err.response["Error"]["Code"]
    got_msg = err.response["Error"].get("Message")
    assert got_code == code, f"expected {code}, got {got_code}: {got_msg}"
    if message is not None:
        assert got_msg == message, f"{code} message:\n  got:      {got_msg!r}\n  expected: {message!r}"
