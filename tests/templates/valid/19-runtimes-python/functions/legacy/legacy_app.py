def handler(event, context):
    return {"runtime": "legacy"}
