"""Handlers for the triggers app: each appends what it got to OUT_DIR/<function name>.jsonl."""

import json
import os


def _append(context, entry):
    path = os.path.join(os.environ["OUT_DIR"], context.function_name + ".jsonl")
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry, sort_keys=True) + "\n")


def record(event, context):
    """Keeps the whole event."""
    _append(context, {"event": event})
    return {"ok": True}


def partial(event, context):
    """Fails each record whose NewImage has `fail` the first time that record is seen, and
    reports it in batchItemFailures (ReportBatchItemFailures)."""
    failures = []
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage", {})
        marker = os.path.join(os.environ["OUT_DIR"], "seen-" + record["eventID"])
        if "fail" in image and not os.path.exists(marker):
            open(marker, "w").close()
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    _append(context, {"event": event, "failures": failures})
    return {"batchItemFailures": failures}


def scheduled(event, context):
    _append(context, {"event": event})
    return {"ok": True}
