"""Item collections of tables with local secondary indexes: ``ReturnItemCollectionMetrics: SIZE``
on PutItem, UpdateItem, DeleteItem, BatchWriteItem (per table, each collection once) and
TransactWriteItems (ConditionChecks left out), nothing for tables without LSIs, the parameter's
validation; and the 10 GB item-collection limit, lowered for the test with
``STRATUS_ITEM_COLLECTION_LIMIT_BYTES``: ``ItemCollectionSizeLimitExceededException`` ("Collection
size exceeded.") refusing whole writes, batches and transactions (cancellation reason
``ItemCollectionSizeLimitExceeded``), PartiQL statements, writes that shrink a full collection
still allowed, GSIs not counted, and the sizes kept across a restart.

Expected shapes and messages: the DynamoDB API reference (ItemCollectionMetrics,
ItemCollectionSizeLimitExceededException in Common Errors: "Collection size exceeded.",
TransactionCanceledException's cancellation reasons) and the botocore service model. A collection
under 1 GB reports ``SizeEstimateRangeGB`` ``[0.0, 1.0]`` as DynamoDB does.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ddb6_support import (
    ArgsServer, attribute_definitions, code_and_message, error_of, index, item_size, key_schema, tables,  # noqa: F401
    unique,
)
from support import make_client, wait_table_active

LIMIT = 1000
"""The collection limit the limit tests' server runs with, in bytes."""

LIMIT_ENV = "STRATUS_ITEM_COLLECTION_LIMIT_BYTES"

LSIS = [
    index("byLsk", "pk", "lsk", "ALL"),
    index("byLk2", "pk", "lk2", "KEYS_ONLY"),
]
DEFS = attribute_definitions(pk="S", sk="S", lsk="S", lk2="S")
SMALL = [0.0, 1.0]


def _item(pk: str, sk: str, **extra: str) -> dict:
    item = {"pk": {"S": pk}, "sk": {"S": sk}}
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def _key(pk: str, sk: str) -> dict:
    return _item(pk, sk)


def _collection_share(item: dict) -> int:
    """What an item adds to its collection in the LSIS table: its size, plus its byLsk entry
    (ALL: the whole item) and its byLk2 entry (KEYS_ONLY: pk, sk, lk2), each when present."""
    share = item_size(item)
    if "lsk" in item:
        share += item_size(item)
    if "lk2" in item:
        share += item_size({name: item[name] for name in ("pk", "sk", "lk2")})
    return share


def _metrics(pk: str) -> dict:
    return {"ItemCollectionKey": {"pk": {"S": pk}}, "SizeEstimateRangeGB": SMALL}


@pytest.fixture
def lsi_table(tables):
    return tables(KeySchema=key_schema("pk", "sk"), AttributeDefinitions=DEFS, LocalSecondaryIndexes=LSIS)


@pytest.fixture
def plain_table(tables):
    return tables(KeySchema=key_schema("pk", "sk"), AttributeDefinitions=attribute_definitions(pk="S", sk="S"))


# -- metrics -------------------------------------------------------------------

def test_single_item_writes_return_the_collection_when_asked(ddb, lsi_table):
    put = ddb.put_item(TableName=lsi_table, Item=_item("p1", "s1", lsk="x", a="A"),
                       ReturnItemCollectionMetrics="SIZE")
    assert put["ItemCollectionMetrics"] == _metrics("p1")
    updated = ddb.update_item(TableName=lsi_table, Key=_key("p1", "s1"), UpdateExpression="SET lk2 = :v",
                              ExpressionAttributeValues={":v": {"S": "y"}}, ReturnItemCollectionMetrics="SIZE",
                              ReturnValues="UPDATED_NEW")
    assert updated["ItemCollectionMetrics"] == _metrics("p1")
    assert updated["Attributes"] == {"lk2": {"S": "y"}}
    deleted = ddb.delete_item(TableName=lsi_table, Key=_key("p1", "s1"), ReturnItemCollectionMetrics="SIZE")
    assert deleted["ItemCollectionMetrics"] == _metrics("p1")
    missing = ddb.delete_item(TableName=lsi_table, Key=_key("p9", "s1"), ReturnItemCollectionMetrics="SIZE")
    assert missing["ItemCollectionMetrics"] == _metrics("p9")
    # Not asked for: not returned.
    for mode in ({}, {"ReturnItemCollectionMetrics": "NONE"}):
        quiet = ddb.put_item(TableName=lsi_table, Item=_item("p1", "s2"), **mode)
        assert "ItemCollectionMetrics" not in quiet


