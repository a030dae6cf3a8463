import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def _ok(body, status=200):
    return {"statusCode": status, "body": json.dumps(body)}


def list_books(event, context):
    return _ok(table.scan().get("Items", []))


def get_book(event, context):
    item = table.get_item(Key={"id": event["pathParameters"]["id"]}).get("Item")
    return _ok(item) if item else _ok({"message": "not found"}, 404)


def put_book(event, context):
    book = json.loads(event["body"] or "{}")
    if event.get("pathParameters"):
        book["id"] = event["pathParameters"]["id"]
    table.put_item(Item=book)
    return _ok(book, 201)


def delete_book(event, context):
    table.delete_item(Key={"id": event["pathParameters"]["id"]})
    return _ok({}, 204)
