"""The legacy (pre-expression) parameters older SDKs and ORMs send: Expected,
AttributeUpdates, AttributesToGet, KeyConditions, QueryFilter, ScanFilter and
ConditionalOperator, with their semantics and AWS's validation messages.

Messages follow dynalite's validations (whose tests ran against DynamoDB) and
the DynamoDB API reference; the ConditionalOperator rules follow the AWS DAX
client's request validator. Comments mark the few places where the wording is
Stratus's best reading of the documentation.

Run against dynalite 4 (STRATUS_E2E_ENDPOINT), 15 cases differ, each where
dynalite departs from the API reference: it treats Exists:true with a Value as
NOT_NULL, stops a ConditionalOperator OR at the first false member, checks no
operand types in Expected, lists no enum for AttributeAction, returns no Item
on a failed condition, and skips the ConditionalOperator and Select checks.
"""

from __future__ import annotations

import pytest

from support import assert_error, expect_error

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731

INVALID = "One or more parameter values were invalid: "


def _get(ddb, table, key):
    return ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def _sorted_sets(item):
    """The item with its sets sorted (DynamoDB returns set members in no set order)."""
    return {name: ({kind: sorted(members)} if kind in ("SS", "NS", "BS") else {kind: members})
            for name, value in item.items() for kind, members in value.items()}


# ----- PutItem / DeleteItem: Expected ------------------------------------------------------

def test_put_expected_exists_false_inserts_only_once(ddb, hash_table):
    item = {"pk": S("a"), "v": N(1)}
    ddb.put_item(TableName=hash_table, Item=item, Expected={"pk": {"Exists": False}})
    err = expect_error(ddb.put_item, TableName=hash_table, Item={"pk": S("a"), "v": N(2)},
                       Expected={"pk": {"Exists": False}})
    assert_error(err, "ConditionalCheckFailedException", "The conditional request failed")
    assert _get(ddb, hash_table, {"pk": S("a")}) == item


@pytest.mark.parametrize("expected", [
    {"v": {"Value": N(1)}},
    {"v": {"Value": N(1), "Exists": True}},
    {"v": {"ComparisonOperator": "EQ", "AttributeValueList": [N(1)]}},
    {"v": {"ComparisonOperator": "EQ", "Value": N(1)}},
], ids=["value", "exists-true-value", "eq-list", "eq-value"])
def test_put_expected_equality(ddb, hash_table, expected):
    ddb.put_item(TableName=hash_table, Item={"pk": S("a"), "v": N(1)})
    ddb.put_item(TableName=hash_table, Item={"pk": S("a"), "v": N(2)}, Expected=expected)
    assert _get(ddb, hash_table, {"pk": S("a")})["v"] == N(2)
    # Now v is 2, so the same expectation fails.
    err = expect_error(ddb.put_item, TableName=hash_table, Item={"pk": S("a"), "v": N(3)}, Expected=expected)
    assert_error(err, "ConditionalCheckFailedException", "The conditional request failed")


def test_put_expected_value_fails_when_the_item_is_missing(ddb, hash_table):
    err = expect_error(ddb.put_item, TableName=hash_table, Item={"pk": S("new")},
                       Expected={"v": {"Value": N(1)}})
    assert_error(err, "ConditionalCheckFailedException", "The conditional request failed")
    assert _get(ddb, hash_table, {"pk": S("new")}) is None


