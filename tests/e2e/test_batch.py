"""BatchGetItem and BatchWriteItem through the boto3 client and the Table resource: limits
(100 keys, 25 requests), duplicate keys (a put and a delete of one key included), missing items
simply absent, missing tables, projections, UnprocessedKeys / UnprocessedItems always empty,
and a refused batch writing nothing.

Expected messages: shared/reference/dynamodb/error-messages.json (BatchGetItem / BatchWriteItem
entries) and dynalite 4's validations/batchGetItem.js and actions/batchWriteItem.js."""

from __future__ import annotations

import pytest

from ddb6_support import attribute_definitions, code_and_message, error_of, key_schema, tables  # noqa: F401


@pytest.fixture
def two_tables(ddb, tables):
    first = tables(KeySchema=key_schema("pk"), AttributeDefinitions=attribute_definitions(pk="S"))
    second = tables(KeySchema=key_schema("id", "n"), AttributeDefinitions=attribute_definitions(id="S", n="N"))
    return first, second


def _key(n):
    return {"pk": {"S": f"k{n}"}}


def _put(n, **extra):
    item = {"pk": {"S": f"k{n}"}, "v": {"N": str(n)}, "tag": {"S": f"t{n % 3}"}}
    item.update({k: {"S": v} for k, v in extra.items()})
    return {"PutRequest": {"Item": item}}


def _sorted(items, *names):
    return sorted(items, key=lambda i: tuple(str(i[n]) for n in names))


# -- BatchWriteItem ---------------------------------------------------------------

def test_batch_write_puts_and_deletes_across_tables(ddb, two_tables):
    first, second = two_tables
    ddb.batch_write_item(RequestItems={first: [_put(n) for n in range(5)]})
    response = ddb.batch_write_item(
        RequestItems={
            first: [_put(10), _put(11), {"DeleteRequest": {"Key": _key(0)}}, {"DeleteRequest": {"Key": _key(99)}}],
            second: [{"PutRequest": {"Item": {"id": {"S": "a"}, "n": {"N": str(n)}}}} for n in range(3)],
        },
        ReturnConsumedCapacity="TOTAL")
    assert response["UnprocessedItems"] == {}
    consumed = {c["TableName"]: c["CapacityUnits"] for c in response["ConsumedCapacity"]}
    assert consumed == {first: 4.0, second: 3.0}
    keys = sorted(i["pk"]["S"] for i in ddb.scan(TableName=first)["Items"])
    assert keys == ["k1", "k10", "k11", "k2", "k3", "k4"]
    assert ddb.query(TableName=second, KeyConditionExpression="id = :a",
                     ExpressionAttributeValues={":a": {"S": "a"}})["Count"] == 3


def test_batch_write_of_25_requests_and_no_more(ddb, ddb_raw, two_tables):
    first, second = two_tables
    assert ddb.batch_write_item(RequestItems={first: [_put(n) for n in range(25)]})["UnprocessedItems"] == {}
    assert ddb.scan(TableName=first, Select="COUNT")["Count"] == 25
    err = error_of(ddb_raw.batch_write_item, RequestItems={first: [_put(n) for n in range(100, 126)]})
    code, message = code_and_message(err)
    # AWS echoes the whole map in Java's toString form; the constraint text is fixed.
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '{"), message
    assert message.endswith(
        "' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
        "[Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"), message
    # 25 at most in the whole request, whatever the tables.
    err = error_of(ddb_raw.batch_write_item, RequestItems={
        first: [_put(n) for n in range(200, 213)],
        second: [{"PutRequest": {"Item": {"id": {"S": "b"}, "n": {"N": str(n)}}}} for n in range(13)]})
    assert code_and_message(err) == ("ValidationException", "Too many items requested for the BatchWriteItem call")
    assert ddb.scan(TableName=first, Select="COUNT")["Count"] == 25
    assert ddb.scan(TableName=second, Select="COUNT")["Count"] == 0


@pytest.mark.parametrize("requests", [
    pytest.param([_put(1), _put(1, other="x")], id="two-puts"),
    pytest.param([_put(1), {"DeleteRequest": {"Key": _key(1)}}], id="put-and-delete"),
    pytest.param([{"DeleteRequest": {"Key": _key(1)}}, {"DeleteRequest": {"Key": _key(1)}}], id="two-deletes"),
])
def test_batch_write_duplicate_keys_refused_and_nothing_written(ddb, two_tables, requests):
    first, _ = two_tables
    err = error_of(ddb.batch_write_item, RequestItems={first: [_put(7), *requests]})
    assert code_and_message(err) == ("ValidationException", "Provided list of item keys contains duplicates")
    assert ddb.scan(TableName=first)["Count"] == 0


def test_batch_write_errors(ddb, two_tables):
    first, second = two_tables
    err = error_of(ddb.batch_write_item, RequestItems={first: [_put(1)], "ddb6-no-such-table": [_put(2)]})
    assert code_and_message(err) == ("ResourceNotFoundException", "Requested resource not found")
    err = error_of(ddb.batch_write_item, RequestItems={first: [{"PutRequest": {"Item": {"other": {"S": "x"}}}}]})
    assert code_and_message(err) == ("ValidationException", "The provided key element does not match the schema")
    err = error_of(ddb.batch_write_item, RequestItems={second: [{"DeleteRequest": {"Key": {"id": {"S": "a"}}}}]})
    assert code_and_message(err) == ("ValidationException", "The provided key element does not match the schema")
    assert ddb.scan(TableName=first)["Count"] == 0


