"""UpdateItem UpdateExpression semantics: SET (literals, + and -, list_append,
if_not_exists, nested map paths, list indexes), REMOVE (attributes, map keys,
list elements that shift), ADD (numbers, sets), DELETE (set elements), several
clauses at once, upserts of missing items, exact decimal arithmetic, and every
ReturnValues mode with the exact attributes returned."""

from __future__ import annotations

import pytest

from support import assert_error, expect_error

KEY = {"pk": {"S": "u"}}
BASE = {
    "pk": {"S": "u"},
    "n": {"N": "10"},
    "s": {"S": "str"},
    "l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]},
    "m": {"M": {"a": {"M": {"b": {"N": "1"}}}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
}


def N(v):
    return {"N": str(v)}


def S(v):
    return {"S": v}


def L(*vals):
    return {"L": list(vals)}


def with_(**changes):
    """BASE with some attributes replaced; a value of None removes the attribute."""
    item = dict(BASE)
    for k, v in changes.items():
        if v is None:
            item.pop(k, None)
        else:
            item[k] = v
    return item


def _norm(item):
    if item is None:
        return None
    out = {}
    for k, v in item.items():
        if isinstance(v, dict) and len(v) == 1 and next(iter(v)) in ("SS", "NS", "BS"):
            t = next(iter(v))
            out[k] = {t: sorted(v[t], key=lambda x: float(x) if t == "NS" else x)}
        elif isinstance(v, dict) and "M" in v:
            out[k] = {"M": _norm(v["M"])}
        else:
            out[k] = v
    return out


# (id, UpdateExpression, ExpressionAttributeValues, ExpressionAttributeNames, expected item)
UPDATE_CASES = [
    ("set-literal", "SET x = :v", {":v": S("new")}, None, with_(x=S("new"))),
    ("set-overwrite-type", "SET n = :v", {":v": S("now a string")}, None, with_(n=S("now a string"))),
    ("set-plus", "SET n = n + :d", {":d": N(5)}, None, with_(n=N(15))),
    ("set-minus", "SET n = n - :d", {":d": N(13)}, None, with_(n=N(-3))),
    ("set-plus-two-values", "SET x = :a + :b", {":a": N(1), ":b": N(2)}, None, with_(x=N(3))),
    ("set-copy-attribute", "SET x = n", None, None, with_(x=N(10))),
    ("set-map-value", "SET x = :v", {":v": {"M": {"k": L(S("v"))}}}, None, with_(x={"M": {"k": L(S("v"))}})),
    ("list-append-end", "SET l = list_append(l, :v)", {":v": L(N(4), N(5))}, None,
     with_(l=L(N(1), N(2), N(3), N(4), N(5)))),
    ("list-append-front", "SET l = list_append(:v, l)", {":v": L(N(0))}, None,
     with_(l=L(N(0), N(1), N(2), N(3)))),
    ("list-append-new-attribute", "SET x = list_append(:a, :b)", {":a": L(S("a")), ":b": L(S("b"))}, None,
     with_(x=L(S("a"), S("b")))),
    ("if-not-exists-missing", "SET x = if_not_exists(x, :v)", {":v": N(7)}, None, with_(x=N(7))),
    ("if-not-exists-present", "SET n = if_not_exists(n, :v)", {":v": N(7)}, None, BASE),
    ("counter-pattern", "SET c = if_not_exists(c, :zero) + :one", {":zero": N(0), ":one": N(1)}, None,
     with_(c=N(1))),
    ("list-append-if-not-exists", "SET x = list_append(if_not_exists(x, :empty), :v)",
     {":empty": L(), ":v": L(S("first"))}, None, with_(x=L(S("first")))),
    ("nested-map-new-key", "SET m.a.c = :v", {":v": S("c")}, None,
     with_(m={"M": {"a": {"M": {"b": N(1), "c": S("c")}}}})),
    ("nested-map-overwrite", "SET m.a.b = m.a.b + :d", {":d": N(1)}, None,
     with_(m={"M": {"a": {"M": {"b": N(2)}}}})),
    ("list-index-set", "SET l[1] = :v", {":v": S("two")}, None, with_(l=L(N(1), S("two"), N(3)))),
    ("list-index-past-end-appends", "SET l[10] = :v", {":v": N(99)}, None, with_(l=L(N(1), N(2), N(3), N(99)))),
    ("attribute-names", "SET #name = :v, #m.#a.#b = :w", {":v": S("n"), ":w": N(5)},
     {"#name": "name", "#m": "m", "#a": "a", "#b": "b"},
     with_(name=S("n"), m={"M": {"a": {"M": {"b": N(5)}}}})),
    ("remove-attribute", "REMOVE s", None, None, with_(s=None)),
    ("remove-several", "REMOVE s, n, ns", None, None, with_(s=None, n=None, ns=None)),
    ("remove-missing-is-noop", "REMOVE nothere", None, None, BASE),
    ("remove-map-key", "REMOVE m.a.b", None, None, with_(m={"M": {"a": {"M": {}}}})),
    ("remove-list-element-shifts", "REMOVE l[0]", None, None, with_(l=L(N(2), N(3)))),
    # Both indexes refer to the list as it was before the update (AWS); dynalite 4
    # shifts between the two removals and gets [2, 3].
    ("remove-two-list-elements", "REMOVE l[0], l[2]", None, None, with_(l=L(N(2)))),
    ("remove-list-index-past-end", "REMOVE l[7]", None, None, BASE),
    ("add-number", "ADD n :d", {":d": N(5)}, None, with_(n=N(15))),
    ("add-negative-number", "ADD n :d", {":d": N("-10.5")}, None, with_(n=N("-0.5"))),
    ("add-number-to-missing", "ADD x :d", {":d": N(3)}, None, with_(x=N(3))),
    ("add-string-set", "ADD ss :v", {":v": {"SS": ["c", "a"]}}, None, with_(ss={"SS": ["a", "b", "c"]})),
    ("add-number-set", "ADD ns :v", {":v": {"NS": ["3"]}}, None, with_(ns={"NS": ["1", "2", "3"]})),
    ("add-set-to-missing", "ADD x :v", {":v": {"BS": [b"\x01"]}}, None, with_(x={"BS": [b"\x01"]})),
    ("add-two", "ADD n :d, ss :v", {":d": N(1), ":v": {"SS": ["z"]}}, None,
     with_(n=N(11), ss={"SS": ["a", "b", "z"]})),
    ("delete-from-set", "DELETE ss :v", {":v": {"SS": ["a", "nope"]}}, None, with_(ss={"SS": ["b"]})),
    ("delete-from-number-set", "DELETE ns :v", {":v": {"NS": ["2"]}}, None, with_(ns={"NS": ["1"]})),
    ("delete-last-elements-removes-attribute", "DELETE ss :v", {":v": {"SS": ["a", "b"]}}, None,
     with_(ss=None)),
    ("delete-from-missing-set", "DELETE x :v", {":v": {"SS": ["a"]}}, None, BASE),
    ("all-four-clauses", "SET s = :s REMOVE l[0] ADD n :d DELETE ss :e",
     {":s": S("S"), ":d": N(1), ":e": {"SS": ["a"]}}, None,
     with_(s=S("S"), l=L(N(2), N(3)), n=N(11), ss={"SS": ["b"]})),
    ("clauses-any-order", "DELETE ss :e ADD n :d SET s = :s",
     {":s": S("S"), ":d": N(1), ":e": {"SS": ["b"]}}, None,
     with_(s=S("S"), n=N(11), ss={"SS": ["a"]})),
    ("lowercase-keywords", "set x = :v remove s", {":v": N(1)}, None, with_(x=N(1), s=None)),
]


@pytest.mark.parametrize(
    "expr,values,names,expected",
    [pytest.param(e, v, n, x, id=i) for i, e, v, n, x in UPDATE_CASES],
)
def test_update_expression(ddb, hash_table, expr, values, names, expected):
    ddb.put_item(TableName=hash_table, Item=BASE)
    kwargs = {"TableName": hash_table, "Key": KEY, "UpdateExpression": expr}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    resp = ddb.update_item(**kwargs)
    assert "Attributes" not in resp  # ReturnValues defaults to NONE
    got = ddb.get_item(TableName=hash_table, Key=KEY, ConsistentRead=True)["Item"]
    assert _norm(got) == _norm(expected)


# ---------------------------------------------------------------------------
# Exact decimal arithmetic
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "start,expr,operand,result",
    [
        pytest.param("0.1", "SET v = v + :d", "0.2", "0.3", id="0.1+0.2"),
        pytest.param("0.3", "SET v = v - :d", "0.1", "0.2", id="0.3-0.1"),
        pytest.param("1.5", "SET v = v - :d", "1.5", "0", id="to-zero"),
        pytest.param("99999999999999999999999999999999999999", "SET v = v - :d", "1",
                     "99999999999999999999999999999999999998", id="38-digits-minus-1"),
        pytest.param("12345678901234567890123456789012345678", "ADD v :d", "11111111111111111111111111111111111111",
                     "23456790012345679001234567900123456789", id="38-digit-add"),
        pytest.param("0.0000000000000000000000000000000000001", "SET v = v + :d", "1",
                     "1.0000000000000000000000000000000000001", id="tiny-plus-one-38-digits"),
        pytest.param("-5", "ADD v :d", "5", "0", id="negative-plus-positive"),
        pytest.param("1e10", "SET v = v + :d", "1e-10", "10000000000.0000000001", id="exponents"),
    ],
)
def test_exact_arithmetic(ddb, hash_table, start, expr, operand, result):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}, "v": {"N": start}})
    resp = ddb.update_item(TableName=hash_table, Key={"pk": {"S": "a"}}, UpdateExpression=expr,
                           ExpressionAttributeValues={":d": {"N": operand}}, ReturnValues="UPDATED_NEW")
    assert resp["Attributes"] == {"v": {"N": result}}


