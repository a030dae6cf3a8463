import os


def handler(event, context):
    return {"version": "v1", "pid": os.getpid()}
