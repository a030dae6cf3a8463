"""PynamoDB (PyPI ``pynamodb``) as a real ORM against Stratus: a Model with a GlobalSecondaryIndex
and a LocalSecondaryIndex; create_table, save, get, query on the table and the indexes, update with
actions, optimistic locking (VersionAttribute), conditional delete, scan with a filter, count,
batch_write and batch_get, delete_table."""

from __future__ import annotations

import pytest

# pynamodb comes from tests/requirements.txt (pip install -r tests/requirements.txt).
from pynamodb.attributes import (
    ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, VersionAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from ddb6_support import unique
from support import REGION


@pytest.fixture
def models(endpoint):
    name = unique("pynamo")

    class ByStatus(GlobalSecondaryIndex):
        class Meta:
            index_name = "by-status"
            projection = AllProjection()
        status = UnicodeAttribute(hash_key=True)
        created = NumberAttribute(range_key=True)

    class ByCreated(LocalSecondaryIndex):
        class Meta:
            index_name = "by-created"
            projection = KeysOnlyProjection()
        owner = UnicodeAttribute(hash_key=True)
        created = NumberAttribute(range_key=True)

    class Address(MapAttribute):
        city = UnicodeAttribute()
        zip = UnicodeAttribute(null=True)

    class Order(Model):
        class Meta:
            host = endpoint
            region = REGION
            aws_access_key_id = "test"
            aws_secret_access_key = "test"
            billing_mode = "PAY_PER_REQUEST"
            max_retry_attempts = 0
            table_name = name

        owner = UnicodeAttribute(hash_key=True)
        order_id = UnicodeAttribute(range_key=True)
        status = UnicodeAttribute(null=True)
        created = NumberAttribute()
        total = NumberAttribute(default=0)
        tags = UnicodeSetAttribute(null=True)
        lines = ListAttribute(null=True)
        address = Address(null=True)
        version = VersionAttribute()
        by_status = ByStatus()
        by_created = ByCreated()

    Order.create_table(wait=True)
    try:
        yield Order
    finally:
        if Order.exists():
            Order.delete_table()


def test_create_table_declares_the_indexes(models, ddb):
    assert models.exists()
    desc = ddb.describe_table(TableName=models.Meta.table_name)["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [g["IndexName"] for g in desc["GlobalSecondaryIndexes"]] == ["by-status"]
    assert desc["GlobalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "ALL"}
    assert [l["IndexName"] for l in desc["LocalSecondaryIndexes"]] == ["by-created"]
    assert desc["LocalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_save_get_update_delete(models):
    Order = models
    order = Order("alice", "o1", status="open", created=10, total=5, tags={"a", "b"}, lines=["x"],
                  address={"city": "Lyon"})
    order.save()
    assert order.version == 1
    got = Order.get("alice", "o1", consistent_read=True)
    assert (got.status, got.created, got.total, got.tags, got.lines, got.address.city, got.version) == (
        "open", 10, 5, {"a", "b"}, ["x"], "Lyon", 1)
    with pytest.raises(DoesNotExist):
        Order.get("alice", "missing")

    got.update(actions=[
        Order.total.add(7),
        Order.status.set("paid"),
        Order.tags.delete({"a"}),
        Order.lines.set(Order.lines.append(["y"])),
        Order.address.zip.set("69001"),
    ])
    assert (got.total, got.status, got.tags, got.lines, got.address.zip, got.version) == (
        12, "paid", {"b"}, ["x", "y"], "69001", 2)
    fresh = Order.get("alice", "o1", consistent_read=True)
    assert (fresh.total, fresh.status, fresh.tags, fresh.lines, fresh.address.zip, fresh.version) == (
        12, "paid", {"b"}, ["x", "y"], "69001", 2)

    # Optimistic locking: the stale copy (version 1) can neither be saved, updated nor deleted.
    with pytest.raises(PutError):
        order.save()
    with pytest.raises(UpdateError):
        order.update(actions=[Order.total.set(0)])
    with pytest.raises(DeleteError):
        order.delete()
    fresh.update(actions=[Order.tags.remove()])
    assert Order.get("alice", "o1").tags is None
    fresh.delete(condition=Order.status == "paid")
    with pytest.raises(DoesNotExist):
        Order.get("alice", "o1", consistent_read=True)


def test_queries_on_the_table_and_the_indexes(models):
    Order = models
    rows = [("alice", "o1", "open", 1, 10), ("alice", "o2", "paid", 2, 20), ("alice", "o3", "open", 3, 30),
            ("bob", "o4", "open", 4, 40), ("bob", "o5", None, 5, 50)]
    for owner, order_id, status, created, total in rows:
        Order(owner, order_id, status=status, created=created, total=total).save()

    assert [o.order_id for o in Order.query("alice")] == ["o1", "o2", "o3"]
    assert [o.order_id for o in Order.query("alice", Order.order_id >= "o2", scan_index_forward=False)] == ["o3", "o2"]
    assert [o.order_id for o in Order.query("alice", filter_condition=Order.total > 15)] == ["o2", "o3"]

    open_orders = list(Order.by_status.query("open"))
    assert [(o.owner, o.order_id, o.total) for o in open_orders] == [("alice", "o1", 10), ("alice", "o3", 30),
                                                                       ("bob", "o4", 40)]
    assert [o.order_id for o in Order.by_status.query("open", Order.created > 1, filter_condition=Order.total < 40)] == ["o3"]
    # The GSI is sparse: o5 has no status. Paging through the index with a small page size.
    assert sorted(o.order_id for o in Order.by_status.scan(page_size=1)) == ["o1", "o2", "o3", "o4"]
    assert Order.by_status.count("open") == 3

    # The KEYS_ONLY LSI gives keys (and its own range key) only.
    newest = list(Order.by_created.query("alice", Order.created >= 2, scan_index_forward=False))
    assert [(o.order_id, o.created, o.status) for o in newest] == [("o3", 3, None), ("o2", 2, None)]

    assert sorted(o.order_id for o in Order.scan(Order.total.between(20, 40))) == ["o2", "o3", "o4"]
    assert sorted(o.order_id for o in Order.scan((Order.status == "open") & (Order.owner == "bob"))) == ["o4"]
    assert Order.count() == 5
    assert Order.count("alice", Order.order_id.startswith("o")) == 3


def test_batch_write_and_batch_get(models):
    Order = models
    with Order.batch_write() as batch:
        for n in range(60):
            batch.save(Order("carol", f"b{n:02}", status="new", created=n, total=n))
    assert Order.count("carol") == 60
    got = list(Order.batch_get([("carol", f"b{n:02}") for n in range(0, 60, 3)] + [("carol", "missing")]))
    assert sorted(o.order_id for o in got) == [f"b{n:02}" for n in range(0, 60, 3)]
    with Order.batch_write() as batch:
        for n in range(0, 60, 2):
            batch.delete(Order("carol", f"b{n:02}"))
    assert sorted(o.order_id for o in Order.query("carol")) == [f"b{n:02}" for n in range(1, 60, 2)]
    assert Order.by_status.count("new") == 30
