import os


def handler(event, context):
    for record in event["Records"]:
        print(record["s3"]["object"]["key"], "->", os.environ["DEST_BUCKET"])
    return {}
