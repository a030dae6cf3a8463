"""TimeToLive: UpdateTimeToLive / DescribeTimeToLive and their errors, the background sweep
(this module starts its own server with ``--ttl-sweep-interval 0.2``), which items it deletes
and which it keeps, and TTL deletions in the stream as the service's own
(``userIdentity`` Type Service / PrincipalId dynamodb.amazonaws.com in the Streams API).

Sources: the UpdateTimeToLive / DescribeTimeToLive API reference and the TTL developer guide
("items with an expiration time more than five years in the past are not deleted", the TTL
attribute must be a Number in epoch seconds, TTL deletions appear in the stream as service
deletions); messages as DynamoDB returns them (ack-api-quirks' catalogue of live captures:
"TimeToLive is already enabled", "TimeToLive is active on a different AttributeName: current
AttributeName is <ATTR>", "TimeToLive is already disabled"); the record shape in
shared/reference/dynamodb-streams/aws_lambda_events.example-dynamodb-event.json."""

from __future__ import annotations

import time

import pytest

from ddb6_support import (
    AppServer, ArgsServer, attribute_definitions, code_and_message, error_of, key_schema, shard_of, stream_records,
    streams_client, unique, wait_until,
)
from support import make_client, wait_table_active

pytestmark = pytest.mark.stratus_only

SIX_YEARS = 6 * 365 * 24 * 3600


@pytest.fixture(scope="module")
def server():
    server = ArgsServer(["--ttl-sweep-interval", "0.2"])
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(server):
    return make_client(server.endpoint)


@pytest.fixture(scope="module")
def streams(server):
    return streams_client(server.endpoint)


def _table(client, stream: str | None = None) -> str:
    name = unique("ttl")
    kwargs = {}
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    client.create_table(TableName=name, KeySchema=key_schema("pk"), AttributeDefinitions=attribute_definitions(pk="S"),
                        BillingMode="PAY_PER_REQUEST", **kwargs)
    wait_table_active(client, name)
    return name


def _keys(client, table):
    return sorted(i["pk"]["S"] for i in client.scan(TableName=table, ConsistentRead=True)["Items"])


