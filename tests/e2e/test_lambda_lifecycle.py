"""Lambda instance lifecycles beyond one shared server: ``stratus invoke`` standalone, idle
instances reaped, ``--max-instances`` queueing, and no function process outliving Stratus (after
SIGTERM, and after SIGKILL). Each test starts its own server (on its own copy of
``apps/functions``) and stops it by PID, whatever happens."""

from __future__ import annotations

import json
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambda_support import (
    LambdaServer,
    copy_app,
    invoke,
    lambda_client,
    log_lines,
    parse_report,
    pid_alive,
    run_invoke,
    wait_pids_gone,
    wait_until,
)

pytestmark = pytest.mark.stratus_only


@pytest.fixture
def servers():
    """Start servers through this fixture; all are stopped by PID at the end."""
    started: list[LambdaServer] = []

    def start(app_dir, args=None):
        server = LambdaServer(app_dir, args)
        started.append(server)
        try:
            return server.start()
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def leftovers():
    """Pids of function processes a test saw; any still alive at the end are killed by PID so a
    failing test leaves nothing behind (they are this suite's own handler processes)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def standalone_app(tmp_path_factory) -> Path:
    return copy_app("functions", tmp_path_factory.mktemp("standalone") / "functions")


# -- stratus invoke without a running server ----------------------------------------------------

def test_standalone_invoke_prints_the_result_and_stops_its_instance(standalone_app, leftovers):
    assert not (standalone_app / ".stratus" / "server.json").exists()
    done = run_invoke(["Info", str(standalone_app), "--event", "-"], input_text='{"standalone": true}')
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    leftovers.append(result["pid"])
    assert result["event"] == {"standalone": True}
    assert result["context"]["function_name"] == "Info"
    rid = result["context"]["aws_request_id"]
    assert f"[Info] START RequestId: {rid} Version: $LATEST" in done.stderr
    assert f"[Info] info handler running for {rid}" in done.stderr
    assert f"[Info] REPORT RequestId: {rid}" in done.stderr
    assert "through the running Stratus" not in done.stderr
    assert wait_pids_gone([result["pid"]], 3) == [], "standalone invoke leaves no function process"


def test_standalone_invoke_function_error_exits_1(standalone_app, leftovers):
    done = run_invoke(["Fail", str(standalone_app)])
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["errorType"] == "ValueError"
    assert result["errorMessage"] == "boom"
    assert "[Fail] [ERROR] ValueError: boom" in done.stderr


def test_standalone_invoke_timeout_exits_1(standalone_app):
    done = run_invoke(["Timeout", str(standalone_app), "--event", "-"], input_text='{"seconds": 5}')
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["errorType"] == "Sandbox.Timedout"
    assert result["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_standalone_invoke_with_env_vars(standalone_app):
    done = run_invoke(["Info", str(standalone_app), "--env-vars", str(standalone_app / "env.json")])
    assert done.returncode == 0, done.stderr
    env = json.loads(done.stdout)["env"]
    assert env["OVERRIDDEN"] == "from-env-json-function"
    assert env["SHARED_OVERRIDE"] == "from-env-json-parameters"
    without = json.loads(run_invoke(["Info", str(standalone_app)]).stdout)["env"]
    assert without["OVERRIDDEN"] == "from-template"


def test_standalone_invoke_serves_the_sdk_calls_of_the_function(standalone_app):
    done = run_invoke(["Dynamo", str(standalone_app), "--event", "-"], input_text='{"pk": "solo", "value": 5}')
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["item"] == {"pk": "solo", "written_by": "Dynamo", "value": "5"}
    assert result["endpoint"].startswith("http://127.0.0.1:")


def test_standalone_invoke_custom_runtime(standalone_app):
    done = run_invoke(["Custom", str(standalone_app), "--event", "-"], input_text='{"k": 1}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == {"k": 1}


# -- instances over time --------------------------------------------------------------------------

def test_idle_instances_are_reaped_and_max_instances_queues(servers, tmp_path, leftovers):
    app = copy_app("functions", tmp_path / "functions")
    server = servers(app, ["--idle-timeout", "1", "--max-instances", "1"])
    lam = lambda_client(server.endpoint)

    # --max-instances 1: concurrent invocations of a function without reserved concurrency wait
    # for the one instance (never throttled).
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: invoke(lam, "Parallel", {"seconds": 0.5}), range(2)))
    payloads = [r["payload"] for r in results]
    assert all("FunctionError" not in r for r in results), payloads
    assert len({p["pid"] for p in payloads}) == 1, payloads
    first, second = sorted(payloads, key=lambda p: p["started"])
    assert second["started"] >= first["ended"] - 0.01, "one invocation per instance at a time"
    leftovers.append(first["pid"])

    # --idle-timeout 1: the idle instance is stopped, and the next invocation is a cold start.
    assert wait_pids_gone([first["pid"]], 12) == [], "idle instance not reaped"
    again = invoke(lam, "Parallel", {"seconds": 0}, LogType="Tail")
    assert again["payload"]["pid"] != first["pid"]
    leftovers.append(again["payload"]["pid"])
    report = parse_report(log_lines(again["log"])[-1])
    assert report["init"] is not None, "a new instance reports its Init Duration"


def _start_everything(server, tmp_path, leftovers) -> tuple[list[int], threading.Thread]:
    """Invokes Python, Node and custom functions, one that started a child process, and one
    still running; returns every pid seen (and the thread of the running invocation)."""
    lam = lambda_client(server.endpoint, read_timeout=30)
    pids = [
        invoke(lam, "Info", {})["payload"]["pid"],
        invoke(lam, "NodeInfo", {})["payload"]["pid"],
        invoke(lam, "Custom", {})["payload"]["pid"],
    ]
    spawned = invoke(lam, "Spawner", {})["payload"]
    pids += [spawned["pid"], spawned["child"]]
    pid_file = tmp_path / "hanging.json"

    def hang():
        try:
            invoke(lam, "Spawner", {"hang": 20, "pid_file": str(pid_file)})
        except Exception:  # the server goes away under it
            pass

    thread = threading.Thread(target=hang, daemon=True)
    thread.start()
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 10, message="hanging invocation")
    hanging = json.loads(pid_file.read_text())
    pids += [hanging["pid"], hanging["child"]]
    leftovers.extend(pids)
    gone = [p for p in pids if not pid_alive(p)]
    assert gone == [], f"processes gone too early: {gone}"
    return pids, thread


def test_no_function_process_outlives_sigterm(servers, tmp_path, leftovers):
    app = copy_app("functions", tmp_path / "functions")
    server = servers(app)
    pids, thread = _start_everything(server, tmp_path, leftovers)
    server.signal(signal.SIGTERM)
    # In-flight requests get up to 10 s to finish (the hanging one does not), then functions stop.
    code = server.wait_exit(25)
    assert code == 0, f"exit code {code}\n{server.output()[-3000:]}"
    still = wait_pids_gone(pids, 5)
    assert still == [], f"left running after SIGTERM: {still}"
    thread.join(10)
    assert not (app / ".stratus" / "server.json").exists()


def test_no_function_process_outlives_sigkill(servers, tmp_path, leftovers):
    app = copy_app("functions", tmp_path / "functions")
    server = servers(app)
    pids, thread = _start_everything(server, tmp_path, leftovers)
    server.signal(signal.SIGKILL)
    assert server.wait_exit(10) == -signal.SIGKILL
    still = wait_pids_gone(pids, 5)
    assert still == [], f"left running after kill -9 of Stratus: {still}"
    thread.join(10)
