"""Books: list, create, read, update and delete items of the books table."""

import json
import os
import time
import uuid

from decimal import Decimal

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["BOOKS_TABLE"])
FIELDS = ("title", "author", "year")


def plain(value):
    """DynamoDB numbers come back as Decimal; JSON wants int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def respond(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, default=plain),
    }


def parse_book(event):
    """The book fields of a request body, or an error message."""
    try:
        data = json.loads(event.get("body") or "{}")
    except json.JSONDecodeError:
        return None, "the body is not JSON"
    if not isinstance(data, dict):
        return None, "the body must be a JSON object"
    title = str(data.get("title", "")).strip()
    if not title:
        return None, "a book needs a title"
    book = {"title": title, "author": str(data.get("author", "")).strip()}
    if data.get("year") not in (None, ""):
        try:
            book["year"] = int(data["year"])
        except (TypeError, ValueError):
            return None, "year must be a number"
    return book, None


def list_books(event, context):
    items = []
    kwargs = {}
    while True:
        page = TABLE.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    items.sort(key=lambda b: (b.get("created", 0), b["id"]))
    return respond(200, {"books": items})


def create_book(event, context):
    book, error = parse_book(event)
    if error:
        return respond(400, {"message": error})
    book["id"] = uuid.uuid4().hex[:12]
    book["created"] = int(time.time() * 1000)
    TABLE.put_item(Item=book)
    return respond(201, book)


def book(event, context):
    book_id = event["pathParameters"]["id"]
    method = event["httpMethod"]
    if method == "GET":
        item = TABLE.get_item(Key={"id": book_id}).get("Item")
        if item is None:
            return respond(404, {"message": f"no book {book_id}"})
        return respond(200, item)
    if method == "PUT":
        changes, error = parse_book(event)
        if error:
            return respond(400, {"message": error})
        names = {f"#{k}": k for k in changes}
        values = {f":{k}": v for k, v in changes.items()}
        try:
            updated = TABLE.update_item(
                Key={"id": book_id},
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in changes),
                ConditionExpression="attribute_exists(id)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except TABLE.meta.client.exceptions.ConditionalCheckFailedException:
            return respond(404, {"message": f"no book {book_id}"})
        return respond(200, updated["Attributes"])
    if method == "DELETE":
        try:
            TABLE.delete_item(Key={"id": book_id}, ConditionExpression="attribute_exists(id)")
        except TABLE.meta.client.exceptions.ConditionalCheckFailedException:
            return respond(404, {"message": f"no book {book_id}"})
        return {"statusCode": 204, "body": ""}
    return respond(405, {"message": f"{method} is not allowed"})
