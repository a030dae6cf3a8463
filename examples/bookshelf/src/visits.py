"""The visitor counter: one atomic ADD per visit, on an HTTP API (payload 2.0)."""

import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["COUNTERS_TABLE"])


def handler(event, context):
    result = TABLE.update_item(
        Key={"name": "visits"},
        UpdateExpression="ADD #count :one",
        ExpressionAttributeNames={"#count": "count"},
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    # A plain object: HTTP APIs infer a 200 JSON response from it.
    return {"visits": int(result["Attributes"]["count"])}