def test_table_resource_batch_writer(ddb, ddb_resource, two_tables):
    first, _ = two_tables
    table = ddb_resource.Table(first)
    with table.batch_writer() as batch:
        for n in range(60):
            batch.put_item(Item={"pk": f"w{n}", "v": n})
        for n in range(0, 60, 2):
            batch.delete_item(Key={"pk": f"w{n}"})
    keys = sorted(int(i["pk"][1:]) for i in table.scan()["Items"])
    assert keys == list(range(1, 60, 2))
    # overwrite_by_pkeys collapses duplicates client-side, so the request stays valid.
    with table.batch_writer(overwrite_by_pkeys=["pk"]) as batch:
        batch.put_item(Item={"pk": "w1", "v": 100})
        batch.put_item(Item={"pk": "w1", "v": 101})
    assert table.get_item(Key={"pk": "w1"})["Item"]["v"] == 101


# -- BatchGetItem ------------------------------------------------------------------

def test_batch_get_returns_found_items_and_leaves_missing_ones_out(ddb, two_tables):
    first, second = two_tables
    ddb.batch_write_item(RequestItems={first: [_put(n) for n in range(6)]})
    ddb.put_item(TableName=second, Item={"id": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "y"}})
    response = ddb.batch_get_item(RequestItems={
        first: {"Keys": [_key(n) for n in (0, 2, 4, 50)]},
        second: {"Keys": [{"id": {"S": "a"}, "n": {"N": "1"}}, {"id": {"S": "a"}, "n": {"N": "2"}}],
                 "ConsistentRead": True},
    }, ReturnConsumedCapacity="TOTAL")
    assert response["UnprocessedKeys"] == {}
    got = _sorted(response["Responses"][first], "pk")
    assert got == [_put(n)["PutRequest"]["Item"] for n in (0, 2, 4)]
    assert response["Responses"][second] == [{"id": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "y"}}]
    assert sorted(c["TableName"] for c in response["ConsumedCapacity"]) == sorted([first, second])
    # A table none of whose keys exist still has its (empty) list.
    response = ddb.batch_get_item(RequestItems={first: {"Keys": [_key(77)]}})
    assert response["Responses"] == {first: []} and response["UnprocessedKeys"] == {}


def test_batch_get_projection(ddb, two_tables):
    first, _ = two_tables
    ddb.batch_write_item(RequestItems={first: [_put(n, note=f"n{n}") for n in range(3)]})
    response = ddb.batch_get_item(RequestItems={first: {
        "Keys": [_key(n) for n in range(3)], "ProjectionExpression": "pk, #t", "ExpressionAttributeNames": {"#t": "tag"}}})
    assert _sorted(response["Responses"][first], "pk") == [
        {"pk": {"S": f"k{n}"}, "tag": {"S": f"t{n}"}} for n in range(3)]


def test_batch_get_of_100_keys_and_no_more(ddb, ddb_raw, two_tables):
    first, second = two_tables
    for start in range(0, 100, 25):
        ddb.batch_write_item(RequestItems={first: [_put(n) for n in range(start, start + 25)]})
    response = ddb.batch_get_item(RequestItems={first: {"Keys": [_key(n) for n in range(60)]},
                                                second: {"Keys": [{"id": {"S": "z"}, "n": {"N": str(n)}} for n in range(40)]}})
    assert len(response["Responses"][first]) == 60 and response["Responses"][second] == []
    assert response["UnprocessedKeys"] == {}
    err = error_of(ddb_raw.batch_get_item, RequestItems={
        first: {"Keys": [_key(n) for n in range(60)]},
        second: {"Keys": [{"id": {"S": "z"}, "n": {"N": str(n)}} for n in range(41)]}})
    assert code_and_message(err) == ("ValidationException", "Too many items requested for the BatchGetItem call")
    err = error_of(ddb_raw.batch_get_item, RequestItems={first: {"Keys": [_key(n) for n in range(101)]}})
    code, message = code_and_message(err)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value ") and f"at 'requestItems.{first}.member.keys' " in message
    assert "Member must have length less than or equal to 100" in message


def test_batch_get_errors(ddb, two_tables):
    first, second = two_tables
    err = error_of(ddb.batch_get_item, RequestItems={first: {"Keys": [_key(1), _key(2), _key(1)]}})
    assert code_and_message(err) == ("ValidationException", "Provided list of item keys contains duplicates")
    err = error_of(ddb.batch_get_item, RequestItems={first: {"Keys": [_key(1)]}, "ddb6-no-such-table": {"Keys": [_key(1)]}})
    assert code_and_message(err) == ("ResourceNotFoundException", "Requested resource not found")
    err = error_of(ddb.batch_get_item, RequestItems={second: {"Keys": [{"id": {"S": "a"}}]}})
    assert code_and_message(err) == ("ValidationException", "The provided key element does not match the schema")
    err = error_of(ddb.batch_get_item, RequestItems={first: {"Keys": [_key(1)], "ProjectionExpression": "pk",
                                                             "ExpressionAttributeNames": {}}})
    assert code_and_message(err) == ("ValidationException", "ExpressionAttributeNames must not be empty")


def test_resource_batch_get_item(ddb_resource, two_tables):
    first, second = two_tables
    table = ddb_resource.Table(first)
    for n in range(4):
        table.put_item(Item={"pk": f"r{n}", "v": n})
    response = ddb_resource.batch_get_item(RequestItems={first: {"Keys": [{"pk": f"r{n}"} for n in (1, 3, 9)]}})
    assert sorted((i["pk"], int(i["v"])) for i in response["Responses"][first]) == [("r1", 1), ("r3", 3)]
    assert response["UnprocessedKeys"] == {}
