def handler(event, context):
    return {"other": True}
