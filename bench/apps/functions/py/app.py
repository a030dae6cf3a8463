# Trivial handlers for bench/lambda.sh.
import json

_HELLO = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"ok": True})}


def handler(event, context):
    """Invoke API benchmark: the smallest possible handler."""
    return {"ok": True}


def hello(event, context):
    """Gateway benchmark (REST API, payload 1.0): a proxy-integration response."""
    return _HELLO


def echo(event, context):
    """Returns the event it got (bench/lambda.sh captures the gateway's event with it)."""
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
