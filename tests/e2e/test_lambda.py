"""Lambda end-to-end tests against one ``stratus start`` of ``apps/functions`` (a temporary copy):
results, context, environment, every kind of error, timeouts, memory limits, crashes,
concurrency and throttling, asynchronous invocations with retries, logs, the Invoke API's own
errors, GetFunction / ListFunctions, the Runtime API as a ``provided`` runtime sees it, layers,
the AWS SDKs reaching Stratus from inside functions, hot reload and ``stratus invoke`` through
the running server.

AWS's documented behaviour is the expectation throughout (sources are named in the tests).
"""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambda_support import (
    SDK_INSTALL_TIMEOUT_S,
    LambdaServer,
    arn,
    copy_app,
    ddb_client,
    invoke,
    lambda_client,
    log_lines,
    parse_report,
    request_id,
    run_invoke,
    wait_pids_gone,
    wait_until,
)

pytestmark = pytest.mark.stratus_only

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LOG_STREAM_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
TRACE_RE = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$")
HOST_MARKER = "STRATUS_E2E_HOST_MARKER"


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app_dir(tmp_path_factory) -> Path:
    return copy_app("functions", tmp_path_factory.mktemp("lambda") / "functions")


@pytest.fixture(scope="module")
def server(app_dir):
    srv = LambdaServer(app_dir, ["--env-vars", str(app_dir / "env.json")],
                       env={HOST_MARKER: "leaked-from-the-host"})
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def lam(server):
    return lambda_client(server.endpoint)


