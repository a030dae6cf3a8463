"""Fixtures for the Stratus end-to-end suite.

By default a session-scoped fixture starts the Stratus binary
(``STRATUS_BIN``, default ``<repo>/target/debug/stratus``) with
``start --aws-port PORT --host 127.0.0.1 --in-memory`` on a free loopback
port, waits for ``Stratus ready``, and stops it by PID (SIGTERM, then
SIGKILL) at the end of the session, whatever happened.

Set ``STRATUS_E2E_ENDPOINT=http://127.0.0.1:PORT`` to run the suite against an
endpoint that is already running instead (e.g. dynalite, to check that the
expectations match DynamoDB). Tests marked ``stratus_only`` (health endpoint,
16 MB limit, durability, ...) are skipped in that mode.
"""

from __future__ import annotations

import re
import uuid

import pytest
from botocore.exceptions import ClientError

from support import (
    StratusServer,
    external_endpoint,
    make_client,
    make_resource,
    wait_table_active,
    wait_table_gone,
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "stratus_only: needs the spawned Stratus binary (skipped when STRATUS_E2E_ENDPOINT is set)",
    )


def pytest_collection_modifyitems(config, items):
    if external_endpoint() is None:
        return
    skip = pytest.mark.skip(reason="Stratus-only behaviour; STRATUS_E2E_ENDPOINT is set")
    for item in items:
        if "stratus_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stratus_server():
    """The spawned server (None when STRATUS_E2E_ENDPOINT is used)."""
    if external_endpoint() is not None:
        yield None
        return
    server = StratusServer()
    try:
        server.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def endpoint(stratus_server) -> str:
    ext = external_endpoint()
    if ext is not None:
        return ext
    return stratus_server.endpoint


@pytest.fixture(scope="session")
def ddb(endpoint):
    """boto3 DynamoDB client (client-side parameter validation on, retries off)."""
    return make_client(endpoint)


@pytest.fixture(scope="session")
def ddb_raw(endpoint):
    """boto3 client with client-side parameter validation OFF, so that
    malformed requests reach the server and its own validation is tested."""
    return make_client(endpoint, parameter_validation=False)


@pytest.fixture(scope="session")
def ddb_resource(endpoint):
    return make_resource(endpoint)


def _unique_name(request) -> str:
    base = re.sub(r"[^a-zA-Z0-9_.-]+", "-", request.node.name)[:60].strip("-")
    return f"e2e-{base}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def table_factory(ddb, request):
    """Create uniquely named tables; every one is deleted after the test.

    ``table_factory(hash_key=("pk", "S"), range_key=None, billing="PAY_PER_REQUEST")``
    returns the table name once the table is ACTIVE.
    """
    created: list[str] = []

    def create(hash_key=("pk", "S"), range_key=None, billing="PAY_PER_REQUEST",
               throughput=(5, 5), name=None):
        name = name or _unique_name(request)
        keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
        defs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
        if range_key is not None:
            keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
            defs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        kwargs = dict(TableName=name, KeySchema=keys, AttributeDefinitions=defs, BillingMode=billing)
        if billing == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = {
                "ReadCapacityUnits": throughput[0],
                "WriteCapacityUnits": throughput[1],
            }
        ddb.create_table(**kwargs)
        created.append(name)
        wait_table_active(ddb, name)
        return name

    yield create

    for name in created:
        try:
            ddb.delete_table(TableName=name)
            wait_table_gone(ddb, name)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


@pytest.fixture
def hash_table(table_factory):
    """A fresh table with hash key ``pk`` (S)."""
    return table_factory()


@pytest.fixture
def hash_range_table(table_factory):
    """A fresh table with hash key ``pk`` (S) and range key ``sk`` (S)."""
    return table_factory(range_key=("sk", "S"))


@pytest.fixture
def gsi_table(ddb, request):
    """A fresh table with hash key ``pk`` (S) and a global index ``by_tag`` on ``tag`` (S) and
    ``n`` (N), projecting everything, holding p1..p4 (odd/even tags, n = 1..4)."""
    name = _unique_name(request)
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "tag", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_tag", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"},
                                               {"AttributeName": "n", "KeyType": "RANGE"}]}])
    wait_table_active(ddb, name)
    for i in range(1, 5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"p{i}"}, "tag": {"S": "odd" if i % 2 else "even"},
                                           "n": {"N": str(i)}})
    yield name
    ddb.delete_table(TableName=name)
    wait_table_gone(ddb, name)
