"""``stratus start --disable-authorizer``: no Lambda authorizer runs, every request reaches its
function (as ``sam local start-api --disable-authorizer``).

App: ``apps/gateway_auth`` (the authorizers append each call to a file; it must stay empty).
"""

from __future__ import annotations

import pytest

from gateway_support import GatewayServer, copy_app


@pytest.fixture(scope="module")
def calls_file(tmp_path_factory):
    return tmp_path_factory.mktemp("gateway-auth-off-calls") / "calls.jsonl"


@pytest.fixture(scope="module")
def server(tmp_path_factory, calls_file):
    app = copy_app("gateway_auth", tmp_path_factory.mktemp("gateway-auth-off") / "app")
    srv = GatewayServer(app, ["--disable-authorizer", "--parameter-overrides", f"CallsFile={calls_file}"])
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/Prod/token/items", []),
        ("/Prod/token/items", [("Authorization", "Bearer deny-abc")]),
        ("/Prod/request/items", []),
        ("/h/simple", []),
        ("/h/policy", [("Authorization", "deny-abc")]),
        ("/h/v1", []),
    ],
)
def test_every_request_reaches_its_function(server, calls_file, path, headers):
    reply = server.get(path, headers=headers)
    assert reply.status == 200, reply
    assert reply.header("X-Echo-Function") == "EchoFunction"
    assert not calls_file.exists() or calls_file.read_text() == "", "no authorizer may run"
