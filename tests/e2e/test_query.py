"""Query on the base table: KeyConditionExpression operators on the sort key
(=, <, <=, >, >=, BETWEEN, begins_with), ScanIndexForward, sort order of N, S
and B sort keys, Limit/LastEvaluatedKey/ExclusiveStartKey pagination, the 1 MB
page limit, FilterExpression (Count vs ScannedCount), ProjectionExpression,
Select, and the key-condition validation errors."""

from __future__ import annotations

import pytest

from support import assert_error, expect_error

NUM_SORT_KEYS = ["-10", "-2.5", "0", "2", "10", "100"]  # ascending numeric order


@pytest.fixture
def num_table(ddb, table_factory):
    """pk (S) + sk (N); partition "p" holds NUM_SORT_KEYS, partition "other" two more items."""
    name = table_factory(range_key=("sk", "N"))
    for sk in reversed(NUM_SORT_KEYS):  # insertion order must not matter
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": sk}, "v": {"S": f"v{sk}"}})
    for sk in ("1", "5"):
        ddb.put_item(TableName=name, Item={"pk": {"S": "other"}, "sk": {"N": sk}})
    return name


def _sks(items, t="N"):
    return [i["sk"][t] for i in items]


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        pytest.param("pk = :p", {}, NUM_SORT_KEYS, id="hash-only"),
        pytest.param("pk = :p AND sk = :a", {":a": "2"}, ["2"], id="eq"),
        pytest.param("pk = :p AND sk < :a", {":a": "2"}, ["-10", "-2.5", "0"], id="lt"),
        pytest.param("pk = :p AND sk <= :a", {":a": "2"}, ["-10", "-2.5", "0", "2"], id="le"),
        pytest.param("pk = :p AND sk > :a", {":a": "2"}, ["10", "100"], id="gt"),
        pytest.param("pk = :p AND sk >= :a", {":a": "2"}, ["2", "10", "100"], id="ge"),
        pytest.param("pk = :p AND sk BETWEEN :a AND :b", {":a": "-2.5", ":b": "10"}, ["-2.5", "0", "2", "10"],
                     id="between-inclusive"),
        pytest.param("pk = :p AND sk BETWEEN :a AND :b", {":a": "3", ":b": "9"}, [], id="between-empty"),
        pytest.param("sk > :a AND pk = :p", {":a": "0"}, ["2", "10", "100"], id="sort-condition-first"),
        pytest.param("(pk = :p) AND (sk < :a)", {":a": "0"}, ["-10", "-2.5"], id="parenthesised"),
    ],
)
def test_key_conditions_numeric(ddb, num_table, cond, values, expected):
    eav = {":p": {"S": "p"}, **{k: {"N": v} for k, v in values.items()}}
    resp = ddb.query(TableName=num_table, KeyConditionExpression=cond, ExpressionAttributeValues=eav)
    assert _sks(resp["Items"]) == expected
    assert resp["Count"] == len(expected)
    assert resp["ScannedCount"] == len(expected)
    assert "LastEvaluatedKey" not in resp
    resp = ddb.query(TableName=num_table, KeyConditionExpression=cond, ExpressionAttributeValues=eav,
                     ScanIndexForward=False)
    assert _sks(resp["Items"]) == list(reversed(expected))


def test_query_missing_partition(ddb, num_table):
    resp = ddb.query(TableName=num_table, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "nobody"}})
    assert resp["Items"] == [] and resp["Count"] == 0 and resp["ScannedCount"] == 0


def test_string_sort_key_byte_order_and_begins_with(ddb, table_factory):
    name = table_factory(range_key=("sk", "S"))
    keys = ["é", "b", "ab", "aa", "a", "Z", "B", "10", "1", "2"]
    for k in keys:
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": k}})
    expected = sorted(keys, key=lambda s: s.encode("utf-8"))
    assert expected == ["1", "10", "2", "B", "Z", "a", "aa", "ab", "b", "é"]
    resp = ddb.query(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert _sks(resp["Items"], "S") == expected
    resp = ddb.query(TableName=name, KeyConditionExpression="pk = :p AND begins_with(sk, :pre)",
                     ExpressionAttributeValues={":p": {"S": "p"}, ":pre": {"S": "a"}})
    assert _sks(resp["Items"], "S") == ["a", "aa", "ab"]
    resp = ddb.query(TableName=name, KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                     ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"S": "Z"}, ":b": {"S": "ab"}},
                     ScanIndexForward=False)
    assert _sks(resp["Items"], "S") == ["ab", "aa", "a", "Z"]


