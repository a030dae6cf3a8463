import json
import os

import boto3
from shop_common import response

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    user = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    if event["requestContext"]["http"]["method"] == "POST":
        item = json.loads(event.get("body") or "{}")
        table.put_item(Item={"pk": f"CART#{user}", "sk": f"ITEM#{item['productId']}", **item})
        return response(201, item)
    items = table.query(
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": f"CART#{user}"},
    )["Items"]
    return response(200, items)
