"""Helpers for the Lambda end-to-end tests (``test_lambda*.py``).

* ``copy_app``: a temporary copy of an app under ``tests/e2e/apps/`` (tests rewrite code in it,
  and ``stratus start`` writes ``APP_DIR/.stratus/server.json`` there, never into the repo).
* ``LambdaServer``: one ``stratus start APP_DIR`` child process, stopped by PID only.
* ``lambda_client`` / ``ddb_client``: boto3 clients (no retries) pointed at a server.
* ``run_invoke``: ``stratus invoke`` as a subprocess, with a time limit.
* ``wait_until``, ``pid_alive``, ``wait_pids_gone``: bounded polling.
* ``parse_report``, ``tail_log``: the REPORT line and the ``LogType: Tail`` log.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

from support import REGION, free_port, stratus_bin

APPS_DIR = Path(__file__).resolve().parent / "apps"
ACCOUNT = "000000000000"
READY_MARKER = "Stratus ready"
READY_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
# The first invocation that needs the AWS SDK for JavaScript may install it with npm.
SDK_INSTALL_TIMEOUT_S = 240.0


def arn(function: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
    return f"{base}:{qualifier}" if qualifier else base


def copy_app(name: str, destination: Path) -> Path:
    """Copies ``apps/NAME`` to ``destination`` (keeping modes) and returns the copy."""
    target = Path(destination)
    shutil.copytree(APPS_DIR / name, target, ignore=shutil.ignore_patterns(".stratus", "__pycache__"))
    for bootstrap in target.rglob("bootstrap"):
        bootstrap.chmod(0o755)
    return target


class LambdaServer:
    """One ``stratus start APP_DIR --in-memory`` child process.

    Everything it prints (stdout and stderr) is collected by a reader thread; function log lines
    appear on stdout as ``[FunctionName] text``.
    """

    def __init__(self, app_dir: Path, extra_args: list[str] | None = None, env: dict | None = None):
        self.app_dir = Path(app_dir)
        self.port = free_port()
        self.api_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.extra_args = list(extra_args or [])
        self.env = env
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    def command(self) -> list[str]:
        return [
            str(stratus_bin()), "start", str(self.app_dir),
            "--host", "127.0.0.1",
            "--aws-port", str(self.port), "--api-port", str(self.api_port),
            "--in-memory", "--async-retry-delays", "0.3,0.3",
            *self.extra_args,
        ]

    def start(self, timeout: float = READY_TIMEOUT_S) -> "LambdaServer":
        binary = stratus_bin()
        if not binary.exists():
            raise RuntimeError(f"Stratus binary not found at {binary}; set STRATUS_BIN")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, errors="replace", env=env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                return self
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise RuntimeError(
                    f"Stratus exited with {self.proc.returncode} before {READY_MARKER!r}.\n"
                    f"Command: {' '.join(self.command())}\nOutput:\n{self.output()}"
                )
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

    def lines(self) -> list[str]:
        with self._lock:
            return [line.rstrip("\n") for line in self._lines]

    def wait_output(self, predicate, timeout: float = 5.0) -> list[str]:
        """Waits (bounded) until ``predicate(lines)`` is true; returns the lines."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if predicate(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"server output did not match within {timeout}s; last lines:\n"
                                     + "\n".join(lines[-40:]))
            time.sleep(0.05)

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = STOP_GRACE_S) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float = STOP_GRACE_S) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds (by PID). Returns the exit code."""
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


def lambda_client(endpoint: str, read_timeout: float = 60.0):
    return boto3.client(
        "lambda", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=read_timeout,
                      tcp_keepalive=True),
    )


def ddb_client(endpoint: str):
    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def invoke(client, function: str, event=None, **kwargs) -> dict:
    """Invokes and returns the boto3 response with ``payload`` (decoded JSON, or the raw bytes
    when they are not JSON) and ``log`` (the decoded ``LogType: Tail`` log) added."""
    if event is not None:
        kwargs["Payload"] = event if isinstance(event, (bytes, str)) else json.dumps(event)
    response = client.invoke(FunctionName=function, **kwargs)
    raw = response["Payload"].read()
    response["raw"] = raw
    try:
        response["payload"] = json.loads(raw) if raw else None
    except ValueError:
        response["payload"] = raw
    if "LogResult" in response:
        response["log"] = base64.b64decode(response["LogResult"]).decode("utf-8", "replace")
    return response


def request_id(response: dict) -> str:
    return response["ResponseMetadata"]["RequestId"]


def run_invoke(args: list[str], input_text: str | None = None, timeout: float = 60.0,
               env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [str(stratus_bin()), "invoke", *args], input=input_text, capture_output=True, text=True,
        timeout=timeout, env=full_env, stdin=None if input_text is not None else subprocess.DEVNULL,
    )


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Polls ``predicate`` (bounded); returns its first truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """Whether /proc/PID exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state field follows the parenthesised command name.
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def wait_pids_gone(pids, timeout: float = 5.0) -> list[int]:
    """Waits (bounded) for every pid to be gone; returns the ones still alive."""
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if pid_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if pid_alive(p)]
    return alive


REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d{2}) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB"
    r"\tMax Memory Used: (?P<used>\d+) MB(?:\tInit Duration: (?P<init>\d+\.\d{2}) ms)?"
)


def parse_report(line: str) -> dict:
    match = REPORT_RE.match(line)
    assert match, f"not a REPORT line as Lambda writes it: {line!r}"
    return match.groupdict()


def log_lines(log: str) -> list[str]:
    return [line for line in log.split("\n") if line.strip()]
