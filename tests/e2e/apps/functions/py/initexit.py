# A module whose import ends the process: an init that dies without posting an init error.
import os
import sys

print("init is about to exit", flush=True)
sys.stderr.flush()
os._exit(5)


def handler(event, context):
    return "unreachable"
