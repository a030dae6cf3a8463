"""How a function's output reaches its invocation's log: every line it wrote before its result
comes before END (a last line without a newline included, and kept with its own invocation),
and a process that keeps writing after its result slows neither its own next invocations nor
other functions. Each test starts its own server on an app written here, stopped by PID."""

from __future__ import annotations

import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambda_support import LambdaServer, invoke, lambda_client, log_lines

pytestmark = pytest.mark.stratus_only

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Timeout: 10
Resources:
  Partial:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: partial/
      Handler: app.handler
  Chatty:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: chatty/
      Handler: app.handler
  Quiet:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: quiet/
      Handler: app.handler
"""

PARTIAL = """\
import sys

def handler(event, context):
    print("whole line", event["n"])
    sys.stdout.write("partial %d" % event["n"])
    return event["n"]
"""

# Starts, once per instance, a child process (`yes`) that writes to the function's stdout without
# pause (a background task that outlives its invocation).
CHATTY = """\
import subprocess

child = None

def handler(event, context):
    global child
    if child is None:
        # At most 5 s of it: the server's output is collected by the test.
        child = subprocess.Popen(["timeout", "5", "yes", "x" * 200])
    return "ok"
"""

QUIET = """\
def handler(event, context):
    return "quiet"
"""


@pytest.fixture
def server(tmp_path):
    app = Path(tmp_path) / "app"
    for folder, code in (("partial", PARTIAL), ("chatty", CHATTY), ("quiet", QUIET)):
        (app / folder).mkdir(parents=True)
        (app / folder / "app.py").write_text(textwrap.dedent(code))
    (app / "template.yaml").write_text(TEMPLATE)
    srv = LambdaServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def test_a_last_line_without_newline_ends_with_its_invocation(server):
    lam = lambda_client(server.endpoint)
    first = invoke(lam, "Partial", {"n": 1}, LogType="Tail")
    second = invoke(lam, "Partial", {"n": 2}, LogType="Tail")
    for response, n in ((first, 1), (second, 2)):
        assert response["payload"] == n
        lines = log_lines(response["log"])
        end = next(i for i, line in enumerate(lines) if line.startswith("END RequestId:"))
        own = lines[:end]
        assert f"whole line {n}" in own, lines
        assert f"partial {n}" in own, lines
    # The first invocation's unfinished line did not run into the second's output.
    assert not any("partial 1" in line for line in log_lines(second["log"])), second["log"]


def test_a_process_that_keeps_writing_holds_up_no_invocation(server):
    lam = lambda_client(server.endpoint, read_timeout=30)
    assert invoke(lam, "Chatty", {})["payload"] == "ok"
    # Its flood goes on while these run: each answers promptly, and so does another function.
    with ThreadPoolExecutor(max_workers=2) as pool:
        def timed(function):
            started = time.monotonic()
            payload = invoke(lam, function, {})["payload"]
            return payload, time.monotonic() - started

        for _ in range(5):
            chatty = pool.submit(timed, "Chatty")
            quiet = pool.submit(timed, "Quiet")
            (chatty_payload, chatty_s), (quiet_payload, quiet_s) = chatty.result(), quiet.result()
            assert chatty_payload == "ok" and quiet_payload == "quiet"
            assert chatty_s < 2.0, f"Chatty took {chatty_s:.2f} s"
            assert quiet_s < 2.0, f"Quiet took {quiet_s:.2f} s"