def test_tables_without_local_indexes_return_no_metrics(ddb, plain_table):
    size = {"ReturnItemCollectionMetrics": "SIZE"}
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName=plain_table, Item=_item("p", "s"), **size)
    assert "ItemCollectionMetrics" not in ddb.update_item(TableName=plain_table, Key=_key("p", "s"),
                                                          UpdateExpression="SET a = :v",
                                                          ExpressionAttributeValues={":v": {"S": "A"}}, **size)
    assert "ItemCollectionMetrics" not in ddb.delete_item(TableName=plain_table, Key=_key("p", "s"), **size)
    batch = ddb.batch_write_item(RequestItems={plain_table: [{"PutRequest": {"Item": _item("p", "s")}}]}, **size)
    assert "ItemCollectionMetrics" not in batch
    transaction = ddb.transact_write_items(TransactItems=[{"Put": {"TableName": plain_table,
                                                                   "Item": _item("p", "t")}}], **size)
    assert "ItemCollectionMetrics" not in transaction


def test_batch_write_reports_each_collection_once_per_table(ddb, tables, plain_table):
    first = tables(KeySchema=key_schema("pk", "sk"), AttributeDefinitions=DEFS, LocalSecondaryIndexes=LSIS)
    second = tables(KeySchema=key_schema("pk", "sk"), AttributeDefinitions=DEFS, LocalSecondaryIndexes=LSIS)
    ddb.put_item(TableName=first, Item=_item("p2", "old"))
    output = ddb.batch_write_item(
        RequestItems={
            first: [
                {"PutRequest": {"Item": _item("p1", "s1", lsk="x")}},
                {"PutRequest": {"Item": _item("p1", "s2")}},
                {"DeleteRequest": {"Key": _key("p2", "old")}},
            ],
            second: [{"PutRequest": {"Item": _item("q1", "s1")}}],
            plain_table: [{"PutRequest": {"Item": _item("r1", "s1")}}],
        },
        ReturnItemCollectionMetrics="SIZE",
    )
    assert output["UnprocessedItems"] == {}
    assert output["ItemCollectionMetrics"] == {
        first: [_metrics("p1"), _metrics("p2")],
        second: [_metrics("q1")],
    }
    quiet = ddb.batch_write_item(RequestItems={first: [{"PutRequest": {"Item": _item("p1", "s3")}}]})
    assert "ItemCollectionMetrics" not in quiet


def test_transact_write_reports_the_collections_it_wrote(ddb, tables, plain_table):
    first = tables(KeySchema=key_schema("pk", "sk"), AttributeDefinitions=DEFS, LocalSecondaryIndexes=LSIS)
    second = tables(KeySchema=key_schema("pk", "sk"), AttributeDefinitions=DEFS, LocalSecondaryIndexes=LSIS)
    ddb.put_item(TableName=first, Item=_item("p3", "s1"))
    output = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": first, "Item": _item("p1", "s1", lsk="x")}},
            {"Update": {"TableName": first, "Key": _key("p1", "s2"), "UpdateExpression": "SET lk2 = :v",
                        "ExpressionAttributeValues": {":v": {"S": "y"}}}},
            {"Delete": {"TableName": second, "Key": _key("q1", "s1")}},
            {"ConditionCheck": {"TableName": first, "Key": _key("p3", "s1"),
                                "ConditionExpression": "attribute_exists(pk)"}},
            {"Put": {"TableName": plain_table, "Item": _item("r1", "s1")}},
        ],
        ReturnItemCollectionMetrics="SIZE",
    )
    assert output["ItemCollectionMetrics"] == {
        first: [_metrics("p1")],
        second: [_metrics("q1")],
    }


@pytest.mark.parametrize("operation", ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                                       "TransactWriteItems"])
def test_return_item_collection_metrics_must_be_size_or_none(endpoint, lsi_table, operation):
    loose = make_client(endpoint, parameter_validation=False)
    calls = {
        "PutItem": lambda **k: loose.put_item(TableName=lsi_table, Item=_item("p", "s"), **k),
        "UpdateItem": lambda **k: loose.update_item(TableName=lsi_table, Key=_key("p", "s"), **k),
        "DeleteItem": lambda **k: loose.delete_item(TableName=lsi_table, Key=_key("p", "s"), **k),
        "BatchWriteItem": lambda **k: loose.batch_write_item(
            RequestItems={lsi_table: [{"PutRequest": {"Item": _item("p", "s")}}]}, **k),
        "TransactWriteItems": lambda **k: loose.transact_write_items(
            TransactItems=[{"Put": {"TableName": lsi_table, "Item": _item("p", "s")}}], **k),
    }
    error = error_of(calls[operation], ReturnItemCollectionMetrics="BAD")
    assert code_and_message(error) == (
        "ValidationException",
        "1 validation error detected: Value 'BAD' at 'returnItemCollectionMetrics' failed to satisfy "
        "constraint: Member must satisfy enum value set: [SIZE, NONE]",
    )


