"""REST APIs (payload 1.0) end to end: the proxy event a function receives, field by field, and
the HTTP response made of what it returns, checked against what real API Gateways did
(``shared/reference/apigw/observed-gateway-behaviour.json``) and the wire-format samples.

App: ``apps/gateway_rest`` — one REST API (stage ``test``, ``BinaryMediaTypes`` octet-stream and
png, stage variables), an echo function on the recorded cases' routes, a custom-runtime function
that returns the request body as its raw result, a failing and a slow function.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import select
import time

import pytest

from gateway_support import (
    ACCOUNT,
    REST,
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

STAGE = "test"
INTERNAL_ERROR = b'{"message": "Internal server error"}'
MISSING_TOKEN = {"message": "Missing Authentication Token"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_app("gateway_rest", tmp_path_factory.mktemp("gateway-rest") / "app")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def echo(server, method, path, headers=None, body=None):
    reply = server.request(method, path, headers=headers, body=body)
    assert reply.status == 200, f"{method} {path}: {reply}"
    assert reply.header("X-Echo-Function") == "EchoFunction", reply
    return reply, reply.json()


# -- the event -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", request_cases(REST), ids=lambda c: c["case"])
def test_recorded_request_gives_the_recorded_event(server, case):
    method, url, headers, body = recorded_request(case)
    # The deployed URL has the stage in front: https://…/test/test1/api/…
    _, event = echo(server, method, f"/{STAGE}{url}", headers=headers, body=body)
    want = camel(case["observed_event_dotnet_serialized"])
    for key in ("resource", "path", "httpMethod", "queryStringParameters",
                "multiValueQueryStringParameters", "pathParameters", "body", "isBase64Encoded"):
        assert event.get(key, "<absent>") == want[key], f"{key}: got {event.get(key, '<absent>')!r}, recorded {want[key]!r}"
    context, want_context = event["requestContext"], want["requestContext"]
    for key in ("path", "stage", "resourcePath", "httpMethod"):
        assert context.get(key) == want_context[key], f"requestContext.{key}"
    for name, value in headers:
        assert event["headers"].get(name) == value, f"headers[{name!r}] in {event['headers']}"
        assert event["multiValueHeaders"].get(name) == [value], f"multiValueHeaders[{name!r}]"


def test_event_has_the_members_of_the_wire_format(server):
    reply, event = echo(server, "POST", f"/{STAGE}/echo?x=1", headers=[("Content-Type", "text/plain")], body="hi")
    sample = wire_event("aws_lambda_events/example-apigw-request.json")
    wanted = set(sample) | {"isBase64Encoded"}
    assert wanted <= set(event), f"missing members: {wanted - set(event)}"
    context_sample = set(sample["requestContext"]) - {"authorizer"}  # no authorizer on this route
    context_sample |= {"extendedRequestId", "requestTime"}
    assert context_sample <= set(event["requestContext"]), (
        f"requestContext lacks {context_sample - set(event['requestContext'])}"
    )
    documented_identity = set(wire_event("powertools/apiGatewayProxyEvent_noVersionAuth.json")
                              ["requestContext"]["identity"]) - {"clientCert"}
    identity = event["requestContext"]["identity"]
    assert documented_identity <= set(identity), f"identity lacks {documented_identity - set(identity)}"


def test_request_context_values(server):
    before_ms = int(time.time() * 1000)
    reply, event = echo(server, "GET", f"/{STAGE}/echo/a/b", headers=[("User-Agent", "e2e-agent/1.0")])
    after_ms = int(time.time() * 1000)
    context = event["requestContext"]
    assert context["requestId"] == reply.header("x-amzn-RequestId"), "requestId is the response's x-amzn-RequestId"
    assert context["accountId"] == ACCOUNT
    assert context["stage"] == STAGE
    assert context["resourcePath"] == "/echo/{proxy+}"
    assert context["path"] == f"/{STAGE}/echo/a/b", "requestContext.path has the stage prefix"
    assert context["httpMethod"] == "GET"
    assert context["protocol"] == "HTTP/1.1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "e2e-agent/1.0"
    assert isinstance(context["apiId"], str) and context["apiId"]
    assert isinstance(context["resourceId"], str) and context["resourceId"]
    assert before_ms - 1000 <= context["requestTimeEpoch"] <= after_ms + 1000
    expected_time = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(context["requestTimeEpoch"] / 1000))
    assert context["requestTime"] == expected_time
    assert event["path"] == "/echo/a/b" and event["resource"] == "/echo/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b"}


def test_the_gateway_adds_forwarding_and_trace_headers(server):
    _, event = echo(server, "GET", f"/{STAGE}/echo")
    headers = event["headers"]
    assert headers.get("X-Forwarded-For") == "127.0.0.1"
    assert headers.get("X-Forwarded-Proto") == "http"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers.get("X-Amzn-Trace-Id", "")), headers
    assert event["multiValueHeaders"]["X-Forwarded-For"] == ["127.0.0.1"]


def test_the_gateway_adds_x_forwarded_port(server):
    # Every recorded event (REST and HTTP API 1.0) carries X-Forwarded-Port next to
    # X-Forwarded-For and X-Forwarded-Proto; locally it is the port the client connected to.
    _, event = echo(server, "GET", f"/{STAGE}/echo")
    assert event["headers"].get("X-Forwarded-Port") == str(server.api_port), event["headers"]


def test_header_names_arrive_in_their_usual_spelling(server):
    # AWS passes header names to REST events as the client wrote them (the wire sample
    # aws_lambda_events/example-apigw-request.json has "cache-control" and "headerName").
    # Stratus's HTTP server (hyper) does not keep the client's spelling, so names arrive in their
    # usual capitalisation: a documented difference (docs/gateway.md, "Events").
    _, event = echo(server, "GET", f"/{STAGE}/echo", headers=[("cache-control", "no-cache"), ("headerName", "headerValue")])
    assert event["headers"].get("Cache-Control") == "no-cache", sorted(event["headers"])
    assert event["headers"].get("Headername") == "headerValue", sorted(event["headers"])
    assert event["multiValueHeaders"].get("Headername") == ["headerValue"]


def test_repeated_headers_and_query_keys(server):
    _, event = echo(
        server, "GET", f"/{STAGE}/echo?a=1&b=x&a=2&empty=",
        headers=[("X-Multi", "first"), ("X-Multi", "second")],
    )
    assert event["headers"]["X-Multi"] == "second", "headers keeps the last value"
    assert event["multiValueHeaders"]["X-Multi"] == ["first", "second"]
    assert event["queryStringParameters"] == {"a": "2", "b": "x", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"], "empty": [""]}


def test_no_query_no_parameters_no_body_are_null(server):
    _, event = echo(server, "GET", f"/{STAGE}/echo")
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_stage_variables_come_from_the_template(server):
    # The stage's Variables reach the function as stageVariables (null only without any).
    _, event = echo(server, "GET", f"/{STAGE}/echo")
    assert event["stageVariables"] == {"stageVarName": "stageVarValue"}


@pytest.mark.parametrize(
    "content_type, body, base64_encoded",
    [
        ("text/plain; charset=utf-8", "héllo wörld".encode(), False),
        ("application/json", b'{"a": [1, 2]}', False),
        ("application/octet-stream", bytes([0, 1, 2, 250, 255]), True),
        ("image/png", b"\x89PNG\r\n\x1a\n", True),
    ],
)
def test_body_is_base64_only_for_binary_media_types(server, content_type, body, base64_encoded):
    _, event = echo(server, "POST", f"/{STAGE}/echo", headers=[("Content-Type", content_type)], body=body)
    assert event["isBase64Encoded"] is base64_encoded
    if base64_encoded:
        assert base64.b64decode(event["body"]) == body
    else:
        assert event["body"] == body.decode("utf-8")


def test_routes_answer_with_and_without_the_stage_prefix(server):
    _, with_stage = echo(server, "GET", f"/{STAGE}/echo/x")
    _, without = echo(server, "GET", "/echo/x")
    for event in (with_stage, without):
        assert event["path"] == "/echo/x"
        assert event["pathParameters"] == {"proxy": "x"}
        assert event["requestContext"]["stage"] == STAGE


# -- the response ----------------------------------------------------------------------------------

def respond(server, result: bytes, headers=None):
    """Makes the raw function return exactly ``result`` and returns the gateway's reply."""
    return server.request("POST", f"/{STAGE}/respond", headers=[("Content-Type", "text/plain"), *(headers or [])], body=result)


