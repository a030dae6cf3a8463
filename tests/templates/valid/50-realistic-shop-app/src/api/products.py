import os

import boto3
from shop_common import response

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    product_id = (event.get("pathParameters") or {}).get("id")
    if product_id:
        item = table.get_item(Key={"pk": f"PRODUCT#{product_id}", "sk": "META"}).get("Item")
        return response(200, item) if item else response(404, {"message": "not found"})
    return response(200, table.query(
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": "PRODUCTS"},
    )["Items"])