# (id, stored attributes, Expected, holds?)
COMPARISONS = [
    ("ne-differs", {"v": N(1)}, {"v": {"ComparisonOperator": "NE", "AttributeValueList": [N(2)]}}, True),
    ("ne-missing", {}, {"v": {"ComparisonOperator": "NE", "AttributeValueList": [N(2)]}}, True),
    ("ne-equal", {"v": N(2)}, {"v": {"ComparisonOperator": "NE", "AttributeValueList": [N(2)]}}, False),
    ("lt", {"v": N(1)}, {"v": {"ComparisonOperator": "LT", "AttributeValueList": [N(2)]}}, True),
    ("le-equal", {"v": N(2)}, {"v": {"ComparisonOperator": "LE", "AttributeValueList": [N(2)]}}, True),
    ("gt-false", {"v": N(2)}, {"v": {"ComparisonOperator": "GT", "AttributeValueList": [N(2)]}}, False),
    ("ge-other-type", {"v": S("2")}, {"v": {"ComparisonOperator": "GE", "AttributeValueList": [N(1)]}}, False),
    ("not-null", {"v": {"NULL": True}}, {"v": {"ComparisonOperator": "NOT_NULL"}}, True),
    ("null-missing", {}, {"v": {"ComparisonOperator": "NULL"}}, True),
    ("null-present", {"v": {"NULL": True}}, {"v": {"ComparisonOperator": "NULL"}}, False),
    ("contains-substring", {"v": S("hello")}, {"v": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [S("ell")]}}, True),
    ("contains-set", {"v": {"SS": ["a", "b"]}}, {"v": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [S("b")]}}, True),
    ("contains-list", {"v": {"L": [N(1), S("x")]}}, {"v": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [S("x")]}}, True),
    ("not-contains-set", {"v": {"NS": ["1", "2"]}}, {"v": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [N(3)]}}, True),
    ("not-contains-missing", {}, {"v": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [N(3)]}}, True),
    ("begins-with", {"v": S("prefix-1")}, {"v": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("pre")]}}, True),
    ("begins-with-number", {"v": N(12)}, {"v": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("1")]}}, False),
    ("in", {"v": S("b")}, {"v": {"ComparisonOperator": "IN", "AttributeValueList": [S("a"), S("b")]}}, True),
    ("in-miss", {"v": S("c")}, {"v": {"ComparisonOperator": "IN", "AttributeValueList": [S("a"), S("b")]}}, False),
    ("between", {"v": N(5)}, {"v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(1), N(5)]}}, True),
    ("between-out", {"v": N(6)}, {"v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(1), N(5)]}}, False),
    ("eq-set", {"v": {"SS": ["b", "a"]}}, {"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"SS": ["a", "b"]}]}}, True),
    ("dotted-name", {"a.b": N(1)}, {"a.b": {"Value": N(1)}}, True),
    ("reserved-word-name", {"name": S("x")}, {"name": {"Value": S("x")}}, True),
]


@pytest.mark.parametrize("stored,expected,holds", [pytest.param(s, e, h, id=i) for i, s, e, h in COMPARISONS])
def test_put_expected_comparisons(ddb, hash_table, stored, expected, holds):
    ddb.put_item(TableName=hash_table, Item={"pk": S("a"), **stored})
    new = {"pk": S("a"), "written": {"BOOL": True}}
    if holds:
        ddb.put_item(TableName=hash_table, Item=new, Expected=expected)
        assert _get(ddb, hash_table, {"pk": S("a")}) == new
    else:
        err = expect_error(ddb.put_item, TableName=hash_table, Item=new, Expected=expected)
        assert_error(err, "ConditionalCheckFailedException", "The conditional request failed")


def test_expected_conditional_operator(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": S("a"), "x": N(1), "y": N(1)})
    either = {"x": {"Value": N(9)}, "y": {"Value": N(1)}}
    ddb.put_item(TableName=hash_table, Item={"pk": S("a"), "x": N(2)}, Expected=either, ConditionalOperator="OR")
    err = expect_error(ddb.put_item, TableName=hash_table, Item={"pk": S("a")},
                       Expected={"x": {"Value": N(2)}, "y": {"Value": N(1)}}, ConditionalOperator="AND")
    assert_error(err, "ConditionalCheckFailedException")
    # AND is the default.
    err = expect_error(ddb.put_item, TableName=hash_table, Item={"pk": S("a")},
                       Expected={"x": {"Value": N(2)}, "y": {"Value": N(1)}})
    assert_error(err, "ConditionalCheckFailedException")


def test_expected_failure_returns_old_item(ddb, hash_table):
    item = {"pk": S("a"), "v": N(1)}
    ddb.put_item(TableName=hash_table, Item=item)
    err = expect_error(ddb.put_item, TableName=hash_table, Item={"pk": S("a")}, Expected={"pk": {"Exists": False}},
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert_error(err, "ConditionalCheckFailedException")
    assert err.response["Item"] == item


def test_delete_expected(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": S("a"), "v": N(1)})
    err = expect_error(ddb.delete_item, TableName=hash_table, Key={"pk": S("a")}, Expected={"v": {"Value": N(2)}})
    assert_error(err, "ConditionalCheckFailedException")
    old = ddb.delete_item(TableName=hash_table, Key={"pk": S("a")}, ReturnValues="ALL_OLD",
                          Expected={"v": {"ComparisonOperator": "GE", "AttributeValueList": [N(1)]}})
    assert old["Attributes"] == {"pk": S("a"), "v": N(1)}
    assert _get(ddb, hash_table, {"pk": S("a")}) is None


# (id, Expected, ConditionalOperator, message)
EXPECTED_ERRORS = [
    ("exists-false-with-value", {"v": {"Exists": False, "Value": N(1)}}, None,
     INVALID + "Value cannot be used when Exists is false for Attribute: v"),
    ("exists-true-without-value", {"v": {"Exists": True}}, None,
     INVALID + "Value must be provided when Exists is true for Attribute: v"),
    ("nothing", {"v": {}}, None, INVALID + "Value must be provided when Exists is null for Attribute: v"),
    ("exists-and-operator", {"v": {"Exists": True, "ComparisonOperator": "EQ", "AttributeValueList": [N(1)]}}, None,
     INVALID + "Exists and ComparisonOperator cannot be used together for Attribute: v"),
    ("value-and-list", {"v": {"Value": N(1), "ComparisonOperator": "EQ", "AttributeValueList": [N(1)]}}, None,
     INVALID + "Value and AttributeValueList cannot be used together for Attribute: v"),
    ("list-without-operator", {"v": {"AttributeValueList": [N(1)]}}, None,
     INVALID + "AttributeValueList can only be used with a ComparisonOperator for Attribute: v"),
    ("operator-without-values", {"v": {"ComparisonOperator": "GT"}}, None,
     INVALID + "Value or AttributeValueList must be used with ComparisonOperator: GT for Attribute: v"),
    ("eq-two-values", {"v": {"ComparisonOperator": "EQ", "AttributeValueList": [N(1), N(2)]}}, None,
     INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"),
    ("null-with-value", {"v": {"ComparisonOperator": "NULL", "AttributeValueList": [N(1)]}}, None,
     INVALID + "Invalid number of argument(s) for the NULL ComparisonOperator"),
    ("between-one-value", {"v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(1)]}}, None,
     INVALID + "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
    ("in-mixed-types", {"v": {"ComparisonOperator": "IN", "AttributeValueList": [N(1), S("a")]}}, None,
     INVALID + "AttributeValues inside AttributeValueList must be of same type"),
    ("between-reversed", {"v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(5), N(1)]}}, None,
     "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"),
    ("lt-set", {"v": {"ComparisonOperator": "LT", "AttributeValueList": [{"SS": ["a"]}]}}, None,
     INVALID + "ComparisonOperator LT is not valid for SS AttributeValue type"),
    ("begins-with-number", {"v": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [N(1)]}}, None,
     INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"),
    ("invalid-value", {"v": {"Value": {"SS": []}}}, None, INVALID + "An string set  may not be empty"),
    ("bad-operator", {"v": {"ComparisonOperator": "SIMILAR", "AttributeValueList": [N(1)]}}, None,
     "1 validation error detected: Value 'SIMILAR' at 'expected.v.member.comparisonOperator' failed to satisfy "
     "constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, "
     "LE, BEGINS_WITH, GE, CONTAINS]"),
    ("bad-conditional-operator", {"v": {"Value": N(1)}, "w": {"Value": N(1)}}, "XOR",
     "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: "
     "Member must satisfy enum value set: [OR, AND]"),
    ("conditional-operator-one-element", {"v": {"Value": N(1)}}, "OR",
     "ConditionalOperator can only be used when Filter or Expected has two or more elements"),
]


@pytest.mark.parametrize("expected,operator,message", [pytest.param(e, o, m, id=i) for i, e, o, m in EXPECTED_ERRORS])
def test_expected_errors(ddb_raw, hash_table, expected, operator, message):
    ddb_raw.put_item(TableName=hash_table, Item={"pk": S("a"), "v": N(1)})
    extra = {"ConditionalOperator": operator} if operator else {}
    err = expect_error(ddb_raw.put_item, TableName=hash_table, Item={"pk": S("a"), "v": N(9)}, Expected=expected, **extra)
    assert_error(err, "ValidationException", message)
    assert _get(ddb_raw, hash_table, {"pk": S("a")})["v"] == N(1)


def test_conditional_operator_without_expected(ddb_raw, hash_table):
    err = expect_error(ddb_raw.put_item, TableName=hash_table, Item={"pk": S("a")}, ConditionalOperator="AND")
    assert_error(err, "ValidationException", "ConditionalOperator cannot be used without Filter or Expected")


def test_expected_with_condition_expression(ddb_raw, hash_table):
    err = expect_error(ddb_raw.delete_item, TableName=hash_table, Key={"pk": S("a")},
                       ConditionExpression="attribute_exists(pk)", Expected={"pk": {"Exists": False}})
    assert_error(err, "ValidationException",
                 "Can not use both expression and non-expression parameters in the same request: "
                 "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")


# ----- UpdateItem: AttributeUpdates --------------------------------------------------------

def test_attribute_updates_actions(ddb, hash_table):
    key = {"pk": S("a")}
    ddb.put_item(TableName=hash_table, Item={**key, "count": N(1), "tags": {"SS": ["x", "y"]}, "gone": S("z"),
                                             "list": {"L": [N(1)]}, "nums": {"NS": ["1", "2"]}})
    out = ddb.update_item(TableName=hash_table, Key=key, ReturnValues="ALL_NEW", AttributeUpdates={
        "count": {"Action": "ADD", "Value": N(5)},
        "tags": {"Action": "ADD", "Value": {"SS": ["y", "w"]}},
        "gone": {"Action": "DELETE"},
        "list": {"Action": "ADD", "Value": {"L": [S("two")]}},
        "nums": {"Action": "DELETE", "Value": {"NS": ["2", "3"]}},
        "title": {"Action": "PUT", "Value": S("hello")},
        "default": {"Value": {"BOOL": False}},
        "fresh": {"Action": "ADD", "Value": N(-2)},
    })
    assert _sorted_sets(out["Attributes"]) == {
        **key,
        "count": N(6),
        "tags": {"SS": ["w", "x", "y"]},
        "list": {"L": [N(1), S("two")]},
        "nums": {"NS": ["1"]},
        "title": S("hello"),
        "default": {"BOOL": False},
        "fresh": N(-2),
    }


def test_attribute_updates_delete_last_set_element_removes_attribute(ddb, hash_table):
    key = {"pk": S("a")}
    ddb.put_item(TableName=hash_table, Item={**key, "tags": {"SS": ["x"]}})
    ddb.update_item(TableName=hash_table, Key=key, AttributeUpdates={"tags": {"Action": "DELETE", "Value": {"SS": ["x"]}}})
    assert _get(ddb, hash_table, key) == key


def test_attribute_updates_create_the_item(ddb, hash_range_table):
    key = {"pk": S("a"), "sk": S("b")}
    out = ddb.update_item(TableName=hash_range_table, Key=key, ReturnValues="UPDATED_NEW",
                          AttributeUpdates={"n": {"Action": "ADD", "Value": N(3)},
                                            "l": {"Action": "ADD", "Value": {"L": [N(1)]}},
                                            "gone": {"Action": "DELETE"}})
    assert out["Attributes"] == {"n": N(3), "l": {"L": [N(1)]}}
    assert _get(ddb, hash_range_table, key) == {**key, "n": N(3), "l": {"L": [N(1)]}}


def test_attribute_updates_with_expected(ddb, hash_table):
    key = {"pk": S("a")}
    ddb.put_item(TableName=hash_table, Item={**key, "version": N(1)})
    updates = {"version": {"Action": "ADD", "Value": N(1)}}
    ddb.update_item(TableName=hash_table, Key=key, AttributeUpdates=updates, Expected={"version": {"Value": N(1)}})
    err = expect_error(ddb.update_item, TableName=hash_table, Key=key, AttributeUpdates=updates,
                       Expected={"version": {"Value": N(1)}})
    assert_error(err, "ConditionalCheckFailedException", "The conditional request failed")
    assert _get(ddb, hash_table, key)["version"] == N(2)


def test_attribute_updates_empty_map_creates_the_key(ddb, hash_table):
    ddb.update_item(TableName=hash_table, Key={"pk": S("k")}, AttributeUpdates={})
    assert _get(ddb, hash_table, {"pk": S("k")}) == {"pk": S("k")}


# (id, stored extra attributes, AttributeUpdates, message)
UPDATE_ERRORS = [
    ("put-without-value", {}, {"v": {"Action": "PUT"}},
     INVALID + "Only DELETE action is allowed when no attribute value is specified"),
    ("default-without-value", {}, {"v": {}},
     INVALID + "Only DELETE action is allowed when no attribute value is specified"),
    ("delete-scalar-value", {}, {"v": {"Action": "DELETE", "Value": N(1)}},
     INVALID + "DELETE action with value is not supported for the type N"),
    ("add-string", {}, {"v": {"Action": "ADD", "Value": S("x")}},
     INVALID + "ADD action is not supported for the type S"),
    ("add-map", {}, {"v": {"Action": "ADD", "Value": {"M": {}}}},
     INVALID + "ADD action is not supported for the type M"),
    ("add-number-to-string", {"v": S("x")}, {"v": {"Action": "ADD", "Value": N(1)}},
     "Type mismatch for attribute to update"),
    ("add-set-to-other-set", {"v": {"NS": ["1"]}}, {"v": {"Action": "ADD", "Value": {"SS": ["a"]}}},
     "Type mismatch for attribute to update"),
    ("delete-from-other-set", {"v": {"NS": ["1"]}}, {"v": {"Action": "DELETE", "Value": {"SS": ["a"]}}},
     "Type mismatch for attribute to update"),
    ("update-key", {}, {"pk": {"Action": "PUT", "Value": S("b")}},
     INVALID + "Cannot update attribute pk. This attribute is part of the key"),
    ("invalid-value", {}, {"v": {"Action": "PUT", "Value": {"N": "x"}}},
     "The parameter cannot be converted to a numeric value: x"),
    # The enum order of AttributeAction is the service model's; AWS's order is unconfirmed.
    ("bad-action", {}, {"v": {"Action": "REPLACE", "Value": N(1)}},
     "1 validation error detected: Value 'REPLACE' at 'attributeUpdates.v.member.action' failed to satisfy "
     "constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"),
]


@pytest.mark.parametrize("stored,updates,message", [pytest.param(s, u, m, id=i) for i, s, u, m in UPDATE_ERRORS])
def test_attribute_updates_errors(ddb_raw, hash_table, stored, updates, message):
    item = {"pk": S("a"), **stored}
    ddb_raw.put_item(TableName=hash_table, Item=item)
    err = expect_error(ddb_raw.update_item, TableName=hash_table, Key={"pk": S("a")}, AttributeUpdates=updates)
    assert_error(err, "ValidationException", message)
    assert _get(ddb_raw, hash_table, {"pk": S("a")}) == item


def test_attribute_updates_and_update_expression(ddb_raw, hash_table):
    err = expect_error(ddb_raw.update_item, TableName=hash_table, Key={"pk": S("a")},
                       UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": N(1)},
                       Expected={"v": {"Exists": False}})
    assert_error(err, "ValidationException",
                 "Can not use both expression and non-expression parameters in the same request: "
                 "Non-expression parameters: {Expected} Expression parameters: {UpdateExpression}")


# ----- GetItem: AttributesToGet ------------------------------------------------------------

def test_get_item_attributes_to_get(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": S("a"), "name": S("n"), "a.b": N(1), "m": {"M": {"b": N(2)}},
                                             "other": S("o")})
    got = ddb.get_item(TableName=hash_table, Key={"pk": S("a")}, AttributesToGet=["name", "a.b", "m", "missing"])
    assert got["Item"] == {"name": S("n"), "a.b": N(1), "m": {"M": {"b": N(2)}}}


@pytest.mark.parametrize("extra,message", [
    pytest.param({"AttributesToGet": ["a", "b", "a"]}, INVALID + "Duplicate value in attribute name: a", id="duplicate"),
    pytest.param({"AttributesToGet": []},
                 "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: "
                 "Member must have length greater than or equal to 1", id="empty"),
    pytest.param({"AttributesToGet": ["a"], "ProjectionExpression": "a"},
                 "Can not use both expression and non-expression parameters in the same request: "
                 "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
                 id="with-projection"),
    pytest.param({"AttributesToGet": ["a"], "ExpressionAttributeNames": {"#a": "a"}},
                 "ExpressionAttributeNames can only be specified when using expressions", id="with-names"),
])
def test_get_item_attributes_to_get_errors(ddb_raw, hash_table, extra, message):
    err = expect_error(ddb_raw.get_item, TableName=hash_table, Key={"pk": S("a")}, **extra)
    assert_error(err, "ValidationException", message)


# ----- Query: KeyConditions, QueryFilter ---------------------------------------------------

@pytest.fixture
def filled_range_table(ddb, hash_range_table):
    for pk in ("a", "b"):
        for i in range(1, 6):
            ddb.put_item(TableName=hash_range_table, Item={
                "pk": S(pk), "sk": S(f"s{i}"), "n": N(i), "tag": S("even" if i % 2 == 0 else "odd")})
    return hash_range_table


def _sks(response):
    return [item["sk"]["S"] for item in response["Items"]]


KEY_CONDITIONS = [
    ("hash-only", {}, ["s1", "s2", "s3", "s4", "s5"]),
    ("eq", {"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("s3")]}}, ["s3"]),
    ("lt", {"sk": {"ComparisonOperator": "LT", "AttributeValueList": [S("s3")]}}, ["s1", "s2"]),
    ("le", {"sk": {"ComparisonOperator": "LE", "AttributeValueList": [S("s3")]}}, ["s1", "s2", "s3"]),
    ("gt", {"sk": {"ComparisonOperator": "GT", "AttributeValueList": [S("s3")]}}, ["s4", "s5"]),
    ("ge", {"sk": {"ComparisonOperator": "GE", "AttributeValueList": [S("s4")]}}, ["s4", "s5"]),
    ("between", {"sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [S("s2"), S("s4")]}},
     ["s2", "s3", "s4"]),
    ("begins-with", {"sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("s")]}},
     ["s1", "s2", "s3", "s4", "s5"]),
]


@pytest.mark.parametrize("range_condition,expected", [pytest.param(r, e, id=i) for i, r, e in KEY_CONDITIONS])
def test_query_key_conditions(ddb, filled_range_table, range_condition, expected):
    conditions = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("b")]}, **range_condition}
    got = ddb.query(TableName=filled_range_table, KeyConditions=conditions)
    assert _sks(got) == expected
    assert got["Count"] == len(expected)


def test_query_filter_and_attributes_to_get(ddb, filled_range_table):
    got = ddb.query(TableName=filled_range_table,
                    KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}},
                    QueryFilter={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [S("even")]},
                                 "n": {"ComparisonOperator": "GT", "AttributeValueList": [N(3)]}},
                    ConditionalOperator="OR", AttributesToGet=["sk", "n"], ScanIndexForward=False)
    assert got["Items"] == [{"sk": S("s5"), "n": N(5)}, {"sk": S("s4"), "n": N(4)}, {"sk": S("s2"), "n": N(2)}]
    assert got["ScannedCount"] == 5
    got = ddb.query(TableName=filled_range_table,
                    KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}},
                    QueryFilter={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [S("even")]},
                                 "n": {"ComparisonOperator": "GT", "AttributeValueList": [N(3)]}})
    assert _sks(got) == ["s4"]


def test_query_key_conditions_with_filter_expression(ddb, filled_range_table):
    # KeyConditions may go with FilterExpression; only KeyConditionExpression excludes it.
    got = ddb.query(TableName=filled_range_table,
                    KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}},
                    FilterExpression="#legacy0 = :legacy0",
                    ExpressionAttributeNames={"#legacy0": "tag"},
                    ExpressionAttributeValues={":legacy0": S("odd")})
    assert _sks(got) == ["s1", "s3", "s5"]


def test_query_key_conditions_paging(ddb, filled_range_table):
    conditions = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}}
    first = ddb.query(TableName=filled_range_table, KeyConditions=conditions, Limit=3)
    assert _sks(first) == ["s1", "s2", "s3"]
    rest = ddb.query(TableName=filled_range_table, KeyConditions=conditions, Limit=3,
                     ExclusiveStartKey=first["LastEvaluatedKey"])
    assert _sks(rest) == ["s4", "s5"]


def test_query_count_with_attributes_to_get(ddb_raw, filled_range_table):
    err = expect_error(ddb_raw.query, TableName=filled_range_table, Select="COUNT", AttributesToGet=["sk"],
                       KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}})
    assert_error(err, "ValidationException",
                 "1 validation error detected: Cannot specify the AttributesToGet when choosing to get only the Count")
    got = ddb_raw.query(TableName=filled_range_table, Select="SPECIFIC_ATTRIBUTES", AttributesToGet=["n"],
                        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("b")]}})
    assert got["Items"][0] == {"n": N(1)}


