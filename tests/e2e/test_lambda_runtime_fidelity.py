"""What the caller of a managed Python or Node.js function sees, compared with AWS Lambda:
error bodies (errorType / errorMessage / stackTrace / trace / requestId), marshalling of return
values, init errors, logs in the ``LogType: Tail`` output, and Node.js callback semantics.

Each expectation names its source: the runtime interface clients AWS runs in its managed
runtimes (aws/aws-lambda-python-runtime-interface-client, "awslambdaric";
aws/aws-lambda-nodejs-runtime-interface-client, "the Node RIC") or the AWS docs. One
``stratus start`` of a temporary copy of ``apps/runtime_fidelity`` serves every test.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from lambda_support import LambdaServer, copy_app, invoke, lambda_client, request_id

pytestmark = pytest.mark.stratus_only

TS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory) -> Path:
    return copy_app("runtime_fidelity", tmp_path_factory.mktemp("fidelity") / "runtime_fidelity")


@pytest.fixture(scope="module")
def server(app_dir):
    srv = LambdaServer(app_dir)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()  # SIGTERM then SIGKILL, by PID


@pytest.fixture(scope="module")
def lam(server):
    return lambda_client(server.endpoint)


def _unhandled(r) -> dict:
    assert r["StatusCode"] == 200
    assert r.get("FunctionError") == "Unhandled", r["raw"][:500]
    return r["payload"]


# -- Python: errors raised by the handler ------------------------------------------------------

def test_python_custom_exception_class_is_the_error_type(lam):
    r = invoke(lam, "PyCustomError", {}, LogType="Tail")
    p = _unhandled(r)
    # awslambdaric/bootstrap.py handle_event_request: make_error(str(value), etype.__name__,
    # traceback.format_list(tb_tuples), invoke_id); keys in make_error's order.
    assert list(p) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert p["errorType"] == "MyCustomError"
    assert p["errorMessage"] == "custom boom"
    assert p["requestId"] == request_id(r)
    assert len(p["stackTrace"]) == 2
    assert p["stackTrace"][0].startswith('  File "') and ", line 18, in custom_error\n" in p["stackTrace"][0]
    assert p["stackTrace"][1].endswith("in _raise_custom\n    raise MyCustomError(message)\n")
    # awslambdaric log_error: "[ERROR] <type>: <message>", "Traceback (most recent call last):",
    # frames indented with U+00A0; one record joined with "\n" in the telemetry frame.
    assert "[ERROR] MyCustomError: custom boom\nTraceback (most recent call last):\n\u00a0\u00a0File " in r["log"]


def test_python_exception_without_message(lam):
    p = _unhandled(invoke(lam, "PyEmptyError", {}))
    # awslambdaric make_error: "errorMessage": error_message if error_message else ""
    assert p["errorType"] == "ValueError"
    assert p["errorMessage"] == ""


# -- Python: marshalling the return value ------------------------------------------------------

@pytest.mark.parametrize("function,type_name", [("PySet", "set"), ("PyDatetime", "datetime")])
def test_python_unserialisable_result_is_a_marshal_error(lam, function, type_name):
    r = invoke(lam, function, {}, LogType="Tail")
    p = _unhandled(r)
    # awslambdaric/lambda_runtime_marshaller.py marshal_response: FaultException(MARSHAL_ERROR,
    # "Unable to marshal response: {}".format(str(e))), no trace; bootstrap.py adds the invoke id.
    message = f"Unable to marshal response: Object of type {type_name} is not JSON serializable"
    assert p == {"errorMessage": message, "errorType": "Runtime.MarshalError",
                 "requestId": request_id(r), "stackTrace": []}
    assert f"[ERROR] Runtime.MarshalError: {message}" in r["log"]


def test_python_circular_result_is_a_marshal_error(lam):
    p = _unhandled(invoke(lam, "PyCircular", {}))
    # lambda_runtime_marshaller.py catches any Exception (simplejson's ValueError here).
    assert p["errorType"] == "Runtime.MarshalError"
    assert p["errorMessage"] == "Unable to marshal response: Circular reference detected"


def test_python_bytes_result_is_returned_as_is(lam):
    r = invoke(lam, "PyBytes", {})
    # lambda_runtime_marshaller.py: bytes -> (response, "application/unknown"), not JSON-encoded.
    assert "FunctionError" not in r
    assert r["raw"] == b"raw\x00bytes\xff"


def test_python_none_result_is_null(lam):
    r = invoke(lam, "PyNone", {})
    # simplejson encodes None as null (lambda_runtime_marshaller.py Encoder).
    assert "FunctionError" not in r
    assert r["raw"] == b"null"


def test_python_decimal_result_keeps_its_digits(lam):
    r = invoke(lam, "PyDecimal", {})
    # lambda_runtime_marshaller.py Encoder.default: Decimal -> RawJSON(str(obj)); default separators.
    assert r["raw"] == b'{"d": 1.10, "big": 12345678901234567890.000001}'


def test_python311_result_is_ascii_escaped(lam):
    r = invoke(lam, "PyUnicode", {})
    # lambda_runtime_marshaller.py: ensure_ascii=False only for AWS_Lambda_python3.12; 3.11 escapes.
    assert r["raw"] == b'{"text": "h\\u00e9llo \\u2713"}'


def test_python_nan_and_infinity_are_written_as_simplejson_does(lam):
    r = invoke(lam, "PyFloats", {})
    # simplejson allow_nan=True by default (awslambdaric Encoder does not change it).
    assert r["raw"] == b'{"nan": NaN, "inf": Infinity}'


# -- Python: init errors -------------------------------------------------------------------------

PY_INIT = [
    # awslambdaric/bootstrap.py _get_handler, exact format strings.
    ("PyHandlerMissing", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"),
    ("PyModuleMissing", "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'app'"),
    ("PySyntax", "Runtime.UserCodeSyntaxError", "Syntax error in module 'app': invalid syntax (app.py, line 3)"),
]


@pytest.mark.parametrize("function,error_type,message", PY_INIT, ids=[c[0] for c in PY_INIT])
def test_python_init_errors(lam, function, error_type, message):
    r = invoke(lam, function, {}, LogType="Tail")
    p = _unhandled(r)
    assert p["errorType"] == error_type
    assert p["errorMessage"] == message
    if function == "PySyntax":
        # _get_handler: trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        assert len(p["stackTrace"]) == 1
        assert re.match(r'^  File ".*/pysyntax/app\.py" Line 3\n    x = = 1\n?$', p["stackTrace"][0]), p
    else:
        assert p["stackTrace"] == []
    # bootstrap.py run(): logging.warning(lambda_unhandled_exception_warning_message), then log_error.
    assert "LAMBDA_WARNING: Unhandled exception." in r["log"]
    assert f"[ERROR] {error_type}: {message}\nTraceback (most recent call last):" in r["log"]


# -- Python: context and logs -------------------------------------------------------------------

def test_python_remaining_time_decreases(lam):
    p = invoke(lam, "PyRemaining", {})["payload"]
    # awslambdaric/lambda_context.py: deadline_ms - now_ms, so it falls as time passes.
    assert 9000 < p["first"] <= 10000
    assert 250 <= p["first"] - p["second"] <= 1000, p


def test_python_logging_and_print_format(lam):
    r = invoke(lam, "PyLogging", {}, LogType="Tail")
    rid = request_id(r)
    lines = r["log"].split("\n")
    # awslambdaric bootstrap.py _setup_logging: "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t
    # %(aws_request_id)s\t%(message)s\n", UTC; the root logger keeps Python's WARNING default
    # unless AWS_LAMBDA_LOG_LEVEL is set (docs.aws.amazon.com/lambda/latest/dg/python-logging.html).
    assert any(re.fullmatch(rf"\[WARNING\]\t{TS}\t{rid}\ta warning", l) for l in lines), r["log"]
    assert any(re.fullmatch(rf"\[INFO\]\t{TS}\t{rid}\tinfo after setLevel", l) for l in lines), r["log"]
    assert "info before setLevel" not in r["log"]
    assert "debug never shown" not in r["log"]
    assert "a printed line" in lines  # print goes to stdout unchanged
    assert r["payload"] == {"level": 20}


# -- Node.js: thrown and rejected values -------------------------------------------------------

def test_node_error_subclass_reports_its_name_property(lam):
    r = invoke(lam, "NodeCustomError", {})
    p = _unhandled(r)
    # Node RIC src/Errors.js toRapidResponse: errorType = error.name; a subclass that does not set
    # `name` inherits "Error" (the brief's "constructor name" is what JSON *logs* use, LogPatch.js).
    assert list(p) == ["errorType", "errorMessage", "trace"]
    assert p["errorType"] == "Error"
    assert p["errorMessage"] == "custom node boom"
    assert p["trace"][0] == "Error: custom node boom"


def test_node_error_subclass_with_its_own_name(lam):
    r = invoke(lam, "NodeNamedError", {}, LogType="Tail")
    p = _unhandled(r)
    # src/Errors.js toRapidResponse: errorType = error.name.
    assert p["errorType"] == "NamedError"
    assert p["errorMessage"] == "named node boom"
    assert p["trace"][0] == "NamedError: named node boom"
    # src/Runtime.js / CallbackContext.js: structuredConsole.logError('Invoke Error', err) ->
    # console.error(msg, '\t' + JSON) -> "<ts>\t<id>\tERROR\tInvoke Error \t{...}".
    rid = request_id(r)
    assert re.search(rf"^{TS}\t{rid}\tERROR\tInvoke Error \t\{{\"errorType\":\"NamedError\",\"errorMessage\":\"named node boom\"",
                     r["log"], re.M), r["log"]


@pytest.mark.parametrize("function,body", [
    # src/Errors.js toRapidResponse, non-Error branch: {errorType: typeof error,
    # errorMessage: error.toString(), trace: []}.
    ("NodeThrowString", {"errorType": "string", "errorMessage": "a plain string", "trace": []}),
    ("NodeThrowObject", {"errorType": "object", "errorMessage": "[object Object]", "trace": []}),
    ("NodeSyncThrowStr", {"errorType": "string", "errorMessage": "sync string", "trace": []}),
    # src/CallbackContext.js fail(): undefined/null -> done('handled').
    ("NodeRejectUndef", {"errorType": "string", "errorMessage": "handled", "trace": []}),
    ("NodeFailEmpty", {"errorType": "string", "errorMessage": "handled", "trace": []}),
])
def test_node_non_error_values(lam, function, body):
    assert _unhandled(invoke(lam, function, {})) == body


@pytest.mark.parametrize("function,event,error_type,message", [
    ("NodeReject", {}, "RangeError", "rejected on purpose"),       # a rejected promise
    ("NodeCbError", {}, "TypeError", "callback error"),            # callback(err)
    ("NodeFail", {}, "Error", "failed via context"),               # context.fail(err)
    ("NodeDone", {"err": 1}, "Error", "done with error"),          # context.done(err)
])
def test_node_error_paths(lam, function, event, error_type, message):
    p = _unhandled(invoke(lam, function, event))
    # src/Runtime.js + CallbackContext.js: every path posts toRapidResponse(err).
    assert p["errorType"] == error_type
    assert p["errorMessage"] == message
    assert p["trace"][0] == f"{error_type}: {message}"


# -- Node.js: results and callback semantics ---------------------------------------------------

@pytest.mark.parametrize("function,event,raw", [
    ("NodeSucceed", {}, b'{"via":"succeed"}'),   # context.succeed(result)
    ("NodeDone", {}, b'{"via":"done"}'),         # context.done(null, result)
    ("NodeUndefined", {}, b"null"),              # async handler returning undefined
    # A non-async 2-argument handler's return value is ignored: the invocation ends when the
    # event loop empties, with null (src/Runtime.js _setDefaultExitListener posts null).
    ("NodeSyncReturn", {}, b"null"),
])
def test_node_results(lam, function, event, raw):
    r = invoke(lam, function, event)
    assert "FunctionError" not in r, r["raw"]
    # src/RAPIDClient.js postInvocationResponse: JSON.stringify(response === undefined ? null : response)
    assert r["raw"] == raw


def test_node_callback_waits_for_the_event_loop(lam):
    started = time.monotonic()
    r = invoke(lam, "NodeCbResult", {})
    elapsed = time.monotonic() - started
    # src/CallbackContext.js: with callbackWaitsForEmptyEventLoop (default true) the result is
    # posted from the 'beforeExit' listener, after the pending 700 ms timer.
    assert r["payload"]["ok"] is True
    assert elapsed >= 0.65, elapsed


def test_node_callback_without_waiting(lam):
    started = time.monotonic()
    r = invoke(lam, "NodeCbNoWait", {})
    elapsed = time.monotonic() - started
    # src/CallbackContext.js: callbackWaitsForEmptyEventLoop = false -> posted at once.
    assert r["payload"] == {"ok": "nowait"}
    assert elapsed < 2.0, elapsed


def test_node_async_handler_does_not_wait_for_timers(lam):
    started = time.monotonic()
    r = invoke(lam, "NodeAsyncTimer", {})
    elapsed = time.monotonic() - started
    # src/Runtime.js: a returned promise settles via callbackContext.succeed -> done, no waiting.
    assert r["payload"] == {"ok": "async"}
    assert elapsed < 2.0, elapsed


def test_node_remaining_time_decreases(lam):
    p = invoke(lam, "NodeRemaining", {})["payload"]
    # src/InvokeContext.js: getRemainingTimeInMillis = deadline - Date.now()
    assert 9000 < p["first"] <= 10000
    assert 250 <= p["first"] - p["second"] <= 1000, p


# -- Node.js: logs -------------------------------------------------------------------------------

def test_node_console_levels_and_format(lam):
    r = invoke(lam, "NodeConsole", {}, LogType="Tail")
    rid = request_id(r)
    lines = r["log"].split("\n")
    # src/LogPatch.js: `${time}\t${requestId}\t${level.name}\t${util.format(message, ...params)}`;
    # console.log is console.info (INFO); docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
    for level, text in [("INFO", "log line"), ("INFO", "info line"), ("WARN", "warn line"),
                        ("ERROR", "error line"), ("DEBUG", "debug line"), ("INFO", "fmt x 5")]:
        assert any(re.fullmatch(rf"{TS}\t{re.escape(rid)}\t{level}\t{re.escape(text)}", l) for l in lines), \
            (level, text, r["log"])


def test_node_multiline_console_message_keeps_its_newline(lam):
    r = invoke(lam, "NodeConsole", {}, LogType="Tail")
    rid = request_id(r)
    # src/LogPatch.js logTextToFd: on Lambda (_LAMBDA_TELEMETRY_LOG_FD set) the message is one
    # framed record "...\tINFO\tmulti\nline\n"; only the plain-stdout fallback turns \n into \r.
    assert re.search(rf"{TS}\t{rid}\tINFO\tmulti\nline\n", r["log"]), repr(r["log"])


def test_node_unhandled_rejection_after_the_response(lam, server):
    r = invoke(lam, "NodeLateReject", {"late": True})
    # The response is posted before the rejection happens (src/Runtime.js).
    assert "FunctionError" not in r and "pid" in r["payload"]
    # Between invocations the sandbox is frozen: "Background processes or callbacks that were
    # initiated by your function and did not complete when the function ended resume if Lambda
    # reuses the execution environment" (Lambda developer guide, "execution environment").
    # So the timer fires during the next invocation, which fails with the rejection
    # (src/index.mjs: process.on('unhandledRejection') -> UnhandledPromiseRejection).
    time.sleep(0.5)
    assert "late rejection" not in server.output(), "fired while frozen"
    second = invoke(lam, "NodeLateReject", {"sleepMs": 400})
    p = _unhandled(second)
    assert p["errorType"] == "Runtime.UnhandledPromiseRejection", p
    assert p["errorMessage"] == "Error: late rejection", p
    server.wait_output(lambda ls: any(
        "ERROR\tUnhandled Promise Rejection \t{\"errorType\":\"Runtime.UnhandledPromiseRejection\","
        "\"errorMessage\":\"Error: late rejection\"" in l for l in ls), 5)


# -- Node.js: init errors -----------------------------------------------------------------------

NODE_INIT = [
    # src/UserFunction.js _loadUserApp / load, exact texts.
    ("NodeNope", "Runtime.HandlerNotFound", lambda m: m == "index.nope is undefined or not exported"),
    ("NodeNotFn", "Runtime.HandlerNotFound", lambda m: m == "index.notAFunction is not a function"),
    ("NodeNoModule", "Runtime.ImportModuleError", lambda m: m.startswith("Error: Cannot find module 'missingmod'\nRequire stack:\n")),
    ("NodeMissingDep", "Runtime.ImportModuleError", lambda m: m.startswith("Error: Cannot find module 'x'\nRequire stack:\n- ")),
    # An ES module's missing package is ERR_MODULE_NOT_FOUND, not MODULE_NOT_FOUND: rethrown as is.
    ("NodeEsmMissingDep", "Error", lambda m: re.fullmatch(r"Cannot find package 'x' imported from .*/nodeesmdep/index\.mjs", m)),
    ("NodeSyntax", "Runtime.UserCodeSyntaxError", lambda m: m == "SyntaxError: Unexpected token ';'"),
]


@pytest.mark.parametrize("function,error_type,message_ok", NODE_INIT, ids=[c[0] for c in NODE_INIT])
def test_node_init_errors(lam, function, error_type, message_ok):
    r = invoke(lam, function, {}, LogType="Tail")
    p = _unhandled(r)
    assert p["errorType"] == error_type, p
    assert message_ok(p["errorMessage"]), p
    assert p["trace"][0].startswith(f"{error_type}: ") or function == "NodeEsmMissingDep"
    # src/index.mjs: uncaughtException -> logError('Uncaught Exception', err); no request yet.
    assert re.search(rf"^{TS}\tundefined\tERROR\tUncaught Exception \t\{{\"errorType\":\"{re.escape(error_type)}\"",
                     r["log"], re.M), r["log"]


def test_node_import_error_require_stack_names_the_runtime(lam):
    p = _unhandled(invoke(lam, "NodeMissingDep", {}))
    # On AWS the require stack ends with the runtime's own file, e.g. observed in
    # github.com/aws-samples/s3-to-lambda-patterns/issues/40:
    # "Error: Cannot find module 'aws-sdk'\nRequire stack:\n- /var/task/app.js\n- /var/runtime/index.mjs"
    # Locally that file is Stratus's bootstrap (its real path: Stratus does not make one up), so
    # the stack is the handler's file, then the runtime's.
    assert re.search(r"/nodedep/index\.js\n- /\S+/bootstrap\.cjs$", p["errorMessage"]), p["errorMessage"]


@pytest.mark.parametrize("function", ["PyConnections", "NodeConnections"])
def test_managed_runtime_speaks_the_runtime_api_over_the_handed_socket(lam, function):
    # Stratus hands its own bootstraps one end of a socket pair for the Runtime API: the
    # function process holds that one Unix socket and no TCP connection, and the variable
    # naming the descriptor is gone before the handler runs.
    for _ in range(2):  # the same on a warm instance
        p = invoke(lam, function, {})["payload"]
        assert p == {"sockets": ["unix"], "fd_var": False}, p


@pytest.mark.parametrize("function,level,shown,hidden", [
    ("PyJsonLogs", "WARN", "warn line", "info line"),
    ("NodeJsonLogs", "INFO", "info line", "debug line"),
])
def test_logging_config_json_reaches_the_runtime(lam, function, level, shown, hidden):
    # LoggingConfig LogFormat JSON: the runtime gets AWS_LAMBDA_LOG_FORMAT and the application
    # level (INFO unless set) as AWS_LAMBDA_LOG_LEVEL, and its logger writes JSON records at
    # that level and above; GetFunction reports both levels.
    r = invoke(lam, function, {}, LogType="Tail")
    assert r["payload"] == {"format": "JSON", "level": level}, r["payload"]
    records = [json.loads(line) for line in r["log"].splitlines() if line.startswith("{")]
    messages = [record.get("message") for record in records]
    assert shown in messages, r["log"]
    assert hidden not in r["log"], r["log"]
    assert all(record.get("requestId") == request_id(r) for record in records if record.get("message") == shown)
    config = lam.get_function_configuration(FunctionName=function)["LoggingConfig"]
    assert config == {"LogFormat": "JSON", "ApplicationLogLevel": level, "SystemLogLevel": "INFO",
                      "LogGroup": f"/aws/lambda/{function}"}, config


ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def platform_records(log: str) -> list[dict]:
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [record for record in records if str(record.get("type", "")).startswith("platform.")]


@pytest.mark.parametrize("function", ["PyJsonLogs", "NodeJsonLogs"])
def test_json_log_format_writes_lambdas_platform_records(lam, function):
    # With LogFormat JSON, Lambda's own lines are JSON records too: platform.start before the
    # function's output, platform.report after it, and no END record.
    arn = lam.get_function_configuration(FunctionName=function)["FunctionArn"]
    for _ in range(2):  # cold, then warm
        r = invoke(lam, function, {}, LogType="Tail")
        lines = r["log"].splitlines()
        assert not any(line.startswith(("START ", "END ", "REPORT ")) for line in lines), r["log"]
        platform = platform_records(r["log"])
        assert [p["type"] for p in platform] == ["platform.start", "platform.report"], r["log"]
        start, report = platform
        assert lines[0] == json.dumps(start, separators=(",", ":")), r["log"]
        # Keys in Lambda's order: time, type, record.
        assert lines[0].startswith('{"time":"') and '","type":"platform.start","record":{"requestId":"' in lines[0]
        assert '","type":"platform.report","record":{"requestId":"' in lines[-1], lines[-1]
        assert lines[-1] == json.dumps(report, separators=(",", ":")), r["log"]
        assert all(ISO_MS.match(p["time"]) for p in platform), platform
        assert start["record"] == {"requestId": request_id(r), "functionArn": arn, "version": "$LATEST"}
        record = report["record"]
        assert record["requestId"] == request_id(r) and record["status"] == "success", record
        metrics = record["metrics"]
        assert metrics["memorySizeMB"] == 256 and 0 < metrics["maxMemoryUsedMB"] <= 256, metrics
        init = metrics.get("initDurationMs", 0)
        assert 0 < metrics["durationMs"] and metrics["billedDurationMs"] >= metrics["durationMs"] + init, metrics
    assert "initDurationMs" not in metrics, metrics  # the second invocation was warm


def test_json_platform_report_names_a_crash(lam):
    r = invoke(lam, "PyJsonLogs", {"exit": True}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled", r
    report = platform_records(r["log"])[-1]
    assert report["type"] == "platform.report", r["log"]
    assert report["record"]["status"] == "error", report
    assert report["record"]["errorType"] == "Runtime.ExitError", report


def test_json_platform_records_of_a_failed_init(lam):
    r = invoke(lam, "PyJsonNoModule", {}, LogType="Tail")
    assert r["payload"]["errorType"] == "Runtime.ImportModuleError", r["payload"]
    platform = platform_records(r["log"])
    assert [p["type"] for p in platform] == ["platform.initReport", "platform.start", "platform.report"], r["log"]
    init, _, report = platform
    assert init["record"]["status"] == "error" and init["record"]["phase"] == "init", init
    assert init["record"]["errorType"] == "Runtime.ImportModuleError", init
    assert init["record"]["metrics"]["durationMs"] > 0, init
    assert report["record"]["status"] == "error", report
    assert report["record"]["errorType"] == "Runtime.ImportModuleError", report


def test_system_log_level_warn_drops_the_platform_records(lam):
    # platform.start and platform.report are INFO events: SystemLogLevel WARN leaves them out,
    # and the function's own records stay.
    r = invoke(lam, "PyJsonQuiet", {}, LogType="Tail")
    assert r["payload"] == {"format": "JSON", "level": "INFO"}, r["payload"]
    assert platform_records(r["log"]) == [], r["log"]
    assert "RequestId:" not in r["log"], r["log"]
    messages = [json.loads(line).get("message") for line in r["log"].splitlines() if line.startswith("{")]
    assert "info line" in messages and "warn line" in messages, r["log"]


def test_logging_config_text_is_the_default(lam):
    config = lam.get_function_configuration(FunctionName="PyConnections")["LoggingConfig"]
    assert config == {"LogFormat": "Text", "LogGroup": "/aws/lambda/PyConnections"}, config
