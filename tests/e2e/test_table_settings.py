"""Table settings: TagResource / UntagResource / ListTagsOfResource (and Tags at CreateTable),
DescribeLimits, DescribeEndpoints and DescribeContinuousBackups / UpdateContinuousBackups.

Sources: the API reference and botocore model of each operation;
shared/reference/dynamodb/error-messages.json (TagResource on a missing table: "Requested
resource not found: ResourcArn: <arn> not found", with DynamoDB's spelling); DescribeLimits'
documented defaults (80,000 RCU/WCU per account, 40,000 per table); DescribeEndpoints answers
with an address clients call back (Stratus: itself) and a cache period of 1440 minutes."""

from __future__ import annotations

import datetime
from urllib.parse import urlparse

import pytest

from ddb6_support import attribute_definitions, code_and_message, error_of, key_schema, tables, unique  # noqa: F401
from support import ACCOUNT, REGION


@pytest.fixture
def table(tables):
    return tables(KeySchema=key_schema("pk"), AttributeDefinitions=attribute_definitions(pk="S"))


def _arn(ddb, name):
    return ddb.describe_table(TableName=name)["Table"]["TableArn"]


def _tags(ddb, arn):
    return sorted((t["Key"], t["Value"]) for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"])


def test_tag_untag_and_list(ddb, table):
    arn = _arn(ddb, table)
    assert arn == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "books"}, {"Key": "env", "Value": "dev"}])
    assert _tags(ddb, arn) == [("env", "dev"), ("team", "books")]
    # A tag given again takes its new value.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "empty", "Value": ""}])
    assert _tags(ddb, arn) == [("empty", ""), ("env", "prod"), ("team", "books")]
    # Untagging a key the table does not have is not an error.
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team", "never-set"])
    assert _tags(ddb, arn) == [("empty", ""), ("env", "prod")]


def test_tags_given_at_create_table(ddb, tables):
    name = tables(KeySchema=key_schema("pk"), AttributeDefinitions=attribute_definitions(pk="S"),
                  Tags=[{"Key": "owner", "Value": "me"}])
    assert _tags(ddb, _arn(ddb, name)) == [("owner", "me")]


def test_tag_operations_on_a_missing_table(ddb):
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{unique('ddb6-missing')}"
    expected = ("ResourceNotFoundException", f"Requested resource not found: ResourcArn: {arn} not found")
    assert code_and_message(error_of(ddb.tag_resource, ResourceArn=arn, Tags=[{"Key": "a", "Value": "b"}])) == expected
    assert code_and_message(error_of(ddb.untag_resource, ResourceArn=arn, TagKeys=["a"])) == expected
    assert code_and_message(error_of(ddb.list_tags_of_resource, ResourceArn=arn)) == expected


def test_describe_limits(ddb):
    limits = ddb.describe_limits()
    assert {k: v for k, v in limits.items() if k != "ResponseMetadata"} == {
        "AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}


def test_describe_endpoints_points_back_at_the_endpoint(ddb, endpoint):
    response = ddb.describe_endpoints()
    assert response["Endpoints"] == [{"Address": urlparse(endpoint).netloc, "CachePeriodInMinutes": 1440}]


def test_continuous_backups(ddb, table):
    described = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert described == {"ContinuousBackupsStatus": "ENABLED",
                         "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    before = datetime.datetime.now(datetime.timezone.utc)
    updated = ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})["ContinuousBackupsDescription"]
    recovery = updated["PointInTimeRecoveryDescription"]
    assert updated["ContinuousBackupsStatus"] == "ENABLED"
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    created = ddb.describe_table(TableName=table)["Table"]["CreationDateTime"]
    assert recovery["EarliestRestorableDateTime"] >= created - datetime.timedelta(seconds=1)
    assert recovery["EarliestRestorableDateTime"] <= recovery["LatestRestorableDateTime"]
    assert recovery["LatestRestorableDateTime"] >= before - datetime.timedelta(seconds=2)
    again = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert again["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ddb.update_continuous_backups(TableName=table,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    assert ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}


def test_continuous_backups_of_a_missing_table(ddb):
    name = unique("ddb6-missing")
    for call, kwargs in ((ddb.describe_continuous_backups, {}),
                         (ddb.update_continuous_backups,
                          {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}})):
        code, message = code_and_message(error_of(call, TableName=name, **kwargs))
        assert code == "TableNotFoundException"
        assert name in message
