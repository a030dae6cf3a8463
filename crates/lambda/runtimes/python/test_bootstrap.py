"""Tests for bootstrap.py, Stratus's Python runtime interface client.

Each test starts a fake Lambda Runtime API in this process (127.0.0.1, port
0), writes a handler folder under tmp_path, runs bootstrap.py as a child
process against it, and asserts the exact requests the child makes.

Run with:  .venv/bin/python -m pytest crates/lambda/runtimes/python -q
Set STRATUS_TEST_PYTHON to an interpreter path to run the child under another
Python (for example /root/.pyenv/versions/3.8.18/bin/python3).

Every wait is bounded, and child processes are killed by PID when a test ends.
"""

import http.server
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.join(HERE, "bootstrap.py")
PYTHON = os.environ.get("STRATUS_TEST_PYTHON") or sys.executable
WAIT = 15.0  # seconds; upper bound of any single wait in these tests
API = "/2018-06-01/runtime"


# ---------------------------------------------------------------------------
# Fake Runtime API
# ---------------------------------------------------------------------------


class Post(object):
    def __init__(self, path, headers, body, stdout=None):
        self.path = path
        self.headers = headers  # lower-cased names
        self.body = body
        # The function's stdout as it was when the post arrived.
        self.stdout = stdout

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "Post(%r, %r, %r)" % (self.path, self.headers, self.body[:200])


class FakeRuntimeAPI(object):
    """A minimal Runtime API: GET next long-polls a queue, POSTs are recorded."""

    def __init__(self, chunked=False, close_after_post=False):
        self.invocations = queue.Queue()
        self.posts = queue.Queue()
        self.stopping = threading.Event()
        self.chunked = chunked
        self.close_after_post = close_after_post
        self.connections = []
        self.connection_count = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                http.server.BaseHTTPRequestHandler.setup(self)
                with fake.lock:
                    fake.connections.append(self.connection)
                    fake.connection_count += 1

            def do_GET(self):
                if self.path != API + "/invocation/next":
                    self.send_error(404)
                    return
                while True:
                    if fake.stopping.is_set():
                        self.close_connection = True
                        return
                    try:
                        headers, body = fake.invocations.get(timeout=0.05)
                        break
                    except queue.Empty:
                        continue
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                if fake.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(body), 7):
                        piece = body[i:i + 7]
                        self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                self.wfile.flush()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                fn = getattr(fake, "fn", None)
                fake.posts.put(Post(self.path, headers, body, fn.stdout_now() if fn else None))
                payload = b'{"status":"OK"}'
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                if fake.close_after_post:
                    # Drop the keep-alive connection without saying so, as a
                    # server with an idle timeout would.
                    self.close_connection = True

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()
        self.stopped = False

    def invoke(self, event=b"{}", request_id=None, content_type="application/json",
               trace_id=None, client_context=None, cognito_identity=None, tenant_id=None,
               deadline_ms=None, arn="arn:aws:lambda:us-east-1:123456789012:function:test-fn"):
        if not isinstance(event, bytes):
            event = json.dumps(event).encode("utf-8")
        request_id = request_id or str(uuid.uuid4())
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms if deadline_ms is not None
                                              else int(time.time() * 1000) + 60000),
            "Lambda-Runtime-Invoked-Function-Arn": arn,
        }
        if content_type is not None:
            headers["Content-Type"] = content_type
        if trace_id is not None:
            headers["Lambda-Runtime-Trace-Id"] = trace_id
        if client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = client_context
        if cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = cognito_identity
        if tenant_id is not None:
            headers["Lambda-Runtime-Aws-Tenant-Id"] = tenant_id
        self.invocations.put((headers, event))
        return request_id

    def wait_post(self, timeout=WAIT):
        try:
            return self.posts.get(timeout=timeout)
        except queue.Empty:
            fn = getattr(self, "fn", None)
            detail = ""
            if fn is not None:
                detail = "; process rc=%r stdout=%r stderr=%r" % (
                    fn.proc.poll(), fn.stdout_now()[-2000:], fn.stderr_now()[-2000:])
            raise AssertionError("no POST from the function within %ss%s" % (timeout, detail))

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()  # no more connections are accepted
        self.stopping.set()
        with self.lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(WAIT)


# ---------------------------------------------------------------------------
# Function process
# ---------------------------------------------------------------------------


def _relay(ours, address):
    """Carry a handed socket-pair end to a TCP connection of its own to the
    fake API, both ways, until either side closes (see FunctionProcess's
    ``direct``)."""
    host, _, port = address.rpartition(":")
    upstream = socket.create_connection((host, int(port)), timeout=WAIT)
    upstream.settimeout(None)

    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    for src, dst in ((ours, upstream), (upstream, ours)):
        threading.Thread(target=pump, args=(src, dst), daemon=True).start()
    return upstream


