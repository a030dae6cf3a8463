"""Table control plane: CreateTable (validation of every field and the happy
paths), DescribeTable's TableDescription, ListTables pagination, DeleteTable,
UpdateTable (billing mode / throughput) and duplicate CreateTable."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from support import ACCOUNT, REGION, assert_error, expect_error, wait_table_active, wait_table_gone

INVALID = "One or more parameter values were invalid: "


def _hash(name="a"):
    return [{"AttributeName": name, "KeyType": "HASH"}]


def _defs(*pairs):
    return [{"AttributeName": n, "AttributeType": t} for n, t in pairs]


def _uid():
    return uuid.uuid4().hex[:10]


# ---------------------------------------------------------------------------
# CreateTable validation
# ---------------------------------------------------------------------------

# (id, request overrides, expected message). Base request: valid PAY_PER_REQUEST
# table with hash key "a" (S). A value of None removes the member.
# The two length messages are the wording captured from real DynamoDB in the
# reference pack ("... Member must have length greater than or equal to 3");
# dynalite 4 still says "TableName must be at least 3 characters long and at most
# 255 characters long". The 255 case follows the captured 3-character case.
CREATE_TABLE_ERRORS = [
    ("name-too-short", {"TableName": "ab"},
     "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
     "Member must have length greater than or equal to 3"),
    ("name-too-long", {"TableName": "a" * 256},
     "1 validation error detected: Value '" + "a" * 256 + "' at 'tableName' failed to satisfy "
     "constraint: Member must have length less than or equal to 255"),
    ("name-bad-chars", {"TableName": "bad table!@#"},
     "1 validation error detected: Value 'bad table!@#' at 'tableName' failed to satisfy "
     "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
    ("key-schema-missing", {"KeySchema": None},
     "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
     "Member must not be null"),
    ("attribute-definitions-missing", {"AttributeDefinitions": None},
     "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy "
     "constraint: Member must not be null"),
    ("key-type-not-enum", {"KeySchema": [{"AttributeName": "a", "KeyType": "FOO"}]},
     "1 validation error detected: Value 'FOO' at 'keySchema.1.member.keyType' failed to satisfy "
     "constraint: Member must satisfy enum value set: [HASH, RANGE]"),
    ("attribute-type-not-enum", {"AttributeDefinitions": _defs(("a", "X"))},
     "1 validation error detected: Value 'X' at 'attributeDefinitions.1.member.attributeType' "
     "failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"),
    ("billing-mode-not-enum", {"BillingMode": "FOO"},
     "1 validation error detected: Value 'FOO' at 'billingMode' failed to satisfy constraint: "
     "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"),
    ("key-not-in-definitions", {"AttributeDefinitions": _defs(("b", "S"))},
     INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
     "Keys: [a], AttributeDefinitions: [b]"),
    ("more-keys-than-definitions",
     {"KeySchema": _hash("a") + [{"AttributeName": "b", "KeyType": "RANGE"}]},
     "Invalid KeySchema: Some index key attribute have no definition"),
    ("unused-attribute-definition", {"AttributeDefinitions": _defs(("a", "S"), ("b", "S"))},
     INVALID + "Number of attributes in KeySchema does not exactly match number of attributes "
     "defined in AttributeDefinitions"),
    ("hash-and-range-same-name",
     {"KeySchema": _hash("a") + [{"AttributeName": "a", "KeyType": "RANGE"}],
      "AttributeDefinitions": _defs(("a", "S"), ("b", "S"))},
     "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    ("first-key-is-range", {"KeySchema": [{"AttributeName": "a", "KeyType": "RANGE"}]},
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    ("second-key-is-hash",
     {"KeySchema": _hash("a") + [{"AttributeName": "b", "KeyType": "HASH"}],
      "AttributeDefinitions": _defs(("a", "S"), ("b", "S"))},
     "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"),
    ("provisioned-without-throughput", {"BillingMode": None},
     INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode "
     "is PROVISIONED"),
    ("explicit-provisioned-without-throughput", {"BillingMode": "PROVISIONED"},
     INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode "
     "is PROVISIONED"),
    ("pay-per-request-with-throughput",
     {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
     INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
     "BillingMode is PAY_PER_REQUEST"),
    ("read-capacity-zero",
     {"BillingMode": "PROVISIONED",
      "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 1}},
     "1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed "
     "to satisfy constraint: Member must have value greater than or equal to 1"),
    ("write-capacity-zero",
     {"BillingMode": "PROVISIONED",
      "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 0}},
     "1 validation error detected: Value '0' at 'provisionedThroughput.writeCapacityUnits' failed "
     "to satisfy constraint: Member must have value greater than or equal to 1"),
]


def _create_request(overrides):
    req = {
        "TableName": f"e2e-bad-{_uid()}",
        "KeySchema": _hash("a"),
        "AttributeDefinitions": _defs(("a", "S")),
        "BillingMode": "PAY_PER_REQUEST",
    }
    for k, v in overrides.items():
        if v is None:
            req.pop(k, None)
        else:
            req[k] = v
    return req


@pytest.mark.parametrize(
    "overrides,message",
    [pytest.param(o, m, id=i) for i, o, m in CREATE_TABLE_ERRORS],
)
def test_create_table_validation(ddb_raw, overrides, message):
    req = _create_request(overrides)
    err = expect_error(ddb_raw.create_table, **req)
    assert_error(err, "ValidationException", message)
    # Nothing was created.
    assert req["TableName"] not in ddb_raw.list_tables()["TableNames"]


# The list echo in these messages is Java's toString of the request list and has
# changed form between captures, so only the fixed parts are asserted.
@pytest.mark.parametrize(
    "key_schema,suffix",
    [
        pytest.param([], "Member must have length greater than or equal to 1", id="empty"),
        pytest.param(
            _hash("a") + [{"AttributeName": "b", "KeyType": "RANGE"},
                          {"AttributeName": "c", "KeyType": "RANGE"}],
            "Member must have length less than or equal to 2", id="three-elements"),
    ],
)
def test_create_table_key_schema_length(ddb_raw, key_schema, suffix):
    req = _create_request({"KeySchema": key_schema,
                           "AttributeDefinitions": _defs(("a", "S"), ("b", "S"), ("c", "S"))})
    err = expect_error(ddb_raw.create_table, **req)
    assert_error(err, "ValidationException")
    msg = err.response["Error"]["Message"]
    assert msg.startswith("1 validation error detected: Value '")
    assert msg.endswith("' at 'keySchema' failed to satisfy constraint: " + suffix)


@pytest.mark.parametrize(
    "make_name",
    [
        pytest.param(lambda uid: "t" + uid[:2], id="3-chars"),
        pytest.param(lambda uid: "x" * 245 + uid, id="255-chars"),
        pytest.param(lambda uid: f"A.b_c-9{uid}", id="dot-underscore-dash"),
    ],
)
def test_create_table_name_limits_accepted(ddb, table_factory, make_name):
    name = make_name(_uid())
    table_factory(hash_key=("a", "S"), name=name)
    assert ddb.describe_table(TableName=name)["Table"]["TableName"] == name


@pytest.mark.parametrize(
    "hash_key,range_key",
    [
        pytest.param(("h", "S"), None, id="hash-S"),
        pytest.param(("h", "N"), None, id="hash-N"),
        pytest.param(("h", "B"), None, id="hash-B"),
        pytest.param(("h", "S"), ("r", "N"), id="hash-S-range-N"),
        pytest.param(("h", "N"), ("r", "B"), id="hash-N-range-B"),
        pytest.param(("h", "B"), ("r", "S"), id="hash-B-range-S"),
    ],
)
def test_create_table_key_shapes(ddb, table_factory, hash_key, range_key):
    name = table_factory(hash_key=hash_key, range_key=range_key)
    desc = ddb.describe_table(TableName=name)["Table"]
    expected_schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    expected_defs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    if range_key:
        expected_schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        expected_defs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
    assert desc["KeySchema"] == expected_schema
    assert sorted(desc["AttributeDefinitions"], key=lambda d: d["AttributeName"]) == expected_defs


def test_create_table_response_has_description(ddb):
    name = f"e2e-create-resp-{_uid()}"
    resp = ddb.create_table(TableName=name, KeySchema=_hash("a"),
                            AttributeDefinitions=_defs(("a", "S")), BillingMode="PAY_PER_REQUEST")
    try:
        desc = resp["TableDescription"]
        assert desc["TableName"] == name
        assert desc["TableStatus"] in ("CREATING", "ACTIVE")
        assert desc["TableArn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        assert desc["KeySchema"] == _hash("a")
    finally:
        wait_table_active(ddb, name)
        ddb.delete_table(TableName=name)
        wait_table_gone(ddb, name)


# Real DynamoDB: "Table already exists: <name>" (reference pack). dynalite 4 sends an
# empty message and DynamoDB Local "Cannot create preexisting table".
def test_create_table_duplicate(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"))
    err = expect_error(ddb.create_table, TableName=name, KeySchema=_hash("a"),
                       AttributeDefinitions=_defs(("a", "S")), BillingMode="PAY_PER_REQUEST")
    assert_error(err, "ResourceInUseException", f"Table already exists: {name}")


# ---------------------------------------------------------------------------
# DescribeTable
# ---------------------------------------------------------------------------

def test_describe_table_pay_per_request(ddb, table_factory):
    before = dt.datetime.now(dt.timezone.utc)
    name = table_factory(hash_key=("pk", "S"), range_key=("sk", "N"))
    desc = ddb.describe_table(TableName=name)["Table"]
    assert desc["TableName"] == name
    assert desc["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert sorted(desc["AttributeDefinitions"], key=lambda d: d["AttributeName"]) == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ]
    created = desc["CreationDateTime"]
    assert isinstance(created, dt.datetime)
    assert before - dt.timedelta(seconds=60) <= created <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=60)
    assert desc["ItemCount"] == 0
    assert desc["TableSizeBytes"] == 0
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    pt = desc["ProvisionedThroughput"]
    assert pt["ReadCapacityUnits"] == 0
    assert pt["WriteCapacityUnits"] == 0
    assert pt["NumberOfDecreasesToday"] == 0


def test_describe_table_provisioned(ddb, table_factory):
    name = table_factory(hash_key=("pk", "S"), billing="PROVISIONED", throughput=(7, 3))
    desc = ddb.describe_table(TableName=name)["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    pt = desc["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"], pt["NumberOfDecreasesToday"]) == (7, 3, 0)
    # AWS omits BillingModeSummary for tables that were always provisioned;
    # when present it must say PROVISIONED.
    assert desc.get("BillingModeSummary", {"BillingMode": "PROVISIONED"})["BillingMode"] == "PROVISIONED"


def test_describe_missing_table(ddb):
    name = f"e2e-missing-{_uid()}"
    err = expect_error(ddb.describe_table, TableName=name)
    assert_error(err, "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


# ---------------------------------------------------------------------------
# ListTables
# ---------------------------------------------------------------------------

def _all_table_names(ddb, limit):
    names, kwargs = [], {"Limit": limit}
    for _ in range(1000):
        page = ddb.list_tables(**kwargs)
        names += page["TableNames"]
        assert len(page["TableNames"]) <= limit
        if "LastEvaluatedTableName" not in page:
            return names
        assert page["LastEvaluatedTableName"] == page["TableNames"][-1]
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    raise AssertionError("ListTables pagination did not terminate")


def test_list_tables_pagination(ddb, table_factory):
    uid = _uid()
    # Created out of order on purpose: ListTables returns names sorted.
    mine = [table_factory(hash_key=("a", "S"), name=f"e2e-lt-{uid}-{c}") for c in "dbeac"]
    expected_mine = sorted(mine)

    full = ddb.list_tables()["TableNames"]
    assert full == sorted(full)
    assert [n for n in full if f"-lt-{uid}-" in n] == expected_mine

    for limit in (1, 2, 3, 100):
        walked = _all_table_names(ddb, limit)
        assert walked == full, f"Limit={limit}"

    page = ddb.list_tables(ExclusiveStartTableName=expected_mine[1], Limit=2)
    assert page["TableNames"] == expected_mine[2:4]
    assert page["LastEvaluatedTableName"] == expected_mine[3]

    # Start name need not exist: listing starts after where it would sort.
    page = ddb.list_tables(ExclusiveStartTableName=f"e2e-lt-{uid}-b0", Limit=3)
    assert page["TableNames"] == expected_mine[2:5]


def test_list_tables_limit_zero(ddb_raw):
    err = expect_error(ddb_raw.list_tables, Limit=0)
    assert_error(err, "ValidationException",
                 "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
                 "Member must have value greater than or equal to 1")


# ---------------------------------------------------------------------------
# DeleteTable
# ---------------------------------------------------------------------------

def test_delete_table_then_not_found(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"))
    ddb.put_item(TableName=name, Item={"a": {"S": "x"}})
    resp = ddb.delete_table(TableName=name)
    assert resp["TableDescription"]["TableName"] == name
    wait_table_gone(ddb, name)
    assert name not in ddb.list_tables()["TableNames"]
    err = expect_error(ddb.describe_table, TableName=name)
    assert_error(err, "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
    err = expect_error(ddb.get_item, TableName=name, Key={"a": {"S": "x"}})
    assert_error(err, "ResourceNotFoundException", "Requested resource not found")
    err = expect_error(ddb.delete_table, TableName=name)
    assert_error(err, "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


def test_recreated_table_is_empty(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"))
    ddb.put_item(TableName=name, Item={"a": {"S": "x"}})
    ddb.delete_table(TableName=name)
    wait_table_gone(ddb, name)
    table_factory(hash_key=("a", "S"), name=name)
    assert "Item" not in ddb.get_item(TableName=name, Key={"a": {"S": "x"}})
    assert ddb.scan(TableName=name)["Count"] == 0


# ---------------------------------------------------------------------------
# UpdateTable
# ---------------------------------------------------------------------------

def test_update_table_throughput(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"), billing="PROVISIONED", throughput=(5, 5))
    resp = ddb.update_table(TableName=name,
                            ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 7})
    assert resp["TableDescription"]["TableName"] == name
    desc = wait_table_active(ddb, name)
    pt = desc["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (10, 7)


def test_update_table_provisioned_to_pay_per_request(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"), billing="PROVISIONED", throughput=(5, 5))
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    desc = wait_table_active(ddb, name)
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 0


def test_update_table_pay_per_request_to_provisioned(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"))
    ddb.update_table(TableName=name, BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 6})
    desc = wait_table_active(ddb, name)
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    pt = desc["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (4, 6)


def test_update_table_keeps_items(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"), billing="PROVISIONED", throughput=(5, 5))
    ddb.put_item(TableName=name, Item={"a": {"S": "k"}, "v": {"N": "1"}})
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    wait_table_active(ddb, name)
    assert ddb.get_item(TableName=name, Key={"a": {"S": "k"}})["Item"] == {"a": {"S": "k"}, "v": {"N": "1"}}


def test_update_table_throughput_on_pay_per_request(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"))
    err = expect_error(ddb.update_table, TableName=name,
                       ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert_error(err, "ValidationException",
                 INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                 "BillingMode is PAY_PER_REQUEST")


def test_update_table_provisioned_without_throughput(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"))
    err = expect_error(ddb.update_table, TableName=name, BillingMode="PROVISIONED")
    assert_error(err, "ValidationException",
                 INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED")


def test_update_table_same_throughput(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"), billing="PROVISIONED", throughput=(5, 5))
    err = expect_error(ddb.update_table, TableName=name,
                       ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert_error(err, "ValidationException",
                 "The provisioned throughput for the table will not change. The requested value equals "
                 "the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested "
                 "ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested "
                 "WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits "
                 "and how to request higher limits.")


def test_update_table_nothing_to_update(ddb, table_factory):
    name = table_factory(hash_key=("a", "S"))
    err = expect_error(ddb.update_table, TableName=name)
    # The exact wording lists every updatable member and has grown over the
    # years (neither the reference pack nor the docs quote it), so only the
    # error code is asserted.
    assert_error(err, "ValidationException")


def test_update_missing_table(ddb):
    name = f"e2e-missing-{_uid()}"
    err = expect_error(ddb.update_table, TableName=name, BillingMode="PAY_PER_REQUEST")
    assert_error(err, "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
