"""One handler for every IAM test function: it makes the AWS call the event describes with the
function's own credentials (boto3 picks them up from the environment Stratus sets) and returns
the result or the error exactly as the SDK saw it."""

import json
import os

import boto3
import botocore.exceptions
from botocore.config import Config

_CONFIG = Config(retries={"max_attempts": 1})


def handler(event, context):
    if event.get("op") == "credentials":
        # The instance's own temporary credentials, for tests that sign requests as the function.
        names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
        return {name: os.environ.get(name) for name in names}
    client = boto3.client(event.get("service", "dynamodb"), config=_CONFIG)
    try:
        result = getattr(client, event["op"])(**event.get("args", {}))
    except botocore.exceptions.ClientError as error:
        return {
            "ok": False,
            "code": error.response["Error"]["Code"],
            "message": error.response["Error"]["Message"],
            "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    result.pop("ResponseMetadata", None)
    if "Payload" in result:
        result["Payload"] = json.loads(result["Payload"].read() or b"null")
    # Dates (DescribeTable's CreationDateTime) as text, so the result is JSON.
    return {"ok": True, "result": json.loads(json.dumps(result, default=str))}
