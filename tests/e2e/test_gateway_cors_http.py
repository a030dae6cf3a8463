"""HTTP API CORS (``CorsConfiguration``): API Gateway answers preflight requests itself and puts
the CORS headers on responses to allowed origins, ignoring the ones the integration returns
(API Gateway developer guide, "Configuring CORS for an HTTP API": "API Gateway ignores CORS
headers returned from your backend integration"; preflights are answered whether or not an
OPTIONS route exists). APIs without a CORS configuration get nothing added.

App: ``apps/gateway_cors_http`` — ``CorsHttpApi`` (every setting), ``PlainHttpApi`` (none) and a
REST API with ``Cors`` on the same port.
"""

from __future__ import annotations

import re

import pytest

from gateway_support import GatewayServer, copy_app

ORIGIN = "https://app.example.com"
OTHER_ORIGIN = "https://evil.example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_app("gateway_cors_http", tmp_path_factory.mktemp("gateway-cors-http") / "app")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def preflight(origin: str, method: str = "POST", headers: str = "content-type,x-api-key"):
    return [("Origin", origin), ("Access-Control-Request-Method", method), ("Access-Control-Request-Headers", headers)]


def cors_headers(reply) -> dict[str, str]:
    return {name.lower(): value for name, value in reply.headers if name.lower().startswith("access-control-")}


def as_set(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def test_preflight_from_an_allowed_origin(server):
    reply = server.request("OPTIONS", "/c/items", headers=preflight(ORIGIN))
    assert reply.status == 204, reply
    assert reply.body == b""
    assert reply.header("Access-Control-Allow-Origin") == ORIGIN
    methods = as_set(reply.header("Access-Control-Allow-Methods"))
    assert {"get", "post"} <= methods <= {"get", "post", "options"}, reply
    assert as_set(reply.header("Access-Control-Allow-Headers")) == {"content-type", "x-api-key"}, reply
    assert reply.header("Access-Control-Max-Age") == "300"
    assert reply.header("Access-Control-Allow-Credentials") == "true"


def test_preflight_does_not_call_the_function(server):
    start = len(server.lines())
    reply = server.request("OPTIONS", "/c/items", headers=preflight(ORIGIN))
    assert reply.status == 204
    # HTTP APIs answer with Apigw-Requestid only (recorded V2_HttpAPIHeaders), preflights included.
    line = server.wait_for_line(re.escape(reply.header("Apigw-Requestid") or "<none>"), start=start).string
    assert "EchoFunction" not in line, line


def test_preflight_from_another_origin_gets_no_cors_headers(server):
    reply = server.request("OPTIONS", "/c/items", headers=preflight(OTHER_ORIGIN))
    assert reply.header("X-Echo-Function") is None, "a preflight never reaches the function"
    assert reply.header("Access-Control-Allow-Origin") is None, reply


def test_actual_response_to_an_allowed_origin(server):
    reply = server.get("/c/items", headers=[("Origin", ORIGIN)])
    assert reply.status == 200, reply
    assert reply.header("X-Echo-Function") == "EchoFunction"
    assert reply.header("Access-Control-Allow-Origin") == ORIGIN
    assert as_set(reply.header("Access-Control-Expose-Headers")) == {"x-request-id"}
    assert reply.header("Access-Control-Allow-Credentials") == "true"


def test_actual_response_to_another_origin_or_none(server):
    for headers in ([("Origin", OTHER_ORIGIN)], []):
        reply = server.get("/c/items", headers=headers)
        assert reply.status == 200, reply
        assert reply.header("Access-Control-Allow-Origin") is None, reply


def test_the_functions_cors_headers_are_replaced(server):
    reply = server.get("/c/own", headers=[("Origin", ORIGIN)])
    assert reply.status == 200, reply
    assert reply.header_values("Access-Control-Allow-Origin") == [ORIGIN], reply
    assert reply.header("Access-Control-Allow-Methods") is None, "the function's own CORS headers are ignored"


def test_the_functions_cors_headers_are_dropped_for_another_origin(server):
    reply = server.get("/c/own", headers=[("Origin", OTHER_ORIGIN)])
    assert reply.status == 200, reply
    assert cors_headers(reply) == {}, reply


def test_without_cors_configuration_nothing_is_added(server):
    reply = server.get("/p/items", headers=[("Origin", ORIGIN)])
    assert reply.status == 200, reply
    assert cors_headers(reply) == {}, reply
    own = server.get("/p/own", headers=[("Origin", ORIGIN)])
    assert cors_headers(own) == {
        "access-control-allow-origin": "https://own.example",
        "access-control-allow-methods": "PUT",
    }, own


def test_preflight_to_an_api_without_cors_is_not_answered_by_another_api(server):
    # /p/items belongs to PlainHttpApi (no CorsConfiguration, no OPTIONS route): on AWS its own
    # host answers 404 {"message":"Not Found"}, with no CORS headers from CorsHttpApi's settings.
    reply = server.request("OPTIONS", "/p/items", headers=preflight(ORIGIN))
    assert reply.header("Access-Control-Allow-Origin") is None, reply
    assert reply.status == 404, reply


def test_preflight_to_the_rest_api_gets_the_rest_apis_cors(server):
    # /r/items belongs to the REST API with Cors: its OPTIONS mock answers 200 with its own origin.
    reply = server.request("OPTIONS", "/Prod/r/items", headers=preflight("https://rest.example.com", "GET"))
    assert reply.status == 200, reply
    assert reply.header("Access-Control-Allow-Origin") == "https://rest.example.com", reply
    assert reply.header("Access-Control-Allow-Methods") == "GET,OPTIONS", reply
