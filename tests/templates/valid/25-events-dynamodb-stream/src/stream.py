def handler(event, context):
    failures = []
    for record in event.get("Records", []):
        print(record["eventName"], record["dynamodb"].get("Keys"))
    return {"batchItemFailures": failures}


def archive(event, context):
    return {}
