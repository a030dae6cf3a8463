"""Scan on the base table: all items, Limit with LastEvaluatedKey/ExclusiveStartKey
pagination, FilterExpression (Count vs ScannedCount), ProjectionExpression,
Select COUNT, parallel scan (Segment/TotalSegments: the union of all segments
is the whole table, without duplicates) and Scan validation errors."""

from __future__ import annotations

import pytest

from support import assert_error, expect_error

N_ITEMS = 40


@pytest.fixture
def scan_table(ddb, table_factory):
    """pk (S) + sk (N): 8 partitions x 5 items, attribute n = running index."""
    name = table_factory(range_key=("sk", "N"))
    for i in range(N_ITEMS):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"p{i % 8}"}, "sk": {"N": str(i)}, "n": {"N": str(i)}})
    return name


def _key(item):
    return (item["pk"]["S"], item["sk"]["N"])


def _walk(ddb, max_pages=500, **kwargs):
    items, pages = [], 0
    for _ in range(max_pages):
        resp = ddb.scan(**kwargs)
        pages += 1
        items += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return items, pages
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    raise AssertionError("scan pagination did not terminate")


def _all_keys():
    return {(f"p{i % 8}", str(i)) for i in range(N_ITEMS)}


def test_scan_all(ddb, scan_table):
    resp = ddb.scan(TableName=scan_table)
    assert {_key(i) for i in resp["Items"]} == _all_keys()
    assert resp["Count"] == N_ITEMS == resp["ScannedCount"]
    assert "LastEvaluatedKey" not in resp
    # Items of one partition come out together, in sort-key order.
    seen = [_key(i) for i in resp["Items"]]
    for p in {k[0] for k in seen}:
        part = [int(sk) for pk, sk in seen if pk == p]
        assert part == sorted(part)


def test_scan_empty_table(ddb, hash_table):
    resp = ddb.scan(TableName=hash_table)
    assert resp["Items"] == [] and resp["Count"] == 0 and resp["ScannedCount"] == 0


@pytest.mark.parametrize("limit", [1, 3, 7, 40, 41])
def test_scan_limit_pagination(ddb, scan_table, limit):
    full = ddb.scan(TableName=scan_table)["Items"]
    items, pages = _walk(ddb, TableName=scan_table, Limit=limit)
    assert items == full
    assert pages >= -(-N_ITEMS // limit)


def test_scan_filter_counts(ddb, scan_table):
    resp = ddb.scan(TableName=scan_table, FilterExpression="n >= :x",
                    ExpressionAttributeValues={":x": {"N": "30"}})
    assert sorted(int(i["n"]["N"]) for i in resp["Items"]) == list(range(30, 40))
    assert resp["Count"] == 10
    assert resp["ScannedCount"] == N_ITEMS
    resp = ddb.scan(TableName=scan_table, Limit=5, FilterExpression="n >= :x",
                    ExpressionAttributeValues={":x": {"N": "1000"}})
    assert resp["Count"] == 0 and resp["ScannedCount"] == 5 and "LastEvaluatedKey" in resp
    items, _ = _walk(ddb, TableName=scan_table, Limit=6, FilterExpression="n >= :x",
                     ExpressionAttributeValues={":x": {"N": "30"}})
    assert sorted(int(i["n"]["N"]) for i in items) == list(range(30, 40))


def test_scan_projection_and_count(ddb, scan_table):
    resp = ddb.scan(TableName=scan_table, ProjectionExpression="n")
    assert sorted(int(i["n"]["N"]) for i in resp["Items"]) == list(range(N_ITEMS))
    assert all(set(i) == {"n"} for i in resp["Items"])
    resp = ddb.scan(TableName=scan_table, Select="COUNT")
    assert "Items" not in resp
    assert resp["Count"] == N_ITEMS


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7, 16])
def test_parallel_scan_segments_cover_table(ddb, scan_table, total):
    seen = []
    for segment in range(total):
        items, _ = _walk(ddb, TableName=scan_table, Segment=segment, TotalSegments=total, Limit=4)
        seen += [_key(i) for i in items]
    assert len(seen) == len(set(seen)), "an item was returned by more than one segment"
    assert set(seen) == _all_keys()


def test_parallel_scan_partition_stays_in_one_segment(ddb, scan_table):
    owner = {}
    for segment in range(4):
        items, _ = _walk(ddb, TableName=scan_table, Segment=segment, TotalSegments=4)
        for i in items:
            owner.setdefault(i["pk"]["S"], set()).add(segment)
    assert all(len(s) == 1 for s in owner.values())


def test_segment_not_less_than_total(ddb, scan_table):
    err = expect_error(ddb.scan, TableName=scan_table, Segment=1, TotalSegments=1)
    assert_error(err, "ValidationException",
                 "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                 "Segment: 1 is not less than TotalSegments: 1")


@pytest.mark.parametrize(
    "filter_expr,values,message",
    [
        pytest.param("views > :v", {":v": {"N": "1"}},
                     "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: views",
                     id="reserved-word"),
        pytest.param("n > :hello", {":v": {"N": "1"}},
                     "Invalid FilterExpression: An expression attribute value used in expression is not defined; "
                     "attribute value: :hello", id="undefined-value"),
        pytest.param("whatever(n)", None, "Invalid FilterExpression: Invalid function name; function: whatever",
                     id="unknown-function"),
        pytest.param("", None, "Invalid FilterExpression: The expression can not be empty;", id="empty"),
    ],
)
def test_filter_expression_errors(ddb_raw, scan_table, filter_expr, values, message):
    kwargs = {"TableName": scan_table, "FilterExpression": filter_expr}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    err = expect_error(ddb_raw.scan, **kwargs)
    assert_error(err, "ValidationException", message)


def test_scan_values_without_filter(ddb_raw, scan_table):
    # Wording by analogy with the PutItem/Query captures (dynalite agrees).
    err = expect_error(ddb_raw.scan, TableName=scan_table, ExpressionAttributeValues={":v": {"N": "1"}})
    assert_error(err, "ValidationException",
                 "ExpressionAttributeValues can only be specified when using expressions: FilterExpression is null")


def test_scan_missing_table(ddb):
    err = expect_error(ddb.scan, TableName="e2e-no-such-table-s")
    assert_error(err, "ResourceNotFoundException", "Requested resource not found")
