def report(event, context):
    return {"report": event.get("report", "hourly")}


def cleanup(event, context):
    return {"deleted": 0}