def test_binary_sort_key_unsigned_byte_order(ddb, table_factory):
    name = table_factory(range_key=("sk", "B"))
    keys = [b"\xff", b"\x80", b"\x7f", b"\x01\x00", b"\x01", b"\x00"]
    for k in keys:
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"B": k}})
    resp = ddb.query(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert _sks(resp["Items"], "B") == [b"\x00", b"\x01", b"\x01\x00", b"\x7f", b"\x80", b"\xff"]
    resp = ddb.query(TableName=name, KeyConditionExpression="pk = :p AND begins_with(sk, :pre)",
                     ExpressionAttributeValues={":p": {"S": "p"}, ":pre": {"B": b"\x01"}})
    assert _sks(resp["Items"], "B") == [b"\x01", b"\x01\x00"]


def test_number_hash_key(ddb, table_factory):
    name = table_factory(hash_key=("h", "N"), range_key=("r", "N"))
    ddb.put_item(TableName=name, Item={"h": {"N": "1.0"}, "r": {"N": "1"}})
    ddb.put_item(TableName=name, Item={"h": {"N": "1"}, "r": {"N": "2"}})  # same partition: 1.0 == 1
    resp = ddb.query(TableName=name, KeyConditionExpression="h = :h", ExpressionAttributeValues={":h": {"N": "1.00"}})
    assert [i["r"]["N"] for i in resp["Items"]] == ["1", "2"]
    assert resp["Items"][0]["h"] == {"N": "1"}


# ---------------------------------------------------------------------------
# Pagination
# ---------------------------------------------------------------------------

def _walk(ddb, max_pages=200, **kwargs):
    items, pages = [], []
    for _ in range(max_pages):
        resp = ddb.query(**kwargs)
        pages.append(resp)
        items += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return items, pages
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    raise AssertionError("pagination did not terminate")


@pytest.mark.parametrize("forward", [True, False], ids=["forward", "backward"])
@pytest.mark.parametrize("limit", [1, 4, 7, 25, 26])
def test_limit_pagination(ddb, table_factory, limit, forward):
    name = table_factory(range_key=("sk", "N"))
    for i in range(25):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "d": {"S": "x" * i}})
    q = dict(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
             ScanIndexForward=forward)
    full = ddb.query(**q)["Items"]
    assert len(full) == 25
    items, pages = _walk(ddb, Limit=limit, **q)
    assert items == full
    for page in pages:
        assert page["Count"] <= limit
        if "LastEvaluatedKey" in page:
            last = page["Items"][-1]
            assert page["LastEvaluatedKey"] == {"pk": last["pk"], "sk": last["sk"]}


def test_one_megabyte_page_limit(ddb, table_factory):
    name = table_factory(range_key=("sk", "N"))
    blob = "x" * (100 * 1024)
    for i in range(15):
        ddb.put_item(TableName=name, Item={"pk": {"S": "big"}, "sk": {"N": str(i)}, "d": {"S": blob}})
    q = dict(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "big"}})
    first = ddb.query(**q)
    assert 1 <= first["Count"] < 15
    assert first["Count"] <= 11  # 1 MB / ~100 KB
    assert "LastEvaluatedKey" in first
    items, pages = _walk(ddb, **q)
    assert [i["sk"]["N"] for i in items] == [str(i) for i in range(15)]
    assert len(pages) >= 2
    # Select COUNT is bounded by the same 1 MB of data read.
    counted = ddb.query(Select="COUNT", **q)
    assert counted["Count"] == first["Count"]
    assert "LastEvaluatedKey" in counted


def test_exclusive_start_key_mid_partition(ddb, num_table):
    resp = ddb.query(TableName=num_table, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "p"}},
                     ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "0"}})
    assert _sks(resp["Items"]) == ["2", "10", "100"]
    # The start key need not be an existing item.
    resp = ddb.query(TableName=num_table, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "p"}},
                     ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "5"}}, ScanIndexForward=False)
    assert _sks(resp["Items"]) == ["2", "0", "-2.5", "-10"]


# ---------------------------------------------------------------------------
# Filter, projection, Select
# ---------------------------------------------------------------------------

def test_filter_expression_counts(ddb, table_factory):
    name = table_factory(range_key=("sk", "N"))
    for i in range(10):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "even": {"BOOL": i % 2 == 0}})
    q = dict(TableName=name, KeyConditionExpression="pk = :p", FilterExpression="even = :t",
             ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"BOOL": True}})
    resp = ddb.query(**q)
    assert [i["sk"]["N"] for i in resp["Items"]] == ["0", "2", "4", "6", "8"]
    assert resp["Count"] == 5
    assert resp["ScannedCount"] == 10
    # Limit counts items read, before the filter.
    resp = ddb.query(Limit=3, **q)
    assert resp["ScannedCount"] == 3
    assert resp["Count"] == 2
    assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "2"}}
    items, _ = _walk(ddb, Limit=3, **q)
    assert [i["sk"]["N"] for i in items] == ["0", "2", "4", "6", "8"]


