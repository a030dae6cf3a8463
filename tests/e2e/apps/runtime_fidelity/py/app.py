"""Python handlers for test_lambda_runtime_fidelity.py."""

import datetime
import decimal
import logging
import time


class MyCustomError(Exception):
    pass


def _raise_custom(message):
    raise MyCustomError(message)


def custom_error(event, context):
    _raise_custom("custom boom")


def empty_error(event, context):
    raise ValueError()


def ret_set(event, context):
    return {"s": {1, 2}}


def ret_datetime(event, context):
    return {"when": datetime.datetime(2024, 1, 2, 3, 4, 5)}


def ret_circular(event, context):
    d = {}
    d["self"] = d
    return d


def ret_bytes(event, context):
    return b"raw\x00bytes\xff"


def ret_none(event, context):
    return None


def ret_decimal(event, context):
    return {"d": decimal.Decimal("1.10"), "big": decimal.Decimal("12345678901234567890.000001")}


def ret_unicode(event, context):
    return {"text": "h\u00e9llo \u2713"}


def ret_floats(event, context):
    return {"nan": float("nan"), "inf": float("inf")}


def remaining(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.3)
    second = context.get_remaining_time_in_millis()
    return {"first": first, "second": second}


def log_things(event, context):
    root = logging.getLogger()
    logging.info("info before setLevel")
    logging.warning("a warning")
    root.setLevel(logging.INFO)
    logging.getLogger("child").info("info after setLevel")
    logging.debug("debug never shown")
    print("a printed line")
    return {"level": root.level}


def connections(event, context):
    """The sockets this process holds, by kind (from /proc/net/*), and whether
    Stratus's descriptor variable is visible to the function."""
    import os

    def inodes(table):
        found = set()
        try:
            with open("/proc/net/" + table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            return found
        column = 6 if table == "unix" else 9
        for row in rows:
            fields = row.split()
            if len(fields) > column:
                found.add(fields[column])
        return found

    kinds = {"unix": inodes("unix"), "tcp": inodes("tcp") | inodes("tcp6")}
    held = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + name)
        except OSError:
            continue
        if target.startswith("socket:["):
            inode = target[8:-1]
            held.append(next((k for k, v in kinds.items() if inode in v), "other"))
    return {"sockets": sorted(held), "fd_var": "_STRATUS_RUNTIME_FD" in os.environ}


def json_logs(event, context):
    import os
    if event.get("exit"):
        os._exit(3)
    logging.getLogger().info("info line")
    logging.getLogger().warning("warn line")
    return {"format": os.environ.get("AWS_LAMBDA_LOG_FORMAT"), "level": os.environ.get("AWS_LAMBDA_LOG_LEVEL")}
