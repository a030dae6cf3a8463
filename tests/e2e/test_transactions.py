"""TransactWriteItems and TransactGetItems: the four actions, the 100-action limit, two actions on
one item, TransactionCanceledException with its CancellationReasons in request order (None /
ConditionalCheckFailed / ValidationError, the old Item with ReturnValuesOnConditionCheckFailure),
ClientRequestToken idempotency, and concurrent conflicting transfers checked against a serial
order (Stratus runs transactions one at a time, so TransactionConflict never happens: every
transfer either commits or fails its own condition, and nothing is ever half-applied).

Expected messages and shapes: shared/reference/dynamodb/error-messages.json
(TransactWriteItems entries, with the wire body of a cancellation) and the botocore model."""

from __future__ import annotations

import random
import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from ddb6_support import attribute_definitions, code_and_message, error_of, key_schema, tables  # noqa: F401
from support import make_client

CANCELLED = "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]"


@pytest.fixture
def table(tables):
    return tables(KeySchema=key_schema("pk"), AttributeDefinitions=attribute_definitions(pk="S"))


def _k(name):
    return {"pk": {"S": name}}


def _get(ddb, table, name):
    return ddb.get_item(TableName=table, Key=_k(name), ConsistentRead=True).get("Item")


def test_transact_write_applies_put_update_delete_and_condition_check(ddb, table):
    ddb.put_item(TableName=table, Item={**_k("upd"), "n": {"N": "1"}})
    ddb.put_item(TableName=table, Item={**_k("del"), "n": {"N": "2"}})
    ddb.put_item(TableName=table, Item={**_k("chk"), "state": {"S": "open"}})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {**_k("new"), "n": {"N": "3"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": _k("upd"), "UpdateExpression": "SET n = n + :one, tag = :t",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":t": {"S": "x"}}}},
        {"Delete": {"TableName": table, "Key": _k("del"), "ConditionExpression": "n = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        {"ConditionCheck": {"TableName": table, "Key": _k("chk"), "ConditionExpression": "#s = :open",
                            "ExpressionAttributeNames": {"#s": "state"}, "ExpressionAttributeValues": {":open": {"S": "open"}}}},
    ])
    assert _get(ddb, table, "new") == {**_k("new"), "n": {"N": "3"}}
    assert _get(ddb, table, "upd") == {**_k("upd"), "n": {"N": "2"}, "tag": {"S": "x"}}
    assert _get(ddb, table, "del") is None
    assert _get(ddb, table, "chk") == {**_k("chk"), "state": {"S": "open"}}


def test_transact_write_limits(ddb, ddb_raw, table):
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": _k(f"i{n}")}} for n in range(100)])
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 100
    err = error_of(ddb_raw.transact_write_items,
                   TransactItems=[{"Put": {"TableName": table, "Item": _k(f"j{n}")}} for n in range(101)])
    code, message = code_and_message(err)
    # AWS echoes the list (Java toString); the constraint is fixed text.
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '"), message
    assert message.endswith("' at 'transactItems' failed to satisfy constraint: "
                            "Member must have length less than or equal to 100"), message
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 100