class FunctionProcess(object):
    def __init__(self, task_root, handler, api, extra_env=None, script=BOOTSTRAP, direct=False):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "_X_AMZN", "PYTEST")) and k != "PYTHONPATH"}
        env.update({
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": "test-fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/test-fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]abcdef",
            "AWS_REGION": "us-east-1",
        })
        env.update(extra_env or {})
        self.api = api
        # stdout and stderr are files, read as they are at each look: what the
        # bootstrap wrote before it posted a result is there when the post
        # arrives (Post.stdout), as Stratus reads its pipe when a result arrives.
        self._out_path = os.path.join(str(task_root.parent), "stdout-%s" % uuid.uuid4().hex)
        self._err_path = self._out_path.replace("stdout-", "stderr-")
        # direct: the bootstrap gets one end of a socket pair, blocking, with
        # its number in _STRATUS_RUNTIME_FD, as Stratus starts it; this
        # process relays the other end to the fake API.
        pass_fds = ()
        theirs = None
        if direct:
            ours, theirs = socket.socketpair()
            env["_STRATUS_RUNTIME_FD"] = str(theirs.fileno())
            pass_fds = (theirs.fileno(),)
            self.relayed = _relay(ours, api.address)
        try:
            with open(self._out_path, "wb") as out, open(self._err_path, "wb") as err:
                self.proc = subprocess.Popen([PYTHON, "-u", script], env=env, cwd=str(task_root),
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                             pass_fds=pass_fds)
        finally:
            if theirs is not None:
                theirs.close()

    def stdout_now(self):
        with open(self._out_path, "rb") as f:
            return f.read()

    def stderr_now(self):
        with open(self._err_path, "rb") as f:
            return f.read()

    def wait_exit(self, timeout=WAIT):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("function process did not exit within %ss" % timeout)
        return rc

    def finish(self):
        """Stop the fake API (the child then exits) and return (rc, stdout, stderr)."""
        self.api.stop()
        rc = self.wait_exit()
        return rc, self.stdout_now(), self.stderr_now()

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def run(tmp_path):
    """run(files, handler="app.handler", env=None, **api_options) -> (FunctionProcess, FakeRuntimeAPI)."""
    started = []

    def start(files, handler="app.handler", env=None, script=BOOTSTRAP, direct=False, **api_options):
        task_root = tmp_path / "task"
        task_root.mkdir(exist_ok=True)
        for name, text in files.items():
            path = task_root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        api = FakeRuntimeAPI(**api_options)
        fn = FunctionProcess(task_root, handler, api, env, script, direct)
        api.fn = fn
        started.append((fn, api))
        return fn, api

    start.task_root = tmp_path / "task"
    try:
        yield start
    finally:
        for fn, api in started:
            fn.kill()
            api.stop()


def app_path(run):
    return str(run.task_root / "app.py")


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def test_success_posts_marshalled_result(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return {"got": event, "text": "caf\\u00e9", "n": [1, 2.5, True, None]}
    """})
    rid = api.invoke({"a": 1})
    post = api.wait_post()
    assert post.path == API + "/invocation/%s/response" % rid
    assert post.headers["content-type"] == "application/json"
    assert post.body == b'{"got": {"a": 1}, "text": "caf\\u00e9", "n": [1, 2.5, true, null]}'
    rc, out, _ = fn.finish()
    assert rc == 0
    assert out == b""


def test_python312_runtime_does_not_escape_unicode(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return {"text": "caf\\u00e9"}
    """}, env={"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"})
    api.invoke()
    assert api.wait_post().body == '{"text": "café"}'.encode("utf-8")


def test_none_result_is_null(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return None
    """})
    api.invoke()
    assert api.wait_post().body == b"null"


def test_decimal_result(run):
    fn, api = run({"app.py": """
        from decimal import Decimal
        def handler(event, context):
            return {"price": Decimal("1.50"), "nan": Decimal("NaN"), "snan": Decimal("-sNaN"),
                    "list": [Decimal("-0"), Decimal("1E+3"), Decimal("10")], "s": "x"}
    """})
    api.invoke()
    # Decimals are written as their str() (awslambdaric's RawJSON), NaN as NaN.
    assert api.wait_post().body == b'{"price": 1.50, "nan": NaN, "snan": NaN, "list": [-0, 1E+3, 10], "s": "x"}'


def test_bytes_result_is_passed_through(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return b"\\x00raw\\xff"
    """})
    api.invoke()
    post = api.wait_post()
    assert post.body == b"\x00raw\xff"
    assert post.headers["content-type"] == "application/unknown"


