def handler(event, context):
    # A CloudFormation custom resource handler would PUT a response to event["ResponseURL"].
    return {}
