"""Route matching as API Gateway does it, on a REST API (stage ``v1``) and an HTTP API (stage
``dev``) served together: static segments before ``{param}`` before ``{proxy+}``, an exact method
before ``ANY``, the stage prefix, decoded parameters, case and trailing slashes.

Sources: HTTP API route evaluation in the API Gateway developer guide ("Routing API requests":
full match, then greedy ``{proxy+}``, then ``$default``; ``{"message":"Not Found"}`` otherwise);
REST resource selection and ``403 Missing Authentication Token``; trailing slashes as Powertools
measured them on real APIs (``tests/e2e/event_handler/test_paths_ending_with_slash.py`` in
aws-powertools/powertools-lambda-python: a REST API answers ``/todos/`` like ``/todos``, an HTTP
API does not); the recorded path-parameter decoding in ``observed-gateway-behaviour.json``.

App: ``apps/gateway_routing`` (``EchoFunction`` and ``OtherFunction`` tell which route matched).
"""

from __future__ import annotations

import pytest

from gateway_support import GatewayServer, copy_app

MISSING_TOKEN = {"message": "Missing Authentication Token"}
NOT_FOUND = {"message": "Not Found"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_app("gateway_routing", tmp_path_factory.mktemp("gateway-routing") / "app")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def routed(server, method, path):
    """(function, event) of a request that must reach a function."""
    reply = server.request(method, path)
    assert reply.status == 200, f"{method} {path}: {reply}"
    return reply.header("X-Echo-Function"), reply.json()


# -- REST API ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "method, path, function, resource, parameters",
    [
        ("GET", "/v1/items", "EchoFunction", "/items", None),
        ("GET", "/v1/items/42", "EchoFunction", "/items/{id}", {"id": "42"}),
        ("GET", "/v1/items/special", "OtherFunction", "/items/special", None),
        ("GET", "/v1/items/7/parts/wheel", "EchoFunction", "/items/{id}/parts/{part}", {"id": "7", "part": "wheel"}),
        ("GET", "/v1/files/a/b/c.txt", "EchoFunction", "/files/{proxy+}", {"proxy": "a/b/c.txt"}),
        ("DELETE", "/v1/files/x", "EchoFunction", "/files/{proxy+}", {"proxy": "x"}),
        ("GET", "/v1/files/readme", "OtherFunction", "/files/readme", None),
        ("GET", "/v1/files/readme/more", "EchoFunction", "/files/{proxy+}", {"proxy": "readme/more"}),
        ("GET", "/v1/exact", "EchoFunction", "/exact", None),
        ("POST", "/v1/exact", "OtherFunction", "/exact", None),
        ("PATCH", "/v1/exact", "OtherFunction", "/exact", None),
        ("GET", "/v1/Case", "EchoFunction", "/Case", None),
    ],
)
def test_rest_route_matching(server, method, path, function, resource, parameters):
    got, event = routed(server, method, path)
    assert got == function, f"{method} {path} reached {got}"
    assert event["resource"] == resource
    assert event["httpMethod"] == method
    assert event["pathParameters"] == parameters


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v1/nothing"),
        ("GET", "/v1/case"),  # paths are case-sensitive
        ("GET", "/v1/ITEMS/1"),
        ("GET", "/v1/files"),  # {proxy+} needs at least one segment
        ("POST", "/v1/items"),  # the resource has no POST
        ("GET", "/v1/items/1/parts"),
        ("GET", "/v2/items/1"),  # another stage
    ],
)
def test_rest_unmatched_is_403(server, method, path):
    reply = server.request(method, path)
    assert reply.status == 403, reply
    assert reply.json() == MISSING_TOKEN


def test_rest_stage_prefix_is_optional_and_reported(server):
    _, with_stage = routed(server, "GET", "/v1/items/9")
    _, without = routed(server, "GET", "/items/9")
    for event in (with_stage, without):
        assert event["path"] == "/items/9"
        assert event["resource"] == "/items/{id}"
        assert event["requestContext"]["stage"] == "v1"
    assert with_stage["requestContext"]["path"] == "/v1/items/9"


