"""DynamoDB Streams: StreamSpecification at CreateTable and through UpdateTable, the four view
types, the Streams API through boto3's ``dynamodbstreams`` client (ListStreams with and without
TableName, DescribeStream, GetShardIterator of each type, GetRecords paging and Limit), the
record shape field by field, INSERT/MODIFY/REMOVE, and no record for a write that changes
nothing.

Sources: the DynamoDB Streams API reference and botocore model
(shared/reference/aws-service-models/dynamodbstreams-2012-08-10.service-2.json), the record
samples in shared/reference/dynamodb-streams/ (powertools.dynamoStreamEvent.json gives exact
SizeBytes for an INSERT and a MODIFY; its records are written out in the test, so no file is read
at run time), the UpdateTable reference ("You receive a
ValidationException if you try to enable a stream on a table that already has a stream, or if
you try to disable a stream on a table that doesn't have a stream"), and the Streams developer
guide (a disabled stream stays readable for 24 hours; re-enabling creates a new stream with its
own ARN), and the DeleteTable reference ("the corresponding stream on that table goes into the
DISABLED state, and the stream is automatically deleted after 24 hours")."""

from __future__ import annotations

import datetime
import re
import time

import pytest

from ddb6_support import (
    SEQUENCE_RE, attribute_definitions, code_and_message, error_of, key_schema, shard_of,
    stream_records, streams_client, tables,  # noqa: F401
)

VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
RECORD_KEYS = {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb"}


@pytest.fixture(scope="module")
def streams(endpoint):
    return streams_client(endpoint)


@pytest.fixture(scope="module")
def streams_raw(endpoint):
    return streams_client(endpoint, parameter_validation=False)


def _stream_table(tables, view_type="NEW_AND_OLD_IMAGES", **kwargs):
    kwargs.setdefault("KeySchema", key_schema("pk"))
    kwargs.setdefault("AttributeDefinitions", attribute_definitions(pk="S"))
    return tables(StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type}, **kwargs)


