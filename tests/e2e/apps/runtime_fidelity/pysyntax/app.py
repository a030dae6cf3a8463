import json

x = = 1

def handler(event, context):
    return 1