def test_bytes_inside_result_are_utf8_strings(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return {"b": "é".encode("utf-8")}
    """})
    api.invoke()
    assert api.wait_post().body == b'{"b": "\\u00e9"}'


def test_non_serialisable_result_is_marshal_error(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return {"s": {1, 2}}
    """})
    rid = api.invoke()
    post = api.wait_post()
    assert post.path == API + "/invocation/%s/error" % rid
    assert post.headers["lambda-runtime-function-error-type"] == "Runtime.MarshalError"
    assert post.headers["content-type"] == "application/json"
    assert post.body == (
        b'{"errorMessage": "Unable to marshal response: Object of type set is not JSON serializable", '
        b'"errorType": "Runtime.MarshalError", "requestId": "' + rid.encode() + b'", "stackTrace": []}'
    )
    cause = json.loads(post.headers["lambda-runtime-function-xray-error-cause"])
    assert cause["exceptions"][0]["type"] == "LambdaValidationError"
    rc, out, err = fn.finish()
    assert err == (b"[ERROR] Runtime.MarshalError: Unable to marshal response: Object of type set is "
                   b"not JSON serializable\nTraceback (most recent call last):\n")


# ---------------------------------------------------------------------------
# Handler exceptions
# ---------------------------------------------------------------------------


def test_handler_exception(run):
    fn, api = run({"app.py": """
        def helper():
            raise ValueError("boom")

        def handler(event, context):
            print("before the error")
            helper()
    """})
    rid = api.invoke()
    post = api.wait_post()
    path = app_path(run)
    assert post.path == API + "/invocation/%s/error" % rid
    assert post.headers["lambda-runtime-function-error-type"] == "ValueError"
    body = post.json()
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert body["errorMessage"] == "boom"
    assert body["errorType"] == "ValueError"
    assert body["requestId"] == rid
    # The runtime's own frames are dropped; the user's frames are formatted
    # by traceback.format_list, one string per frame.
    assert body["stackTrace"] == [
        '  File "%s", line 7, in handler\n    helper()\n' % path,
        '  File "%s", line 3, in helper\n    raise ValueError("boom")\n' % path,
    ]
    cause = json.loads(post.headers["lambda-runtime-function-xray-error-cause"])
    assert cause["working_directory"] == str(run.task_root)
    assert cause["exceptions"] == [{
        "message": "boom", "type": "ValueError",
        "stack": [{"label": "handler", "path": path, "line": 7},
                  {"label": "helper", "path": path, "line": 3}],
    }]
    assert cause["paths"] == [path]
    rc, out, err = fn.finish()
    nb = "\u00a0"
    expected_log = (
        "[ERROR] ValueError: boom\n"
        "Traceback (most recent call last):\n"
        + nb * 2 + 'File "%s", line 7, in handler\n' % path
        + nb * 4 + "helper()\n"
        + nb * 2 + 'File "%s", line 3, in helper\n' % path
        + nb * 4 + 'raise ValueError("boom")\n'
    )
    assert err.decode("utf-8") == expected_log
    assert out == b"before the error\n"


def test_exception_with_empty_message(run):
    fn, api = run({"app.py": """
        class MyError(Exception):
            pass
        def handler(event, context):
            raise MyError()
    """})
    api.invoke()
    post = api.wait_post()
    assert post.json()["errorMessage"] == ""
    assert post.json()["errorType"] == "MyError"
    rc, out, err = fn.finish()
    assert err.startswith(b"[ERROR] MyError\nTraceback (most recent call last):\n")


