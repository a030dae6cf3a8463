"""A module whose import fails: an init error as Lambda reports it."""

raise RuntimeError("init went wrong on purpose")


def handler(event, context):  # never reached
    return "unreachable"