@pytest.mark.parametrize("start,expr,operand", [
    pytest.param("1e50", "SET v = v + :d", "1", id="1e50-plus-1"),
    pytest.param("1e50", "SET v = v - :d", "1", id="1e50-minus-1"),
    pytest.param("0.00000000000000000000000000000000000001", "ADD v :d", "1", id="needs-39-digits"),
    pytest.param("9e125", "SET v = v + :d", "9e125", id="magnitude"),
])
def test_arithmetic_beyond_38_digits_is_refused(ddb, hash_table, start, expr, operand):
    # DynamoDB cannot hold the exact result, and says so with its overflow message even when the
    # magnitude is fine (1e50 + 1), as ScyllaDB's Alternator suite observed against DynamoDB.
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}, "v": {"N": start}})
    before = ddb.get_item(TableName=hash_table, Key={"pk": {"S": "a"}})["Item"]
    err = expect_error(ddb.update_item, TableName=hash_table, Key={"pk": {"S": "a"}}, UpdateExpression=expr,
                       ExpressionAttributeValues={":d": {"N": operand}})
    assert_error(err, "ValidationException",
                 "Number overflow. Attempting to store a number with magnitude larger than supported range")
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "a"}})["Item"] == before


# ---------------------------------------------------------------------------
# Upserts
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "expr,values,expected",
    [
        pytest.param("SET a = :v", {":v": S("x")}, {"pk": S("new"), "a": S("x")}, id="set"),
        pytest.param("ADD c :v", {":v": N(1)}, {"pk": S("new"), "c": N(1)}, id="add-number"),
        pytest.param("ADD t :v", {":v": {"SS": ["a"]}}, {"pk": S("new"), "t": {"SS": ["a"]}}, id="add-set"),
        pytest.param("SET a = if_not_exists(a, :v) + :v", {":v": N(2)}, {"pk": S("new"), "a": N(4)},
                     id="if-not-exists"),
    ],
)
def test_update_creates_missing_item(ddb, hash_table, expr, values, expected):
    resp = ddb.update_item(TableName=hash_table, Key={"pk": {"S": "new"}}, UpdateExpression=expr,
                           ExpressionAttributeValues=values, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "new"}})["Item"] == expected


