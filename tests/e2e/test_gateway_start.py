"""``stratus start`` with a template: the route table and ``Stratus ready``, health on both ports,
the template's tables created on the AWS port and kept across restarts (``--data-dir``), a
changed key schema refused with a message naming the table, and colliding routes refused with
file:line.

Apps: ``apps/gateway_start`` (two tables, a function on a REST and an HTTP API route),
``apps/gateway_collision`` (GET /things declared twice), ``apps/gateway_collision_params``
(sibling path variables ``/things/{id}`` and ``/things/{thingId}`` on one REST API).
"""

from __future__ import annotations

import re

import pytest

from gateway_support import GatewayServer, copy_app, http_request, run_start_failing
from support import make_client

NOTES = "gateway-start-notes"
COUNTERS = "gateway-start-counters"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_app("gateway_start", tmp_path_factory.mktemp("gateway-start") / "app")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def test_prints_the_route_table_then_ready(server):
    lines = server.lines()
    rest = f"Mounting HelloFunction at {server.api}/hello [GET]"
    http = f"Mounting HelloFunction at {server.api}/hi [GET]"
    assert any(rest in line for line in lines), server.output()
    assert any(http in line for line in lines), server.output()
    ready = next(i for i, line in enumerate(lines) if "Stratus ready" in line)
    mounted = [i for i, line in enumerate(lines) if "Mounting " in line]
    assert mounted and max(mounted) < ready, "the route table comes before Stratus ready"


def test_health_answers_on_both_ports(server):
    for port in (server.api_port, server.aws_port):
        reply = http_request(port, "GET", "/_stratus/health")
        assert reply.status == 200, f"port {port}: {reply}"


def test_routes_are_served_on_the_api_port(server):
    for path in ("/hello", "/Prod/hello", "/hi"):
        reply = server.get(path)
        assert reply.status == 200, f"{path}: {reply}"
        assert reply.header("X-Echo-Function") == "HelloFunction"
    on_aws_port = server.get("/hello", port=server.aws_port)
    assert on_aws_port.header("X-Echo-Function") is None, "the AWS port does not serve the APIs"


def test_the_aws_port_has_the_templates_tables(server):
    ddb = make_client(server.aws)
    names = ddb.list_tables()["TableNames"]
    assert NOTES in names and COUNTERS in names, names
    notes = ddb.describe_table(TableName=NOTES)["Table"]
    assert notes["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    counters = ddb.describe_table(TableName=COUNTERS)["Table"]
    assert counters["KeySchema"] == [{"AttributeName": "name", "KeyType": "HASH"}]
    assert counters["AttributeDefinitions"] == [{"AttributeName": "name", "AttributeType": "S"}]


def _put_note(server, note_id: str, text: str):
    make_client(server.aws).put_item(TableName=NOTES, Item={"id": {"S": note_id}, "text": {"S": text}})


def _get_note(server, note_id: str):
    return make_client(server.aws).get_item(TableName=NOTES, Key={"id": {"S": note_id}}, ConsistentRead=True).get("Item")


def test_tables_keep_their_data_across_restarts(tmp_path):
    app = copy_app("gateway_start", tmp_path / "app")
    data = tmp_path / "data"
    first = GatewayServer(app, data_dir=data)
    try:
        first.start()
        _put_note(first, "n1", "kept")
    finally:
        assert first.stop() == 0, first.output()
    second = GatewayServer(app, data_dir=data)
    try:
        second.start()
        assert _get_note(second, "n1") == {"id": {"S": "n1"}, "text": {"S": "kept"}}
        assert f"Mounting HelloFunction at {second.api}/hello [GET]" in second.output()
    finally:
        second.stop()


def test_a_changed_key_schema_fails_with_the_table_named(tmp_path):
    app = copy_app("gateway_start", tmp_path / "app")
    data = tmp_path / "data"
    server = GatewayServer(app, data_dir=data)
    try:
        server.start()
        _put_note(server, "n1", "precious")
    finally:
        server.stop()
    template = app / "template.yaml"
    original = template.read_text()
    changed = original.replace("AttributeName: id", "AttributeName: noteId")
    assert changed != original
    template.write_text(changed)
    result = run_start_failing(app, data_dir=data)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert NOTES in output, output
    assert re.search(r"template\.yaml:\d+", output), f"no file:line in:\n{output}"
    assert "Stratus ready" not in result.stdout
    # The data is still there for the original template.
    template.write_text(original)
    again = GatewayServer(app, data_dir=data)
    try:
        again.start()
        assert _get_note(again, "n1") == {"id": {"S": "n1"}, "text": {"S": "precious"}}
    finally:
        again.stop()


def test_colliding_routes_fail_with_file_and_line(tmp_path):
    app = copy_app("gateway_collision", tmp_path / "app")
    result = run_start_failing(app)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Stratus ready" not in result.stdout
    lines = (app / "template.yaml").read_text().splitlines()
    first = next(i for i, line in enumerate(lines, 1) if "AlsoList:" in line)
    match = re.search(r"template\.yaml:(\d+)(:\d+)?: error: (.*)", output)
    assert match, f"no file:line error in:\n{output}"
    assert first <= int(match.group(1)) <= first + 4, f"the error points at line {match.group(1)}, the event is at {first}"
    message = match.group(3)
    assert "/things" in message and "FirstFunction" in message and "SecondFunction" in message, message


def test_sibling_path_variables_collide_on_a_rest_api(tmp_path):
    # API Gateway allows one variable path part per level of a REST API: /things/{id} and
    # /things/{thingId} cannot both exist ("A sibling ({id}) of this resource already has a
    # variable path part -- only one is allowed"), so this template does not deploy.
    app = copy_app("gateway_collision_params", tmp_path / "app")
    result = run_start_failing(app, timeout=15)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert re.search(r"template\.yaml:\d+", output), output