@pytest.mark.parametrize("second", [
    pytest.param({"Delete": {"Key": _k("same")}}, id="put-then-delete"),
    pytest.param({"ConditionCheck": {"Key": _k("same"), "ConditionExpression": "attribute_exists(pk)"}}, id="put-then-check"),
    pytest.param({"Update": {"Key": _k("same"), "UpdateExpression": "SET a = :a",
                             "ExpressionAttributeValues": {":a": {"S": "b"}}}}, id="put-then-update"),
])
def test_two_actions_on_one_item_refused(ddb, table, second):
    (kind, action), = second.items()
    err = error_of(ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": table, "Item": _k("same")}}, {kind: {"TableName": table, **action}}])
    assert code_and_message(err) == ("ValidationException",
                                     "Transaction request cannot include multiple operations on one item")
    assert _get(ddb, table, "same") is None


def test_cancellation_reasons_in_order_and_nothing_applied(ddb, table):
    ddb.put_item(TableName=table, Item={**_k("a"), "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={**_k("b"), "v": {"N": "5"}, "note": {"S": "old"}})
    err = error_of(ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": table, "Item": {**_k("fresh"), "v": {"N": "9"}}}},
        {"ConditionCheck": {"TableName": table, "Key": _k("b"), "ConditionExpression": "v = :x",
                            "ExpressionAttributeValues": {":x": {"N": "6"}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Update": {"TableName": table, "Key": _k("a"), "UpdateExpression": "SET v = nosuchattr + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Update": {"TableName": table, "Key": _k("zzz"), "UpdateExpression": "SET v = :one",
                    "ConditionExpression": "attribute_exists(pk)", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
    code, message = code_and_message(err)
    assert code == "TransactionCanceledException"
    assert message == CANCELLED.format("None, ConditionalCheckFailed, ValidationError, ConditionalCheckFailed")
    reasons = err.response["CancellationReasons"]
    assert reasons == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {"pk": {"S": "b"}, "v": {"N": "5"}, "note": {"S": "old"}}},
        {"Code": "ValidationError", "Message": "The provided expression refers to an attribute that does not exist in the item"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]
    assert _get(ddb, table, "fresh") is None
    assert _get(ddb, table, "a") == {**_k("a"), "v": {"N": "1"}}
    assert _get(ddb, table, "zzz") is None


def test_cancellation_wire_body(ddb, table):
    """The reference capture: two actions, the second's condition false."""
    ddb.put_item(TableName=table, Item=_k("x"))
    err = error_of(ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": table, "Item": _k("y")}},
        {"Put": {"TableName": table, "Item": _k("x"), "ConditionExpression": "attribute_not_exists(pk)"}}])
    assert code_and_message(err) == ("TransactionCanceledException", CANCELLED.format("None, ConditionalCheckFailed"))
    assert err.response["CancellationReasons"] == [
        {"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}]
    assert _get(ddb, table, "y") is None


def test_transact_get_items(ddb, table):
    ddb.put_item(TableName=table, Item={**_k("g1"), "a": {"S": "1"}, "b": {"S": "2"}})
    ddb.put_item(TableName=table, Item={**_k("g2"), "a": {"S": "3"}})
    response = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": _k("g2")}},
        {"Get": {"TableName": table, "Key": _k("missing")}},
        {"Get": {"TableName": table, "Key": _k("g1"), "ProjectionExpression": "#b", "ExpressionAttributeNames": {"#b": "b"}}},
    ], ReturnConsumedCapacity="TOTAL")
    assert response["Responses"] == [{"Item": {**_k("g2"), "a": {"S": "3"}}}, {}, {"Item": {"b": {"S": "2"}}}]
    assert [c["TableName"] for c in response["ConsumedCapacity"]] == [table]
    err = error_of(ddb.transact_get_items, TransactItems=[{"Get": {"TableName": "ddb6-no-such-table", "Key": _k("x")}}])
    assert code_and_message(err)[0] == "ResourceNotFoundException"


def test_client_request_token_idempotency(ddb, table):
    ddb.put_item(TableName=table, Item={**_k("counter"), "n": {"N": "0"}})
    token = str(uuid.uuid4())
    request = [{"Update": {"TableName": table, "Key": _k("counter"), "UpdateExpression": "ADD n :one",
                           "ExpressionAttributeValues": {":one": {"N": "1"}}}},
               {"Put": {"TableName": table, "Item": {**_k("log"), "by": {"S": token}}}}]
    for _ in range(3):
        ddb.transact_write_items(TransactItems=request, ClientRequestToken=token)
    assert _get(ddb, table, "counter")["n"] == {"N": "1"}
    changed = [dict(request[0]), request[1]]
    changed[0] = {"Update": {**request[0]["Update"], "ExpressionAttributeValues": {":one": {"N": "2"}}}}
    err = error_of(ddb.transact_write_items, TransactItems=changed, ClientRequestToken=token)
    assert code_and_message(err)[0] == "IdempotentParameterMismatchException"
    assert _get(ddb, table, "counter")["n"] == {"N": "1"}
    # Another token is another transaction.
    ddb.transact_write_items(TransactItems=request, ClientRequestToken=str(uuid.uuid4()))
    assert _get(ddb, table, "counter")["n"] == {"N": "2"}


# -- concurrency -----------------------------------------------------------------------

ACCOUNTS = 8
START_BALANCE = 100
WRITERS = 6
TRANSFERS_PER_WRITER = 40
READERS = 2


def test_concurrent_transfers_are_serializable(endpoint, ddb, table):
    names = [f"acct{n}" for n in range(ACCOUNTS)]
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {**_k(name), "balance": {"N": str(START_BALANCE)}}}} for name in names])
    total = ACCOUNTS * START_BALANCE
    committed: list[tuple[str, str, int]] = []
    outcomes = {"ok": 0, "condition": 0}
    problems: list[str] = []
    snapshots: list[list[int]] = []
    lock = threading.Lock()
    writers_done = threading.Event()

    def writer(seed):
        client = make_client(endpoint)
        rng = random.Random(seed)
        for _ in range(TRANSFERS_PER_WRITER):
            source, target = rng.sample(names, 2)
            amount = rng.randint(1, 70)
            try:
                client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": table, "Key": _k(source), "UpdateExpression": "SET balance = balance - :a",
                                "ConditionExpression": "balance >= :a", "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
                    {"Update": {"TableName": table, "Key": _k(target), "UpdateExpression": "SET balance = balance + :a",
                                "ConditionExpression": "attribute_exists(balance)",
                                "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
                ])
                with lock:
                    committed.append((source, target, amount))
                    outcomes["ok"] += 1
            except ClientError as error:
                code = error.response["Error"]["Code"]
                reasons = [r["Code"] for r in error.response.get("CancellationReasons", [])]
                with lock:
                    if code == "TransactionCanceledException" and reasons == ["ConditionalCheckFailed", "None"]:
                        outcomes["condition"] += 1
                    else:
                        problems.append(f"{code} {reasons} {error.response['Error'].get('Message')}")
            except Exception as error:  # noqa: BLE001 - reported below
                with lock:
                    problems.append(repr(error))

    def reader():
        client = make_client(endpoint)
        for _ in range(400):
            if writers_done.is_set():
                break
            try:
                response = client.transact_get_items(TransactItems=[
                    {"Get": {"TableName": table, "Key": _k(name)}} for name in names])
                balances = [int(r["Item"]["balance"]["N"]) for r in response["Responses"]]
                with lock:
                    snapshots.append(balances)
            except Exception as error:  # noqa: BLE001
                with lock:
                    problems.append(f"reader: {error!r}")

    writer_threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(WRITERS)]
    reader_threads = [threading.Thread(target=reader) for _ in range(READERS)]
    for thread in writer_threads + reader_threads:
        thread.start()
    for thread in writer_threads:
        thread.join(60)
    writers_done.set()
    for thread in reader_threads:
        thread.join(60)
    assert not any(t.is_alive() for t in writer_threads + reader_threads), "threads did not finish in 60 s"
    assert not problems, problems[:5]
    assert outcomes["ok"] + outcomes["condition"] == WRITERS * TRANSFERS_PER_WRITER
    assert outcomes["ok"] > 0 and outcomes["condition"] > 0, outcomes
    final = {name: int(_get(ddb, table, name)["balance"]["N"]) for name in names}
    # Conservation, no overdraft, and the final state is the committed transfers applied in any order.
    assert sum(final.values()) == total
    assert min(final.values()) >= 0
    expected = {name: START_BALANCE for name in names}
    for source, target, amount in committed:
        expected[source] -= amount
        expected[target] += amount
    assert final == expected
    # Every snapshot a reader took is one state of the serial order.
    assert snapshots, "no reader snapshot"
    for balances in snapshots:
        assert sum(balances) == total, balances
        assert min(balances) >= 0, balances