@pytest.mark.parametrize("case", response_cases(REST), ids=lambda c: c["case"])
def test_recorded_lambda_result_gives_the_recorded_response(server, case):
    reply = respond(server, lambda_result_bytes(case))
    want = case["observed_http_response_dotnet_serialized"]
    assert reply.status == want["StatusCode"], reply
    assert reply.body == want["Content"].encode(), f"body {reply.body!r}, recorded {want['Content']!r}"
    for name, values in expected_response_headers(case).items():
        assert reply.header_values(name) == values, f"{name}: got {reply.header_values(name)}, recorded {values}"


def test_base64_result_is_decoded_for_a_binary_media_type(server):
    png = bytes([137, 80, 78, 71, 1, 2, 3, 250])
    result = json.dumps({
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }).encode()
    reply = respond(server, result, headers=[("Accept", "image/png")])
    assert reply.status == 200, reply
    assert reply.body == png
    assert reply.header("Content-Type") == "image/png"


def test_base64_result_stays_text_for_other_media_types(server):
    result = json.dumps({
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain"},
        "body": "AQIDBAU=",
        "isBase64Encoded": True,
    }).encode()
    reply = respond(server, result)
    assert reply.status == 200, reply
    assert reply.body == b"AQIDBAU="


# A result without statusCode is not malformed on a REST API: it is a 200 (LocalStack's
# AWS-validated test_aws_proxy_response_payload_format_validation, "invoke-api-only-headers"; see
# test_gateway_fidelity.py), so this list no longer has the "no-status-code" case it had.
@pytest.mark.parametrize(
    "result",
    [
        b'{"statusCode": 200, "body": {"not": "a string"}}',
        b'{"statusCode": 200, "headers": "not an object"}',
        b'{"statusCode": "abc"}',
        b"[1, 2, 3]",
    ],
    ids=["body-object", "headers-string", "status-text", "array"],
)
def test_malformed_result_is_502(server, result):
    reply = respond(server, result)
    assert reply.status == 502, reply
    assert reply.body == INTERNAL_ERROR