def test_process_survives_errors(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            if event.get("fail"):
                raise RuntimeError("requested")
            return "ok"
    """})
    for fail in (True, False, True, False):
        api.invoke({"fail": fail})
        post = api.wait_post()
        assert post.path.endswith("/error" if fail else "/response")
    assert post.body == b'"ok"'


# ---------------------------------------------------------------------------
# Init errors
# ---------------------------------------------------------------------------


def assert_init_error(fn, api, error_type, message, stack_trace=None):
    post = api.wait_post()
    assert post.path == API + "/init/error"
    assert post.headers["lambda-runtime-function-error-type"] == error_type
    body = post.json()
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert body["errorMessage"] == message
    assert body["errorType"] == error_type
    assert body["requestId"] == ""
    if stack_trace is not None:
        assert body["stackTrace"] == stack_trace
    assert fn.wait_exit() == 1
    out = fn.stdout_now().decode("utf-8")
    err = fn.stderr_now().decode("utf-8")
    # awslambdaric logs its "unhandled exception" warning through the root logger first.
    assert re.match(r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t\tLAMBDA_WARNING: "
                    r"Unhandled exception\. The most likely cause is an issue in the function code\. ", out)
    assert out.endswith("https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\n")
    assert err.startswith("[ERROR] %s: %s\nTraceback (most recent call last):\n" % (error_type, message))
    return body, err


def test_init_error_malformed_handler_name(run):
    fn, api = run({"app.py": "def handler(e, c): pass\n"}, handler="app")
    body, err = assert_init_error(fn, api, "Runtime.MalformedHandlerName",
                                  "Bad handler 'app': not enough values to unpack (expected 2, got 1)", [])
    assert err == ("[ERROR] Runtime.MalformedHandlerName: Bad handler 'app': not enough values to "
                   "unpack (expected 2, got 1)\nTraceback (most recent call last):\n")


def test_init_error_missing_module(run):
    fn, api = run({"other.py": ""})
    assert_init_error(fn, api, "Runtime.ImportModuleError",
                      "Unable to import module 'app': No module named 'app'", [])


def test_init_error_missing_dependency(run):
    fn, api = run({"app.py": "import no_such_dependency\n"})
    assert_init_error(fn, api, "Runtime.ImportModuleError",
                      "Unable to import module 'app': No module named 'no_such_dependency'", [])


def test_init_error_syntax_error(run):
    fn, api = run({"app.py": "x = 1\ny = 2\nz = = 3\n"})
    body, err = assert_init_error(
        fn, api, "Runtime.UserCodeSyntaxError", "Syntax error in module 'app': invalid syntax (app.py, line 3)",
        ['  File "%s" Line 3\n    z = = 3\n' % app_path(run)])
    nb = "\u00a0"
    assert err.endswith("Traceback (most recent call last):\n" + nb * 2 + 'File "%s" Line 3\n' % app_path(run)
                        + nb * 4 + "z = = 3\n")


def test_init_error_handler_not_found(run):
    fn, api = run({"app.py": "def other(e, c): pass\n"})
    assert_init_error(fn, api, "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'", [])


def test_init_error_builtin_module_conflict(run):
    fn, api = run({}, handler="sys.handler")
    assert_init_error(fn, api, "Runtime.BuiltInModuleConflict",
                      "Cannot use built-in module sys as a handler module", [])


def test_init_error_exception_at_import_keeps_its_own_type(run):
    # awslambdaric reports any other exception raised while importing the
    # module with the exception's own type and message (build_fault_result).
    fn, api = run({"app.py": "x = 1\nraise KeyError('missing setting')\n"})
    body, err = assert_init_error(fn, api, "KeyError", "'missing setting'")
    trace = body["stackTrace"]
    assert not any("bootstrap.py" in frame for frame in trace)
    assert "importlib" in trace[0] and "in import_module" in trace[0]
    assert trace[-1] == '  File "%s", line 2, in <module>\n    raise KeyError(\'missing setting\')\n' % app_path(run)


def test_init_error_when_api_is_gone_exits_quietly(tmp_path):
    (tmp_path / "app.py").write_text("def handler(e, c): return 1\n")
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % port, _HANDLER="app.handler",
               LAMBDA_TASK_ROOT=str(tmp_path))
    proc = subprocess.Popen([PYTHON, "-u", BOOTSTRAP], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=WAIT)
        assert proc.returncode == 0
        assert out == b"" and err == b""
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(WAIT)


# ---------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------


def test_bad_event_json_is_unmarshal_error(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return "called"
    """})
    rid = api.invoke(b"not json")
    post = api.wait_post()
    assert post.path == API + "/invocation/%s/error" % rid
    assert post.headers["lambda-runtime-function-error-type"] == "Runtime.UnmarshalError"
    assert post.body == (b'{"errorMessage": "Unable to unmarshal input: Expecting value: line 1 column 1 (char 0)", '
                         b'"errorType": "Runtime.UnmarshalError", "requestId": "' + rid.encode()
                         + b'", "stackTrace": []}')
    api.invoke(b'{"a": 1} x')
    assert api.wait_post().json()["errorMessage"] == (
        "Unable to unmarshal input: Extra data: line 1 column 10 - line 1 column 11 (char 9 - 10)")
    api.invoke(b'{"a" 1}')
    assert api.wait_post().json()["errorMessage"] == (
        "Unable to unmarshal input: Expecting ':' delimiter: line 1 column 6 (char 5)")
    api.invoke(b"\xff")
    assert api.wait_post().json()["errorMessage"] == (
        "Unable to unmarshal input: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte")
    api.invoke(b'\xef\xbb\xbf \n{"ok": true}\r\n')
    assert api.wait_post().body == b'"called"'


