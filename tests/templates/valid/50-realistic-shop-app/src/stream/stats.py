import os

import boto3

stats = boto3.resource("dynamodb").Table(os.environ["STATS_TABLE"])


def handler(event, context):
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            stats.update_item(
                Key={"id": "inserts"},
                UpdateExpression="ADD #n :one",
                ExpressionAttributeNames={"#n": "count"},
                ExpressionAttributeValues={":one": 1},
            )
    return {}
