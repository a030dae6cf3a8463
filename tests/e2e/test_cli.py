"""The AWS CLI (v1, from PyPI) against the endpoint: create-table, put-item,
get-item, query, scan, list-tables, describe-table, delete-table, and an error
exit, with JSON output parsed and asserted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from support import wait_table_active, wait_table_gone


def _aws_executable():
    candidate = Path(sys.executable).parent / "aws"
    if candidate.exists():
        return str(candidate)
    return shutil.which("aws")


AWS = _aws_executable()
pytestmark = pytest.mark.skipif(AWS is None, reason="aws CLI not installed (pip install -r tests/requirements.txt)")


@pytest.fixture
def aws(endpoint, tmp_path):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update({
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_PAGER": "",
    })

    def run(*args, check=True):
        cmd = [AWS, "dynamodb", *args, "--endpoint-url", endpoint, "--output", "json"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        if check:
            assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stderr}"
            return json.loads(proc.stdout) if proc.stdout.strip() else {}
        return proc

    return run


@pytest.fixture
def cli_table(aws, ddb):
    name = f"e2e-cli-{uuid.uuid4().hex[:8]}"
    out = aws("create-table", "--table-name", name,
              "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
              "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
              "--billing-mode", "PAY_PER_REQUEST")
    assert out["TableDescription"]["TableName"] == name
    wait_table_active(ddb, name)
    yield name
    if name in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=name)
        wait_table_gone(ddb, name)


def test_cli_round_trip(aws, cli_table):
    for sk in (3, 1, 2):
        aws("put-item", "--table-name", cli_table, "--item",
            json.dumps({"pk": {"S": "p"}, "sk": {"N": str(sk)}, "v": {"S": f"v{sk}"}, "tags": {"SS": ["a", "b"]}}))

    got = aws("get-item", "--table-name", cli_table, "--key", json.dumps({"pk": {"S": "p"}, "sk": {"N": "2"}}))
    assert got["Item"]["v"] == {"S": "v2"}
    assert sorted(got["Item"]["tags"]["SS"]) == ["a", "b"]

    missing = aws("get-item", "--table-name", cli_table, "--key", json.dumps({"pk": {"S": "p"}, "sk": {"N": "9"}}))
    assert "Item" not in missing

    q = aws("query", "--table-name", cli_table, "--key-condition-expression", "pk = :p AND sk >= :s",
            "--expression-attribute-values", json.dumps({":p": {"S": "p"}, ":s": {"N": "2"}}))
    assert [i["sk"]["N"] for i in q["Items"]] == ["2", "3"]
    assert q["Count"] == 2

    s = aws("scan", "--table-name", cli_table)
    assert sorted(i["sk"]["N"] for i in s["Items"]) == ["1", "2", "3"]
    assert s["Count"] == 3

    # The CLI paginates automatically; --page-size forces several requests.
    s = aws("scan", "--table-name", cli_table, "--page-size", "1")
    assert sorted(i["sk"]["N"] for i in s["Items"]) == ["1", "2", "3"]


def test_cli_list_describe_delete(aws, cli_table):
    listed = aws("list-tables")
    assert cli_table in listed["TableNames"]
    desc = aws("describe-table", "--table-name", cli_table)["Table"]
    assert desc["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{cli_table}"
    assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                 {"AttributeName": "sk", "KeyType": "RANGE"}]
    out = aws("delete-table", "--table-name", cli_table)
    assert out["TableDescription"]["TableName"] == cli_table


def test_cli_error_exit(aws):
    proc = aws("describe-table", "--table-name", "e2e-cli-no-such-table", check=False)
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr
    assert "Requested resource not found: Table: e2e-cli-no-such-table not found" in proc.stderr


def test_cli_conditional_failure(aws, cli_table):
    item = json.dumps({"pk": {"S": "p"}, "sk": {"N": "1"}})
    aws("put-item", "--table-name", cli_table, "--item", item, "--condition-expression", "attribute_not_exists(pk)")
    proc = aws("put-item", "--table-name", cli_table, "--item", item,
               "--condition-expression", "attribute_not_exists(pk)", check=False)
    assert proc.returncode != 0
    assert "ConditionalCheckFailedException" in proc.stderr