# -- the limit -----------------------------------------------------------------

@pytest.fixture(scope="module")
def limited():
    """A server whose item collections may hold LIMIT bytes."""
    server = ArgsServer([], env={LIMIT_ENV: str(LIMIT)})
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(limited):
    return make_client(limited.endpoint)


def _create(client, **kwargs) -> str:
    name = unique("coll")
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **kwargs)
    wait_table_active(client, name)
    return name


def _lsi_table(client) -> str:
    return _create(client, KeySchema=key_schema("pk", "sk"), AttributeDefinitions=DEFS, LocalSecondaryIndexes=LSIS)


def _filler(pk: str, n: int) -> dict:
    """An item of the LSIS table that adds exactly 100 bytes to its collection (50 in the table,
    50 in the ALL index)."""
    item = _item(pk, f"s{n:02d}", lsk="x", txt="a" * 34)
    assert _collection_share(item) == 100
    return item


def _fill(client, table: str, pk: str, count: int = LIMIT // 100) -> None:
    for n in range(count):
        client.put_item(TableName=table, Item=_filler(pk, n))


def _raw(endpoint: str, target: str, body: dict) -> tuple[int, dict]:
    """A signed request sent as it is; returns the status and the JSON body."""
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=endpoint + "/", data=data,
                         headers={"Content-Type": "application/x-amz-json-1.0",
                                  "X-Amz-Target": f"DynamoDB_20120810.{target}"})
    SigV4Auth(Credentials("test", "test"), "dynamodb", "us-east-1").add_auth(request)
    parsed = urllib.parse.urlparse(endpoint)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        connection.request("POST", "/", body=data, headers=dict(request.headers.items()))
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _count(client, table: str) -> int:
    return client.scan(TableName=table, Select="COUNT")["Count"]


EXCEEDED = ("ItemCollectionSizeLimitExceededException", "Collection size exceeded.")


@pytest.mark.stratus_only
def test_a_put_past_the_limit_fails_and_writes_nothing(limited, client):
    table = _lsi_table(client)
    _fill(client, table, "p1")  # exactly LIMIT bytes: allowed
    status, body = _raw(limited.endpoint, "PutItem", {"TableName": table, "Item": _item("p1", "extra")})
    assert (status, body) == (400, {
        "__type": "com.amazonaws.dynamodb.v20120810#ItemCollectionSizeLimitExceededException",
        "message": "Collection size exceeded.",
    })
    error = error_of(client.put_item, TableName=table, Item=_item("p1", "extra"), ReturnValues="ALL_OLD")
    assert code_and_message(error) == EXCEEDED
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Item" not in client.get_item(TableName=table, Key=_key("p1", "extra"), ConsistentRead=True)
    assert _count(client, table) == LIMIT // 100
    # Other collections have their own room; a table's other partitions are not affected.
    client.put_item(TableName=table, Item=_filler("p2", 0))


@pytest.mark.stratus_only
def test_writes_that_keep_or_shrink_a_full_collection_are_allowed(client):
    table = _lsi_table(client)
    _fill(client, table, "p1")
    grow = error_of(client.update_item, TableName=table, Key=_key("p1", "s00"), UpdateExpression="SET txt = :v",
                    ExpressionAttributeValues={":v": {"S": "b" * 35}})
    assert code_and_message(grow) == EXCEEDED
    item = client.get_item(TableName=table, Key=_key("p1", "s00"), ConsistentRead=True)["Item"]
    assert item["txt"] == {"S": "a" * 34}, "the refused update changed nothing"
    # A new item with nothing in the collection's indexes still adds its own size.
    assert code_and_message(error_of(client.put_item, TableName=table, Item=_item("p1", "x"))) == EXCEEDED
    # Same size, smaller, then a delete: all allowed.
    client.update_item(TableName=table, Key=_key("p1", "s00"), UpdateExpression="SET txt = :v",
                       ExpressionAttributeValues={":v": {"S": "b" * 34}})
    client.update_item(TableName=table, Key=_key("p1", "s00"), UpdateExpression="REMOVE lsk")
    # Removing lsk took the item out of byLsk (50 bytes) and 4 bytes from the item: room for a
    # 54-byte item in no index.
    fits = _item("p1", "new", txt="c" * 42)
    assert _collection_share(fits) == 54
    client.put_item(TableName=table, Item=fits)
    assert code_and_message(error_of(client.put_item, TableName=table, Item=_item("p1", "one more"))) == EXCEEDED
    client.delete_item(TableName=table, Key=_key("p1", "s01"))
    client.put_item(TableName=table, Item=_filler("p1", 1))


