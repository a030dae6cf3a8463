"""ReturnConsumedCapacity: TOTAL returns ConsumedCapacity {TableName, CapacityUnits}
with DynamoDB's unit arithmetic for small items; NONE (and the default) returns
none."""

from __future__ import annotations

import pytest

KEY = {"pk": {"S": "k"}}
ITEM = {"pk": {"S": "k"}, "v": {"S": "small"}}


# (id, operation, parameters, expected CapacityUnits for a small (<1 KB) item)
CASES = [
    ("put", "put_item", {"Item": ITEM}, 1.0),
    ("get-eventually-consistent", "get_item", {"Key": KEY}, 0.5),
    ("get-strongly-consistent", "get_item", {"Key": KEY, "ConsistentRead": True}, 1.0),
    ("update", "update_item", {"Key": KEY, "UpdateExpression": "SET w = :w",
                               "ExpressionAttributeValues": {":w": {"N": "1"}}}, 1.0),
    ("delete", "delete_item", {"Key": KEY}, 1.0),
    ("query", "query", {"KeyConditionExpression": "pk = :k", "ExpressionAttributeValues": {":k": {"S": "k"}}}, 0.5),
    ("scan", "scan", {}, 0.5),
]


@pytest.mark.parametrize("op,params,units", [pytest.param(o, p, u, id=i) for i, o, p, u in CASES])
def test_consumed_capacity_total(ddb, hash_table, op, params, units):
    ddb.put_item(TableName=hash_table, Item=ITEM)
    resp = getattr(ddb, op)(TableName=hash_table, ReturnConsumedCapacity="TOTAL", **params)
    cc = resp["ConsumedCapacity"]
    assert cc["TableName"] == hash_table
    assert cc["CapacityUnits"] == units


@pytest.mark.parametrize("mode", ["NONE", None])
@pytest.mark.parametrize("op,params", [pytest.param(o, p, id=i) for i, o, p, _ in CASES])
def test_consumed_capacity_none(ddb, hash_table, op, params, mode):
    ddb.put_item(TableName=hash_table, Item=ITEM)
    extra = {"ReturnConsumedCapacity": mode} if mode else {}
    resp = getattr(ddb, op)(TableName=hash_table, **params, **extra)
    assert "ConsumedCapacity" not in resp


def test_consumed_capacity_large_put(ddb, hash_table):
    # Writes are charged per started KB: a 2.5 KB item costs 3 write units.
    item = {"pk": {"S": "k"}, "d": {"S": "x" * 2500}}
    resp = ddb.put_item(TableName=hash_table, Item=item, ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 3.0
