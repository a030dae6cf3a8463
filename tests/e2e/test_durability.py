"""Durability of the spawned Stratus binary with ``--data-dir`` (these tests never
run against STRATUS_E2E_ENDPOINT): tables and items survive a graceful
SIGTERM restart; every acknowledged PutItem survives ``kill -9`` in the middle
of a concurrent write load; SIGTERM and SIGINT exit with code 0."""

from __future__ import annotations

import signal
import threading
import time
import uuid

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from support import StratusServer, make_client, wait_table_active

pytestmark = pytest.mark.stratus_only

WRITERS = 4
LOAD_SECONDS = 2.0
MAX_PUTS_PER_WRITER = 200_000


@pytest.fixture
def servers():
    """Start servers through this fixture; all are stopped at the end, whatever happens."""
    started: list[StratusServer] = []

    def start(data_dir):
        server = StratusServer(data_dir=data_dir)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def _create(client, name, hash_key, range_key=None, billing="PAY_PER_REQUEST"):
    keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    defs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    if range_key:
        keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        defs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
    kwargs = dict(TableName=name, KeySchema=keys, AttributeDefinitions=defs, BillingMode=billing)
    if billing == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
    client.create_table(**kwargs)
    return wait_table_active(client, name)


def test_data_survives_graceful_restart(servers, tmp_path):
    data_dir = tmp_path / "data"
    server = servers(data_dir)
    ddb = make_client(server.endpoint)
    _create(ddb, "durable-a", ("pk", "S"))
    _create(ddb, "durable-b", ("h", "N"), ("r", "B"), billing="PROVISIONED")
    _create(ddb, "durable-gone", ("pk", "S"))
    item_a = {"pk": {"S": "k1"}, "n": {"N": "1.5"}, "ss": {"SS": ["x", "y"]},
              "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"B": b"\x00\xff"}]}}}}
    ddb.put_item(TableName="durable-a", Item=item_a)
    ddb.put_item(TableName="durable-a", Item={"pk": {"S": "deleted"}})
    ddb.delete_item(TableName="durable-a", Key={"pk": {"S": "deleted"}})
    ddb.update_item(TableName="durable-a", Key={"pk": {"S": "counter"}}, UpdateExpression="ADD c :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    ddb.update_item(TableName="durable-a", Key={"pk": {"S": "counter"}}, UpdateExpression="ADD c :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    for i in range(50):
        ddb.put_item(TableName="durable-b", Item={"h": {"N": "1"}, "r": {"B": bytes([i])}, "i": {"N": str(i)}})
    ddb.delete_table(TableName="durable-gone")
    assert server.stop() == 0, server.output()

    server = servers(data_dir)
    ddb = make_client(server.endpoint)
    assert ddb.list_tables()["TableNames"] == ["durable-a", "durable-b"]
    desc = ddb.describe_table(TableName="durable-b")["Table"]
    assert desc["KeySchema"] == [{"AttributeName": "h", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    got = ddb.get_item(TableName="durable-a", Key={"pk": {"S": "k1"}})["Item"]
    assert got["n"] == {"N": "1.5"} and sorted(got["ss"]["SS"]) == ["x", "y"] and got["m"] == item_a["m"]
    assert "Item" not in ddb.get_item(TableName="durable-a", Key={"pk": {"S": "deleted"}})
    assert ddb.get_item(TableName="durable-a", Key={"pk": {"S": "counter"}})["Item"]["c"] == {"N": "2"}
    q = ddb.query(TableName="durable-b", KeyConditionExpression="h = :h", ExpressionAttributeValues={":h": {"N": "1"}})
    assert [i["i"]["N"] for i in q["Items"]] == [str(i) for i in range(50)]
    # Writes still work after the restart.
    ddb.put_item(TableName="durable-a", Item={"pk": {"S": "after"}})
    assert server.stop() == 0, server.output()


def test_acknowledged_writes_survive_kill_9(servers, tmp_path):
    data_dir = tmp_path / "data"
    server = servers(data_dir)
    setup = make_client(server.endpoint)
    _create(setup, "crash", ("pk", "S"))

    run_id = uuid.uuid4().hex[:8]
    acked: list[list[tuple[str, str]]] = [[] for _ in range(WRITERS)]
    stop = threading.Event()

    def writer(idx):
        client = make_client(server.endpoint)
        deadline = time.monotonic() + LOAD_SECONDS + 10  # hard bound even if the kill is late
        for i in range(MAX_PUTS_PER_WRITER):
            if stop.is_set() or time.monotonic() > deadline:
                return
            key, value = f"w{idx}-{i}", f"{run_id}-{idx}-{i}"
            try:
                client.put_item(TableName="crash", Item={"pk": {"S": key}, "v": {"S": value}})
            except (ClientError, BotoCoreError, OSError):
                return  # server gone: this write was not acknowledged
            acked[idx].append((key, value))

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(WRITERS)]
    for t in threads:
        t.start()
    time.sleep(LOAD_SECONDS)
    server.kill9()  # mid-load, while the writers are still sending
    stop.set()
    for t in threads:
        t.join(30)
        assert not t.is_alive()

    total = sum(len(a) for a in acked)
    assert total > 0, "no write was acknowledged before the kill"

    server = servers(data_dir)  # the store must open cleanly after the crash
    ddb = make_client(server.endpoint)
    assert "crash" in ddb.list_tables()["TableNames"]
    missing, wrong = [], []
    for per_writer in acked:
        for key, value in per_writer:
            item = ddb.get_item(TableName="crash", Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
            if item is None:
                missing.append(key)
            elif item["v"]["S"] != value:
                wrong.append(key)
    assert not missing, f"{len(missing)} of {total} acknowledged writes lost, e.g. {missing[:5]}"
    assert not wrong, f"{len(wrong)} items with wrong values, e.g. {wrong[:5]}"
    # The table is still writable after recovery.
    ddb.put_item(TableName="crash", Item={"pk": {"S": "after-crash"}})


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_zero(tmp_path, sig):
    server = StratusServer(data_dir=tmp_path / "data")
    server.start()
    try:
        make_client(server.endpoint).list_tables()
        server.proc.send_signal(sig)
        server.proc.wait(10)
        assert server.proc.returncode == 0, server.output()
    finally:
        server.stop()