def test_update_upsert_all_new(ddb, hash_range_table):
    resp = ddb.update_item(TableName=hash_range_table, Key={"pk": {"S": "p"}, "sk": {"S": "s"}},
                           UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": N(1)},
                           ReturnValues="ALL_NEW")
    assert resp["Attributes"] == {"pk": S("p"), "sk": S("s"), "a": N(1)}


# ---------------------------------------------------------------------------
# ReturnValues
# ---------------------------------------------------------------------------

RV_EXPR = "SET n = n + :d, x = :x REMOVE s"
RV_VALUES = {":d": N(1), ":x": S("x")}


@pytest.mark.parametrize(
    "mode,expected",
    [
        pytest.param("NONE", None, id="NONE"),
        pytest.param("ALL_OLD", BASE, id="ALL_OLD"),
        # Old values of the attributes the update touched (x did not exist).
        pytest.param("UPDATED_OLD", {"n": N(10), "s": S("str")}, id="UPDATED_OLD"),
        pytest.param("ALL_NEW", with_(n=N(11), x=S("x"), s=None), id="ALL_NEW"),
        # New values of the attributes the update touched (s no longer exists).
        pytest.param("UPDATED_NEW", {"n": N(11), "x": S("x")}, id="UPDATED_NEW"),
    ],
)
def test_return_values(ddb, hash_table, mode, expected):
    ddb.put_item(TableName=hash_table, Item=BASE)
    resp = ddb.update_item(TableName=hash_table, Key=KEY, UpdateExpression=RV_EXPR,
                           ExpressionAttributeValues=RV_VALUES, ReturnValues=mode)
    assert _norm(resp.get("Attributes")) == _norm(expected)


@pytest.mark.parametrize(
    "mode,expected",
    [
        pytest.param("UPDATED_OLD", {"m": {"M": {"a": {"M": {"b": N(1)}}}}}, id="UPDATED_OLD"),
        pytest.param("UPDATED_NEW", {"m": {"M": {"a": {"M": {"b": N(2)}}}}}, id="UPDATED_NEW"),
    ],
)
def test_return_values_nested_path_only(ddb, hash_table, mode, expected):
    item = dict(BASE, m={"M": {"a": {"M": {"b": N(1), "other": S("o")}}, "z": S("z")}})
    ddb.put_item(TableName=hash_table, Item=item)
    resp = ddb.update_item(TableName=hash_table, Key=KEY, UpdateExpression="SET m.a.b = :v",
                           ExpressionAttributeValues={":v": N(2)}, ReturnValues=mode)
    assert resp["Attributes"] == expected


def test_return_values_list_element(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item=BASE)
    resp = ddb.update_item(TableName=hash_table, Key=KEY, UpdateExpression="SET l[1] = :v",
                           ExpressionAttributeValues={":v": S("two")}, ReturnValues="UPDATED_NEW")
    assert resp["Attributes"] == {"l": L(S("two"))}