def test_event_types(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return repr(event)
    """})
    for event, expected in [
        (b'{"k": [1, 2.5, "x", null, true]}', "{'k': [1, 2.5, 'x', None, True]}"),
        (b'"just a string"', "'just a string'"),
        (b"42", "42"),
        (b"null", "None"),
    ]:
        api.invoke(event)
        assert api.wait_post().json() == expected


def test_non_json_content_type_passes_raw_bytes(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return {"type": type(event).__name__, "value": event.decode("latin-1")}
    """})
    api.invoke(b"not json", content_type="text/plain")
    assert api.wait_post().json() == {"type": "bytes", "value": "not json"}
    api.invoke(b"raw", content_type=None)
    assert api.wait_post().json() == {"type": "bytes", "value": "raw"}


def test_large_event_and_result(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return {"echo": event["data"], "n": len(event["data"])}
    """})
    data = "x" * (3 * 1024 * 1024)
    api.invoke({"data": data})
    post = api.wait_post()
    assert post.json() == {"echo": data, "n": len(data)}


def test_chunked_next_response(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return event
    """}, chunked=True)
    for _ in range(2):
        api.invoke({"chunked": "yes", "list": list(range(20))})
        assert api.wait_post().json() == {"chunked": "yes", "list": list(range(20))}


# ---------------------------------------------------------------------------
# Context and environment
# ---------------------------------------------------------------------------

CONTEXT_APP = """
    def handler(event, context):
        cc = context.client_context
        return {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "cognito_identity_id": context.identity.cognito_identity_id,
            "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
            "client_context": None if cc is None else {
                "custom": cc.custom, "env": cc.env,
                "client": None if cc.client is None else {
                    "installation_id": cc.client.installation_id,
                    "app_title": cc.client.app_title,
                    "app_version_name": cc.client.app_version_name,
                    "app_version_code": cc.client.app_version_code,
                    "app_package_name": cc.client.app_package_name,
                },
            },
            "w3c": context.w3c(),
            "tenant_id": context.tenant_id,
            "remaining": context.get_remaining_time_in_millis(),
            "repr": repr(context),
        }
"""


def test_context_fields(run):
    fn, api = run({"app.py": CONTEXT_APP})
    client_context = json.dumps({
        "client": {"installation_id": "inst-1", "app_title": "My App", "app_version_code": "7"},
        "custom": {"k": "v"},
        "env": {"platform": "Android"},
        "w3c": {"traceparent": "00-abc-def-01", "tracestate": 5, "other": "x"},
    })
    cognito = json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"})
    rid = api.invoke(client_context=client_context, cognito_identity=cognito, tenant_id="tenant-7",
                     deadline_ms=int(time.time() * 1000) + 30000)
    got = api.wait_post().json()
    arn = "arn:aws:lambda:us-east-1:123456789012:function:test-fn"
    assert 25000 < got.pop("remaining") <= 30000
    assert got == {
        "aws_request_id": rid,
        "function_name": "test-fn",
        "function_version": "$LATEST",
        "invoked_function_arn": arn,
        "memory_limit_in_mb": "256",
        "log_group_name": "/aws/lambda/test-fn",
        "log_stream_name": "2024/01/01/[$LATEST]abcdef",
        "cognito_identity_id": "id-1",
        "cognito_identity_pool_id": "pool-1",
        "client_context": {
            "custom": {"k": "v"}, "env": {"platform": "Android"},
            "client": {"installation_id": "inst-1", "app_title": "My App", "app_version_name": None,
                       "app_version_code": "7", "app_package_name": None},
        },
        "w3c": {"traceparent": "00-abc-def-01"},
        "tenant_id": "tenant-7",
        "repr": (
            "LambdaContext([aws_request_id=%s,log_group_name=/aws/lambda/test-fn,"
            "log_stream_name=2024/01/01/[$LATEST]abcdef,function_name=test-fn,memory_limit_in_mb=256,"
            "function_version=$LATEST,invoked_function_arn=%s,"
            "client_context=ClientContext([custom={'k': 'v'},env={'platform': 'Android'},"
            "client=Client([installation_id=inst-1,app_title=My App,app_version_name=None,"
            "app_version_code=7,app_package_name=None])]),"
            "identity=CognitoIdentity([cognito_identity_id=id-1,cognito_identity_pool_id=pool-1]),"
            "tenant_id=tenant-7])" % (rid, arn)
        ),
    }