def test_projection_and_select(ddb, num_table):
    base = dict(TableName=num_table, KeyConditionExpression="pk = :p AND sk >= :z",
                ExpressionAttributeValues={":p": {"S": "p"}, ":z": {"N": "10"}})
    resp = ddb.query(ProjectionExpression="v", **base)
    assert resp["Items"] == [{"v": {"S": "v10"}}, {"v": {"S": "v100"}}]
    resp = ddb.query(ProjectionExpression="#s, v", ExpressionAttributeNames={"#s": "sk"}, Select="SPECIFIC_ATTRIBUTES",
                     **base)
    assert resp["Items"] == [{"sk": {"N": "10"}, "v": {"S": "v10"}}, {"sk": {"N": "100"}, "v": {"S": "v100"}}]
    resp = ddb.query(Select="ALL_ATTRIBUTES", **base)
    assert resp["Items"][0] == {"pk": {"S": "p"}, "sk": {"N": "10"}, "v": {"S": "v10"}}
    resp = ddb.query(Select="COUNT", **base)
    assert "Items" not in resp
    assert resp["Count"] == 2 and resp["ScannedCount"] == 2


# ---------------------------------------------------------------------------
# Key condition errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "cond,values,message",
    [
        pytest.param("sk = :a", {":a": {"N": "1"}}, "Query condition missed key schema element: pk",
                     id="no-hash-condition"),
        pytest.param("v = :a", {":a": {"S": "x"}}, "Query condition missed key schema element: pk",
                     id="non-key-attribute"),
        pytest.param("pk = :p OR sk = :a", {":p": {"S": "p"}, ":a": {"N": "1"}},
                     "Invalid operator used in KeyConditionExpression: OR", id="or"),
        pytest.param("pk = :p AND sk <> :a", {":p": {"S": "p"}, ":a": {"N": "1"}},
                     "Invalid operator used in KeyConditionExpression: <>", id="not-equal"),
        pytest.param("pk = :p AND contains(sk, :a)", {":p": {"S": "p"}, ":a": {"N": "1"}},
                     "Invalid operator used in KeyConditionExpression: contains", id="contains"),
        pytest.param("pk = :p AND pk = :q", {":p": {"S": "p"}, ":q": {"S": "q"}},
                     "KeyConditionExpressions must only contain one condition per key", id="two-on-hash"),
        pytest.param("pk = :p AND sk > :a AND sk < :b", {":p": {"S": "p"}, ":a": {"N": "1"}, ":b": {"N": "2"}},
                     "KeyConditionExpressions must only contain one condition per key", id="two-on-range"),
        pytest.param("", {":p": {"S": "p"}}, "Invalid KeyConditionExpression: The expression can not be empty;",
                     id="empty"),
    ],
)
def test_key_condition_errors(ddb_raw, num_table, cond, values, message):
    err = expect_error(ddb_raw.query, TableName=num_table, KeyConditionExpression=cond,
                       ExpressionAttributeValues=values)
    assert_error(err, "ValidationException", message)


def test_begins_with_value_first(ddb, table_factory):
    name = table_factory(range_key=("sk", "S"))
    err = expect_error(ddb.query, TableName=name, KeyConditionExpression="pk = :p AND begins_with(:a, sk)",
                       ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"S": "x"}})
    assert_error(err, "ValidationException",
                 "Invalid condition in KeyConditionExpression: begins_with operator must have the key "
                 "attribute as its first operand")


def test_values_without_expressions(ddb_raw, num_table):
    err = expect_error(ddb_raw.query, TableName=num_table, ExpressionAttributeValues={":p": {"S": "p"}})
    assert_error(err, "ValidationException",
                 "ExpressionAttributeValues can only be specified when using expressions: "
                 "FilterExpression and KeyConditionExpression are null")


def test_invalid_exclusive_start_key(ddb, num_table):
    err = expect_error(ddb.query, TableName=num_table, KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": {"S": "p"}}, ExclusiveStartKey={"nope": {"S": "p"}})
    assert_error(err, "ValidationException", "The provided starting key is invalid")


def test_filter_on_key_attribute(ddb, num_table):
    err = expect_error(ddb.query, TableName=num_table, KeyConditionExpression="pk = :p", FilterExpression="sk > :a",
                       ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "1"}})
    # Wording per dynalite (mirrors DynamoDB); the reference pack is silent.
    assert_error(err, "ValidationException",
                 "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk")


def test_query_missing_table(ddb):
    err = expect_error(ddb.query, TableName="e2e-no-such-table-q", KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": {"S": "p"}})
    assert_error(err, "ResourceNotFoundException", "Requested resource not found")
