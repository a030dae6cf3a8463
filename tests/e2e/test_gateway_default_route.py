"""HTTP APIs' ``$default`` route: an ``HttpApi`` event without ``Path`` and ``Method`` catches
every request no other route matches (API Gateway developer guide, "Working with routes for HTTP
APIs": full match, then greedy path variables, then ``$default``).

App: ``apps/gateway_default`` — ``EchoFunction`` on ``$default``, ``OtherFunction`` on ``GET /specific``.
"""

from __future__ import annotations

import pytest

from gateway_support import GatewayServer, copy_app


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_app("gateway_default", tmp_path_factory.mktemp("gateway-default") / "app")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def test_route_table_lists_the_default_route(server):
    lines = [line for line in server.lines() if "Mounting EchoFunction at " in line]
    assert len(lines) == 1, server.output()
    url = lines[0].split("Mounting EchoFunction at ", 1)[1].rsplit(" [", 1)[0]
    # A URL on the API port (e.g. http://127.0.0.1:PORT/$default or …/), not PORT glued to "$default".
    assert url.startswith(f"{server.api}/"), lines[0]
    assert lines[0].endswith("[ANY]"), lines[0]


def test_a_matching_route_wins_over_default(server):
    reply = server.get("/specific")
    assert reply.status == 200, reply
    assert reply.header("X-Echo-Function") == "OtherFunction"
    assert reply.json()["routeKey"] == "GET /specific"


@pytest.mark.parametrize(
    "method, path, raw_path, raw_query",
    [
        ("GET", "/", "/", ""),
        ("GET", "/anything/deep/below?x=1&x=2", "/anything/deep/below", "x=1&x=2"),
        ("POST", "/specific", "/specific", ""),  # the method does not match GET /specific
        ("DELETE", "/Specific", "/Specific", ""),
        ("GET", "/specific/", "/specific/", ""),
    ],
)
def test_everything_else_reaches_default(server, method, path, raw_path, raw_query):
    reply = server.request(method, path)
    assert reply.status == 200, reply
    assert reply.header("X-Echo-Function") == "EchoFunction"
    event = reply.json()
    assert event["routeKey"] == "$default"
    assert event["requestContext"]["routeKey"] == "$default"
    assert event["rawPath"] == raw_path
    assert event["rawQueryString"] == raw_query
    assert event["requestContext"]["http"]["method"] == method
    assert "pathParameters" not in event
