"""Stream triggers and schedules of a template app (tests/e2e/apps/triggers): ``stratus start APP``
runs functions with ``DynamoDB`` events (BatchSize, StartingPosition TRIM_HORIZON, FilterCriteria,
FunctionResponseTypes ReportBatchItemFailures) and ``Schedule`` events (with and without Input,
fired by ``POST /_stratus/schedules/FUNCTION/EVENT`` on the AWS port). Each function appends
what it receives to OUT_DIR/<function>.jsonl.

Sources: the Lambda developer guide for DynamoDB event sources (the event shape, as in
shared/reference/dynamodb-streams/aws_lambda_events.example-dynamodb-event.json, written out in
the test: Records with eventID, eventName, eventVersion, eventSource, awsRegion, dynamodb{...} and
eventSourceARN;
"with ReportBatchItemFailures, Lambda retries from the first failed record"; event filtering
patterns), and the EventBridge scheduled-event shape (version, id, detail-type "Scheduled Event",
source aws.events, account, time, region, resources, detail)."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ddb6_support import ACCOUNT, SEQUENCE_RE, AppServer, read_jsonl, wait_until
from support import make_client

pytestmark = pytest.mark.stratus_only

APP = Path(__file__).resolve().parent / "apps" / "triggers"
TABLE = "triggers-orders"
LAMBDA_RECORD_KEYS = {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"}
# First invocations start Python and import the bootstrap: allow for a slow machine.
DELIVERY_TIMEOUT = 30.0


def _copy_app(destination: Path) -> Path:
    shutil.copytree(APP, destination, ignore=shutil.ignore_patterns(".stratus", "__pycache__"))
    return destination


def _server(app_dir: Path, out_dir: Path, data_dir: Path | None = None) -> AppServer:
    return AppServer(app_dir, data_dir=data_dir, extra_args=[
        "--async-retry-delays", "0.3,0.3", "--parameter-overrides", f"OutDir={out_dir}"])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("triggers")
    out_dir = root / "out"
    out_dir.mkdir()
    server = _server(_copy_app(root / "app"), out_dir)
    try:
        server.start()
        yield server, out_dir
    finally:
        server.stop()


def _records(out_dir: Path, function: str) -> list[tuple[int, dict]]:
    """(invocation number, record) for every record a function received, in order."""
    out = []
    for number, entry in enumerate(read_jsonl(out_dir / f"{function}.jsonl")):
        for record in entry["event"]["Records"]:
            out.append((number, record))
    return out


def _pk(record: dict) -> str:
    return record["dynamodb"]["Keys"]["pk"]["S"]


def _wait_records(out_dir, function, predicate, message):
    return wait_until(lambda: predicate(_records(out_dir, function)), DELIVERY_TIMEOUT, 0.1,
                      message=f"{function}: {message}")


def test_stream_event_shape(app):
    server, out_dir = app
    ddb = make_client(server.endpoint)
    stream_arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    before = int(time.time())
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "shape"}, "kind": {"S": "misc"}, "n": {"N": "1"}})
    ddb.update_item(TableName=TABLE, Key={"pk": {"S": "shape"}}, UpdateExpression="SET n = :two",
                    ExpressionAttributeValues={":two": {"N": "2"}})
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "shape"}})
    got = _wait_records(out_dir, "triggers-record-all",
                        lambda rs: [r for _, r in rs if _pk(r) == "shape"] if
                        len([r for _, r in rs if _pk(r) == "shape"]) >= 3 else None, "three records of 'shape'")
    insert, modify, remove = got[:3]
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    for record in got:
        assert set(record) == LAMBDA_RECORD_KEYS, set(record)
        assert record["eventSourceARN"] == stream_arn
        assert record["eventSource"] == "aws:dynamodb" and record["eventVersion"] == "1.1"
        assert record["awsRegion"] == "us-east-1"
        assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"])
        body = record["dynamodb"]
        assert body["Keys"] == {"pk": {"S": "shape"}}
        assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert SEQUENCE_RE.match(body["SequenceNumber"])
        assert isinstance(body["SizeBytes"], int) and body["SizeBytes"] > 0
        # Lambda events carry whole epoch seconds (the reference sample: 1480642020).
        assert isinstance(body["ApproximateCreationDateTime"], int)
        assert before - 1 <= body["ApproximateCreationDateTime"] <= time.time() + 1
    assert insert["dynamodb"]["NewImage"] == {"pk": {"S": "shape"}, "kind": {"S": "misc"}, "n": {"N": "1"}}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["n"] == {"N": "1"} and modify["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert remove["dynamodb"]["OldImage"]["n"] == {"N": "2"} and "NewImage" not in remove["dynamodb"]
    # The reference event's INSERT record without userIdentity (its members are LAMBDA_RECORD_KEYS)
    # carries these dynamodb members, with ApproximateCreationDateTime an integer (1480642020).
    assert set(insert["dynamodb"]) == {"ApproximateCreationDateTime", "Keys", "NewImage", "SequenceNumber",
                                       "SizeBytes", "StreamViewType"}
    assert type(insert["dynamodb"]["ApproximateCreationDateTime"]) is int


def test_batches_follow_batch_size_and_stream_order(app):
    server, out_dir = app
    ddb = make_client(server.endpoint)
    for start in (0, 25):
        ddb.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": {"pk": {"S": f"batch{n:02}"}, "kind": {"S": "bulk"}}}} for n in range(start, start + 25)]})
    got = _wait_records(out_dir, "triggers-record-all",
                        lambda rs: rs if len({_pk(r) for _, r in rs if _pk(r).startswith("batch")}) == 50 else None,
                        "50 bulk records")
    bulk = [(n, r) for n, r in got if _pk(r).startswith("batch")]
    assert len(bulk) == 50, "each record delivered once"
    per_invocation = {}
    for number, _ in got:
        per_invocation[number] = per_invocation.get(number, 0) + 1
    assert max(per_invocation.values()) <= 10, per_invocation
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for _, r in got]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)


def test_filter_criteria_deliver_only_matching_records(app):
    server, out_dir = app
    ddb = make_client(server.endpoint)
    items = [
        ("f-match", "order", "eu-west-1"),
        ("f-other-region", "order", "us-east-1"),
        ("f-other-kind", "refund", "eu-central-1"),
    ]
    for pk, kind, region in items:
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "kind": {"S": kind}, "region": {"S": region}})
    ddb.update_item(TableName=TABLE, Key={"pk": {"S": "f-match"}}, UpdateExpression="SET note = :n",
                    ExpressionAttributeValues={":n": {"S": "changed"}})
    ddb.update_item(TableName=TABLE, Key={"pk": {"S": "f-other-region"}}, UpdateExpression="SET #r = :r",
                    ExpressionAttributeNames={"#r": "region"}, ExpressionAttributeValues={":r": {"S": "eu-north-1"}})
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "f-match"}})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "f-end"}, "kind": {"S": "order"}, "region": {"S": "eu-south-1"}})
    # Once the last matching record arrives, everything before it was filtered.
    got = _wait_records(out_dir, "triggers-record-filtered",
                        lambda rs: rs if any(_pk(r) == "f-end" for _, r in rs) else None, "the f-end record")
    filtered = [(r["eventName"], _pk(r)) for _, r in got if _pk(r).startswith("f-")]
    assert filtered == [("INSERT", "f-match"), ("MODIFY", "f-match"), ("MODIFY", "f-other-region"), ("INSERT", "f-end")]


def test_report_batch_item_failures_retries_from_the_failed_record(app):
    server, out_dir = app
    ddb = make_client(server.endpoint)
    # One transaction: three records committed together, in this order.
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "r1"}}}},
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "r2"}, "fail": {"BOOL": True}}}},
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "r3"}}}},
    ])

    def settled(entries):
        seen = [(n, _pk(r)) for n, r in entries if _pk(r) in ("r1", "r2", "r3")]
        return seen if [p for _, p in seen].count("r2") >= 2 and seen[-1][1] == "r3" else None

    _wait_records(out_dir, "triggers-partial", settled, "r2 retried and r3 delivered after it")
    time.sleep(0.8)  # a few more polls: nothing else may arrive
    log = read_jsonl(out_dir / "triggers-partial.jsonl")
    deliveries = [(n, _pk(r), r) for n, entry in enumerate(log) for r in entry["event"]["Records"]
                  if _pk(r) in ("r1", "r2", "r3")]
    names = [p for _, p, _ in deliveries]
    assert names.count("r1") == 1, names
    assert names.count("r2") == 2, names
    assert names.count("r3") in (1, 2), names
    first_r2, second_r2 = [(n, r) for n, p, r in deliveries if p == "r2"]
    assert log[first_r2[0]]["failures"] == [{"itemIdentifier": first_r2[1]["dynamodb"]["SequenceNumber"]}]
    assert log[second_r2[0]]["failures"] == []
    # The retry starts at the failed record, and r3 follows it.
    retried = [_pk(r) for r in log[second_r2[0]]["event"]["Records"]]
    assert retried[0] == "r2" and "r1" not in retried
    assert names[-1] == "r3" and names.index("r2") < len(names) - 1


def _http(method: str, url: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_schedules_fire_by_hand_with_their_events(app):
    server, out_dir = app
    status, listing = _http("GET", f"{server.endpoint}/_stratus/schedules")
    assert status == 200
    assert sorted((s["function"], s["event"]) for s in listing["schedules"]) == [
        ("triggers-reporter", "Plain"), ("triggers-reporter", "WithInput")]
    before = time.time()
    status, body = _http("POST", f"{server.endpoint}/_stratus/schedules/triggers-reporter/WithInput")
    assert (status, body.get("fired")) == (202, True), body
    status, body = _http("POST", f"{server.endpoint}/_stratus/schedules/triggers-reporter/Plain")
    assert (status, body.get("fired")) == (202, True), body
    status, _ = _http("POST", f"{server.endpoint}/_stratus/schedules/triggers-reporter/NoSuchEvent")
    assert status == 404
    status, _ = _http("POST", f"{server.endpoint}/_stratus/schedules/no-such-function/Plain")
    assert status == 404
    events = wait_until(lambda: (lambda e: e if len(e) >= 2 else None)(
        [entry["event"] for entry in read_jsonl(out_dir / "triggers-reporter.jsonl")]), DELIVERY_TIMEOUT, 0.1,
        message="both schedules delivered")
    assert len(events) == 2
    with_input = [e for e in events if "report" in e]
    plain = [e for e in events if "detail-type" in e]
    assert with_input == [{"report": "daily", "size": 3}]
    (event,) = plain
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["version"] == "0"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", event["id"])
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["account"] == ACCOUNT
    assert event["region"] == "us-east-1"
    assert event["resources"] == [f"arn:aws:events:us-east-1:{ACCOUNT}:rule/triggers-plain-rule"]
    assert event["detail"] == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    fired_at = datetime.datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert before - 2 <= fired_at.timestamp() <= time.time() + 1


def test_stream_position_survives_a_restart(tmp_path):
    """With --data-dir, a consumer resumes after the last record it processed: nothing twice."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    app_dir = _copy_app(tmp_path / "app")
    data_dir = tmp_path / "data"
    first = _server(app_dir, out_dir, data_dir)
    try:
        first.start()
        ddb = make_client(first.endpoint)
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"before{n}"}}}} for n in range(3)])
        _wait_records(out_dir, "triggers-record-all",
                      lambda rs: rs if len([r for _, r in rs if _pk(r).startswith("before")]) >= 3 else None,
                      "the records written before the restart")
        time.sleep(0.5)  # the checkpoint after the delivery
    finally:
        assert first.stop() == 0
    second = _server(app_dir, out_dir, data_dir)
    try:
        second.start()
        ddb = make_client(second.endpoint)
        assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "before0"}}).get("Item") == {"pk": {"S": "before0"}}
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "after0"}})
        _wait_records(out_dir, "triggers-record-all",
                      lambda rs: rs if any(_pk(r) == "after0" for _, r in rs) else None, "the record written after")
        time.sleep(1.0)  # several polls: a replay would show up now
        records = [r for _, r in _records(out_dir, "triggers-record-all")]
        ids = [r["eventID"] for r in records]
        assert len(ids) == len(set(ids)), "a record was delivered twice"
        assert sorted(_pk(r) for r in records) == ["after0", "before0", "before1", "before2"]
        # The other consumers of the stream resumed too.
        filtered = _records(out_dir, "triggers-partial")
        assert sorted(_pk(r) for _, r in filtered) == ["after0", "before0", "before1", "before2"]
    finally:
        second.stop()