def test_rest_parameters_stay_percent_encoded(server):
    # Recorded (V1_SpecialCharactersInPathRest): REST APIs pass path parameters encoded.
    _, event = routed(server, "GET", "/v1/items/caf%C3%A9%20n%C2%B01")
    assert event["pathParameters"] == {"id": "caf%C3%A9%20n%C2%B01"}
    assert event["path"] == "/items/caf%C3%A9%20n%C2%B01"
    _, greedy = routed(server, "GET", "/v1/files/dir%20one/file%2B1.txt")
    assert greedy["pathParameters"] == {"proxy": "dir%20one/file%2B1.txt"}


def test_rest_trailing_slash_reaches_the_route(server):
    # Powertools' end-to-end test against a real REST API: POST …/todos/ to the /todos route
    # answers 200 (test_api_gateway_rest_trailing_slash).
    function, event = routed(server, "GET", "/v1/items/")
    assert function == "EchoFunction"
    assert event["resource"] == "/items"


# -- HTTP API ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "method, path, function, route_key, parameters",
    [
        ("GET", "/dev/h/items", "EchoFunction", "GET /h/items", None),
        ("GET", "/dev/h/items/42", "EchoFunction", "GET /h/items/{id}", {"id": "42"}),
        ("GET", "/dev/h/items/special", "OtherFunction", "GET /h/items/special", None),
        ("GET", "/dev/h/files/a/b/c.txt", "EchoFunction", "ANY /h/files/{proxy+}", {"proxy": "a/b/c.txt"}),
        ("GET", "/dev/h/files/readme", "OtherFunction", "GET /h/files/readme", None),
        # No POST route for the path: the greedy ANY route, as in the guide's example
        # (POST /pets/dog/1 → ANY /{proxy+}).
        ("POST", "/dev/h/files/readme", "EchoFunction", "ANY /h/files/{proxy+}", {"proxy": "readme"}),
        ("GET", "/dev/h/exact", "EchoFunction", "GET /h/exact", None),
        ("PUT", "/dev/h/exact", "OtherFunction", "ANY /h/exact", None),
        ("GET", "/dev/h/Case", "EchoFunction", "GET /h/Case", None),
    ],
)
def test_http_route_matching(server, method, path, function, route_key, parameters):
    got, event = routed(server, method, path)
    assert got == function, f"{method} {path} reached {got}"
    assert event["routeKey"] == route_key
    assert event["requestContext"]["http"]["method"] == method
    assert event.get("pathParameters") == parameters


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/dev/h/nothing"),
        ("GET", "/dev/h/case"),  # case-sensitive
        ("GET", "/dev/h/items/"),  # the trailing slash counts (Powertools: HTTP API …/todos/ fails)
        ("POST", "/dev/h/items"),  # no POST route, no ANY, no $default
        ("GET", "/dev/h/files"),  # {proxy+} needs at least one segment
    ],
)
def test_http_unmatched_reaches_no_function(server, method, path):
    # The error's shape is checked on an app with only HTTP APIs (test_gateway_http.py); here the
    # REST API shares the port, so only "no function ran" is asked.
    reply = server.request(method, path)
    assert reply.status in (403, 404), reply
    assert reply.header("X-Echo-Function") is None, reply


def test_http_unmatched_with_the_http_apis_stage_prefix_is_404(server):
    # /dev is the HTTP API's stage (the REST API's is v1): on AWS this URL is the HTTP API's, so
    # the answer is the HTTP API's 404, not the REST API's 403.
    reply = server.request("GET", "/dev/h/nothing")
    assert reply.status == 404, reply
    assert reply.json() == NOT_FOUND


def test_http_stage_prefix(server):
    _, with_stage = routed(server, "GET", "/dev/h/items/5")
    _, without = routed(server, "GET", "/h/items/5")
    for event in (with_stage, without):
        assert event["routeKey"] == "GET /h/items/{id}"
        assert event["requestContext"]["stage"] == "dev"
        assert event["pathParameters"] == {"id": "5"}
    assert with_stage["rawPath"] == "/dev/h/items/5"


def test_http_parameters_are_decoded(server):
    # Recorded (V2_SpecialCharactersInPath, V2_UnicodeCharactersInPath): decoded to UTF-8.
    _, event = routed(server, "GET", "/dev/h/items/caf%C3%A9%20%E2%98%95")
    assert event["pathParameters"] == {"id": "café ☕"}
    assert event["rawPath"] == "/dev/h/items/café ☕"
    _, greedy = routed(server, "GET", "/dev/h/files/dir%20one/x%2By.txt")
    assert greedy["pathParameters"] == {"proxy": "dir one/x+y.txt"}