def _arn(ddb, table):
    return ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def _write_lifecycle(ddb, table):
    """INSERT, MODIFY, REMOVE of one item; returns the three images."""
    first = {"pk": {"S": "a"}, "n": {"N": "1"}}
    second = {"pk": {"S": "a"}, "n": {"N": "2"}, "s": {"S": "x"}}
    ddb.put_item(TableName=table, Item=first)
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :two, s = :x",
                    ExpressionAttributeValues={":two": {"N": "2"}, ":x": {"S": "x"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    return first, second


# -- view types and records -------------------------------------------------------------

@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_view_types_carry_the_images_they_name(ddb, streams, tables, view_type):
    table = _stream_table(tables, view_type)
    desc = ddb.describe_table(TableName=table)["Table"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view_type}
    assert desc["LatestStreamArn"] == f"{desc['TableArn']}/stream/{desc['LatestStreamLabel']}"
    first, second = _write_lifecycle(ddb, table)
    records = stream_records(streams, desc["LatestStreamArn"])
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    images = [(r["dynamodb"].get("NewImage"), r["dynamodb"].get("OldImage")) for r in records]
    new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    assert images == [
        (first if new else None, None),
        (second if new else None, first if old else None),
        (None, second if old else None),
    ]
    for record in records:
        assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
        assert record["dynamodb"]["StreamViewType"] == view_type


def test_record_shape_field_by_field(ddb, streams, tables):
    """The powertools sample: an INSERT then a MODIFY of item Id 101; SizeBytes 26 and 59 there."""
    table = _stream_table(tables, KeySchema=key_schema("Id"), AttributeDefinitions=attribute_definitions(Id="N"))
    before = int(time.time())
    ddb.put_item(TableName=table, Item={"Id": {"N": "101"}, "Message": {"S": "New item!"}})
    ddb.put_item(TableName=table, Item={"Id": {"N": "101"}, "Message": {"S": "This item has changed"}})
    after = time.time()
    records = stream_records(streams, _arn(ddb, table))
    assert len(records) == 2
    insert, modify = records
    for record in records:
        assert set(record) == RECORD_KEYS, set(record)
        assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"]), record["eventID"]
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "us-east-1"
        body = record["dynamodb"]
        assert SEQUENCE_RE.match(body["SequenceNumber"]), body["SequenceNumber"]
        assert isinstance(body["ApproximateCreationDateTime"], datetime.datetime)
        assert before - 1 <= body["ApproximateCreationDateTime"].timestamp() <= after + 1
        assert body["Keys"] == {"Id": {"N": "101"}}
        assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert insert["eventID"] != modify["eventID"]
    assert int(insert["dynamodb"]["SequenceNumber"]) < int(modify["dynamodb"]["SequenceNumber"])
    assert insert["eventName"] == "INSERT"
    assert set(insert["dynamodb"]) == {"ApproximateCreationDateTime", "Keys", "NewImage", "SequenceNumber",
                                       "SizeBytes", "StreamViewType"}
    # The powertools sample's two records, member by member (None: the member is absent).
    created, changed = {"Id": {"N": "101"}, "Message": {"S": "New item!"}}, \
        {"Id": {"N": "101"}, "Message": {"S": "This item has changed"}}
    samples = [
        ("INSERT", {"Keys": {"Id": {"N": "101"}}, "NewImage": created, "OldImage": None, "SizeBytes": 26,
                    "StreamViewType": "NEW_AND_OLD_IMAGES"}),
        ("MODIFY", {"Keys": {"Id": {"N": "101"}}, "NewImage": changed, "OldImage": created, "SizeBytes": 59,
                    "StreamViewType": "NEW_AND_OLD_IMAGES"}),
    ]
    for ours, (event_name, members) in zip((insert, modify), samples):
        assert (ours["eventName"], ours["eventSource"]) == (event_name, "aws:dynamodb")
        for member, value in members.items():
            assert ours["dynamodb"].get(member) == value, member


def test_records_use_every_attribute_type(ddb, streams, tables):
    table = _stream_table(tables, "NEW_IMAGE", KeySchema=key_schema("key", "val"),
                          AttributeDefinitions=attribute_definitions(key="S", val="S"))
    item = {
        "key": {"S": "binary"}, "val": {"S": "data"}, "Binary": {"B": b"\x00\x01*A"}, "Boolean": {"BOOL": True},
        "BinarySet": {"BS": [b"\x00\x01*A"]}, "List": {"L": [{"S": "Cookies"}, {"N": "3.14159"}]},
        "Map": {"M": {"Name": {"S": "Joe"}, "Age": {"N": "35"}}}, "NumberSet": {"NS": ["1234", "567.8"]},
        "Null": {"NULL": True}, "StringSet": {"SS": ["Giraffe", "Zebra"]},
    }
    ddb.put_item(TableName=table, Item=item)
    (record,) = stream_records(streams, _arn(ddb, table))
    image = record["dynamodb"]["NewImage"]
    assert {k: v for k, v in image.items() if k not in ("NumberSet", "StringSet")} == {
        k: v for k, v in item.items() if k not in ("NumberSet", "StringSet")}
    assert sorted(image["NumberSet"]["NS"]) == ["1234", "567.8"]
    assert sorted(image["StringSet"]["SS"]) == ["Giraffe", "Zebra"]
    assert record["dynamodb"]["Keys"] == {"key": {"S": "binary"}, "val": {"S": "data"}}


def test_no_record_for_a_write_that_changes_nothing(ddb, streams, tables):
    table = _stream_table(tables)
    item = {"pk": {"S": "same"}, "n": {"N": "1"}}
    ddb.put_item(TableName=table, Item=item)
    ddb.put_item(TableName=table, Item=item)                                   # identical put
    ddb.update_item(TableName=table, Key={"pk": {"S": "same"}}, UpdateExpression="SET n = :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})            # same value
    ddb.update_item(TableName=table, Key={"pk": {"S": "same"}}, UpdateExpression="REMOVE nothere")
    ddb.delete_item(TableName=table, Key={"pk": {"S": "never-written"}})      # nothing to delete
    error_of(ddb.put_item, TableName=table, Item={"pk": {"S": "same"}, "n": {"N": "9"}},
             ConditionExpression="attribute_not_exists(pk)")                   # condition failed
    ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": {"pk": {"S": "ghost"}}}}]})
    ddb.transact_write_items(TransactItems=[{"ConditionCheck": {
        "TableName": table, "Key": {"pk": {"S": "same"}}, "ConditionExpression": "attribute_exists(pk)"}}])
    ddb.update_item(TableName=table, Key={"pk": {"S": "same"}}, UpdateExpression="SET n = :two",
                    ExpressionAttributeValues={":two": {"N": "2"}})
    records = stream_records(streams, _arn(ddb, table))
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["n"]["N"]) for r in records] == [("INSERT", "1"), ("MODIFY", "2")]


def test_batch_and_transaction_writes_are_recorded(ddb, streams, tables):
    table = _stream_table(tables, "KEYS_ONLY")
    ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": f"b{n}"}}}} for n in range(3)]})
    ddb.transact_write_items(TransactItems=[
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "b0"}}}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "b1"}}, "UpdateExpression": "SET x = :x",
                    "ExpressionAttributeValues": {":x": {"S": "1"}}}}])
    records = stream_records(streams, _arn(ddb, table))
    assert sorted((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records) == [
        ("INSERT", "b0"), ("INSERT", "b1"), ("INSERT", "b2"), ("MODIFY", "b1"), ("REMOVE", "b0")]


# -- the Streams API -----------------------------------------------------------------------

def test_list_streams_with_and_without_table_name(ddb, streams, tables):
    first = _stream_table(tables)
    second = _stream_table(tables, "KEYS_ONLY")
    plain = tables(KeySchema=key_schema("pk"), AttributeDefinitions=attribute_definitions(pk="S"))
    everything = streams.list_streams()["Streams"]
    mine = {s["TableName"]: s for s in everything if s["TableName"] in (first, second, plain)}
    assert sorted(mine) == sorted([first, second])
    for table in (first, second):
        desc = ddb.describe_table(TableName=table)["Table"]
        assert mine[table] == {"StreamArn": desc["LatestStreamArn"], "TableName": table,
                               "StreamLabel": desc["LatestStreamLabel"]}
    assert streams.list_streams(TableName=first)["Streams"] == [mine[first]]
    assert streams.list_streams(TableName=plain)["Streams"] == []
    # Paging with Limit and ExclusiveStartStreamArn reaches every stream once.
    # (Deleted tables' streams are listed too, for 24 hours: the shared server has many.)
    seen, start = [], None
    for _ in range(5000):
        page = streams.list_streams(Limit=1, **({"ExclusiveStartStreamArn": start} if start else {}))
        assert len(page["Streams"]) <= 1
        seen.extend(s["StreamArn"] for s in page["Streams"])
        start = page.get("LastEvaluatedStreamArn")
        if not start:
            break
    assert sorted(seen) == sorted(s["StreamArn"] for s in everything)
    assert mine[first]["StreamArn"] in seen and mine[second]["StreamArn"] in seen


def test_describe_stream(ddb, streams, tables):
    table = _stream_table(tables, "NEW_IMAGE", KeySchema=key_schema("pk", "sk"),
                          AttributeDefinitions=attribute_definitions(pk="S", sk="N"))
    desc = ddb.describe_table(TableName=table)["Table"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    stream = streams.describe_stream(StreamArn=desc["LatestStreamArn"])["StreamDescription"]
    assert stream["StreamArn"] == desc["LatestStreamArn"]
    assert stream["StreamLabel"] == desc["LatestStreamLabel"]
    assert stream["StreamStatus"] == "ENABLED"
    assert stream["StreamViewType"] == "NEW_IMAGE"
    assert stream["TableName"] == table
    assert stream["KeySchema"] == key_schema("pk", "sk")
    assert isinstance(stream["CreationRequestDateTime"], datetime.datetime)
    (shard,) = stream["Shards"]
    assert re.fullmatch(r"shardId-[0-9A-Za-z_.-]{20,56}", shard["ShardId"]) and 28 <= len(shard["ShardId"]) <= 65
    assert SEQUENCE_RE.match(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]  # open shard
    err = error_of(streams.describe_stream, StreamArn=desc["LatestStreamArn"][:-3] + "999")
    assert code_and_message(err)[0] == "ResourceNotFoundException"


def test_shard_iterator_types(ddb, streams, tables):
    table = _stream_table(tables, "KEYS_ONLY")
    arn = _arn(ddb, table)
    shard = shard_of(streams, arn)
    for n in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"i{n}"}})
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    everything = stream_records(streams, arn)
    sequences = [r["dynamodb"]["SequenceNumber"] for r in everything]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in everything] == [f"i{n}" for n in range(5)]
    assert sequences == sorted(sequences, key=int) and len(set(sequences)) == 5
    assert [r["dynamodb"]["SequenceNumber"] for r in stream_records(streams, arn, "AT_SEQUENCE_NUMBER", sequences[2])] \
        == sequences[2:]
    assert [r["dynamodb"]["SequenceNumber"] for r in stream_records(streams, arn, "AFTER_SEQUENCE_NUMBER", sequences[2])] \
        == sequences[3:]
    assert stream_records(streams, arn, "AFTER_SEQUENCE_NUMBER", sequences[-1]) == []
    # LATEST: only what is written after the iterator was taken.
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    ddb.put_item(TableName=table, Item={"pk": {"S": "later"}})
    page = streams.get_records(ShardIterator=latest)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["later"]
    # Sequence-number iterators need a sequence number.
    err = error_of(streams.get_shard_iterator, StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert code_and_message(err)[0] == "ValidationException"
    err = error_of(streams.get_shard_iterator, StreamArn=arn, ShardId="shardId-00000000000000000000-00000000",
                   ShardIteratorType="TRIM_HORIZON")
    assert code_and_message(err)[0] == "ResourceNotFoundException"


def test_get_records_paging_and_limit(ddb, streams, tables):
    table = _stream_table(tables, "NEW_IMAGE")
    for n in range(7):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"p{n}"}, "n": {"N": str(n)}})
    arn = _arn(ddb, table)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn),
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    sizes, collected = [], []
    for _ in range(10):
        page = streams.get_records(ShardIterator=iterator, Limit=3)
        sizes.append(len(page["Records"]))
        collected.extend(page["Records"])
        # An open shard always gives the next iterator, even when it has nothing more yet.
        assert page["NextShardIterator"]
        iterator = page["NextShardIterator"]
        if not page["Records"]:
            break
    assert sizes == [3, 3, 1, 0]
    assert collected == stream_records(streams, arn)
    assert [r["dynamodb"]["NewImage"]["n"]["N"] for r in collected] == [str(n) for n in range(7)]
    # The next iterator picks up new records.
    ddb.put_item(TableName=table, Item={"pk": {"S": "p7"}, "n": {"N": "7"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=iterator)["Records"]] == ["p7"]


def test_get_records_errors(streams_raw):
    err = error_of(streams_raw.get_records, ShardIterator="not-an-iterator")
    assert code_and_message(err)[0] == "ValidationException"
    err = error_of(streams_raw.get_records, ShardIterator="x", Limit=1001)
    assert code_and_message(err) == ("ValidationException",
                                     "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: "
                                     "Member must have value less than or equal to 1000")


# -- StreamSpecification through UpdateTable ----------------------------------------------------

def test_update_table_enables_and_disables_the_stream(ddb, streams, tables):
    table = tables(KeySchema=key_schema("pk"), AttributeDefinitions=attribute_definitions(pk="S"))
    desc = ddb.describe_table(TableName=table)["Table"]
    assert "StreamSpecification" not in desc and "LatestStreamArn" not in desc
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    response = ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    described = response["TableDescription"]
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    arn = described["LatestStreamArn"]
    assert arn == f"{described['TableArn']}/stream/{described['LatestStreamLabel']}"
    err = error_of(ddb.update_table, TableName=table,
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert code_and_message(err) == ("ValidationException", f"Table already has an enabled stream: TableName: {table}")
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream_records(streams, arn)] == ["after"]

    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    desc = ddb.describe_table(TableName=table)["Table"]
    assert "StreamSpecification" not in desc
    assert desc["LatestStreamArn"] == arn  # the latest stream is still named
    ddb.put_item(TableName=table, Item={"pk": {"S": "not-recorded"}})
    stream = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert stream["StreamStatus"] == "DISABLED"
    (shard,) = stream["Shards"]
    ending = shard["SequenceNumberRange"]["EndingSequenceNumber"]
    # Still readable; the closed shard ends: no NextShardIterator once read to the end.
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["after"]
    assert page["Records"][-1]["dynamodb"]["SequenceNumber"] == ending
    last = streams.get_records(ShardIterator=page["NextShardIterator"]) if page.get("NextShardIterator") else {"Records": []}
    assert last["Records"] == [] and "NextShardIterator" not in last
    assert streams.list_streams(TableName=table)["Streams"][0]["StreamArn"] == arn


def test_disabling_a_table_without_a_stream_is_refused(ddb, tables):
    table = tables(KeySchema=key_schema("pk"), AttributeDefinitions=attribute_definitions(pk="S"))
    err = error_of(ddb.update_table, TableName=table, StreamSpecification={"StreamEnabled": False})
    # As DynamoDB words it (ack-api-quirks' DynamoDB catalogue of live captures, UpdateTable).
    assert code_and_message(err) == ("ValidationException", f"Table has no stream to disable: TableName: {table}")


def test_reenabling_creates_a_new_stream_and_the_old_one_stays_readable(ddb, streams, tables):
    table = _stream_table(tables, "KEYS_ONLY")
    old_arn = _arn(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "first"}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    time.sleep(0.01)  # a new label (creation time, milliseconds)
    response = ddb.update_table(TableName=table,
                                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    new_arn = response["TableDescription"]["LatestStreamArn"]
    assert new_arn != old_arn
    ddb.put_item(TableName=table, Item={"pk": {"S": "second"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream_records(streams, new_arn)] == ["second"]
    old = streams.describe_stream(StreamArn=old_arn)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    (shard,) = old["Shards"]
    assert SEQUENCE_RE.match(shard["SequenceNumberRange"]["EndingSequenceNumber"])  # closed
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream_records(streams, old_arn)] == ["first"]
    assert streams.describe_stream(StreamArn=new_arn)["StreamDescription"]["StreamStatus"] == "ENABLED"
    # ListStreams names both (AWS keeps a disabled stream for 24 hours).
    assert {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]} == {old_arn, new_arn}


def test_a_deleted_tables_stream_stays_readable_and_disabled(ddb, streams, tables):
    table = _stream_table(tables, "NEW_IMAGE")
    arn = _arn(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "kept"}})
    ddb.delete_table(TableName=table)
    err = error_of(ddb.describe_table, TableName=table)
    assert code_and_message(err)[0] == "ResourceNotFoundException"
    stream = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert stream["StreamStatus"] == "DISABLED"
    assert stream["TableName"] == table
    (shard,) = stream["Shards"]
    assert SEQUENCE_RE.match(shard["SequenceNumberRange"]["EndingSequenceNumber"])  # closed
    records = stream_records(streams, arn)
    assert [(r["eventName"], r["dynamodb"]["NewImage"]) for r in records] == [("INSERT", {"pk": {"S": "kept"}})]
    assert [s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]] == [arn]
    # A table created again under the name gets a stream of its own; the old one is listed first.
    _stream_table(tables, "KEYS_ONLY", TableName=table)
    new_arn = _arn(ddb, table)
    assert new_arn != arn
    assert [s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]] == [arn, new_arn]
