def read(event, context):
    return {"statusCode": 200, "body": "[]"}


def write(event, context):
    return {"statusCode": 201, "body": "{}"}
