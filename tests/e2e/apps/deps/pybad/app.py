import e2e_dep


def handler(event, context):
    return {"version": e2e_dep.VERSION, "file": e2e_dep.__file__}
