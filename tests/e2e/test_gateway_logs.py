"""``--log-format json``: one JSON object per access-log line (``type: access``: method, path,
status, latency, function, API, request id) and per function log line (``type: log``). The text
format (``[gateway] METHOD PATH STATUS LATENCY ms FUNCTION REQUEST_ID``) is checked in
test_gateway_rest.py and test_gateway_http.py.

App: ``apps/gateway_http``. Its responses name the request by ``Apigw-Requestid``: HTTP APIs send no
``x-amzn-RequestId`` (recorded V1_APIHeadersHttpV1, V2_HttpAPIHeaders).
"""

from __future__ import annotations

import json
import re

import pytest

from gateway_support import GatewayServer, copy_app, wait_until


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_app("gateway_http", tmp_path_factory.mktemp("gateway-logs") / "app")
    srv = GatewayServer(app, ["--log-format", "json"])
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def json_lines(server, start: int = 0) -> list[dict]:
    out = []
    for line in server.lines()[start:]:
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"a log line starting with '{{' is not JSON: {line!r}")
    return out


def access_entry(server, request_id: str, start: int) -> dict:
    def find():
        return [e for e in json_lines(server, start) if e.get("type") == "access" and e.get("requestId") == request_id]
    entries = wait_until(find, timeout=10, message=f"an access entry for {request_id}")
    assert len(entries) == 1, entries
    return entries[0]


def test_access_entry_for_a_routed_request(server):
    start = len(server.lines())
    reply = server.get("/echo/x?a=1")
    assert reply.status == 200, reply
    entry = access_entry(server, reply.header("Apigw-Requestid"), start)
    assert entry["method"] == "GET"
    assert entry["path"] == "/echo/x?a=1"
    assert entry["status"] == 200
    assert isinstance(entry["latencyMs"], (int, float)) and entry["latencyMs"] >= 0
    assert entry["function"] == "EchoFunction"
    assert entry["api"] == "HttpApi"
    assert re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", entry["time"]), entry


def test_access_entry_for_an_unrouted_request(server):
    start = len(server.lines())
    reply = server.request("DELETE", "/no/such/thing")
    assert reply.status == 404, reply
    entry = access_entry(server, reply.header("Apigw-Requestid"), start)
    assert entry["status"] == 404
    assert entry["function"] is None
    assert entry["method"] == "DELETE" and entry["path"] == "/no/such/thing"


def test_function_log_lines_are_json(server):
    start = len(server.lines())
    reply = server.get("/fail")
    assert reply.status == 500, reply

    def logged():
        return [e for e in json_lines(server, start)
                if e.get("type") == "log" and e.get("function") == "FailFunction"
                and "failed on purpose" in str(e.get("message"))]
    [entry, *_] = wait_until(logged, timeout=10, message="FailFunction's error logged as JSON")
    assert entry["requestId"], entry
    access = access_entry(server, reply.header("Apigw-Requestid"), start)
    assert access["status"] == 500 and access["function"] == "FailFunction"


def test_no_text_access_lines(server):
    server.get("/echo/text")
    assert not [line for line in server.lines() if line.startswith("[gateway]")], server.output()