def test_context_without_optional_headers(run):
    fn, api = run({"app.py": CONTEXT_APP})
    rid = api.invoke(deadline_ms=int(time.time() * 1000) - 5000)
    got = api.wait_post().json()
    assert got["client_context"] is None
    assert got["cognito_identity_id"] is None and got["cognito_identity_pool_id"] is None
    assert got["tenant_id"] is None
    assert got["w3c"] == {}
    assert got["remaining"] == 0  # past deadlines clamp to 0
    assert got["repr"].endswith(",client_context=None,identity=CognitoIdentity([cognito_identity_id=None,"
                                "cognito_identity_pool_id=None]),tenant_id=None])")


def test_bad_client_context_json(run):
    fn, api = run({"app.py": CONTEXT_APP})
    rid = api.invoke(client_context="{not json")
    post = api.wait_post()
    assert post.headers["lambda-runtime-function-error-type"] == "Runtime.LambdaContextUnmarshalError"
    assert post.json() == {
        "errorMessage": "Unable to parse Client Context JSON: Expecting property name enclosed in double "
                        "quotes: line 1 column 2 (char 1)",
        "errorType": "Runtime.LambdaContextUnmarshalError", "requestId": rid, "stackTrace": []}


def test_trace_id_env_var(run):
    fn, api = run({"app.py": """
        import os
        def handler(event, context):
            return os.environ.get("_X_AMZN_TRACE_ID")
    """})
    trace = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
    api.invoke(trace_id=trace)
    assert api.wait_post().json() == trace
    api.invoke()  # no trace header: the variable is removed
    assert api.wait_post().json() is None


def test_handler_path_with_slash_and_package(run):
    fn, api = run({
        "src/pkg/__init__.py": "",
        "src/pkg/mod.py": """
            import sys
            def handler(event, context):
                return {"name": __name__, "path0": sys.path[0]}
        """,
    }, handler="src/pkg/mod.handler")
    api.invoke()
    assert api.wait_post().json() == {"name": "src.pkg.mod", "path0": str(run.task_root)}


def test_pythonpath_entries_are_kept(run, tmp_path):
    lib = tmp_path / "layer"
    lib.mkdir()
    (lib / "layerlib.py").write_text("VALUE = 'from layer'\n")
    fn, api = run({"app.py": """
        import layerlib, sys
        def handler(event, context):
            return [layerlib.VALUE, sys.path[0]]
    """}, env={"PYTHONPATH": str(lib)})
    api.invoke()
    assert api.wait_post().json() == ["from layer", str(run.task_root)]


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_each_invocations_output_is_written_before_its_result(run):
    fn, api = run({"app.py": """
        import logging, sys
        logging.basicConfig(level=logging.DEBUG)  # a no-op on Lambda: root already has a handler
        logger = logging.getLogger()
        def handler(event, context):
            print("print", event["n"])
            sys.stdout.write("partial line ")
            sys.stderr.write("to stderr\\n")
            logger.info("not shown at the default level")
            logger.warning("warned %s", event["n"])
            return event["n"]
    """})
    expected = ""
    for n in (1, 2):
        rid = api.invoke({"n": n})
        post = api.wait_post()
        expected += "print %d\npartial line \\[WARNING\\]\t%s\t%s\twarned %d\n" % (n, TS, rid, n)
        assert re.fullmatch(expected, post.stdout.decode("utf-8")), post.stdout
    rc, out, err = fn.finish()
    assert re.fullmatch(expected, out.decode("utf-8")), out
    assert err == b"to stderr\nto stderr\n"


def test_log_level_env(run):
    fn, api = run({"app.py": """
        import logging
        def handler(event, context):
            logging.getLogger("mylogger").info("info shown")
            logging.debug("debug hidden")
            return 1
    """}, env={"AWS_LAMBDA_LOG_LEVEL": "INFO"})
    rid = api.invoke()
    api.wait_post()
    rc, out, err = fn.finish()
    assert re.fullmatch(r"\[INFO\]\t%s\t%s\tinfo shown\n" % (TS, rid), out.decode())