def test_response_has_x_amzn_request_id(server):
    reply, event = echo(server, "GET", f"/{STAGE}/echo")
    assert reply.header("x-amzn-RequestId") == event["requestContext"]["requestId"]


# -- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", f"/{STAGE}/nowhere"),
        ("GET", "/nowhere"),
        ("GET", f"/{STAGE}/test4/api/search"),  # the resource exists, without GET
        ("DELETE", f"/{STAGE}/respond"),
        ("GET", "/other-stage/echo"),
    ],
)
def test_unknown_route_is_missing_authentication_token(server, method, path):
    reply = server.request(method, path)
    assert reply.status == 403, reply
    assert reply.json() == MISSING_TOKEN
    assert reply.header("x-amzn-ErrorType") == "MissingAuthenticationTokenException"


def test_function_error_is_502(server):
    reply = server.get(f"/{STAGE}/fail")
    assert reply.status == 502, reply
    assert reply.body == INTERNAL_ERROR
    assert reply.header("Content-Type") == "application/json"
    assert "failed on purpose" not in reply.text


def test_integration_timeout_is_504(server):
    # TimeoutInMillis: 1000 on the route; the function takes 3 s.
    started = time.monotonic()
    reply = server.get(f"/{STAGE}/slow?ms=3000")
    elapsed = time.monotonic() - started
    assert reply.status == 504, reply
    assert reply.json() == {"message": "Endpoint request timed out"}
    assert 0.9 <= elapsed < 2.5, f"answered after {elapsed:.2f} s"


def test_fast_enough_function_is_not_timed_out(server):
    reply = server.get(f"/{STAGE}/slow?ms=100")
    assert reply.status == 200, reply
    assert reply.body == b"slept 100 ms"


def _oversized(server, chunked: bool) -> http.client.HTTPResponse:
    size = 10 * 1024 * 1024 + 1
    conn = http.client.HTTPConnection("127.0.0.1", server.api_port, timeout=30)
    conn.putrequest("POST", f"/{STAGE}/echo", skip_accept_encoding=True)
    conn.putheader("Content-Type", "text/plain")
    block = b"x" * (1024 * 1024)
    try:
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            sent = 0
            while sent < size:
                piece = block[: min(len(block), size - sent)]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            conn.send(b"0\r\n\r\n")
        else:
            conn.putheader("Content-Length", str(size))
            conn.endheaders()
            # A gateway that answers from the Content-Length alone does so before the body comes;
            # only send the body when no answer is there within a second.
            answered, _, _ = select.select([conn.sock], [], [], 1.0)
            sent = 0
            while not answered and sent < size:
                piece = block[: min(len(block), size - sent)]
                conn.send(piece)
                sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the gateway may answer and close before reading it all
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_10_mb_is_413(server, chunked):
    response = _oversized(server, chunked)
    assert response.status == 413


# -- access log (text format) ----------------------------------------------------------------------

def test_access_log_line_per_request(server):
    start = len(server.lines())
    reply, _ = echo(server, "GET", f"/{STAGE}/echo/log?x=1")
    request_id = reply.header("x-amzn-RequestId")
    line = server.wait_for_line(re.escape(request_id), start=start).string
    assert re.fullmatch(
        rf"\[gateway\] GET /{STAGE}/echo/log\?x=1 200 \d+(\.\d+)? ms EchoFunction {re.escape(request_id)}", line
    ), line


def test_access_log_line_for_an_unrouted_request(server):
    start = len(server.lines())
    reply = server.request("PUT", "/no/such/route")
    request_id = reply.header("x-amzn-RequestId")
    assert request_id, reply
    line = server.wait_for_line(re.escape(request_id), start=start).string
    assert re.fullmatch(rf"\[gateway\] PUT /no/such/route 403 \d+(\.\d+)? ms - {re.escape(request_id)}", line), line
