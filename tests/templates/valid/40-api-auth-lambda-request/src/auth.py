def handler(event, context):
    tenant = (event.get("queryStringParameters") or {}).get("tenant")
    effect = "Allow" if tenant and event["headers"].get("Authorization") else "Deny"
    return {
        "principalId": tenant or "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {"tenant": tenant or ""},
    }
