"""Helpers for the API Gateway end-to-end tests (``test_gateway*.py``).

* ``copy_app`` / ``copy_example``: a temporary copy of an app of ``tests/e2e/apps/`` or
  ``examples/`` (``stratus start`` writes ``APP_DIR/.stratus/`` there, never into the repo).
* ``GatewayServer``: one ``stratus start APP_DIR --aws-port P1 --api-port P2 ...`` child process in
  its own session, its output collected, stopped by PID (SIGTERM, then SIGKILL) whatever happened.
* ``run_start_failing``: ``stratus start`` that is expected to refuse to start, with a time limit.
* ``http_request``: one raw HTTP/1.1 request with ``http.client`` (the path is sent exactly as
  given, never normalised; header lines may repeat), answered as a ``Reply`` with every header line.
* ``observed`` / ``wire_event``: the reference data of ``shared/reference/apigw/``: the recorded
  real API Gateway cases and the wire-format event samples.
* ``camel``: the recorded events' .NET PascalCase keys turned into the wire's camelCase.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from support import REPO_ROOT, stratus_bin

APPS_DIR = Path(__file__).resolve().parent / "apps"
EXAMPLES_DIR = REPO_ROOT / "examples"
# shared/ sits beside the repository (../shared/reference/apigw/ from the checkout).
REFERENCE_DIR = Path(
    os.environ.get("STRATUS_APIGW_REFERENCE", str(REPO_ROOT.parent / "shared" / "reference" / "apigw"))
)
ACCOUNT = "000000000000"
REGION = "us-east-1"
READY_MARKER = "Stratus ready"
READY_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
REQUEST_TIMEOUT_S = 30.0
# A first invocation may have to install the AWS SDK (boto3 / @aws-sdk) into Stratus's cache.
FIRST_CALL_TIMEOUT_S = 240.0


# -- apps ------------------------------------------------------------------------------------------

def _copy(source: Path, destination: Path) -> Path:
    target = Path(destination)
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns(".stratus", "__pycache__", "node_modules", ".aws-sam"),
    )
    for bootstrap in target.rglob("bootstrap"):
        bootstrap.chmod(0o755)
    return target


def copy_app(name: str, destination: Path) -> Path:
    """Copies ``tests/e2e/apps/NAME`` to ``destination`` (a new folder) and returns it."""
    return _copy(APPS_DIR / name, destination)


def copy_example(name: str, destination: Path) -> Path:
    """Copies ``examples/NAME`` to ``destination`` (a new folder) and returns it."""
    return _copy(EXAMPLES_DIR / name, destination)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (all bound at once, so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# -- the server ------------------------------------------------------------------------------------

class GatewayServer:
    """One ``stratus start APP_DIR`` child process serving the app's APIs on ``api_port``.

    Stdout and stderr are collected by a reader thread (``output()``, ``lines()``), so a failure
    can show everything the server printed. The process runs in a session of its own: ``stop()``
    sends SIGTERM to its PID, and only if it has not exited after a grace period SIGKILL to it
    and to what is left of its own process group (its function processes).
    """

    def __init__(self, app_dir: Path, args: list[str] | tuple[str, ...] = (), *,
                 data_dir: Path | None = None, in_memory: bool = True):
        self.app_dir = Path(app_dir)
        self.args = list(args)
        self.data_dir = data_dir
        self.in_memory = in_memory and data_dir is None
        self.aws_port, self.api_port = free_ports(2)
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.aws = f"http://127.0.0.1:{self.aws_port}"
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._reader: threading.Thread | None = None

    def command(self) -> list[str]:
        cmd = [
            str(stratus_bin()), "start", str(self.app_dir),
            "--host", "127.0.0.1",
            "--aws-port", str(self.aws_port),
            "--api-port", str(self.api_port),
        ]
        if self.data_dir is not None:
            cmd += ["--data-dir", str(self.data_dir)]
        elif self.in_memory:
            cmd.append("--in-memory")
        return cmd + self.args

    def start(self, timeout: float = READY_TIMEOUT_S) -> "GatewayServer":
        binary = stratus_bin()
        if not binary.exists():
            raise RuntimeError(f"Stratus binary not found at {binary}: build it (cargo build) or set STRATUS_BIN")
        with self._lock:
            self._lines = []
        self.proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        with self._lock:
            while not any(READY_MARKER in line for line in self._lines):
                if self.proc.poll() is not None:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(min(remaining, 0.1))
            ready = any(READY_MARKER in line for line in self._lines)
        if not ready:
            code = self.proc.poll()
            self.stop()
            what = f"exited with code {code}" if code is not None else f"did not get ready within {timeout:.0f} s"
            raise RuntimeError(
                f"stratus start {what}. Command: {' '.join(self.command())}\nOutput:\n{self.output()}"
            )
        return self

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def output(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def wait_for_line(self, pattern: str | re.Pattern, timeout: float = 10.0, start: int = 0) -> re.Match:
        """The first output line (from index ``start``) matching ``pattern``; fails after ``timeout``."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for line in self._lines[start:]:
                    match = regex.search(line)
                    if match:
                        return match
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no output line matched {regex.pattern!r} within {timeout} s; output:\n"
                        + "\n".join(self._lines[-60:])
                    )
                self._changed.wait(min(remaining, 0.1))

    def stop(self, grace: float = STOP_GRACE_S) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(grace)
        # Function processes left behind by a killed server share its process group (its PID).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._reader is not None:
            self._reader.join(5)
        return proc.returncode

    # -- requests ----------------------------------------------------------------------------------
    def request(self, method: str, path: str, headers=None, body: bytes | str | None = None,
                timeout: float = REQUEST_TIMEOUT_S, port: int | None = None) -> "Reply":
        return http_request(port or self.api_port, method, path, headers=headers, body=body, timeout=timeout)

    def get(self, path: str, headers=None, **kwargs) -> "Reply":
        return self.request("GET", path, headers=headers, **kwargs)

    def post_json(self, path: str, value, headers=None, **kwargs) -> "Reply":
        all_headers = [("Content-Type", "application/json"), *_header_list(headers)]
        return self.request("POST", path, headers=all_headers, body=json.dumps(value), **kwargs)


