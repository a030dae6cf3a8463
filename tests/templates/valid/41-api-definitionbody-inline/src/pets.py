def list_pets(event, context):
    return {"statusCode": 200, "body": "[]"}


def create_pet(event, context):
    return {"statusCode": 201, "body": event.get("body") or "{}"}