def _error(fn, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        fn(*args, **kwargs)
    return info.value


def _markers(directory: Path) -> list[Path]:
    """Marker files the handlers wrote completely (they write, then rename)."""
    return [p for p in directory.iterdir() if not p.name.endswith(".partial")]


def _report_of(log: str, rid: str) -> dict:
    lines = [line for line in log_lines(log) if line.startswith(f"REPORT RequestId: {rid}")]
    assert len(lines) == 1, f"one REPORT line for {rid} expected in:\n{log}"
    return parse_report(lines[0])


# -- results, context, environment (Python) --------------------------------------------------

def test_python_handler_gets_the_event_and_returns_its_result(lam):
    event = {"text": "héllo ✓", "list": [1, 2.5, None, True], "nested": {"a": {"b": "c"}}}
    r = invoke(lam, "Info", event)
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r, r["payload"]
    assert r["payload"]["event"] == event


@pytest.mark.parametrize("value", [None, "plain text", 42, [1, "two", {"three": 3}], {"k": "v"}])
def test_python_return_values_of_every_json_type(lam, value):
    r = invoke(lam, "Info", {"return": value})
    assert "FunctionError" not in r
    assert json.loads(r["raw"]) == value


def test_python_context_object(lam):
    r = invoke(lam, "Info", {})
    ctx = r["payload"]["context"]
    env = r["payload"]["env"]
    assert ctx["aws_request_id"] == request_id(r)
    assert UUID_RE.match(ctx["aws_request_id"])
    assert ctx["function_name"] == "Info"
    assert ctx["function_version"] == "$LATEST"
    assert str(ctx["memory_limit_in_mb"]) == "256"
    assert ctx["invoked_function_arn"] == arn("Info")
    assert ctx["log_group_name"] == "/aws/lambda/Info"
    assert ctx["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert LOG_STREAM_RE.match(ctx["log_stream_name"]), ctx["log_stream_name"]
    # Timeout is 10 s: the remaining time is below it and not far below it.
    assert 8000 < ctx["remaining_ms"] <= 10000
    assert ctx["client_context_custom"] is None
    assert ctx["identity_id"] is None


# A custom log group (LoggingConfig.LogGroup) is what the function sees, and its streams carry
# the function's name: YYYY/MM/DD/<function_name>[<version>]<environment id>
# (docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html).
@pytest.mark.parametrize("function,group_key,stream_key", [
    ("CustomLogGroup", "log_group_name", "log_stream_name"),
    ("NodeCustomLogGroup", "logGroupName", "logStreamName"),
])
def test_a_custom_log_group_is_the_one_the_function_sees(lam, function, group_key, stream_key):
    r = invoke(lam, function, {})
    ctx, env = r["payload"]["context"], r["payload"]["env"]
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == ctx[group_key] == "/custom/orders"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == ctx[stream_key]
    assert re.fullmatch(rf"\d{{4}}/\d{{2}}/\d{{2}}/{function}\[\$LATEST\][0-9a-f]{{32}}", ctx[stream_key]), ctx
    config = lam.get_function(FunctionName=function)["Configuration"]
    assert config["LoggingConfig"]["LogGroup"] == "/custom/orders"
    assert lam.get_function(FunctionName="Info")["Configuration"]["LoggingConfig"]["LogGroup"] == "/aws/lambda/Info"


def test_invoked_function_arn_follows_the_name_used(lam):
    by_qualifier = invoke(lam, "Info", {}, Qualifier="$LATEST")
    assert by_qualifier["payload"]["context"]["invoked_function_arn"] == arn("Info", "$LATEST")
    by_arn = invoke(lam, arn("Info"), {})
    assert by_arn["payload"]["context"]["invoked_function_arn"] == arn("Info")
    by_partial_arn = invoke(lam, "000000000000:function:Info", {})
    assert by_partial_arn["payload"]["context"]["function_name"] == "Info"


def test_client_context_reaches_the_context_object(lam):
    # Invoke API: ClientContext is base64 JSON, passed to the function for synchronous calls.
    client_context = {"custom": {"tenant": "t-1"}, "env": {"locale": "fr"}, "client": {}}
    encoded = base64.b64encode(json.dumps(client_context).encode()).decode()
    r = invoke(lam, "Info", {}, ClientContext=encoded)
    assert r["payload"]["context"]["client_context_custom"] == {"tenant": "t-1"}
    assert r["payload"]["context"]["client_context_env"] == {"locale": "fr"}


def test_python_environment_variables(lam, server, app_dir):
    r = invoke(lam, "Info", {})
    env = r["payload"]["env"]
    code_dir = str((app_dir / "py").resolve())
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "Info"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/Info"
    assert LOG_STREAM_RE.match(env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["_HANDLER"] == "app.info"
    assert env["LAMBDA_TASK_ROOT"].rstrip("/") == code_dir.rstrip("/")
    assert r["payload"]["cwd"].rstrip("/") == code_dir.rstrip("/")  # Lambda runs in the task root
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"  # the template's runtime
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    assert env["LAMBDA_RUNTIME_DIR"]
    assert TRACE_RE.match(env["_X_AMZN_TRACE_ID"] or ""), env["_X_AMZN_TRACE_ID"]
    assert re.match(r"^127\.0\.0\.1:\d+$", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_ENDPOINT_URL"] == server.endpoint
    assert env["GREETING"] == "hello"


def test_trace_id_changes_per_invocation(lam):
    first = invoke(lam, "Info", {})["payload"]["env"]["_X_AMZN_TRACE_ID"]
    second = invoke(lam, "Info", {})["payload"]["env"]["_X_AMZN_TRACE_ID"]
    assert first != second


def test_env_json_overrides_template_variables(lam):
    env = invoke(lam, "Info", {})["payload"]["env"]
    assert env["OVERRIDDEN"] == "from-env-json-function"          # the function's own section
    assert env["SHARED_OVERRIDE"] == "from-env-json-parameters"   # the Parameters section
    assert env["NOT_IN_TEMPLATE"] is None                         # only declared variables
    config = lam.get_function(FunctionName="Info")["Configuration"]
    assert config["Environment"]["Variables"]["OVERRIDDEN"] == "from-env-json-function"


def test_host_environment_does_not_leak_into_functions(lam):
    assert invoke(lam, "Info", {})["payload"]["env"][HOST_MARKER] is None


def test_credentials_are_minted_per_function(lam):
    a = invoke(lam, "Info", {})["payload"]["env"]
    b = invoke(lam, "Info2", {})["payload"]["env"]
    node = invoke(lam, "NodeInfo", {})["payload"]["env"]
    for env in (a, b, node):
        assert re.match(r"^ASIA[A-Z0-9]{16}$", env["AWS_ACCESS_KEY_ID"]), env["AWS_ACCESS_KEY_ID"]
        assert len(env["AWS_SECRET_ACCESS_KEY"]) == 40
        assert env["AWS_SESSION_TOKEN"]
    keys = {a["AWS_ACCESS_KEY_ID"], b["AWS_ACCESS_KEY_ID"], node["AWS_ACCESS_KEY_ID"]}
    assert len(keys) == 3
    assert a["AWS_SECRET_ACCESS_KEY"] != b["AWS_SECRET_ACCESS_KEY"]


def _python_version(program: str) -> str | None:
    """``3.12`` for an interpreter that runs, None otherwise (pyenv shims may exist and fail)."""
    if shutil.which(program) is None:
        return None
    done = subprocess.run([program, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True, timeout=30)
    return done.stdout.strip() if done.returncode == 0 else None


def test_runtime_version_without_its_interpreter_runs_on_host_python_with_one_warning(lam, server):
    # Info declares python3.12. With a working python3.12 on PATH it runs there, silently;
    # otherwise on the host's python3, with one warning line for the function.
    first = invoke(lam, "Info", {})["payload"]
    invoke(lam, "Info", {})
    warnings = [line for line in server.lines() if line.startswith("[Info] Warning:") and "3.12" in line]
    if _python_version("python3.12") == "3.12":
        assert first["python"] == "3.12"
        assert warnings == []
    else:
        host = _python_version("python3")
        assert first["python"] == host
        assert len(warnings) == 1, "\n".join(warnings) or server.output()[-3000:]
        assert host in warnings[0]


# -- Node.js ---------------------------------------------------------------------------------

def test_node_handler_result_context_and_environment(lam, server, app_dir):
    event = {"n": 1, "s": "ü"}
    r = invoke(lam, "NodeInfo", event)
    assert "FunctionError" not in r, r["payload"]
    p = r["payload"]
    assert p["event"] == event
    ctx = p["context"]
    assert ctx["awsRequestId"] == request_id(r)
    assert ctx["functionName"] == "NodeInfo"
    assert ctx["functionVersion"] == "$LATEST"
    assert str(ctx["memoryLimitInMB"]) == "256"
    assert ctx["invokedFunctionArn"] == arn("NodeInfo")
    assert ctx["logGroupName"] == "/aws/lambda/NodeInfo"
    assert LOG_STREAM_RE.match(ctx["logStreamName"])
    assert 8000 < ctx["remainingMs"] <= 10000
    env = p["env"]
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    assert env["_HANDLER"] == "index.info"
    assert env["LAMBDA_TASK_ROOT"].rstrip("/") == str((app_dir / "node").resolve())
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "NodeInfo"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["GREETING"] == "hello-node"
    assert env["AWS_ENDPOINT_URL"] == server.endpoint
    assert TRACE_RE.match(env["_X_AMZN_TRACE_ID"] or "")


def test_node_runs_with_lambdas_gc_and_heap_flags(lam):
    # Lambda's Node bootstrap exposes global.gc and sizes V8's heap from MemorySize (256 MB here:
    # 25 MB young generation, 231 MB old); the host's default would be gigabytes.
    p = invoke(lam, "NodeInfo", {})["payload"]
    assert p["gc"] == "function"
    assert 231 <= p["heapLimitMb"] <= 256 + 64, p["heapLimitMb"]


def test_node_garbage_stays_within_a_small_memory_size(lam):
    # With V8's heap sized from MemorySize (as Lambda's bootstrap does), a 128 MB function that
    # makes garbage with a small live set collects it in time; with the host's multi-gigabyte
    # default, V8 let it reach ~160 MB and the memory limit killed it where Lambda would not.
    r = invoke(lam, "NodeGarbage", {})
    assert "FunctionError" not in r, r["payload"]
    assert r["payload"]["peakMb"] < 128, r["payload"]


def test_node_client_context(lam):
    encoded = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    r = invoke(lam, "NodeInfo", {}, ClientContext=encoded)
    assert r["payload"]["context"]["clientContext"]["custom"] == {"k": "v"}


def test_node_unhandled_error_shape(lam):
    r = invoke(lam, "NodeFail", {"message": "node went wrong"})
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    p = r["payload"]
    assert p["errorType"] == "TypeError"
    assert p["errorMessage"] == "node went wrong"
    assert isinstance(p["trace"], list) and p["trace"][0] == "TypeError: node went wrong"
    assert any("innerFailure" in frame for frame in p["trace"])


# -- errors ----------------------------------------------------------------------------------

def test_python_unhandled_exception_shape(lam):
    r = invoke(lam, "Fail", {"message": "it broke"}, LogType="Tail")
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    p = r["payload"]
    assert p["errorType"] == "ValueError"
    assert p["errorMessage"] == "it broke"
    assert isinstance(p["stackTrace"], list) and len(p["stackTrace"]) >= 2
    assert any("_inner_failure" in frame and "raise ValueError" in frame for frame in p["stackTrace"])
    assert "[ERROR] ValueError: it broke" in r["log"]
    assert "about to fail" in r["log"]


# Messages as AWS documents them: "Unable to import module 'lambda_function': No module named
# ..." (Runtime.ImportModuleError, docs.aws.amazon.com/lambda/latest/dg/python-package.html and
# troubleshooting-invocation), "index.handler is undefined or not exported"
# (Runtime.HandlerNotFound, nodejs-handler troubleshooting), /init/error bodies passed through
# (runtimes-api.html#runtimes-api-initerror).
INIT_ERRORS = [
    ("BadImport", "Runtime.ImportModuleError", "Runtime.ImportModuleError",
     lambda m: m == "Unable to import module 'missing_module': No module named 'missing_module'"),
    ("BadHandler", "Runtime.HandlerNotFound", "Runtime.HandlerNotFound",
     lambda m: m == "Handler 'no_such_handler' missing on module 'app'"),
    ("InitFail", "RuntimeError", "Runtime.Unknown", lambda m: m == "init went wrong on purpose"),
    ("NodeBadImport", "Runtime.ImportModuleError", "Runtime.ImportModuleError",
     lambda m: m.startswith("Error: Cannot find module 'missing'")),
    ("NodeBadHandler", "Runtime.HandlerNotFound", "Runtime.HandlerNotFound",
     lambda m: m == "index.noSuchHandler is undefined or not exported"),
    ("CustomInitFail", "Custom.InitFailed", "Runtime.Unknown", lambda m: m == "custom init failed on purpose"),
]


# The payload keeps the runtime's errorType; INIT_REPORT and REPORT give the type Lambda's
# Runtime API accepts from the error-type header, `Runtime.` or `Function.` and a capitalised word,
# else Runtime.Unknown (a Python module that raised RuntimeError at import, a custom type).
@pytest.mark.parametrize("function,error_type,report_type,message_ok", INIT_ERRORS,
                         ids=[c[0] for c in INIT_ERRORS])
def test_init_errors_are_reported_as_the_runtime_reported_them(lam, function, error_type, report_type,
                                                               message_ok):
    for attempt in range(2):  # init is retried on the next invocation, with the same outcome
        r = invoke(lam, function, {}, LogType="Tail")
        assert r["FunctionError"] == "Unhandled"
        p = r["payload"]
        assert p.get("errorType") == error_type, f"attempt {attempt}: {p}"
        assert message_ok(p.get("errorMessage", "")), f"attempt {attempt}: {p}"
        # INIT_REPORT before START, and REPORT naming the same error, as Lambda writes them.
        lines = log_lines(r["log"])
        init = [i for i, line in enumerate(lines) if line.startswith("INIT_REPORT")]
        start = [i for i, line in enumerate(lines) if line.startswith("START RequestId:")]
        assert len(init) == 1 and len(start) == 1 and init[0] < start[0], r["log"]
        assert re.fullmatch(rf"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error"
                            rf"\tError Type: {re.escape(report_type)}", lines[init[0]]), lines[init[0]]
        assert lines[-1].endswith(f"\tStatus: error\tError Type: {report_type}"), r["log"]


def test_an_init_that_exits_gets_init_report_after_its_output(lam):
    r = invoke(lam, "InitExit", {}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    assert r["payload"]["errorType"] == "Runtime.ExitError", r["payload"]
    lines = log_lines(r["log"])
    init = [i for i, line in enumerate(lines) if line.startswith("INIT_REPORT")]
    assert len(init) == 1, r["log"]
    assert lines[init[0]].endswith("\tPhase: init\tStatus: error\tError Type: Runtime.ExitError"), r["log"]
    start = [i for i, line in enumerate(lines) if line.startswith("START RequestId:")]
    assert start and init[0] < start[0], r["log"]
    # What init printed before it exited comes before INIT_REPORT.
    printed = [i for i, line in enumerate(lines) if "init is about to exit" in line]
    assert printed and printed[0] < init[0], r["log"]


@pytest.mark.parametrize("mode,code,description", [
    ("exit", 3, "exit status 3"),
    ("exit", 0, None),
    ("kill", None, "signal: killed"),
])
def test_process_dying_mid_invocation(lam, mode, code, description):
    before = invoke(lam, "Exit", {})
    old_pid = before["payload"]["pid"]
    r = invoke(lam, "Exit", {"mode": mode, "code": code}, LogType="Tail")
    rid = request_id(r)
    assert r["FunctionError"] == "Unhandled"
    assert r["payload"]["errorType"] == "Runtime.ExitError"
    if description is None:
        expected = f"RequestId: {rid} Error: Runtime exited without providing a reason"
    else:
        expected = f"RequestId: {rid} Error: Runtime exited with error: {description}"
    assert r["payload"]["errorMessage"] == expected
    assert expected in r["log"] and "Runtime.ExitError" in r["log"]
    assert log_lines(r["log"])[-1].rstrip().endswith("\tStatus: error\tError Type: Runtime.ExitError"), r["log"]
    assert wait_pids_gone([old_pid], 3) == []
    after = invoke(lam, "Exit", {})
    assert "FunctionError" not in after, after["payload"]
    assert after["payload"]["pid"] != old_pid


def test_timeout_kills_and_replaces_the_instance(lam, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    started = time.monotonic()
    r = invoke(lam, "Timeout", {"seconds": 5, "marker_dir": str(markers)}, LogType="Tail")
    elapsed = time.monotonic() - started
    rid = request_id(r)
    assert r["FunctionError"] == "Unhandled"
    assert r["payload"]["errorType"] == "Sandbox.Timedout"
    assert r["payload"]["errorMessage"] == f"RequestId: {rid} Error: Task timed out after 1.00 seconds"
    assert 0.9 < elapsed < 4.0, elapsed
    assert re.search(rf"^\S+Z {rid} Task timed out after 1\.00 seconds$", r["log"], re.M), r["log"]
    report = _report_of(r["log"], rid)
    assert 1000.0 <= float(report["duration"]) < 2500.0
    assert log_lines(r["log"])[-1].rstrip().endswith("Status: timeout")
    timed_out_pid = int((markers / rid).read_text().split()[0])
    assert wait_pids_gone([timed_out_pid], 3) == [], "the timed-out process must be killed"
    after = invoke(lam, "Timeout", {"seconds": 0})
    assert "FunctionError" not in after, after["payload"]
    assert after["payload"]["pid"] != timed_out_pid


def test_report_of_failed_invocations_gives_the_memory_used(lam):
    # REPORT always carries the sandbox's Max Memory Used; a process that ran Python used some.
    crashed = invoke(lam, "Exit", {"mode": "exit", "code": 3}, LogType="Tail")
    timed_out = invoke(lam, "Timeout", {"seconds": 3}, LogType="Tail")
    used = {r["payload"]["errorType"]: int(_report_of(r["log"], request_id(r))["used"])
            for r in (crashed, timed_out)}
    assert sorted(used) == ["Runtime.ExitError", "Sandbox.Timedout"]
    zero = [error_type for error_type, mb in used.items() if mb <= 0]
    assert zero == [], f"REPORT says Max Memory Used: 0 MB for {zero} (all: {used})"


def test_memory_limit_is_enforced(lam, tmp_path):
    pid_file = tmp_path / "hog.pid"
    r = invoke(lam, "Memory", {"mb": 640, "pid_file": str(pid_file)}, LogType="Tail")
    rid = request_id(r)
    assert r["FunctionError"] == "Unhandled", r["payload"]
    assert r["payload"]["errorType"] == "Runtime.OutOfMemory"
    assert r["payload"]["errorMessage"] == f"RequestId: {rid} Error: Runtime exited with error: signal: killed"
    assert "Runtime.OutOfMemory" in r["log"]
    assert log_lines(r["log"])[-1].rstrip().endswith("\tStatus: error\tError Type: Runtime.OutOfMemory"), r["log"]
    report = _report_of(r["log"], rid)
    assert report["memory"] == "128"
    assert int(report["used"]) >= 128
    hog_pid = int(pid_file.read_text().split()[0])
    assert wait_pids_gone([hog_pid], 3) == []
    after = invoke(lam, "Memory", {"mb": 16})
    assert "FunctionError" not in after, after["payload"]
    assert after["payload"]["held_mb"] == 16


def test_max_memory_used_is_the_instances_peak(lam):
    # Memory's handler holds event["mb"] MB until it returns, then frees it. "Max Memory Used"
    # is the instance's peak: it shows the invocation that used the memory, and the instance's
    # later invocations keep it, as the kernel's high-water mark does.
    first = invoke(lam, "Memory", {"mb": 0}, LogType="Tail")
    base = int(_report_of(first["log"], request_id(first))["used"])
    assert base > 0
    held = invoke(lam, "Memory", {"mb": 48}, LogType="Tail")
    assert held["payload"]["pid"] == first["payload"]["pid"], "the same warm instance"
    used = int(_report_of(held["log"], request_id(held))["used"])
    assert used >= 48, (base, used)
    time.sleep(0.05)
    later = invoke(lam, "Memory", {"mb": 0}, LogType="Tail")
    assert later["payload"]["pid"] == first["payload"]["pid"]
    assert int(_report_of(later["log"], request_id(later))["used"]) >= used


def test_a_brief_peak_shows_in_the_next_report(lam):
    # A peak reached and freed faster than the watchdog's 10 ms checks is read once the
    # invocation has ended (off its path): the REPORTs of invocations ending after that show it.
    # A function of its own, so that no earlier test has raised its instance's peak.
    first = invoke(lam, "MemoryBurst", {"mb": 0}, LogType="Tail")
    base = int(_report_of(first["log"], request_id(first))["used"])
    burst = invoke(lam, "MemoryBurst", {"burst": 24})
    assert burst["payload"]["pid"] == first["payload"]["pid"], "the same warm instance"
    time.sleep(0.05)
    after = invoke(lam, "MemoryBurst", {"mb": 0}, LogType="Tail")
    assert after["payload"]["pid"] == first["payload"]["pid"]
    used = int(_report_of(after["log"], request_id(after))["used"])
    assert used >= base + 20, (base, used)


def test_response_over_6_mb_is_function_response_size_too_large(lam):
    r = invoke(lam, "Big", {"size": 6 * 1024 * 1024 + 1000}, LogType="Tail")
    rid = request_id(r)
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    message = "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
    assert r["payload"] == {"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"}
    assert message in r["log"]
    # The instance is still usable: the next invocation of the function works.
    after = invoke(lam, "Big", {"size": 10})
    assert "FunctionError" not in after, after["payload"]
    assert after["payload"] == "y" * 10
    assert rid != request_id(after)


def test_node_response_over_6_mb_keeps_the_instance(lam):
    # Node's bootstrap writes its result to Stratus with blocking writes: the 413 for an
    # oversized one must reach it (not a reset connection), and the same process goes on.
    first = invoke(lam, "NodeBig", {"size": 10})
    r = invoke(lam, "NodeBig", {"size": 7 * 1024 * 1024})
    assert r["FunctionError"] == "Unhandled"
    assert r["payload"]["errorType"] == "Function.ResponseSizeTooLarge"
    after = invoke(lam, "NodeBig", {"size": 10})
    assert "FunctionError" not in after, after["payload"]
    assert after["payload"]["pid"] == first["payload"]["pid"]


def test_response_just_under_6_mb_is_returned_whole(lam):
    size = 6 * 1024 * 1024 - 1000
    r = invoke(lam, "Big", {"size": size})
    assert "FunctionError" not in r, r["raw"][:300]
    assert len(r["raw"]) == size + 2  # a JSON string: the quotes
    assert r["payload"] == "y" * size


def test_stdout_flood_returns_and_the_server_keeps_serving(lam, server):
    started = time.monotonic()
    r = invoke(lam, "Flood", {"lines": 20000}, LogType="Tail")
    assert time.monotonic() - started < 15
    assert "FunctionError" not in r, r["payload"]
    assert r["payload"]["lines"] == 20000
    tail = base64.b64decode(r["LogResult"])
    assert len(tail) <= 4096
    lines = log_lines(r["log"])
    assert lines[-1].startswith(f"REPORT RequestId: {request_id(r)}")
    assert any(line.startswith("flood line 019999") for line in lines)
    server.wait_output(lambda ls: any(l.startswith("[Flood] flood line 019999") for l in ls), 10)
    assert "FunctionError" not in invoke(lam, "Info", {})
    assert invoke(lam, "Flood", {"lines": 3})["payload"]["lines"] == 3


# -- logs ------------------------------------------------------------------------------------

def test_tail_log_and_warm_instance_reuse(lam):
    cold = invoke(lam, "Warm", {}, LogType="Tail")
    warm = invoke(lam, "Warm", {}, LogType="Tail")
    assert cold["payload"]["pid"] == warm["payload"]["pid"], "the second invocation reuses the instance"
    for r, is_cold in ((cold, True), (warm, False)):
        rid = request_id(r)
        assert len(base64.b64decode(r["LogResult"])) <= 4096
        lines = log_lines(r["log"])
        assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
        assert f"info handler running for {rid}" in lines
        assert lines[-2] == f"END RequestId: {rid}"
        report = parse_report(lines[-1])
        assert report["id"] == rid
        assert report["memory"] == "256"
        assert 0 < int(report["used"]) <= 256
        assert int(report["billed"]) >= math.ceil(float(report["duration"]))
        if is_cold:
            assert report["init"] is not None and 0 < float(report["init"]) < 10000
        else:
            assert report["init"] is None, lines[-1]


def test_billed_duration_includes_init_on_cold_starts(lam):
    # Since 1 August 2025 Lambda bills the INIT phase of on-demand functions: the REPORT of a cold
    # start gives Billed Duration = ceil(Duration + Init Duration) ("AWS Lambda standardizes
    # billing for the INIT phase", aws.amazon.com/blogs/compute, April 2025).
    cold = invoke(lam, "Cold", {}, LogType="Tail")
    report = _report_of(cold["log"], request_id(cold))
    assert report["init"] is not None, "the only invocation of Cold is a cold start"
    expected = math.ceil(float(report["duration"]) + float(report["init"]))
    assert abs(int(report["billed"]) - expected) <= 1, report


def test_terminal_shows_log_lines_prefixed_by_function_name(lam, server):
    r = invoke(lam, "Info", {})
    rid = request_id(r)
    lines = server.wait_output(lambda ls: any(l.startswith(f"[Info] REPORT RequestId: {rid}") for l in ls), 5)
    mine = [line for line in lines if rid in line]
    assert f"[Info] START RequestId: {rid} Version: $LATEST" in mine
    assert f"[Info] info handler running for {rid}" in mine
    assert f"[Info] END RequestId: {rid}" in mine
    parse_report(next(l for l in mine if l.startswith("[Info] REPORT"))[len("[Info] "):])


# -- concurrency -----------------------------------------------------------------------------

def test_parallel_invocations_run_on_separate_instances(lam):
    n = 3
    barrier = threading.Barrier(n)

    def call(_):
        barrier.wait(5)
        return invoke(lam, "Parallel", {"seconds": 1.0})

    started = time.monotonic()
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(call, range(n)))
    elapsed = time.monotonic() - started
    payloads = [r["payload"] for r in results]
    assert all("FunctionError" not in r for r in results), payloads
    pids = {p["pid"] for p in payloads}
    assert len(pids) == n, f"{n} concurrent invocations need {n} instances: {payloads}"
    # They really overlapped: every one started before any one ended.
    assert max(p["started"] for p in payloads) < min(p["ended"] for p in payloads)
    assert elapsed < 1.0 * n, elapsed
    # A later invocation reuses one of the warm instances.
    assert invoke(lam, "Parallel", {"seconds": 0})["payload"]["pid"] in pids


def test_reserved_concurrency_throttles_the_next_invocation(lam, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(invoke, lam, "Throttled", {"seconds": 1.5, "marker_dir": str(markers)})
                   for _ in range(2)]
        wait_until(lambda: len(_markers(markers)) >= 2, 10, message="two invocations running")
        err = _error(lam.invoke, FunctionName="Throttled", Payload=b"{}")
        results = [f.result(30) for f in running]
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err.response["Error"]["Code"] == "TooManyRequestsException"
    assert err.response.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert len({r["payload"]["pid"] for r in results}) == 2
    assert "FunctionError" not in invoke(lam, "Throttled", {"seconds": 0})
    config = lam.get_function(FunctionName="Throttled")
    assert config["Concurrency"]["ReservedConcurrentExecutions"] == 2


def test_a_busy_instance_does_not_block_other_invocations(lam, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(invoke, lam, "Parallel", {"seconds": 2.0, "marker_dir": str(markers)})
        wait_until(lambda: _markers(markers), 10, message="slow invocation running")
        busy_pid = int(_markers(markers)[0].read_text().split()[0])
        started = time.monotonic()
        quick = invoke(lam, "Parallel", {"seconds": 0})
        other = invoke(lam, "Info", {})
        assert time.monotonic() - started < 1.5
        assert quick["payload"]["pid"] != busy_pid
        assert "FunctionError" not in other
        assert slow.result(30)["payload"]["pid"] == busy_pid


# -- asynchronous invocations ------------------------------------------------------------------

def _attempts(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_failing_event_invocation_is_attempted_three_times(lam, tmp_path):
    path = tmp_path / "attempts.jsonl"
    r = lam.invoke(FunctionName="Async", InvocationType="Event",
                   Payload=json.dumps({"path": str(path), "fail": True}))
    assert r["StatusCode"] == 202
    assert r["Payload"].read() == b""
    wait_until(lambda: len(_attempts(path)) >= 3, 15, message="three attempts")
    time.sleep(1.0)  # the configured retry delay is 0.3 s: a fourth attempt would show by now
    attempts = _attempts(path)
    assert len(attempts) == 3, attempts
    gaps = [b["time"] - a["time"] for a, b in zip(attempts, attempts[1:])]
    assert all(gap >= 0.25 for gap in gaps), gaps  # --async-retry-delays 0.3,0.3


def test_event_retries_keep_the_request_id(lam, tmp_path):
    # "duplicate invocations that returned an error or timed out and have the same request ID"
    # are Lambda's own retries (repost.aws/knowledge-center/lambda-function-duplicate-invocations).
    path = tmp_path / "attempts.jsonl"
    lam.invoke(FunctionName="Async", InvocationType="Event",
               Payload=json.dumps({"path": str(path), "fail": True}))
    wait_until(lambda: len(_attempts(path)) >= 3, 15, message="three attempts")
    ids = {a["request_id"] for a in _attempts(path)}
    assert len(ids) == 1, f"retries of one event ran with request ids {sorted(ids)}"


def test_successful_event_invocation_runs_once(lam, tmp_path):
    path = tmp_path / "attempts.jsonl"
    r = lam.invoke(FunctionName="Async", InvocationType="Event", Payload=json.dumps({"path": str(path)}))
    assert r["StatusCode"] == 202
    wait_until(lambda: len(_attempts(path)) >= 1, 10, message="the attempt")
    time.sleep(0.8)
    assert len(_attempts(path)) == 1


def test_dry_run_validates_without_running(lam, tmp_path):
    path = tmp_path / "attempts.jsonl"
    r = lam.invoke(FunctionName="Async", InvocationType="DryRun", Payload=json.dumps({"path": str(path)}))
    assert r["StatusCode"] == 204
    time.sleep(0.5)
    assert not path.exists()
    err = _error(lam.invoke, FunctionName="NoSuchFunction", InvocationType="DryRun")
    assert err.response["Error"]["Code"] == "ResourceNotFoundException"


# -- the Invoke API's own errors and headers -----------------------------------------------------

SIX_MB = 6 * 1024 * 1024
ONE_MB = 1024 * 1024
INVOKE_ERRORS = [
    # (id, kwargs, status, code, message check)
    ("unknown-function", dict(FunctionName="NoSuchFunction"), 404, "ResourceNotFoundException",
     lambda m: m == f"Function not found: {arn('NoSuchFunction')}"),
    ("unknown-function-arn", dict(FunctionName=arn("NoSuchFunction")), 404, "ResourceNotFoundException",
     lambda m: m == f"Function not found: {arn('NoSuchFunction')}"),
    ("alias-qualifier", dict(FunctionName="Info", Qualifier="prod"), 404, "ResourceNotFoundException",
     lambda m: m == f"Function not found: {arn('Info', 'prod')}"),
    ("version-qualifier", dict(FunctionName="Info", Qualifier="1"), 404, "ResourceNotFoundException",
     lambda m: m == f"Function not found: {arn('Info', '1')}"),
    ("qualifier-in-name", dict(FunctionName="Info:live"), 404, "ResourceNotFoundException",
     lambda m: m == f"Function not found: {arn('Info', 'live')}"),
    # Lambda's message is Jackson's, after two prefixes.
    ("invalid-json", dict(FunctionName="Info", Payload=b"{not json"), 400, "InvalidRequestContentException",
     lambda m: m == "Could not parse request body into json: Could not parse payload into json: Unexpected "
                    "character ('n' (code 110)): was expecting double-quote to start field name\n"
                    " at [Source: (byte[])\"{not json\"; line: 1, column: 3]"),
    ("bare-word", dict(FunctionName="Info", Payload=b"notjson"), 400, "InvalidRequestContentException",
     lambda m: m.startswith("Could not parse request body into json: Could not parse payload into json: "
                            "Unrecognized token 'notjson': was expecting (JSON String, Number, Array, Object")),
    ("not-utf8", dict(FunctionName="Info", Payload=b'{"a": "\xa7"}'), 400, "InvalidRequestContentException",
     lambda m: m.startswith("Could not parse request body into json: Could not parse payload into json: "
                            "Invalid UTF-8 start byte 0xa7")),
    ("sync-over-6mb", dict(FunctionName="Big", Payload=b'"' + b"x" * SIX_MB + b'"'), 413,
     "RequestTooLargeException",
     lambda m: m == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"),
    ("event-over-1mb", dict(FunctionName="Big", InvocationType="Event",
                            Payload=b'"' + b"x" * (ONE_MB + 100) + b'"'), 413, "RequestTooLargeException",
     lambda m: "1048576" in m),
]


@pytest.mark.parametrize("kwargs,status,code,message_ok", [c[1:] for c in INVOKE_ERRORS],
                         ids=[c[0] for c in INVOKE_ERRORS])
def test_invoke_api_errors(lam, kwargs, status, code, message_ok):
    err = _error(lam.invoke, **kwargs)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert err.response["Error"]["Code"] == code
    assert message_ok(err.response["Error"]["Message"]), err.response["Error"]["Message"]


def test_payloads_under_the_limits_are_accepted(lam, tmp_path):
    blob = "x" * (SIX_MB - 100)
    r = invoke(lam, "Big", {"blob": blob})
    assert r["payload"] == {"received_chars": len(blob)}
    # Event payloads up to 1 MB (raised from 256 KB in 2025) are accepted.
    path = tmp_path / "attempts.jsonl"
    event = {"path": str(path), "padding": "p" * (600 * 1024)}
    assert lam.invoke(FunctionName="Async", InvocationType="Event", Payload=json.dumps(event))["StatusCode"] == 202
    wait_until(lambda: len(_attempts(path)) >= 1, 10, message="the 600 KB event ran")


def test_invoke_response_headers(lam):
    r = invoke(lam, "Info", {})
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    assert r["ExecutedVersion"] == "$LATEST"
    assert headers["x-amz-executed-version"] == "$LATEST"
    assert "x-amz-function-error" not in headers
    assert "x-amz-log-result" not in headers  # only for LogType: Tail
    assert headers["x-amzn-requestid"] == r["payload"]["context"]["aws_request_id"]
    failed = invoke(lam, "Fail", {})
    assert failed["ResponseMetadata"]["HTTPHeaders"]["x-amz-function-error"] == "Unhandled"
    assert failed["ExecutedVersion"] == "$LATEST"


def test_get_function_and_configuration(lam, app_dir):
    got = lam.get_function(FunctionName="Timeout")
    config = got["Configuration"]
    assert config["FunctionName"] == "Timeout"
    assert config["FunctionArn"] == arn("Timeout")
    assert config["Runtime"] == "python3.11"
    assert config["Handler"] == "app.sleep"
    assert config["Timeout"] == 1
    assert config["MemorySize"] == 256
    assert config["State"] == "Active"
    assert config["Version"] == "$LATEST"
    assert lam.get_function_configuration(FunctionName="Memory")["MemorySize"] == 128
    by_name = lam.get_function(FunctionName="e2e-cli-warm")["Configuration"]
    assert by_name["FunctionArn"] == arn("e2e-cli-warm")
    err = _error(lam.get_function, FunctionName="NoSuchFunction")
    assert err.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_functions_pages_through_every_function(lam, app_dir):
    names = []
    marker = None
    for _ in range(50):
        kwargs = {"MaxItems": 4}
        if marker:
            kwargs["Marker"] = marker
        page = lam.list_functions(**kwargs)
        assert len(page["Functions"]) <= 4
        names += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    template = (app_dir / "template.yaml").read_text()
    declared = set(re.findall(r"^  (\w+):\n    Type: AWS::Serverless::Function", template, re.M))
    declared = {"e2e-cli-warm" if n == "CliWarm" else n for n in declared}
    assert len(names) == len(set(names))
    assert set(names) == declared


# -- the Runtime API, as a provided.al2023 bootstrap sees it -------------------------------------

def test_custom_runtime_next_headers(lam):
    encoded = base64.b64encode(json.dumps({"custom": {"via": "client-context"}}).encode()).decode()
    before_ms = time.time() * 1000
    r = invoke(lam, "Custom", {"hello": "runtime"}, ClientContext=encoded)
    assert "FunctionError" not in r, r["payload"]
    p = r["payload"]
    headers = p["headers"]
    assert p["event"] == {"hello": "runtime"}
    assert headers["lambda-runtime-aws-request-id"] == request_id(r)
    deadline = int(headers["lambda-runtime-deadline-ms"])
    assert before_ms + 3000 < deadline <= time.time() * 1000 + 5000  # Timeout: 5
    assert headers["lambda-runtime-invoked-function-arn"] == arn("Custom")
    assert TRACE_RE.match(headers["lambda-runtime-trace-id"])
    assert json.loads(headers["lambda-runtime-client-context"]) == {"custom": {"via": "client-context"}}


def test_custom_runtime_environment(lam, app_dir, server):
    env = invoke(lam, "Custom", {})["payload"]["env"]
    assert env["_HANDLER"] == "custom.handler"
    assert env["LAMBDA_TASK_ROOT"].rstrip("/") == str((app_dir / "custom").resolve())
    # "AWS_EXECUTION_ENV ... is not defined for OS-only runtimes (the provided family)"
    # (docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
    assert env["AWS_EXECUTION_ENV"] is None
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "Custom"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert env["AWS_ENDPOINT_URL"] == server.endpoint


def test_custom_runtime_error_post(lam, tmp_path):
    record = tmp_path / "error.json"
    r = invoke(lam, "Custom", {"action": "error", "record": str(record)})
    assert r["FunctionError"] == "Unhandled"
    assert r["payload"] == {"errorMessage": "custom runtime failed on purpose", "errorType": "Custom.Failure",
                            "stackTrace": ["custom/bootstrap line 1"]}
    # The runtime writes down the Runtime API's answer after the caller has its result.
    assert json.loads(wait_until(lambda: record.exists() and record.read_text(), 5))["status"] == 202


def test_custom_runtime_response_too_large(lam, tmp_path):
    record = tmp_path / "big.json"
    r = invoke(lam, "Custom", {"action": "big", "size": 7 * 1024 * 1024, "record": str(record)})
    assert r["FunctionError"] == "Unhandled"
    assert r["payload"]["errorType"] == "Function.ResponseSizeTooLarge"
    answer = wait_until(lambda: record.exists() and record.read_text(), 5)
    # runtimes-api.html: 413 Payload Too Large, read by a runtime still sending its body (Stratus
    # reads the rest before answering, so the connection is not reset under the runtime).
    assert json.loads(answer)["status"] == 413, answer
    assert "FunctionError" not in invoke(lam, "Custom", {})


def test_custom_runtime_response_for_another_request_id_is_refused(lam):
    r = invoke(lam, "Custom", {"action": "wrong-id"})
    assert "FunctionError" not in r
    assert 400 <= r["payload"]["wrong_id"]["status"] < 500
    assert r["payload"]["headers"]["lambda-runtime-aws-request-id"] == request_id(r)


def test_custom_runtime_exit_mid_invocation(lam):
    pid = invoke(lam, "Custom", {})["payload"]["pid"]
    r = invoke(lam, "Custom", {"action": "exit", "code": 7})
    assert r["payload"] == {"errorType": "Runtime.ExitError",
                            "errorMessage": f"RequestId: {request_id(r)} Error: Runtime exited with error: exit status 7"}
    assert wait_pids_gone([pid], 3) == []
    assert invoke(lam, "Custom", {})["payload"]["pid"] != pid


# -- layers, SDKs, hot reload --------------------------------------------------------------------

def test_layer_content_is_importable(lam, app_dir):
    p = invoke(lam, "Layered", {})["payload"]
    assert p["value"] == "from the layer"
    assert Path(p["file"]).resolve() == (app_dir / "layer" / "python" / "layerlib.py").resolve()


def test_boto3_inside_a_function_reaches_stratus_dynamodb(lam, server):
    r = invoke(lam, "Dynamo", {"pk": "from-python", "value": 41})
    assert "FunctionError" not in r, r["payload"]
    p = r["payload"]
    assert p["table"] == "lambda-e2e-items"
    assert p["item"] == {"pk": "from-python", "written_by": "Dynamo", "value": "41"}
    assert p["endpoint"] == server.endpoint
    item = ddb_client(server.endpoint).get_item(TableName="lambda-e2e-items", Key={"pk": {"S": "from-python"}})
    assert item["Item"]["value"] == {"N": "41"}


def test_node_sdk_v3_inside_a_function_reaches_stratus_dynamodb(server):
    client = lambda_client(server.endpoint, read_timeout=SDK_INSTALL_TIMEOUT_S)
    r = invoke(client, "NodeDynamo", {"pk": "from-node", "value": 7})
    assert "FunctionError" not in r, r["payload"]
    assert r["payload"]["item"] == {"pk": "from-node", "written_by": "NodeDynamo", "value": "7"}
    item = ddb_client(server.endpoint).get_item(TableName="lambda-e2e-items", Key={"pk": {"S": "from-node"}})
    assert item["Item"]["written_by"] == {"S": "NodeDynamo"}


def test_the_cached_node_sdk_is_on_the_path_only_of_functions_that_use_it(server):
    # Once a function had the SDK installed into Stratus's cache, a function whose code names
    # no @aws-sdk/ package does not get that folder on NODE_PATH: for an ES-module handler on
    # Node before 22.15 it would mean a loader thread at every cold start.
    client = lambda_client(server.endpoint, read_timeout=SDK_INSTALL_TIMEOUT_S)
    assert "FunctionError" not in invoke(client, "NodeDynamo", {"pk": "sdk-path", "value": 1})
    env = invoke(client, "NodeNoSdk", {})["payload"]["env"]
    assert "/sdk/node/" not in (env["NODE_PATH"] or ""), env["NODE_PATH"]


def test_hot_reload_runs_the_new_code(lam, app_dir):
    first = invoke(lam, "Reload", {})["payload"]
    assert first["version"] == "v1"
    code = app_dir / "reload"
    (code / "helper.py").write_text('VERSION = "v2 from a new module"\n')
    (code / "app.py").write_text(
        "import os\nimport helper\n\n\ndef handler(event, context):\n"
        "    return {\"version\": helper.VERSION, \"pid\": os.getpid()}\n"
    )

    def reloaded():
        p = invoke(lam, "Reload", {})["payload"]
        return p if p.get("version") != "v1" else None

    second = wait_until(reloaded, 10, interval=0.2, message="the new code")
    assert second["version"] == "v2 from a new module"
    assert second["pid"] != first["pid"]
    assert wait_pids_gone([first["pid"]], 3) == [], "the instance running the old code is stopped"


def test_hot_reload_sees_a_package_install(lam, app_dir):
    # node_modules is not walked file by file; an install shows in the folder and in the lock
    # file npm rewrites there (node_modules/.package-lock.json).
    modules = app_dir / "node-reload" / "node_modules"
    (modules / "dep").mkdir(parents=True)
    (modules / "dep" / "index.js").write_text('exports.version = "v1";\n')
    (modules / ".package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}\n')
    first = invoke(lam, "NodeReload", {})["payload"]
    assert first["version"] == "v1", first
    (modules / "dep" / "index.js").write_text('exports.version = "v2";\n')
    (modules / ".package-lock.json").write_text('{"lockfileVersion": 3, "packages": {"node_modules/dep": {}}}\n')

    def reloaded():
        p = invoke(lam, "NodeReload", {})["payload"]
        return p if p.get("version") != "v1" else None

    second = wait_until(reloaded, 10, interval=0.2, message="the newly installed package")
    assert second["version"] == "v2"
    assert second["pid"] != first["pid"]


# -- stratus invoke through the running server ---------------------------------------------------

def test_cli_invoke_goes_through_the_running_server(lam, server, app_dir, tmp_path):
    warm = invoke(lam, "e2e-cli-warm", {})["payload"]
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"from": "file"}))
    done = run_invoke(["CliWarm", str(app_dir), "--event", str(event_file)])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # stdout holds the result and nothing else
    assert result["event"] == {"from": "file"}
    assert result["pid"] == warm["pid"], "the running server's warm instance ran it"
    assert result["env"]["AWS_ENDPOINT_URL"] == server.endpoint
    rid = result["context"]["aws_request_id"]
    assert f"START RequestId: {rid} Version: $LATEST" in done.stderr
    assert f"REPORT RequestId: {rid}" in done.stderr
    assert "info handler running" not in done.stdout


def test_cli_invoke_event_from_stdin(app_dir, server):
    done = run_invoke(["e2e-cli-warm", str(app_dir), "--event", "-"], input_text='{"from": "stdin"}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == {"from": "stdin"}


def test_cli_invoke_function_error_exits_1(app_dir, server):
    done = run_invoke(["Fail", str(app_dir)])
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["errorType"] == "ValueError"
    assert "about to fail" in done.stderr
    assert "about to fail" not in done.stdout


@pytest.mark.parametrize("args,stdin,mention", [
    (["NoSuchFunction"], None, "NoSuchFunction"),
    (["Info", "--event", "-"], "this is not json", "JSON"),
])
def test_cli_invoke_usage_errors(app_dir, server, args, stdin, mention):
    done = run_invoke([args[0], str(app_dir), *args[1:]], input_text=stdin)
    assert done.returncode != 0
    assert done.stdout.strip() == ""
    assert mention in done.stderr