def test_json_log_format(run):
    fn, api = run({"app.py": """
        import logging
        log = logging.getLogger("app")
        def handler(event, context):
            log.warning("hello %s", "json", extra={"custom": 5})
            print("plain print")
            raise ValueError("bad")
    """}, env={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"})
    rid = api.invoke()
    api.wait_post()
    rc, out, err = fn.finish()
    lines = out.decode().split("\n")
    record = json.loads(lines[0])
    assert re.fullmatch(TS, record.pop("timestamp"))
    assert record == {"level": "WARNING", "message": "hello json", "logger": "app", "requestId": rid, "custom": 5}
    assert lines[1:] == ["plain print", ""]
    error = json.loads(err.decode())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", error.pop("timestamp"))
    assert error["level"] == "ERROR" and error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad" and error["requestId"] == rid
    assert list(error) == ["level", "errorMessage", "errorType", "requestId", "stackTrace"]


def test_logging_not_imported_unless_the_user_does(run):
    fn, api = run({"app.py": """
        import sys
        def handler(event, context):
            heavy = ["logging", "json", "socket", "re", "decimal", "traceback", "enum", "datetime"]
            return sorted(m for m in heavy if m in sys.modules)
    """})
    api.invoke()
    assert api.wait_post().json() == []


def test_logging_imported_inside_handler_is_configured(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            import logging
            logging.error("late import")
            return [type(h).__name__ for h in logging.getLogger().handlers]
    """})
    rid = api.invoke()
    assert api.wait_post().json() == ["LambdaLoggerHandler"]
    rc, out, err = fn.finish()
    assert re.fullmatch(r"\[ERROR\]\t%s\t%s\tlate import\n" % (TS, rid), out.decode())


# ---------------------------------------------------------------------------
# Connection handling and exits
# ---------------------------------------------------------------------------


def test_reconnects_when_server_drops_idle_connection(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return event
    """}, close_after_post=True)
    for n in range(3):
        api.invoke({"n": n})
        assert api.wait_post().json() == {"n": n}
    assert api.connection_count >= 3


def test_exits_quietly_when_server_goes_away(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return "ok"
    """})
    api.invoke()
    api.wait_post()
    # Let the function get back into GET next, then take the API away.
    time.sleep(0.1)
    started = time.time()
    rc, out, err = fn.finish()
    assert rc == 0
    assert time.time() - started < 5
    assert out == b""
    assert err == b""


# ---------------------------------------------------------------------------
# The descriptor Stratus hands its bootstrap (_STRATUS_RUNTIME_FD)
# ---------------------------------------------------------------------------


def test_direct_invocations_go_over_the_handed_descriptor(run):
    fn, api = run({"app.py": """
        import os, re
        FD = None
        def handler(event, context):
            socks = []
            for name in os.listdir("/proc/self/fd"):
                try:  # the listing's own descriptor is gone by now
                    if os.readlink("/proc/self/fd/" + name).startswith("socket:"):
                        socks.append(int(name))
                except OSError:
                    pass
            flags = {}
            for fd in socks:
                with open("/proc/self/fdinfo/%d" % fd) as f:
                    flags[fd] = int(re.search(r"flags:\\s*(\\d+)", f.read()).group(1), 8)
            return {
                "event": event,
                "fd_var": os.environ.get("_STRATUS_RUNTIME_FD"),
                "sockets": len(socks),
                # O_NONBLOCK (04000) is not set: reads block.
                "blocking": all(not f & 0o4000 for f in flags.values()),
                # O_CLOEXEC (02000000): programs the function runs do not get it.
                "cloexec": all(f & 0o2000000 for f in flags.values()),
            }
    """}, direct=True)
    api.invoke({"n": 1})
    body = api.wait_post().json()
    assert body == {"event": {"n": 1}, "fd_var": None, "sockets": 1, "blocking": True, "cloexec": True}
    big = "x" * 300000
    api.invoke({"big": big})
    assert api.wait_post().json()["event"]["big"] == big
    assert api.connection_count == 1, "only the relayed connection"


def test_direct_errors_and_init_errors_go_over_the_descriptor(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            raise TypeError("bad")
    """}, direct=True)
    api.invoke()
    post = api.wait_post()
    assert post.path.endswith("/error")
    assert post.json()["errorType"] == "TypeError"
    assert api.connection_count == 1
    fn, api = run({"other.py": "x = 1\n"}, handler="other.handler", direct=True)
    post = api.wait_post()
    assert post.path == API + "/init/error"
    assert post.json()["errorType"] == "Runtime.HandlerNotFound"
    assert fn.wait_exit() == 1
    assert api.connection_count == 1


def test_direct_exits_quietly_when_the_handed_socket_closes(run):
    # Only the handed socket goes (the API still listens): Stratus is taken to be gone, and no
    # TCP connection is tried.
    fn, api = run({"app.py": """
        def handler(event, context):
            return "ok"
    """}, direct=True)
    api.invoke()
    api.wait_post()
    time.sleep(0.1)  # back in GET next
    fn.relayed.shutdown(socket.SHUT_RDWR)
    assert fn.wait_exit() == 0
    assert (fn.stdout_now(), fn.stderr_now()) == (b"", b"")
    assert api.connection_count == 1


