"""REST API CORS as SAM sets it up (``Cors`` on ``AWS::Serverless::Api``): every path gets an
``OPTIONS`` method with a mock integration answering 200 with the template's header values
(SAM's quoted strings, unquoted), ``Access-Control-Allow-Methods`` computed from the path's
methods when the template gives none (samtranslator ``_make_cors_allowed_methods_for_path``:
the path's methods plus OPTIONS, upper-case, sorted; every method for ANY). Proxy integrations'
actual responses come from the function untouched: the gateway adds nothing.

App: ``apps/gateway_cors_rest`` — ``CorsApi`` (every setting), ``StarApi`` (``Cors: "'*'"``),
``PlainApi`` (no Cors).
"""

from __future__ import annotations

import pytest

from gateway_support import GatewayServer, copy_app

ORIGIN = "https://app.example.com"
PREFLIGHT = [("Origin", ORIGIN), ("Access-Control-Request-Method", "POST"),
             ("Access-Control-Request-Headers", "content-type")]
ALL_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_app("gateway_cors_rest", tmp_path_factory.mktemp("gateway-cors-rest") / "app")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def cors_headers(reply) -> dict[str, str]:
    return {name.lower(): value for name, value in reply.headers if name.lower().startswith("access-control-")}


@pytest.mark.parametrize("path", ["/Prod/c/items", "/c/items", "/Prod/c/own"])
def test_preflight_answers_with_the_templates_headers(server, path):
    reply = server.request("OPTIONS", path, headers=PREFLIGHT)
    assert reply.status == 200, reply
    assert cors_headers(reply) == {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-methods": "GET,POST,OPTIONS",
        "access-control-allow-headers": "Content-Type,X-Api-Key",
        "access-control-max-age": "600",
        "access-control-allow-credentials": "true",
    }, reply


def test_options_without_preflight_headers_is_the_mock_too(server):
    # SAM's OPTIONS method answers any OPTIONS request on the path.
    reply = server.request("OPTIONS", "/Prod/c/items")
    assert reply.status == 200, reply
    assert reply.header("Access-Control-Allow-Origin") == ORIGIN


def test_preflight_does_not_call_the_function(server):
    start = len(server.lines())
    reply = server.request("OPTIONS", "/Prod/c/items", headers=PREFLIGHT)
    assert reply.status == 200
    request_id = reply.header("x-amzn-RequestId")
    line = server.wait_for_line(request_id, start=start).string
    assert " - " in line and "EchoFunction" not in line, line


def test_bare_origin_cors_computes_the_methods_of_the_path(server):
    reply = server.request("OPTIONS", "/Prod/s/items", headers=PREFLIGHT)
    assert reply.status == 200, reply
    assert cors_headers(reply) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET,OPTIONS,POST",
    }, reply


def test_bare_origin_cors_on_an_any_path_allows_every_method(server):
    reply = server.request("OPTIONS", "/Prod/s/any", headers=PREFLIGHT)
    assert reply.status == 200, reply
    assert reply.header("Access-Control-Allow-Methods") == ALL_METHODS


@pytest.mark.parametrize("path", ["/Prod/c/items", "/Prod/s/items", "/Prod/p/items"])
def test_actual_responses_get_no_cors_headers(server, path):
    reply = server.get(path, headers=[("Origin", ORIGIN)])
    assert reply.status == 200, reply
    assert reply.header("X-Echo-Function") == "EchoFunction"
    assert cors_headers(reply) == {}, reply


@pytest.mark.parametrize("path", ["/Prod/c/own", "/Prod/p/own"])
def test_the_functions_own_cors_headers_pass_through(server, path):
    reply = server.get(path, headers=[("Origin", ORIGIN)])
    assert reply.status == 200, reply
    assert cors_headers(reply) == {
        "access-control-allow-origin": "https://own.example",
        "access-control-allow-methods": "PUT",
    }, reply


def test_without_cors_there_is_no_options_method(server):
    reply = server.request("OPTIONS", "/Prod/p/items", headers=PREFLIGHT)
    assert reply.status == 403, reply
    assert reply.json() == {"message": "Missing Authentication Token"}
    assert cors_headers(reply) == {}
