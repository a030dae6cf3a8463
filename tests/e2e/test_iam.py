"""IAM end to end: SigV4 verification of every AWS-endpoint request, function credentials and
their roles' policies, enforcement, audit mode and the least-privilege report.

The app (``apps/iam``) has one handler for every function; each function's role differs. Tests
invoke a function with an event naming an AWS call; the function makes it with its own minted
credentials (through boto3, as unchanged code would) and returns the result or the exact error.
Requests signed "as the function" use the credentials the function reports from its environment.
Every denial asserts AWS's error type, HTTP status and full message.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from lambda_support import LambdaServer, copy_app
from support import REGION, stratus_bin

pytestmark = pytest.mark.stratus_only

ACCOUNT = "000000000000"
BOOKS = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/iam-books"
ORDERS = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/iam-orders"
NOTES = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/iam-notes"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)
NO_CONFIG = Config(retries={"max_attempts": 1}, read_timeout=60)


def session_arn(logical_id: str, function: str) -> str:
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{logical_id}Role/{function}"


def implicit(principal: str, action: str, resource: str) -> str:
    return (
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )


def explicit(principal: str, action: str, resource: str) -> str:
    return (
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
        "with an explicit deny in an identity-based policy"
    )


def client(server, service: str, key: str = "test", secret: str = "test", token: str | None = None):
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=NO_CONFIG,
    )


def error_of(call) -> dict:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    response = raised.value.response
    return {
        "code": response["Error"]["Code"],
        "message": response["Error"]["Message"],
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory):
    return copy_app("iam", tmp_path_factory.mktemp("iam") / "app")


@pytest.fixture(scope="module")
def server(app_dir):
    running = LambdaServer(app_dir, extra_args=["--iam", "enforce"]).start()
    yield running
    running.stop()


def run(server, function: str, op: str, service: str = "dynamodb", **args) -> dict:
    """Invokes ``function`` (as the administrator) to make one AWS call with its own role."""
    response = client(server, "lambda").invoke(
        FunctionName=function, Payload=json.dumps({"service": service, "op": op, "args": args})
    )
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload


def denied(server, function: str, op: str, service: str = "dynamodb", **args) -> dict:
    outcome = run(server, function, op, service, **args)
    assert outcome["ok"] is False, outcome
    return outcome


def allowed(server, function: str, op: str, service: str = "dynamodb", **args) -> dict:
    outcome = run(server, function, op, service, **args)
    assert outcome["ok"] is True, outcome
    return outcome["result"]


# -- authentication --------------------------------------------------------------------------


def signed(server, target: str, body: bytes, key="test", secret="test", when=None, token=None):
    """A DynamoDB request signed by botocore at ``when`` (default now): (url, headers, body)."""
    request = AWSRequest(
        method="POST",
        url=server.endpoint + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
    )
    signer = SigV4Auth(Credentials(key, secret, token), "dynamodb", REGION)
    if when is None:
        signer.add_auth(request)
    else:
        # botocore reads the time from datetime.datetime.utcnow() (or now(timezone.utc)).
        import botocore.auth as auth_module

        real = auth_module.datetime.datetime

        class Frozen(real):
            @classmethod
            def utcnow(cls):
                return when.replace(tzinfo=None)

            @classmethod
            def now(cls, tz=None):
                return when if tz else when.replace(tzinfo=None)

        auth_module.datetime.datetime = Frozen
        try:
            signer.add_auth(request)
        finally:
            auth_module.datetime.datetime = real
    return request.url, dict(request.headers.items()), body


def send(url, headers, body) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


LIST = "DynamoDB_20120810.ListTables"


def amz(when: datetime.datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


def test_the_administrator_key_is_accepted_and_a_signed_request_verifies(server):
    status, body = send(*signed(server, LIST, b"{}"))
    assert status == 200
    assert set(body["TableNames"]) >= {"iam-books", "iam-orders", "iam-notes"}


@pytest.mark.parametrize(
    "case, expected_type, expected_message",
    [
        ("tampered body", "InvalidSignatureException", MISMATCH),
        ("wrong secret", "InvalidSignatureException", MISMATCH),
        ("unknown key", "UnrecognizedClientException", "The security token included in the request is invalid."),
        ("no signature", "MissingAuthenticationTokenException", "Request is missing Authentication Token"),
    ],
)
def test_authentication_failures_get_awss_errors(server, case, expected_type, expected_message):
    if case == "tampered body":
        url, headers, _ = signed(server, LIST, b'{"Limit": 1}')
        body = b'{"Limit": 2}'
    elif case == "wrong secret":
        url, headers, body = signed(server, LIST, b"{}", secret="not-the-secret")
    elif case == "unknown key":
        url, headers, body = signed(server, LIST, b"{}", key="AKIAUNKNOWNKEY000000")
    else:
        url, headers, body = signed(server, LIST, b"{}")
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    status, reply = send(url, headers, body)
    assert status == 400
    assert reply["__type"] == f"com.amazon.coral.service#{expected_type}"
    assert reply["message"].startswith(expected_message), reply["message"]
    if expected_type == "InvalidSignatureException":
        # AWS shows what it computed: the canonical request of the bytes that arrived.
        assert "The Canonical String for this request should have been" in reply["message"]
        assert "The String-to-Sign should have been" in reply["message"]


def test_boto3_with_a_wrong_secret_or_unknown_key_is_refused(server):
    wrong = error_of(lambda: client(server, "dynamodb", secret="nope").list_tables())
    assert wrong["code"] == "InvalidSignatureException"
    assert wrong["message"].startswith(MISMATCH)
    unknown = error_of(lambda: client(server, "dynamodb", key="AKIDNOBODY").list_tables())
    assert unknown == {
        "code": "UnrecognizedClientException",
        "message": "The security token included in the request is invalid.",
        "status": 400,
    }


def test_a_request_signed_more_than_15_minutes_ago_is_expired(server):
    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=20)
    status, reply = send(*signed(server, LIST, b"{}", when=when))
    assert status == 400
    assert reply["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    match = re.fullmatch(
        r"Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) - 15 min\.\)",
        reply["message"],
    )
    assert match, reply["message"]
    assert match.group(1) == amz(when)
    earliest = datetime.datetime.strptime(match.group(2), "%Y%m%dT%H%M%SZ")
    now = datetime.datetime.strptime(match.group(3), "%Y%m%dT%H%M%SZ")
    assert now - earliest == datetime.timedelta(minutes=15)
    assert abs((now - when.replace(tzinfo=None)) - datetime.timedelta(minutes=20)) < datetime.timedelta(seconds=30)


def test_a_request_signed_in_the_future_is_not_yet_current(server):
    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(minutes=30)
    status, reply = send(*signed(server, LIST, b"{}", when=when))
    assert status == 400
    assert reply["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert re.fullmatch(
        rf"Signature not yet current: {amz(when)} is still later than \d{{8}}T\d{{6}}Z \(\d{{8}}T\d{{6}}Z \+ 15 min\.\)",
        reply["message"],
    ), reply["message"]


def test_a_captured_request_replayed_after_15_minutes_is_refused(server, app_dir, tmp_path):
    captured = signed(server, LIST, b"{}")
    assert send(*captured)[0] == 200
    assert send(*captured)[0] == 200  # within the window a replay is indistinguishable, as on AWS
    # The same bytes 16 minutes later: a server whose clock runs 16 minutes ahead.
    later = LambdaServer(
        copy_app("iam", tmp_path / "later"),
        extra_args=["--iam", "enforce"],
        env={**os.environ, "STRATUS_CLOCK_OFFSET_SECONDS": "960"},
    ).start()
    try:
        url = captured[0].replace(server.endpoint, later.endpoint)
        headers = dict(captured[1])
        status, reply = send(url, headers, captured[2])
        # The host header is signed: the replay keeps it, so only the time can fail it.
        assert status == 400
        assert reply["__type"] == "com.amazon.coral.service#InvalidSignatureException"
        assert reply["message"].startswith(f"Signature expired: {headers['X-Amz-Date']} is now earlier than ")
    finally:
        later.stop()


def test_function_credentials_need_their_own_session_token(server):
    creds = run(server, "iam-reader", "credentials")
    assert creds["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    reader = client(server, "dynamodb", creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], creds["AWS_SESSION_TOKEN"])
    assert reader.get_item(TableName="iam-books", Key={"id": {"S": "none"}}).get("Item") is None
    wrong_token = client(server, "dynamodb", creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], "not-the-token")
    assert error_of(lambda: wrong_token.get_item(TableName="iam-books", Key={"id": {"S": "x"}})) == {
        "code": "UnrecognizedClientException",
        "message": "The security token included in the request is invalid.",
        "status": 400,
    }
    no_token = client(server, "dynamodb", creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"])
    assert error_of(lambda: no_token.list_tables())["code"] == "UnrecognizedClientException"


def test_lambda_and_sts_refuse_bad_signatures_in_their_own_protocols(server):
    failure = error_of(lambda: client(server, "lambda", secret="nope").list_functions())
    assert failure["code"] == "InvalidSignatureException"
    assert failure["status"] == 403
    assert failure["message"].startswith(MISMATCH)
    failure = error_of(lambda: client(server, "sts", key="AKIDNOBODY").get_caller_identity())
    assert failure == {
        "code": "InvalidClientTokenId",
        "message": "The security token included in the request is invalid.",
        "status": 403,
    }
    failure = error_of(lambda: client(server, "sts", secret="nope").get_caller_identity())
    assert failure["code"] == "SignatureDoesNotMatch"
    assert failure["status"] == 403


# -- principals ------------------------------------------------------------------------------


def test_get_caller_identity_for_the_administrator_and_for_a_function(server):
    admin = client(server, "sts").get_caller_identity()
    assert (admin["Account"], admin["Arn"], admin["UserId"]) == (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)
    me = allowed(server, "iam-reader", "get_caller_identity", service="sts")
    assert me["Account"] == ACCOUNT
    assert me["Arn"] == session_arn("Reader", "iam-reader")
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:iam-reader", me["UserId"]), me["UserId"]


# -- policies --------------------------------------------------------------------------------


def test_a_read_only_policy_allows_reads_and_refuses_put_item(server):
    client(server, "dynamodb").put_item(TableName="iam-books", Item={"id": {"S": "b1"}, "author": {"S": "ann"}})
    item = allowed(server, "iam-reader", "get_item", TableName="iam-books", Key={"id": {"S": "b1"}})
    assert item["Item"]["author"] == {"S": "ann"}
    allowed(server, "iam-reader", "query", TableName="iam-books", IndexName="byAuthor",
            KeyConditionExpression="author = :a", ExpressionAttributeValues={":a": {"S": "ann"}})
    outcome = denied(server, "iam-reader", "put_item", TableName="iam-books", Item={"id": {"S": "b2"}})
    assert outcome == {
        "ok": False,
        "code": "AccessDeniedException",
        "message": implicit(session_arn("Reader", "iam-reader"), "dynamodb:PutItem", BOOKS),
        "status": 400,
    }
    # Nothing was written.
    assert "Item" not in client(server, "dynamodb").get_item(TableName="iam-books", Key={"id": {"S": "b2"}})


@pytest.mark.parametrize(
    "op, args, action",
    [
        ("batch_write_item", {"RequestItems": {"iam-books": [{"PutRequest": {"Item": {"id": {"S": "x"}}}}]}}, "dynamodb:BatchWriteItem"),
        ("delete_item", {"TableName": "iam-books", "Key": {"id": {"S": "b1"}}}, "dynamodb:DeleteItem"),
        ("update_item", {"TableName": "iam-books", "Key": {"id": {"S": "b1"}}, "UpdateExpression": "SET n = :n",
                         "ExpressionAttributeValues": {":n": {"N": "1"}}}, "dynamodb:UpdateItem"),
        ("transact_write_items", {"TransactItems": [{"Put": {"TableName": "iam-books", "Item": {"id": {"S": "t"}}}}]}, "dynamodb:PutItem"),
        ("delete_table", {"TableName": "iam-books"}, "dynamodb:DeleteTable"),
        ("execute_statement", {"Statement": "INSERT INTO \"iam-books\" VALUE {'id': 'p'}"}, "dynamodb:PartiQLInsert"),
    ],
)
def test_writes_through_every_api_need_their_own_permission(server, op, args, action):
    outcome = denied(server, "iam-reader", op, **args)
    assert outcome["code"] == "AccessDeniedException"
    assert outcome["message"] == implicit(session_arn("Reader", "iam-reader"), action, BOOKS)


def test_function_a_cannot_write_function_bs_table(server):
    allowed(server, "iam-orders-writer", "put_item", TableName="iam-orders", Item={"id": {"S": "o1"}})
    outcome = denied(server, "iam-orders-writer", "put_item", TableName="iam-books", Item={"id": {"S": "o1"}})
    assert outcome["message"] == implicit(session_arn("OrdersWriter", "iam-orders-writer"), "dynamodb:PutItem", BOOKS)
    # A transaction touching both tables is refused as a whole, on the table it may not write.
    outcome = denied(server, "iam-orders-writer", "transact_write_items", TransactItems=[
        {"Put": {"TableName": "iam-orders", "Item": {"id": {"S": "o2"}}}},
        {"Put": {"TableName": "iam-books", "Item": {"id": {"S": "o2"}}}},
    ])
    assert outcome["message"] == implicit(session_arn("OrdersWriter", "iam-orders-writer"), "dynamodb:PutItem", BOOKS)
    assert "Item" not in client(server, "dynamodb").get_item(TableName="iam-orders", Key={"id": {"S": "o2"}})


def test_an_explicit_deny_overrides_an_allow(server):
    allowed(server, "iam-no-delete", "put_item", TableName="iam-books", Item={"id": {"S": "d1"}})
    outcome = denied(server, "iam-no-delete", "delete_item", TableName="iam-books", Key={"id": {"S": "d1"}})
    assert outcome["message"] == explicit(session_arn("NoDelete", "iam-no-delete"), "dynamodb:DeleteItem", BOOKS)
    assert "Item" in client(server, "dynamodb").get_item(TableName="iam-books", Key={"id": {"S": "d1"}})


def test_index_scoped_grants_allow_the_index_and_not_the_table(server):
    client(server, "dynamodb").put_item(TableName="iam-books", Item={"id": {"S": "i1"}, "author": {"S": "ivy"}})
    found = allowed(server, "iam-index-only", "query", TableName="iam-books", IndexName="byAuthor",
                    KeyConditionExpression="author = :a", ExpressionAttributeValues={":a": {"S": "ivy"}})
    assert [item["id"]["S"] for item in found["Items"]] == ["i1"]
    principal = session_arn("IndexOnly", "iam-index-only")
    outcome = denied(server, "iam-index-only", "query", TableName="iam-books",
                     KeyConditionExpression="id = :i", ExpressionAttributeValues={":i": {"S": "i1"}})
    assert outcome["message"] == implicit(principal, "dynamodb:Query", BOOKS)
    outcome = denied(server, "iam-index-only", "scan", TableName="iam-books", IndexName="byAuthor")
    assert outcome["message"] == implicit(principal, "dynamodb:Scan", f"{BOOKS}/index/byAuthor")


def test_not_action_allows_everything_but_the_listed_actions(server):
    allowed(server, "iam-all-but-delete", "put_item", TableName="iam-books", Item={"id": {"S": "n1"}})
    allowed(server, "iam-all-but-delete", "get_item", TableName="iam-books", Key={"id": {"S": "n1"}})
    allowed(server, "iam-all-but-delete", "describe_table", TableName="iam-books")
    outcome = denied(server, "iam-all-but-delete", "delete_item", TableName="iam-books", Key={"id": {"S": "n1"}})
    assert outcome["message"] == implicit(session_arn("AllButDelete", "iam-all-but-delete"), "dynamodb:DeleteItem", BOOKS)
    # NotAction does not reach other resources.
    outcome = denied(server, "iam-all-but-delete", "get_item", TableName="iam-orders", Key={"id": {"S": "o1"}})
    assert outcome["message"] == implicit(session_arn("AllButDelete", "iam-all-but-delete"), "dynamodb:GetItem", ORDERS)


def test_leading_keys_with_a_policy_variable_limit_a_function_to_its_own_partition(server):
    me = allowed(server, "iam-own-notes", "get_caller_identity", service="sts")["UserId"]
    principal = session_arn("OwnNotes", "iam-own-notes")
    allowed(server, "iam-own-notes", "put_item", TableName="iam-notes",
            Item={"owner": {"S": me}, "note": {"S": "n1"}, "text": {"S": "mine"}})
    got = allowed(server, "iam-own-notes", "get_item", TableName="iam-notes", Key={"owner": {"S": me}, "note": {"S": "n1"}})
    assert got["Item"]["text"] == {"S": "mine"}
    mine = allowed(server, "iam-own-notes", "query", TableName="iam-notes", KeyConditionExpression="#o = :o",
                   ExpressionAttributeNames={"#o": "owner"}, ExpressionAttributeValues={":o": {"S": me}})
    assert mine["Count"] == 1
    for op, args in [
        ("put_item", {"TableName": "iam-notes", "Item": {"owner": {"S": "someone-else"}, "note": {"S": "n"}}}),
        ("get_item", {"TableName": "iam-notes", "Key": {"owner": {"S": "someone-else"}, "note": {"S": "n"}}}),
        ("query", {"TableName": "iam-notes", "KeyConditionExpression": "#o = :o", "ExpressionAttributeNames": {"#o": "owner"},
                   "ExpressionAttributeValues": {":o": {"S": "someone-else"}}}),
    ]:
        action = {"put_item": "dynamodb:PutItem", "get_item": "dynamodb:GetItem", "query": "dynamodb:Query"}[op]
        outcome = denied(server, "iam-own-notes", op, **args)
        assert outcome["message"] == implicit(principal, action, NOTES), op


def test_lambda_invoke_needs_lambda_invoke_function_on_the_target(server):
    result = allowed(server, "iam-invoker", "invoke", service="lambda", FunctionName="iam-reader",
                     Payload=json.dumps({"op": "list_tables"}))
    assert result["StatusCode"] == 200
    # The reader's own role then decides what it may do: it may list tables? No statement allows it.
    assert result["Payload"]["code"] == "AccessDeniedException"
    assert result["Payload"]["message"] == implicit(session_arn("Reader", "iam-reader"), "dynamodb:ListTables", "*")
    outcome = denied(server, "iam-invoker", "invoke", service="lambda", FunctionName="iam-broad", Payload="{}")
    assert outcome == {
        "ok": False,
        "code": "AccessDeniedException",
        "message": implicit(session_arn("Invoker", "iam-invoker"), "lambda:InvokeFunction",
                            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:iam-broad"),
        "status": 403,
    }


def test_requests_signed_as_the_function_get_the_same_decisions(server):
    creds = run(server, "iam-reader", "credentials")
    reader = client(server, "dynamodb", creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], creds["AWS_SESSION_TOKEN"])
    failure = error_of(lambda: reader.put_item(TableName="iam-books", Item={"id": {"S": "direct"}}))
    assert failure == {
        "code": "AccessDeniedException",
        "message": implicit(session_arn("Reader", "iam-reader"), "dynamodb:PutItem", BOOKS),
        "status": 400,
    }


# -- audit mode and off ----------------------------------------------------------------------


def test_audit_mode_logs_what_it_would_refuse_and_refuses_nothing(tmp_path):
    audited = LambdaServer(copy_app("iam", tmp_path / "audit"), extra_args=["--iam", "audit"]).start()
    try:
        assert allowed(audited, "iam-reader", "put_item", TableName="iam-books", Item={"id": {"S": "a1"}}) == {}
        assert "Item" in client(audited, "dynamodb").get_item(TableName="iam-books", Key={"id": {"S": "a1"}})
        expected = "[iam] IAM audit: would refuse AccessDeniedException: " + implicit(
            session_arn("Reader", "iam-reader"), "dynamodb:PutItem", BOOKS
        )
        audited.wait_output(lambda lines: any(expected in line for line in lines), timeout=10)
        # Signatures are still verified.
        assert error_of(lambda: client(audited, "dynamodb", secret="nope").list_tables())["code"] == "InvalidSignatureException"
    finally:
        audited.stop()


def test_iam_off_checks_only_the_shape_of_the_signature(tmp_path):
    off = LambdaServer(copy_app("iam", tmp_path / "off"), extra_args=["--iam", "off"]).start()
    try:
        assert "TableNames" in client(off, "dynamodb", key="anyone", secret="anything").list_tables()
        assert allowed(off, "iam-reader", "put_item", TableName="iam-books", Item={"id": {"S": "o"}}) == {}
        url, headers, body = signed(off, LIST, b"{}")
        assert send(url, {k: v for k, v in headers.items() if k.lower() != "authorization"}, body)[1]["__type"] == (
            "com.amazon.coral.service#MissingAuthenticationTokenException"
        )
    finally:
        off.stop()


# -- the least-privilege report --------------------------------------------------------------


def report(app_dir, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(stratus_bin()), "iam", "report", str(app_dir), *extra],
        capture_output=True, text=True, timeout=60,
    )


def test_the_report_shows_used_unused_denied_a_minimal_policy_and_broad_grants(tmp_path):
    app = copy_app("iam", tmp_path / "report")
    running = LambdaServer(app, extra_args=["--iam", "enforce"])
    # A data folder (not --in-memory), so the usage is saved when the server stops.
    running.command = lambda: [  # type: ignore[method-assign]
        str(stratus_bin()), "start", str(app), "--aws-port", str(running.port), "--api-port", str(running.api_port),
        "--data-dir", str(tmp_path / "data"),
    ]
    running.start()
    try:
        client(running, "dynamodb").put_item(TableName="iam-books", Item={"id": {"S": "r1"}})
        for _ in range(2):
            allowed(running, "iam-reader", "get_item", TableName="iam-books", Key={"id": {"S": "r1"}})
        denied(running, "iam-reader", "put_item", TableName="iam-books", Item={"id": {"S": "r2"}})
        allowed(running, "iam-broad", "put_item", TableName="iam-orders", Item={"id": {"S": "r3"}})
        live = report(app, "--json")
        assert live.returncode == 0, live.stderr
        data = json.loads(live.stdout)
        assert "running Stratus" in data["source"]
        functions = {f["function"]: f for f in data["functions"]}
        reader = functions["iam-reader"]
        assert reader["role"] == f"arn:aws:iam::{ACCOUNT}:role/ReaderRole"
        assert reader["used"] == [{"action": "dynamodb:GetItem", "resource": BOOKS, "allowed": 2, "denied": 0}]
        assert reader["denied"] == [{"action": "dynamodb:PutItem", "resource": BOOKS, "allowed": 0, "denied": 1}]
        unused = {u["action"] for u in reader["unused"]}
        assert {"dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"} <= unused
        assert "dynamodb:GetItem" not in unused
        assert reader["proposedPolicy"] == {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": [BOOKS]}],
        }
        assert reader["overBroad"] == []
        broad = functions["iam-broad"]
        assert any("grants dynamodb:*" in b for b in broad["overBroad"]), broad["overBroad"]
        assert any('Resource "*"' in b for b in broad["overBroad"]), broad["overBroad"]
        assert broad["proposedPolicy"]["Statement"] == [
            {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": [ORDERS]}
        ]
        # Functions that did nothing: nothing used, everything unused.
        assert functions["iam-index-only"]["used"] == []
        assert [u["action"] for u in functions["iam-index-only"]["unused"]] == ["dynamodb:Query"]
        text = report(app)
        assert text.returncode == 0, text.stderr
        assert "Reader (iam-reader)" in text.stdout
        assert f"dynamodb:GetItem on {BOOKS}  (2 allowed)" in text.stdout
        assert f"dynamodb:PutItem on {BOOKS}  (1 denied)" in text.stdout
        assert "Least-privilege policy" in text.stdout
    finally:
        running.stop()
    # After the server stopped, the report reads what it saved.
    saved = report(app, "--json", "--data-dir", str(tmp_path / "data"))
    assert saved.returncode == 0, saved.stderr
    data = json.loads(saved.stdout)
    assert "saved by the last stratus start" in data["source"]
    reader = {f["function"]: f for f in data["functions"]}["iam-reader"]
    assert reader["used"][0]["allowed"] == 2


def test_the_report_without_any_usage_says_how_to_get_some(tmp_path):
    app = copy_app("iam", tmp_path / "none")
    outcome = report(app)
    assert outcome.returncode != 0
    assert "no IAM usage yet" in outcome.stderr


# -- presigned URLs --------------------------------------------------------------------------


def test_a_presigned_url_is_verified_and_expires(server):
    lam = client(server, "lambda")
    url = lam.generate_presigned_url("get_function", Params={"FunctionName": "iam-reader"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert json.loads(response.read())["Configuration"]["FunctionName"] == "iam-reader"
    # Another function with the same signature: the canonical request differs.
    other = url.replace("/functions/iam-reader?", "/functions/iam-broad?")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(other, timeout=10)
    assert raised.value.code == 403
    assert raised.value.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert json.loads(raised.value.read())["message"].startswith(MISMATCH)
    # A URL signed 10 minutes ago for 60 seconds has expired.
    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=10)
    import botocore.auth as auth_module

    real = auth_module.datetime.datetime

    class Frozen(real):
        @classmethod
        def utcnow(cls):
            return when.replace(tzinfo=None)

        @classmethod
        def now(cls, tz=None):
            return when if tz else when.replace(tzinfo=None)

    auth_module.datetime.datetime = Frozen
    try:
        stale = lam.generate_presigned_url("get_function", Params={"FunctionName": "iam-reader"}, ExpiresIn=60)
    finally:
        auth_module.datetime.datetime = real
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(stale, timeout=10)
    assert raised.value.code == 403
    assert json.loads(raised.value.read())["message"].startswith(
        f"Signature expired: {amz(when + datetime.timedelta(seconds=60))} is now earlier than "
    )
