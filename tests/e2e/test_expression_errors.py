"""Validation errors for expressions, with AWS's exact messages: syntax errors,
reserved words, undefined and unused names/values, overlapping paths, updating
a key attribute, ADD used twice, nested SET on a missing parent, empty
expressions, ExpressionAttributeValues/Names without an expression, invalid
placeholder keys and values, redundant parentheses, mixing expression and
legacy parameters, bad enums, and ProjectionExpression errors.

Messages come from /work/shared/reference/dynamodb/error-messages.json unless
a comment says otherwise. Every case also checks that the item was not touched.
"""

from __future__ import annotations

import re

import pytest

from support import assert_error, expect_error

ITEM = {"pk": {"S": "k"}, "sk": {"S": "s"}, "f": {"N": "1"}, "m": {"M": {"a": {"N": "1"}}},
        "data": {"SS": ["x"]}}
KEY = {"pk": {"S": "k"}, "sk": {"S": "s"}}
V = {"N": "1"}

# (id, UpdateExpression, ExpressionAttributeValues, ExpressionAttributeNames, message)
# The three syntax-error messages are the real DynamoDB wording from the reference
# pack; dynalite 4 answers with its own parser's messages ('Expected "ADD", ...').
UPDATE_ERRORS = [
    ("syntax-error", "INVALID SYNTAX HERE", None, None,
     'Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"'),
    ("syntax-space-in-placeholder", "ADD hits : incr", {":incr": V}, None,
     'Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"'),
    ("syntax-bare-hash", "REMOVE a, #, b", None, None,
     'Invalid UpdateExpression: Syntax error; token: "#", near: ", #,"'),
    ("unused-value", "SET f = :v", {":v": V, ":unused": V}, None,
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"),
    ("unused-name", "SET f = :v", {":v": V}, {"#unused": "x"},
     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"),
    ("undefined-value", "SET x = :v", None, None,
     "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
     "attribute value: :v"),
    ("undefined-value-with-others", "SET x = :v, y = :w", {":w": V}, None,
     "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
     "attribute value: :v"),
    ("undefined-name", "SET #upd_my_attribute_name = :v", {":v": V}, None,
     "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; "
     "attribute name: #upd_my_attribute_name"),
    ("reserved-word-case-preserved", "SET abOrt = :v", {":v": V}, None,
     "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: abOrt"),
    ("reserved-word-nested", "SET m.name = :v", {":v": V}, None,
     "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"),
    ("set-hash-key", "SET pk = :v", {":v": {"S": "x"}}, None,
     "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"),
    ("set-range-key", "SET sk = :v", {":v": {"S": "x"}}, None,
     "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"),
    ("remove-hash-key", "REMOVE pk", None, None,
     "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"),
    ("set-key-via-name", "SET #k = :v", {":v": {"S": "x"}}, {"#k": "sk"},
     "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"),
    ("empty-expression", "", None, None,
     "Invalid UpdateExpression: The expression can not be empty;"),
    ("overlapping-paths", "SET f = :a, f = :b", {":a": V, ":b": V}, None,
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of "
     "these paths; path one: [f], path two: [f]"),
    ("overlapping-paths-across-clauses", "SET f = :a REMOVE f", {":a": V}, None,
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of "
     "these paths; path one: [f], path two: [f]"),
    ("overlapping-nested-paths", "SET m.a = :a, m = :b", {":a": V, ":b": {"M": {}}}, None,
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of "
     "these paths; path one: [m, a], path two: [m]"),
    ("add-section-twice", "ADD x :one SET a = :a ADD y :one", {":one": V, ":a": V}, None,
     'Invalid UpdateExpression: The "ADD" section can only be used once in an update expression;'),
    # Message per the reference pack (entry for "SET on a nested path whose parent does
    # not exist"). dynalite answers "The document path provided in the update expression
    # is invalid for update" for these two; if a capture from real DynamoDB shows that
    # wording, update the reference and these two cases together.
    ("nested-set-missing-parent-map", "SET nope.x = :v", {":v": V}, None,
     "The provided expression refers to an attribute that does not exist in the item"),
    ("nested-set-missing-parent-list", "SET nope[1] = :v", {":v": V}, None,
     "The provided expression refers to an attribute that does not exist in the item"),
    ("plus-on-missing-attribute", "SET x = nope + :v", {":v": V}, None,
     "The provided expression refers to an attribute that does not exist in the item"),
]


@pytest.fixture
def table_with_item(ddb, table_factory):
    name = table_factory(range_key=("sk", "S"))
    ddb.put_item(TableName=name, Item=ITEM)
    return name


def _unchanged(ddb, table):
    assert ddb.get_item(TableName=table, Key=KEY, ConsistentRead=True)["Item"] == ITEM


@pytest.mark.parametrize(
    "expr,values,names,message",
    [pytest.param(e, v, n, m, id=i) for i, e, v, n, m in UPDATE_ERRORS],
)
def test_update_expression_errors(ddb_raw, table_with_item, expr, values, names, message):
    kwargs = {"TableName": table_with_item, "Key": KEY, "UpdateExpression": expr}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    err = expect_error(ddb_raw.update_item, **kwargs)
    assert_error(err, "ValidationException", message)
    _unchanged(ddb_raw, table_with_item)


def test_two_unused_values(ddb, table_with_item):
    err = expect_error(ddb.update_item, TableName=table_with_item, Key=KEY, UpdateExpression="SET f = :b",
                       ExpressionAttributeValues={":a": V, ":b": V, ":c": V})
    assert_error(err, "ValidationException")
    assert re.fullmatch(r"Value provided in ExpressionAttributeValues unused in expressions: keys: \{(:c, :a|:a, :c)\}",
                        err.response["Error"]["Message"])


# ---------------------------------------------------------------------------
# ConditionExpression / placeholder validation (PutItem, DeleteItem)
# ---------------------------------------------------------------------------

# (id, extra PutItem parameters, message)
PUT_ERRORS = [
    ("values-without-expression", {"ExpressionAttributeValues": {":v": V}},
     "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"),
    ("names-without-expression", {"ExpressionAttributeNames": {"#n": "f"}},
     "ExpressionAttributeNames can only be specified when using expressions"),
    ("empty-condition", {"ConditionExpression": ""},
     "Invalid ConditionExpression: The expression can not be empty;"),
    ("invalid-value-key", {"ConditionExpression": "f = :v", "ExpressionAttributeValues": {"a": V, ":v": V}},
     'ExpressionAttributeValues contains invalid key: Syntax error; key: "a"'),
    ("invalid-name-key", {"ConditionExpression": "#n = :v", "ExpressionAttributeNames": {"a": "f", "#n": "f"},
                          "ExpressionAttributeValues": {":v": V}},
     'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
    ("redundant-parentheses", {"ConditionExpression": "((attribute_not_exists(pk)))"},
     "Invalid ConditionExpression: The expression has redundant parentheses;"),
    # The capture used an attribute called "data"; DATA is also a reserved word, so a
    # non-reserved name is used here to keep the check order out of the picture.
    ("contains-same-operands", {"ConditionExpression": "contains(f, f)"},
     "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this "
     "operator or function; operator: contains, first operand: [f]"),
    ("undefined-function", {"ConditionExpression": "whatever(f)"},
     "Invalid ConditionExpression: Invalid function name; function: whatever"),
    ("reserved-word", {"ConditionExpression": "attribute_exists(name)"},
     "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"),
    ("undefined-value", {"ConditionExpression": "f = :nope"},
     "Invalid ConditionExpression: An expression attribute value used in expression is not defined; "
     "attribute value: :nope"),
    ("undefined-name", {"ConditionExpression": "attribute_exists(#nope)"},
     "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
     "attribute name: #nope"),
    ("unused-value", {"ConditionExpression": "attribute_exists(f)", "ExpressionAttributeValues": {":unused": V}},
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"),
    ("expected-and-condition", {"ConditionExpression": "attribute_exists(f)",
                                "Expected": {"f": {"Exists": True, "Value": V}}},
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"),
    ("return-values-not-allowed", {"ReturnValues": "UPDATED_NEW"}, "ReturnValues can only be ALL_OLD or NONE"),
]


@pytest.mark.parametrize("extra,message", [pytest.param(x, m, id=i) for i, x, m in PUT_ERRORS])
def test_put_item_expression_errors(ddb_raw, table_with_item, extra, message):
    new_item = dict(ITEM, f={"N": "2"})
    err = expect_error(ddb_raw.put_item, TableName=table_with_item, Item=new_item, **extra)
    assert_error(err, "ValidationException", message)
    _unchanged(ddb_raw, table_with_item)


@pytest.mark.parametrize(
    "extra,message",
    [
        pytest.param({"ConditionExpression": "attribute_exists(f)", "ExpressionAttributeValues": {}},
                     "ExpressionAttributeValues must not be empty", id="empty-values-map"),
        pytest.param({"ConditionExpression": "attribute_exists(f)", "ExpressionAttributeNames": {}},
                     "ExpressionAttributeNames must not be empty", id="empty-names-map"),
        pytest.param({"ConditionExpression": "contains(data, :b)", "ExpressionAttributeValues": {":b": {"SS": []}}},
                     "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: "
                     "An string set  may not be empty for key :b", id="invalid-value"),
    ],
)
def test_delete_item_expression_errors(ddb_raw, table_with_item, extra, message):
    err = expect_error(ddb_raw.delete_item, TableName=table_with_item, Key=KEY, **extra)
    assert_error(err, "ValidationException", message)
    _unchanged(ddb_raw, table_with_item)


def test_update_values_without_any_expression(ddb_raw, table_with_item):
    # Wording by analogy with the PutItem/Query captures (dynalite agrees).
    err = expect_error(ddb_raw.update_item, TableName=table_with_item, Key=KEY,
                       ExpressionAttributeValues={":v": V})
    assert_error(err, "ValidationException",
                 "ExpressionAttributeValues can only be specified when using expressions: "
                 "UpdateExpression and ConditionExpression are null")


def test_attribute_updates_and_update_expression(ddb_raw, table_with_item):
    err = expect_error(ddb_raw.update_item, TableName=table_with_item, Key=KEY, UpdateExpression="SET f = :v",
                       ExpressionAttributeValues={":v": V},
                       AttributeUpdates={"g": {"Action": "PUT", "Value": V}})
    assert_error(err, "ValidationException",
                 "Can not use both expression and non-expression parameters in the same request: "
                 "Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}")


def test_three_bad_enums(ddb_raw, table_with_item):
    err = expect_error(ddb_raw.put_item, TableName=table_with_item, Item=ITEM, ReturnValues="INVALID",
                       ReturnConsumedCapacity="INVALID", ReturnItemCollectionMetrics="INVALID")
    assert_error(err, "ValidationException")
    msg = err.response["Error"]["Message"]
    prefix = "3 validation errors detected: "
    assert msg.startswith(prefix)
    # The order of the individual errors is not stable.
    assert set(msg[len(prefix):].split("; ")) == {
        "Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: "
        "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
        "Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum "
        "value set: [INDEXES, TOTAL, NONE]",
        "Value 'INVALID' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy "
        "enum value set: [SIZE, NONE]",
    }


@pytest.mark.parametrize(
    "table_name,message",
    [
        pytest.param(None, "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
                           "Member must not be null", id="missing"),
        pytest.param("", "1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: "
                         "Member must have length greater than or equal to 1", id="empty"),
        pytest.param("bad table!@#", "1 validation error detected: Value 'bad table!@#' at 'tableName' failed to "
                     "satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
                     id="bad-chars"),
    ],
)
# The '' case is the 2026 us-east-1 capture (TableName now accepts ARNs, min length 1);
# dynalite 4 reports the old 3..255 constraints.
def test_put_item_table_name_validation(ddb_raw, table_name, message):
    kwargs = {"Item": ITEM}
    if table_name is not None:
        kwargs["TableName"] = table_name
    err = expect_error(ddb_raw.put_item, **kwargs)
    assert_error(err, "ValidationException", message)


# ---------------------------------------------------------------------------
# ProjectionExpression (GetItem)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "projection,names,message",
    [
        pytest.param("f, name", None, "Invalid ProjectionExpression: Attribute name is a reserved keyword; "
                                      "reserved keyword: name", id="reserved-word"),
        pytest.param("#a", None, "Invalid ProjectionExpression: An expression attribute name used in the "
                                 "document path is not defined; attribute name: #a", id="undefined-name"),
        pytest.param("f", {"#a": "a", "#b": "b"},
                     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}",
                     id="unused-names"),
        pytest.param("a.b, a", None, "Invalid ProjectionExpression: Two document paths overlap with each other; "
                                     "must remove or rewrite one of these paths; path one: [a, b], path two: [a]",
                     id="overlap"),
        pytest.param("", None, "Invalid ProjectionExpression: The expression can not be empty;", id="empty"),
    ],
)
def test_projection_errors(ddb_raw, table_with_item, projection, names, message):
    kwargs = {"TableName": table_with_item, "Key": KEY, "ProjectionExpression": projection}
    if names:
        kwargs["ExpressionAttributeNames"] = names
    err = expect_error(ddb_raw.get_item, **kwargs)
    assert_error(err, "ValidationException", message)


def test_projection_syntax_error(ddb, table_with_item):
    err = expect_error(ddb.get_item, TableName=table_with_item, Key=KEY, ProjectionExpression="f,, m")
    assert_error(err, "ValidationException")
    assert err.response["Error"]["Message"].startswith("Invalid ProjectionExpression: Syntax error; ")


def test_get_item_names_without_projection(ddb, table_with_item):
    err = expect_error(ddb.get_item, TableName=table_with_item, Key=KEY, ExpressionAttributeNames={"#f": "f"})
    assert_error(err, "ValidationException", "ExpressionAttributeNames can only be specified when using expressions")