def run_start_failing(app_dir: Path, args: list[str] | tuple[str, ...] = (), timeout: float = 30.0,
                      data_dir: Path | None = None) -> subprocess.CompletedProcess:
    """Runs ``stratus start APP_DIR`` expecting it to refuse to start. Fails the test as soon as
    it prints ``Stratus ready`` instead (the server is then stopped by PID), or if it is still
    running after ``timeout``. Returns the exit code, stdout and stderr."""
    server = GatewayServer(app_dir, args, data_dir=data_dir)
    proc = subprocess.Popen(
        server.command(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}
    ready = threading.Event()

    def read(name, stream):
        for line in stream:
            out[name].append(line)
            if READY_MARKER in line:
                ready.set()

    readers = [threading.Thread(target=read, args=(n, s), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout
    started = False
    try:
        while proc.poll() is None and not ready.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        started = ready.is_set() or proc.poll() is None
        if started:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_GRACE_S)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for reader in readers:
            reader.join(5)
    stdout, stderr = "".join(out["stdout"]), "".join(out["stderr"])
    if started:
        what = "got ready" if ready.is_set() else f"was still running after {timeout} s"
        raise AssertionError(f"stratus start was expected to fail but {what}.\nstdout:\n{stdout}\nstderr:\n{stderr}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


# -- HTTP ------------------------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name``, one per header line, in order."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise AssertionError(f"body is not JSON ({error}): status {self.status}, body {self.body[:500]!r}")

    def __str__(self) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        return f"HTTP {self.status} {self.reason}\n{head}\n\n{self.body[:2000]!r}"


def _header_list(headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, dict):
        return list(headers.items())
    return list(headers)


def http_request(port: int, method: str, path: str, headers=None, body: bytes | str | None = None,
                 timeout: float = REQUEST_TIMEOUT_S, host: str = "127.0.0.1") -> Reply:
    """One request on a new connection. ``path`` goes on the request line exactly as given.
    ``headers`` is a dict or a list of (name, value) pairs (names may repeat; no header is added
    but Host and, with a body, Content-Length)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    pairs = _header_list(headers)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in pairs:
            conn.putheader(name, value)
        if body is not None and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in pairs):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return Reply(response.status, response.reason, list(response.getheaders()), data)
    finally:
        conn.close()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    """Polls ``predicate`` until it returns something truthy (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout} s")
        time.sleep(interval)


# -- reference data --------------------------------------------------------------------------------

def _reference(path: str) -> Path:
    file = REFERENCE_DIR / path
    if not file.is_file():
        raise AssertionError(
            f"reference file {file} is missing: the gateway tests check against shared/reference/apigw/ "
            "(set STRATUS_APIGW_REFERENCE to its folder)"
        )
    return file


def observed() -> dict:
    """``observed-gateway-behaviour.json``: what real API Gateways did (see its ``_about``)."""
    return json.loads(_reference("observed-gateway-behaviour.json").read_text())


def wire_event(name: str) -> dict:
    """A wire-format sample of ``events/`` (e.g. ``aws_lambda_events/example-apigw-request.json``)."""
    return json.loads(_reference(f"events/{name}").read_text())


REST = "REST API (v1), Lambda proxy integration, payload 1.0"
HTTP_V1 = "HTTP API, Lambda proxy integration, payloadFormatVersion 1.0"
HTTP_V2 = "HTTP API, Lambda proxy integration, payloadFormatVersion 2.0"


def request_cases(gateway: str) -> list[dict]:
    return [c for c in observed()["request_cases"] if c["gateway"] == gateway]


def response_cases(gateway: str) -> list[dict]:
    return [c for c in observed()["response_cases"] if c["gateway"] == gateway]


def camel(value):
    """The recorded events' .NET keys (``RequestContext``) as the wire spells them
    (``requestContext``): first letter lower-cased, recursively. Header maps are left alone."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            wire_key = key[:1].lower() + key[1:]
            if wire_key in ("headers", "multiValueHeaders", "queryStringParameters",
                            "multiValueQueryStringParameters", "pathParameters", "stageVariables"):
                out[wire_key] = item
            else:
                out[wire_key] = camel(item)
        return out
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def recorded_request(case: dict) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    """The HTTP request of a recorded case as it went over the wire: (method, url, headers, body).

    The .NET HttpClient that sent them joins repeated header names into one line with ", "
    (which is why V2_SimpleGetRequest's event shows ``accept: text/html, application/json``), so
    they are joined the same way here."""
    request = case["http_request"]
    joined: dict[str, tuple[str, list[str]]] = {}
    for name, value in request.get("headers", []):
        key = name.lower()
        if key in joined:
            joined[key][1].append(value)
        else:
            joined[key] = (name, [value])
    headers = [(name, ", ".join(values)) for name, values in joined.values()]
    body = bytes(request["body_bytes"]) if "body_bytes" in request else None
    return request["method"], request["url"], headers, body


# Headers the gateway itself adds to a response, with values that differ per request.
VOLATILE_RESPONSE_HEADERS = {
    "date", "connection", "content-length", "x-amzn-requestid", "x-amz-apigw-id", "x-amzn-trace-id",
    "apigw-requestid",
}


def expected_response_headers(case: dict) -> dict[str, list[str]]:
    """The recorded response's headers (lower-case name → values in order), less the volatile ones."""
    headers = case["observed_http_response_dotnet_serialized"]["Headers"]
    return {name.lower(): values for name, values in headers.items() if name.lower() not in VOLATILE_RESPONSE_HEADERS}


def lambda_result_bytes(case: dict) -> bytes:
    """What the recorded case's Lambda returned, as the bytes of its result."""
    if "lambda_raw_payload" in case:
        return case["lambda_raw_payload"].encode("utf-8")
    return json.dumps(case["lambda_output"]).encode("utf-8")
