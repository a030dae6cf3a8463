"""Python handlers of the Lambda e2e suite. Each returns facts about the process it ran in
(pid, environment, context) so the tests can check real values."""

import json
import os
import signal
import subprocess
import sys
import time

ENV_KEYS = [
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "PATH", "AWS_ENDPOINT_URL",
    "GREETING", "OVERRIDDEN", "SHARED_OVERRIDE", "NOT_IN_TEMPLATE", "STRATUS_E2E_HOST_MARKER",
]

INIT_PID = os.getpid()


def info(event, context):
    print("info handler running for", context.aws_request_id)
    if isinstance(event, dict) and "return" in event:
        return event["return"]
    cc = context.client_context
    return {
        "pid": os.getpid(),
        "init_pid": INIT_PID,
        "python": "%d.%d" % sys.version_info[:2],
        "cwd": os.getcwd(),
        "event": event,
        "env": {k: os.environ.get(k) for k in ENV_KEYS},
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "client_context_custom": None if cc is None else cc.custom,
            "client_context_env": None if cc is None else cc.env,
            "identity_id": context.identity.cognito_identity_id,
        },
    }


def _inner_failure(message):
    raise ValueError(message)


def fail(event, context):
    print("about to fail")
    _inner_failure(event.get("message", "boom"))


def _touch(path, text):
    if path:
        with open(path, "a") as f:
            f.write(text + "\n")


def _write_atomic(path, text):
    """Writes a whole file at once (write, then rename), so a reader never sees half of it."""
    partial = "%s.%d.partial" % (path, os.getpid())
    with open(partial, "w") as f:
        f.write(text + "\n")
    os.replace(partial, path)


def sleep(event, context):
    """Sleeps event["seconds"]; writes its pid to event["marker_dir"]/<request id> first."""
    marker_dir = event.get("marker_dir")
    if marker_dir:
        _write_atomic(os.path.join(marker_dir, context.aws_request_id), str(os.getpid()))
    started = time.time()
    time.sleep(float(event.get("seconds", 0)))
    return {"pid": os.getpid(), "started": started, "ended": time.time(),
            "request_id": context.aws_request_id}


def crash(event, context):
    """Exits or kills itself mid-invocation when asked, else returns its pid."""
    mode = event.get("mode")
    print("crash handler, mode", mode)
    sys.stdout.flush()
    if mode == "exit":
        os._exit(int(event.get("code", 3)))
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(5)
    return {"pid": os.getpid()}


def flood(event, context):
    lines = int(event.get("lines", 20000))
    for i in range(lines):
        print("flood line %06d %s" % (i, "x" * 40))
    return {"lines": lines, "pid": os.getpid()}


def big(event, context):
    """Returns a string of event["size"] characters, or the size of what it was sent."""
    if "size" in event:
        return "y" * int(event["size"])
    return {"received_chars": len(event.get("blob", ""))}


def hog(event, context):
    """Touches event["mb"] MB in 8 MB chunks, slowly enough for a watchdog to see it."""
    if event.get("pid_file"):
        _write_atomic(event["pid_file"], str(os.getpid()))
    if event.get("burst"):
        # All at once and freed before returning: a peak shorter than the watchdog's 10 ms.
        data = b"m" * (int(event["burst"]) * 1024 * 1024)
        del data
        return {"pid": os.getpid(), "held_mb": 0}
    chunks = []
    for _ in range(int(event.get("mb", 0)) // 8):
        chunks.append(b"m" * (8 * 1024 * 1024))
        time.sleep(0.01)
    return {"pid": os.getpid(), "held_mb": 8 * len(chunks)}


def record(event, context):
    """Appends one JSON line per attempt to event["path"]; fails when event["fail"]."""
    _touch(event["path"], json.dumps({"request_id": context.aws_request_id, "pid": os.getpid(),
                                      "time": time.time()}))
    if event.get("fail"):
        raise RuntimeError("attempt failed on purpose")
    return {"ok": True}


def layer(event, context):
    import layerlib
    return {"value": layerlib.VALUE, "file": layerlib.__file__,
            "pythonpath": os.environ.get("PYTHONPATH", "")}


def spawn(event, context):
    """Starts a child process that would sleep for a minute and returns both pids."""
    child = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    globals().setdefault("_children", []).append(child)
    if event.get("hang"):
        _write_atomic(event["pid_file"], json.dumps({"pid": os.getpid(), "child": child.pid}))
        time.sleep(float(event["hang"]))
    return {"pid": os.getpid(), "child": child.pid}
