def admin(event, context):
    return {}


def reader(event, context):
    return {}


def writer(event, context):
    return {}


def audit(event, context):
    return {}