def test_time_to_live_settings_and_errors(client):
    table = _table(client)
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    err = error_of(client.update_time_to_live, TableName=table,
                   TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert code_and_message(err) == ("ValidationException", "TimeToLive is already disabled")
    response = client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    assert response["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    err = error_of(client.update_time_to_live, TableName=table,
                   TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    assert code_and_message(err) == ("ValidationException", "TimeToLive is already enabled")
    err = error_of(client.update_time_to_live, TableName=table,
                   TimeToLiveSpecification={"Enabled": True, "AttributeName": "other"})
    assert code_and_message(err) == (
        "ValidationException", "TimeToLive is active on a different AttributeName: current AttributeName is expires")
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["AttributeName"] == "expires"
    missing = unique("ttl-missing")
    err = error_of(client.describe_time_to_live, TableName=missing)
    assert code_and_message(err)[0] == "ResourceNotFoundException"
    err = error_of(client.update_time_to_live, TableName=missing,
                   TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    assert code_and_message(err)[0] == "ResourceNotFoundException"


def test_sweeper_deletes_expired_items_and_keeps_the_rest(client):
    table = _table(client)
    now = int(time.time())
    # Written before TTL is enabled: enabling must consider existing items too.
    client.put_item(TableName=table, Item={"pk": {"S": "old-expired"}, "expires": {"N": str(now - 60)}})
    client.put_item(TableName=table, Item={"pk": {"S": "old-future"}, "expires": {"N": str(now + 3600)}})
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    kept = {
        "no-attribute": {},
        "string-expiry": {"expires": {"S": str(now - 60)}},
        "set-expiry": {"expires": {"NS": [str(now - 60)]}},
        "future": {"expires": {"N": str(now + 3600)}},
        "far-past": {"expires": {"N": str(now - SIX_YEARS)}},  # more than five years ago: ignored by TTL
        "other-attribute": {"ttl": {"N": str(now - 60)}},
    }
    for pk, extra in kept.items():
        client.put_item(TableName=table, Item={"pk": {"S": pk}, **extra})
    client.put_item(TableName=table, Item={"pk": {"S": "expired"}, "expires": {"N": str(now - 5)}})
    client.put_item(TableName=table, Item={"pk": {"S": "fractional"}, "expires": {"N": f"{now - 30}.75"}})
    client.put_item(TableName=table, Item={"pk": {"S": "moved-to-past"}, "expires": {"N": str(now + 3600)}})
    client.update_item(TableName=table, Key={"pk": {"S": "moved-to-past"}}, UpdateExpression="SET expires = :p",
                       ExpressionAttributeValues={":p": {"N": str(now - 10)}})
    expected = sorted(["old-future", *kept])
    wait_until(lambda: _keys(client, table) == expected, 10, 0.1,
               message=f"only the unexpired items left ({expected})")
    # Stays so: nothing else goes on later sweeps.
    time.sleep(0.6)
    assert _keys(client, table) == expected
    desc = client.describe_table(TableName=table)["Table"]
    assert desc["ItemCount"] == len(expected)


def test_disabled_ttl_deletes_nothing(client):
    table = _table(client)
    now = int(time.time())
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    client.put_item(TableName=table, Item={"pk": {"S": "expired"}, "expires": {"N": str(now - 60)}})
    time.sleep(0.8)
    assert _keys(client, table) == ["expired"]


def test_ttl_deletions_are_service_deletions_in_the_stream(client, streams):
    table = _table(client, stream="NEW_AND_OLD_IMAGES")
    now = int(time.time())
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    expired = {"pk": {"S": "gone"}, "expires": {"N": str(now - 5)}, "note": {"S": "bye"}}
    client.put_item(TableName=table, Item=expired)
    client.put_item(TableName=table, Item={"pk": {"S": "mine"}})
    client.delete_item(TableName=table, Key={"pk": {"S": "mine"}})
    wait_until(lambda: _keys(client, table) == [], 10, 0.1, message="the expired item swept")
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = stream_records(streams, arn)
    # The sweep may run before or after the user's writes: compare per item.
    events = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]
    assert sorted(events) == [("INSERT", "gone"), ("INSERT", "mine"), ("REMOVE", "gone"), ("REMOVE", "mine")]
    assert events.index(("INSERT", "gone")) < events.index(("REMOVE", "gone"))
    assert events.index(("INSERT", "mine")) < events.index(("REMOVE", "mine"))
    by_user = records[events.index(("REMOVE", "mine"))]
    by_ttl = records[events.index(("REMOVE", "gone"))]
    assert "userIdentity" not in by_user
    assert by_ttl["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert by_ttl["dynamodb"]["OldImage"] == expired
    assert "NewImage" not in by_ttl["dynamodb"]
    assert by_ttl["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert set(by_ttl) == {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "userIdentity"}
    assert shard_of(streams, arn)


TTL_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Sessions:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: ttl-template-sessions
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: S}
      KeySchema:
        - {AttributeName: id, KeyType: HASH}
      TimeToLiveSpecification:
        AttributeName: expiresAt
        Enabled: true
"""


@pytest.mark.stratus_only
def test_a_templates_time_to_live_specification_is_applied(tmp_path):
    (tmp_path / "template.yaml").write_text(TTL_TEMPLATE)
    server = AppServer(tmp_path, extra_args=["--ttl-sweep-interval", "0.2"]).start()
    try:
        ddb = make_client(server.endpoint)
        described = ddb.describe_time_to_live(TableName="ttl-template-sessions")["TimeToLiveDescription"]
        assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
        ddb.put_item(TableName="ttl-template-sessions",
                     Item={"id": {"S": "old"}, "expiresAt": {"N": str(int(time.time()) - 10)}})
        ddb.put_item(TableName="ttl-template-sessions",
                     Item={"id": {"S": "new"}, "expiresAt": {"N": str(int(time.time()) + 3600)}})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "Item" in ddb.get_item(
            TableName="ttl-template-sessions", Key={"id": {"S": "old"}}
        ):
            time.sleep(0.1)
        assert "Item" not in ddb.get_item(TableName="ttl-template-sessions", Key={"id": {"S": "old"}})
        assert "Item" in ddb.get_item(TableName="ttl-template-sessions", Key={"id": {"S": "new"}})
    finally:
        server.stop()