HASH_EQ = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}}

# (id, request members, message)
QUERY_ERRORS = [
    ("no-hash", {"KeyConditions": {"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("s1")]}}},
     "Query condition missed key schema element: pk"),
    ("non-key", {"KeyConditions": {**HASH_EQ, "n": {"ComparisonOperator": "EQ", "AttributeValueList": [N(1)]}}},
     "Query condition missed key schema element: sk"),
    ("hash-not-eq", {"KeyConditions": {"pk": {"ComparisonOperator": "GT", "AttributeValueList": [S("a")]}}},
     "Query key condition not supported"),
    ("range-ne", {"KeyConditions": {**HASH_EQ, "sk": {"ComparisonOperator": "NE", "AttributeValueList": [S("a")]}}},
     "Attempted conditional constraint is not an indexable operation"),
    ("range-in", {"KeyConditions": {**HASH_EQ, "sk": {"ComparisonOperator": "IN", "AttributeValueList": [S("a")]}}},
     "Attempted conditional constraint is not an indexable operation"),
    ("hash-type", {"KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [N(1)]}}},
     INVALID + "Condition parameter type does not match schema type"),
    ("three", {"KeyConditions": {**HASH_EQ, "sk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]},
                                 "n": {"ComparisonOperator": "NULL"}}},
     "Conditions can be of length 1 or 2 only"),
    ("empty", {"KeyConditions": {}}, "Conditions can be of length 1 or 2 only"),
    ("filter-on-key", {"KeyConditions": HASH_EQ,
                       "QueryFilter": {"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("a")]}}},
     "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"),
    ("filter-argument-count", {"KeyConditions": HASH_EQ, "QueryFilter": {"n": {"ComparisonOperator": "IN"}}},
     INVALID + "Invalid number of argument(s) for the IN ComparisonOperator"),
    ("missing-operator", {"KeyConditions": {"pk": {"AttributeValueList": [S("a")]}}},
     "1 validation error detected: Value null at 'keyConditions.pk.member.comparisonOperator' failed to satisfy "
     "constraint: Member must not be null"),
    ("with-key-condition-expression", {"KeyConditions": HASH_EQ, "KeyConditionExpression": "pk = :a",
                                       "ExpressionAttributeValues": {":a": S("a")}},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}"),
    ("filter-with-expression", {"KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": {":a": S("a")},
                                "QueryFilter": {"n": {"ComparisonOperator": "NULL"}}},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {QueryFilter} Expression parameters: {KeyConditionExpression}"),
    ("operator-without-filter", {"KeyConditions": HASH_EQ, "ConditionalOperator": "OR"},
     "ConditionalOperator cannot be used without Filter or Expected"),
]


@pytest.mark.parametrize("request_members,message", [pytest.param(r, m, id=i) for i, r, m in QUERY_ERRORS])
def test_query_legacy_errors(ddb_raw, hash_range_table, request_members, message):
    err = expect_error(ddb_raw.query, TableName=hash_range_table, **request_members)
    assert_error(err, "ValidationException", message)


def test_query_hash_table_with_two_conditions(ddb_raw, hash_table):
    err = expect_error(ddb_raw.query, TableName=hash_table, KeyConditions={
        **HASH_EQ, "n": {"ComparisonOperator": "EQ", "AttributeValueList": [N(1)]}})
    assert_error(err, "ValidationException", "Query key condition not supported")


def test_query_key_conditions_unknown_table(ddb_raw):
    err = expect_error(ddb_raw.query, TableName="no-such-table-legacy", KeyConditions=HASH_EQ)
    assert_error(err, "ResourceNotFoundException", "Requested resource not found")


# ----- Scan: ScanFilter --------------------------------------------------------------------

@pytest.fixture
def filled_hash_table(ddb, hash_table):
    items = [
        {"pk": S("1"), "n": N(1), "s": S("apple"), "tags": {"SS": ["red"]}},
        {"pk": S("2"), "n": N(2), "s": S("banana"), "tags": {"SS": ["yellow"]}},
        {"pk": S("3"), "n": N(3), "s": S("cherry")},
        {"pk": S("4"), "s": S("date"), "flag": {"NULL": True}},
    ]
    for item in items:
        ddb.put_item(TableName=hash_table, Item=item)
    return hash_table


def _pks(response):
    return sorted(item["pk"]["S"] for item in response["Items"])


SCAN_FILTERS = [
    ("eq-key", {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("2")]}}, None, ["2"]),
    ("ne", {"n": {"ComparisonOperator": "NE", "AttributeValueList": [N(2)]}}, None, ["1", "3", "4"]),
    ("between", {"n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(2), N(3)]}}, None, ["2", "3"]),
    ("in", {"s": {"ComparisonOperator": "IN", "AttributeValueList": [S("apple"), S("date")]}}, None, ["1", "4"]),
    ("null", {"n": {"ComparisonOperator": "NULL"}}, None, ["4"]),
    ("not-null", {"flag": {"ComparisonOperator": "NOT_NULL"}}, None, ["4"]),
    ("contains", {"s": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [S("an")]}}, None, ["2"]),
    ("not-contains-set", {"tags": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [S("red")]}}, None,
     ["2", "3", "4"]),
    ("begins-with", {"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("c")]}}, None, ["3"]),
    ("and", {"n": {"ComparisonOperator": "GE", "AttributeValueList": [N(2)]},
             "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("b")]}}, None, ["2"]),
    ("or", {"n": {"ComparisonOperator": "GE", "AttributeValueList": [N(3)]},
            "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("b")]}}, "OR", ["2", "3"]),
]


@pytest.mark.parametrize("scan_filter,operator,expected", [pytest.param(f, o, e, id=i) for i, f, o, e in SCAN_FILTERS])
def test_scan_filter(ddb, filled_hash_table, scan_filter, operator, expected):
    extra = {"ConditionalOperator": operator} if operator else {}
    got = ddb.scan(TableName=filled_hash_table, ScanFilter=scan_filter, **extra)
    assert _pks(got) == expected
    assert got["ScannedCount"] == 4


def test_scan_in_with_many_values(ddb, filled_hash_table):
    values = [N(i) for i in range(100, 250)] + [N(3)]
    got = ddb.scan(TableName=filled_hash_table, ScanFilter={"n": {"ComparisonOperator": "IN", "AttributeValueList": values}})
    assert _pks(got) == ["3"]


def test_scan_attributes_to_get(ddb, filled_hash_table):
    got = ddb.scan(TableName=filled_hash_table, AttributesToGet=["s"],
                   ScanFilter={"n": {"ComparisonOperator": "LT", "AttributeValueList": [N(2)]}})
    assert got["Items"] == [{"s": S("apple")}]


@pytest.mark.parametrize("request_members,message", [
    pytest.param({"ScanFilter": {"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"NS": ["1"]}]}}},
                 INVALID + "ComparisonOperator GT is not valid for NS AttributeValue type", id="gt-set"),
    pytest.param({"ScanFilter": {"n": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"L": []}]}}},
                 INVALID + "ComparisonOperator CONTAINS is not valid for L AttributeValue type", id="contains-list"),
    pytest.param({"ScanFilter": {"n": {"ComparisonOperator": "EQ", "AttributeValueList": [{"BOOL": True}]}}},
                 INVALID + "ComparisonOperator EQ is not valid for BOOL AttributeValue type", id="eq-bool"),
    pytest.param({"ScanFilter": {"n": {"ComparisonOperator": "NOT_NULL", "AttributeValueList": [N(1)]}}},
                 INVALID + "Invalid number of argument(s) for the NOT_NULL ComparisonOperator", id="not-null-value"),
    pytest.param({"ScanFilter": {"n": {"ComparisonOperator": "LIKE", "AttributeValueList": [N(1)]}}},
                 "1 validation error detected: Value 'LIKE' at 'scanFilter.n.member.comparisonOperator' failed to "
                 "satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, "
                 "GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]", id="bad-operator"),
    pytest.param({"ScanFilter": {"n": {"ComparisonOperator": "NULL"}}, "FilterExpression": "attribute_exists(n)"},
                 "Can not use both expression and non-expression parameters in the same request: "
                 "Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}", id="mixed"),
    pytest.param({"AttributesToGet": ["s"], "Select": "ALL_ATTRIBUTES"},
                 "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES", id="all-attributes"),
    pytest.param({"ScanFilter": {"n": {"ComparisonOperator": "NULL"}}, "ConditionalOperator": "AND"},
                 "ConditionalOperator can only be used when Filter or Expected has two or more elements",
                 id="operator-one-filter"),
])
def test_scan_legacy_errors(ddb_raw, filled_hash_table, request_members, message):
    err = expect_error(ddb_raw.scan, TableName=filled_hash_table, **request_members)
    assert_error(err, "ValidationException", message)


def test_resource_api_with_legacy_members(ddb_resource, filled_hash_table):
    """boto3's resource layer passes the legacy members through unchanged."""
    table = ddb_resource.Table(filled_hash_table)
    table.put_item(Item={"pk": "9", "n": 9}, Expected={"pk": {"Exists": False}})
    got = table.scan(ScanFilter={"n": {"ComparisonOperator": "GE", "AttributeValueList": [9]}})
    assert got["Items"] == [{"pk": "9", "n": 9}]
    got = table.get_item(Key={"pk": "9"}, AttributesToGet=["n"])
    assert got["Item"] == {"n": 9}


def test_legacy_key_conditions_on_an_index(ddb, ddb_raw, gsi_table):
    got = ddb.query(TableName=gsi_table, IndexName="by_tag",
                    KeyConditions={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [S("odd")]},
                                   "n": {"ComparisonOperator": "GT", "AttributeValueList": [N(1)]}})
    assert [item["pk"]["S"] for item in got["Items"]] == ["p3"]
    err = expect_error(ddb_raw.query, TableName=gsi_table, IndexName="by_tag",
                       KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("p1")]}})
    assert_error(err, "ValidationException", "Query condition missed key schema element: tag")
    err = expect_error(ddb_raw.query, TableName=gsi_table, IndexName="by_tag",
                       KeyConditions={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [S("odd")]}},
                       QueryFilter={"n": {"ComparisonOperator": "GT", "AttributeValueList": [N(1)]}})
    assert_error(err, "ValidationException",
                 "QueryFilter can only contain non-primary key attributes: Primary key attribute: n")
