"""HTTP APIs end to end: the payload 2.0 event (and 1.0 with ``PayloadFormatVersion: '1.0'``)
field by field, the response rules of both formats including 2.0's inferred format, and HTTP
APIs' own errors, checked against what real API Gateways did
(``shared/reference/apigw/observed-gateway-behaviour.json``) and the wire-format samples.

App: ``apps/gateway_http`` — one HTTP API ($default stage, stage variables, no ``$default``
route), echo functions for 2.0 and 1.0 on the recorded cases' routes, a raw responder for each
format, a failing and a slow function.
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest

from gateway_support import (
    ACCOUNT,
    HTTP_V1,
    HTTP_V2,
    GatewayServer,
    camel,
    copy_app,
    expected_response_headers,
    lambda_result_bytes,
    recorded_request,
    request_cases,
    response_cases,
    wire_event,
)

NOT_FOUND = {"message": "Not Found"}
INTERNAL_ERROR = b'{"message":"Internal Server Error"}'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_app("gateway_http", tmp_path_factory.mktemp("gateway-http") / "app")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def echo(server, method, path, headers=None, body=None, function="EchoFunction"):
    reply = server.request(method, path, headers=headers, body=body)
    assert reply.status == 200, f"{method} {path}: {reply}"
    assert reply.header("X-Echo-Function") == function, reply
    return reply, reply.json()


# -- payload 2.0 events ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", request_cases(HTTP_V2), ids=lambda c: c["case"])
def test_recorded_request_gives_the_recorded_v2_event(server, case):
    method, url, headers, body = recorded_request(case)
    _, event = echo(server, method, url, headers=headers, body=body)
    want = camel(case["observed_event_dotnet_serialized"])
    for key in ("version", "routeKey", "rawPath", "rawQueryString", "cookies", "queryStringParameters",
                "pathParameters", "body", "isBase64Encoded"):
        got = event.get(key)
        assert got == want[key], f"{key}: got {got!r}, recorded {want[key]!r}"
    context, want_context = event["requestContext"], want["requestContext"]
    for key in ("routeKey", "stage"):
        assert context[key] == want_context[key], f"requestContext.{key}"
    for key in ("method", "path", "protocol"):
        assert context["http"][key] == want_context["http"][key], f"requestContext.http.{key}"
    assert "cookie" not in event["headers"], "the Cookie header moves to cookies"
    for name, value in headers:
        if name.lower() != "cookie":
            assert event["headers"].get(name.lower()) == value, f"headers[{name.lower()!r}] in {event['headers']}"


def test_v2_event_has_the_members_of_the_wire_format(server):
    _, event = echo(server, "GET", "/echo/plain")
    sample = wire_event("aws_lambda_events/example-apigw-v2-request-no-authorizer.json")
    assert set(sample) <= set(event), f"missing {set(sample) - set(event)}"
    context_sample = set(sample["requestContext"]) - {"authentication"}  # mutual TLS only
    assert context_sample <= set(event["requestContext"]), f"requestContext lacks {context_sample - set(event['requestContext'])}"
    assert set(sample["requestContext"]["http"]) == set(event["requestContext"]["http"])
    # Members without a value are left out, as in the sample.
    for absent in ("cookies", "queryStringParameters", "body"):
        assert absent not in event, f"{absent} should be absent: {event.get(absent)!r}"
    assert event["pathParameters"] == {"proxy": "plain"}
    assert "multiValueHeaders" not in event and "multiValueQueryStringParameters" not in event


def test_v2_request_context_values(server):
    before_ms = int(time.time() * 1000)
    reply, event = echo(server, "PUT", "/echo/a%20b/c?x=1", headers=[("User-Agent", "e2e/2")])
    after_ms = int(time.time() * 1000)
    context = event["requestContext"]
    assert context["accountId"] == ACCOUNT
    assert context["stage"] == "$default"
    assert context["routeKey"] == "ANY /echo/{proxy+}" == event["routeKey"]
    assert context["http"] == {
        "method": "PUT",
        "path": "/echo/a b/c",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "e2e/2",
    }
    assert before_ms - 1000 <= context["timeEpoch"] <= after_ms + 1000
    assert context["time"] == time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(context["timeEpoch"] / 1000))
    assert event["rawPath"] == "/echo/a b/c", "rawPath is decoded (recorded V2_SpecialCharactersInPath)"
    assert event["rawQueryString"] == "x=1"
    assert event["pathParameters"] == {"proxy": "a b/c"}


def test_v2_headers_are_lower_case_and_repeats_comma_joined(server):
    _, event = echo(
        server, "GET", "/echo/h?tag=a&tag=b&one=1",
        headers=[("X-MiXeD-Case", "v"), ("X-Multi", "value1"), ("X-Multi", "value2")],
    )
    headers = event["headers"]
    assert headers.get("x-mixed-case") == "v", headers
    # As example-apigw-v2-request-multi-value-parameters.json: "Header2": "value1,value2".
    assert headers.get("x-multi") == "value1,value2", headers
    assert all(name == name.lower() for name in headers), headers
    assert event["queryStringParameters"] == {"tag": "a,b", "one": "1"}
    assert event["rawQueryString"] == "tag=a&tag=b&one=1"


def test_v2_cookies_are_split(server):
    _, event = echo(server, "GET", "/echo/c", headers=[("Cookie", "a=1; b=two; c=")])
    assert event["cookies"] == ["a=1", "b=two", "c="]
    assert "cookie" not in event["headers"]


@pytest.mark.parametrize(
    "content_type, body, base64_encoded",
    [
        ("text/plain; charset=utf-8", "héllo".encode(), False),
        ("application/json", b'{"k": "v"}', False),
        ("application/x-www-form-urlencoded", b"a=1&b=2", False),
        ("application/octet-stream", bytes([1, 2, 3, 4, 5]), True),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00", True),
    ],
)
def test_v2_body_is_base64_when_not_text(server, content_type, body, base64_encoded):
    _, event = echo(server, "POST", "/echo/body", headers=[("Content-Type", content_type)], body=body)
    assert event["isBase64Encoded"] is base64_encoded
    if base64_encoded:
        assert base64.b64decode(event["body"]) == body
    else:
        assert event["body"] == body.decode()


def test_v2_stage_variables_come_from_the_template(server):
    _, event = echo(server, "GET", "/echo/vars")
    assert event.get("stageVariables") == {"stageVarName": "stageVarValue"}


# -- payload 1.0 events on an HTTP API -------------------------------------------------------------

@pytest.mark.parametrize("case", request_cases(HTTP_V1), ids=lambda c: c["case"])
def test_recorded_request_gives_the_recorded_v1_event(server, case):
    method, url, headers, body = recorded_request(case)
    _, event = echo(server, method, url, headers=headers, body=body, function="EchoV1Function")
    want = camel(case["observed_event_dotnet_serialized"])
    for key in ("resource", "path", "httpMethod", "queryStringParameters",
                "multiValueQueryStringParameters", "pathParameters", "body", "isBase64Encoded"):
        got = event.get(key, "<absent>")
        assert got == want[key], f"{key}: got {got!r}, recorded {want[key]!r}"
    context, want_context = event["requestContext"], want["requestContext"]
    for key in ("path", "stage", "resourcePath", "httpMethod"):
        assert context.get(key) == want_context[key], f"requestContext.{key}"
    for name, value in headers:
        assert event["headers"].get(name) == value, f"headers[{name!r}]"
        assert event["multiValueHeaders"].get(name) == [value]


def test_v1_event_version_and_wire_members(server):
    _, event = echo(server, "GET", "/echo1/x?q=1", function="EchoV1Function")
    assert event["version"] == "1.0"
    sample = wire_event("powertools/apiGatewayProxyEvent_noVersionAuth.json")
    assert set(sample) <= set(event), f"missing {set(sample) - set(event)}"
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["path"] == "/echo1/x"
    assert event["pathParameters"] == {"proxy": "x"}


def test_v1_resource_id_is_the_route_key(server):
    # Recorded (V1_*HttpV1): an HTTP API's 1.0 event has requestContext.resourceId
    # "POST /test1/api/users/{userId}/orders", the route key.
    _, event = echo(server, "POST", "/test4/api/search", function="EchoV1Function")
    assert event["requestContext"]["resourceId"] == "POST /test4/api/search"


def test_v1_user_agent_is_empty_without_the_header(server):
    # Recorded (V1_UrlEncodedQueryStringHttpV1, no User-Agent sent): identity.userAgent is "" on
    # an HTTP API, where a REST API gives null.
    _, event = echo(server, "POST", "/test4/api/search", function="EchoV1Function")
    assert event["requestContext"]["identity"]["userAgent"] == ""


# -- responses -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", response_cases(HTTP_V2), ids=lambda c: c["case"])
def test_recorded_v2_result_gives_the_recorded_response(server, case):
    reply = server.request("POST", "/respond", headers=[("Content-Type", "text/plain")], body=lambda_result_bytes(case))
    want = case["observed_http_response_dotnet_serialized"]
    assert reply.status == want["StatusCode"], reply
    assert reply.body == want["Content"].encode(), f"body {reply.body!r}, recorded {want['Content']!r}"
    for name, values in expected_response_headers(case).items():
        assert reply.header_values(name) == values, f"{name}: got {reply.header_values(name)}, recorded {values}"


@pytest.mark.parametrize("case", response_cases(HTTP_V1), ids=lambda c: c["case"])
def test_recorded_v1_result_gives_the_recorded_response(server, case):
    reply = server.request("POST", "/respond1", headers=[("Content-Type", "text/plain")], body=lambda_result_bytes(case))
    want = case["observed_http_response_dotnet_serialized"]
    assert reply.status == want["StatusCode"], reply
    assert reply.body == want["Content"].encode(), f"body {reply.body!r}, recorded {want['Content']!r}"
    for name, values in expected_response_headers(case).items():
        assert reply.header_values(name) == values, f"{name}: got {reply.header_values(name)}, recorded {values}"


def test_v2_cookies_become_set_cookie_headers(server):
    result = wire_event("aws-lambda-go/lambda-urls-response.json")
    reply = server.request("POST", "/respond", headers=[("Content-Type", "text/plain")], body=json.dumps(result))
    assert reply.status == 201, reply
    assert reply.body == result["body"].encode()
    assert reply.header("Content-Type") == "application/json"
    assert reply.header("My-Custom-Header") == "Custom Value"
    assert reply.header_values("Set-Cookie") == result["cookies"]


def test_v2_object_without_status_code_is_a_json_200(server):
    result = {"visits": 3, "nested": {"a": [1, 2]}}
    reply = server.request("POST", "/respond", headers=[("Content-Type", "text/plain")], body=json.dumps(result))
    assert reply.status == 200, reply
    assert reply.header("Content-Type") == "application/json"
    assert json.loads(reply.body) == result


def test_response_carries_apigw_requestid(server):
    # Every recorded HTTP API response has an Apigw-Requestid header (REST APIs send
    # x-amzn-RequestId instead); it is the event's requestContext.requestId.
    reply, event = echo(server, "GET", "/echo/id")
    assert reply.header("Apigw-Requestid") == event["requestContext"]["requestId"], reply


# -- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/nowhere"),
        ("GET", "/test12/api/search"),  # the route is POST only
        ("POST", "/Test12/api/search"),  # paths are case-sensitive
        ("POST", "/test12/api/search/"),  # the trailing slash counts on HTTP APIs
        ("GET", "/echo"),  # {proxy+} needs one segment at least
    ],
)
def test_unknown_route_is_404(server, method, path):
    reply = server.request(method, path)
    assert reply.status == 404, reply
    assert reply.json() == NOT_FOUND


def test_function_error_is_500(server):
    reply = server.get("/fail")
    assert reply.status == 500, reply
    assert reply.body == INTERNAL_ERROR
    assert reply.header("Content-Type") == "application/json"


def test_integration_timeout_is_503(server):
    started = time.monotonic()
    reply = server.get("/slow?ms=3000")
    elapsed = time.monotonic() - started
    assert reply.status == 503, reply
    assert reply.json() == {"message": "Service Unavailable"}
    assert 0.9 <= elapsed < 2.5, f"answered after {elapsed:.2f} s"


def test_body_over_10_mb_is_413(server):
    reply = server.request(
        "POST", "/echo/big",
        headers=[("Content-Type", "text/plain"), ("Content-Length", str(10 * 1024 * 1024 + 1)), ("Expect", "100-continue")],
        body=b"",
    )
    assert reply.status == 413, reply


def test_access_log_names_the_function(server):
    start = len(server.lines())
    reply, event = echo(server, "POST", "/echo/logged", headers=[("Content-Type", "text/plain")], body="x")
    request_id = event["requestContext"]["requestId"]
    line = server.wait_for_line(re.escape(request_id), start=start).string
    assert re.fullmatch(rf"\[gateway\] POST /echo/logged 200 \d+(\.\d+)? ms EchoFunction {re.escape(request_id)}", line), line