@pytest.mark.stratus_only
def test_a_batch_past_the_limit_writes_nothing(client):
    table = _lsi_table(client)
    other = _create(client, KeySchema=key_schema("pk", "sk"), AttributeDefinitions=attribute_definitions(pk="S", sk="S"))
    _fill(client, table, "p1", LIMIT // 100 - 2)
    error = error_of(client.batch_write_item, RequestItems={
        other: [{"PutRequest": {"Item": _item("q", "s")}}],
        table: [{"PutRequest": {"Item": _filler("p2", 0)}}] +
               [{"PutRequest": {"Item": _filler("p1", n)}} for n in (50, 51, 52)],
    })
    assert code_and_message(error) == EXCEEDED
    assert _count(client, other) == 0
    assert _count(client, table) == LIMIT // 100 - 2
    # A delete earlier in the batch makes room for the writes after it.
    output = client.batch_write_item(RequestItems={
        table: [{"DeleteRequest": {"Key": _key("p1", "s00")}}] +
               [{"PutRequest": {"Item": _filler("p1", n)}} for n in (50, 51, 52)],
    }, ReturnItemCollectionMetrics="SIZE")
    assert output["ItemCollectionMetrics"] == {table: [_metrics("p1")]}
    assert _count(client, table) == LIMIT // 100


@pytest.mark.stratus_only
def test_a_transaction_past_the_limit_is_cancelled(client):
    table = _lsi_table(client)
    _fill(client, table, "p1", LIMIT // 100 - 1)
    error = error_of(client.transact_write_items, TransactItems=[
        {"Put": {"TableName": table, "Item": _filler("p1", 50)}},
        {"Put": {"TableName": table, "Item": _filler("p1", 51)}},
    ])
    assert code_and_message(error) == (
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ItemCollectionSizeLimitExceeded]",
    )
    assert error.response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ItemCollectionSizeLimitExceeded", "Message": "Collection size exceeded."},
    ]
    assert _count(client, table) == LIMIT // 100 - 1
    client.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": _filler("p1", 50)}}])


@pytest.mark.stratus_only
def test_partiql_writes_are_held_to_the_limit(client):
    table = _lsi_table(client)
    _fill(client, table, "p1")
    statement = f"INSERT INTO \"{table}\" VALUE {{'pk': 'p1', 'sk': 'new'}}"
    assert code_and_message(error_of(client.execute_statement, Statement=statement)) == EXCEEDED
    batch = client.batch_execute_statement(Statements=[
        {"Statement": statement},
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'p2', 'sk': 'new'}}"},
    ])
    assert batch["Responses"][0]["Error"] == {
        "Code": "ItemCollectionSizeLimitExceeded", "Message": "Collection size exceeded.",
    }
    assert "Error" not in batch["Responses"][1]


@pytest.mark.stratus_only
def test_global_indexes_and_tables_without_local_indexes_have_no_limit(client):
    table = _create(client, KeySchema=key_schema("pk", "sk"),
                    AttributeDefinitions=attribute_definitions(pk="S", sk="S", lsk="S"),
                    GlobalSecondaryIndexes=[index("byLsk", "lsk", None, "ALL")])
    for n in range(2 * LIMIT // 100):
        client.put_item(TableName=table, Item=_filler("p1", n))
    assert _count(client, table) == 2 * LIMIT // 100


@pytest.mark.stratus_only
def test_collection_sizes_survive_a_restart(tmp_path):
    def start() -> ArgsServer:
        return ArgsServer([], env={LIMIT_ENV: str(LIMIT)}, data_dir=tmp_path).start()

    server = start()
    try:
        client = make_client(server.endpoint)
        table = _lsi_table(client)
        _fill(client, table, "p1", LIMIT // 100 - 1)
    finally:
        server.stop()
    server = start()
    try:
        client = make_client(server.endpoint)
        client.put_item(TableName=table, Item=_filler("p1", 50))
        assert code_and_message(error_of(client.put_item, TableName=table, Item=_item("p1", "x"))) == EXCEEDED
    finally:
        server.stop()