def test_direct_socket_closing_before_the_next_event_does_not_move_to_tcp(run):
    # The answer to the POST arrives, then the handed socket closes before the answer to the
    # GET next that went out with it: Stratus is gone; the bootstrap must not dial
    # AWS_LAMBDA_RUNTIME_API (another instance may be listening there by then).
    fn, api = run({"app.py": """
        def handler(event, context):
            return "ok"
    """}, direct=True, close_after_post=True)
    api.invoke()
    assert api.wait_post().json() == "ok"
    assert fn.wait_exit() == 0
    assert fn.stderr_now() == b""
    assert api.connection_count == 1


def test_direct_without_a_usable_descriptor_connects_over_tcp(run):
    # A value that is no open descriptor: the bootstrap uses AWS_LAMBDA_RUNTIME_API.
    fn, api = run({"app.py": """
        import os
        def handler(event, context):
            return os.environ.get("_STRATUS_RUNTIME_FD")
    """}, env={"_STRATUS_RUNTIME_FD": "987"})
    api.invoke()
    assert api.wait_post().json() is None
    assert api.connection_count == 1


def test_sys_exit_in_handler_exits_process(run):
    fn, api = run({"app.py": """
        import sys
        def handler(event, context):
            print("bye")
            sys.exit(3)
    """})
    api.invoke()
    assert fn.wait_exit() == 3
    assert api.posts.empty()
    assert fn.stdout_now() == b"bye\n"


def test_sigterm_exits_quietly(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return 1
    """})
    api.invoke()
    api.wait_post()
    fn.proc.send_signal(signal.SIGTERM)
    assert fn.wait_exit() == -signal.SIGTERM
    assert fn.stderr_now() == b""


def test_sigint_exits_quietly(run):
    fn, api = run({"app.py": """
        def handler(event, context):
            return 1
    """})
    api.invoke()
    api.wait_post()
    time.sleep(0.1)  # back in GET next
    fn.proc.send_signal(signal.SIGINT)
    assert fn.wait_exit() == 130
    assert fn.stderr_now() == b""


def test_runs_from_precompiled_pyc(run, tmp_path):
    # Compiling the script costs about 10 ms per cold start, so Stratus may
    # launch a .pyc compiled once per interpreter. Behaviour must not change.
    pyc = str(tmp_path / "bootstrap.pyc")
    subprocess.run([PYTHON, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], "
                    "doraise=True)", BOOTSTRAP, pyc], check=True, timeout=WAIT)
    fn, api = run({"app.py": """
        import sys
        def handler(event, context):
            if event.get("fail"):
                raise ValueError("from pyc")
            return sys.path[0]
    """}, script=pyc)
    api.invoke()
    assert api.wait_post().json() == str(run.task_root)
    api.invoke({"fail": True})
    body = api.wait_post().json()
    assert body["errorType"] == "ValueError"
    assert len(body["stackTrace"]) == 1 and app_path(run) in body["stackTrace"][0]


def test_next_goes_out_in_the_same_write_as_the_result(tmp_path):
    # HTTP/1.1 pipelining: GET next follows the POST before the POST is
    # answered, and the answers are read in order.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(WAIT)
    task_root = tmp_path / "task"
    task_root.mkdir()
    (task_root / "app.py").write_text("def handler(event, context):\n    return event\n")
    api = type("Api", (), {"address": "127.0.0.1:%d" % listener.getsockname()[1]})()
    fn = FunctionProcess(task_root, "app.handler", api)
    conn = None
    next_request = ("GET %s/invocation/next HTTP/1.1\r\n" % API).encode()

    def read_until(data, marker):
        deadline = time.time() + WAIT
        while marker not in data and time.time() < deadline:
            chunk = conn.recv(65536)
            assert chunk, "connection closed; got %r" % data
            data += chunk
        assert marker in data, data
        return data

    def event(n):
        body = json.dumps({"n": n}).encode()
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: r%d\r\n"
                b"Lambda-Runtime-Deadline-Ms: %d\r\nContent-Length: %d\r\n\r\n%s"
                % (n, int(time.time() * 1000) + 60000, len(body), body))

    try:
        conn, _ = listener.accept()
        conn.settimeout(WAIT)
        assert read_until(b"", b"\r\n\r\n").startswith(next_request)
        conn.sendall(event(1))
        data = read_until(b"", next_request)
        assert data.startswith(("POST %s/invocation/r1/response HTTP/1.1\r\n" % API).encode())
        assert data.index(b'{"n": 1}') < data.index(next_request)
        accepted = b"HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}"
        # The 202 and the next event in one segment: both are read.
        conn.sendall(accepted + event(2))
        data = read_until(b"", next_request)
        assert data.startswith(("POST %s/invocation/r2/response HTTP/1.1\r\n" % API).encode())
        assert b'{"n": 2}' in data
        assert fn.proc.poll() is None
    finally:
        fn.kill()
        if conn is not None:
            conn.close()
        listener.close()
