"""boto3 inside a function: put then get an item on the template's table, through
AWS_ENDPOINT_URL (no endpoint_url in the code, as on AWS)."""

import os

import boto3


def handler(event, context):
    client = boto3.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    key = {"pk": {"S": event["pk"]}}
    client.put_item(TableName=table, Item={**key, "written_by": {"S": context.function_name},
                                          "value": {"N": str(event["value"])}})
    got = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return {
        "table": table,
        "item": {"pk": got["pk"]["S"], "written_by": got["written_by"]["S"], "value": got["value"]["N"]},
        "endpoint": client.meta.endpoint_url,
        "boto3": boto3.__version__,
    }
