import sys


def handler(event, context):
    return {"python": sys.version}
