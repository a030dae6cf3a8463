"""``examples/todos-node`` end to end (a copy in a temporary folder): an HTTP API (payload 2.0)
with Node handlers on the AWS SDK for JavaScript v3 and CORS from ``Globals.HttpApi``: create,
list, update, delete, errors, preflight and CORS headers.
"""

from __future__ import annotations

import pytest

from gateway_support import FIRST_CALL_TIMEOUT_S, GatewayServer, copy_example

ORIGIN = "http://localhost:5173"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_example("todos-node", tmp_path_factory.mktemp("todos") / "todos-node")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        # The first call may install the AWS SDK for JavaScript into Stratus's cache.
        assert srv.get("/todos", timeout=FIRST_CALL_TIMEOUT_S).status == 200
        yield srv
    finally:
        srv.stop()


def test_todos_crud(server):
    created = server.post_json("/todos", {"text": "buy milk"})
    assert created.status == 201, created
    todo = created.json()
    assert todo["text"] == "buy milk" and todo["done"] is False
    todo_id = todo["id"]

    listed = server.get("/todos")
    assert listed.status == 200, listed
    assert todo_id in [t["id"] for t in listed.json()["todos"]]

    patched = server.request("PATCH", f"/todos/{todo_id}", headers=[("Content-Type", "application/json")],
                             body='{"done": true}')
    assert patched.status == 200, patched
    assert patched.json()["done"] is True and patched.json()["id"] == todo_id

    deleted = server.request("DELETE", f"/todos/{todo_id}")
    assert deleted.status == 204, deleted
    assert todo_id not in [t["id"] for t in server.get("/todos").json()["todos"]]


def test_errors(server):
    missing = server.request("PATCH", "/todos/no-such-todo", headers=[("Content-Type", "application/json")],
                             body='{"done": true}')
    assert missing.status == 404, missing
    assert missing.json() == {"message": "no such todo"}
    invalid = server.post_json("/todos", {"nope": 1})
    assert invalid.status == 400, invalid
    unknown = server.get("/nothing-here")
    assert unknown.status == 404, unknown
    assert unknown.json() == {"message": "Not Found"}


def test_preflight(server):
    reply = server.request("OPTIONS", "/todos", headers=[
        ("Origin", ORIGIN), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "content-type"),
    ])
    assert reply.status == 204, reply
    assert reply.header("Access-Control-Allow-Origin") == "*"
    methods = {m.strip().upper() for m in (reply.header("Access-Control-Allow-Methods") or "").split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods, reply
    assert "content-type" in (reply.header("Access-Control-Allow-Headers") or "").lower()


def test_responses_carry_the_cors_origin(server):
    reply = server.get("/todos", headers=[("Origin", ORIGIN)])
    assert reply.status == 200, reply
    assert reply.header("Access-Control-Allow-Origin") == "*"
