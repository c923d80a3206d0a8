"""A REQUEST authorizer: allows when the `x-user` header and the `tenant` query parameter
are present and the tenant is not `blocked`; echoes what it saw in `context` so tests can
check the REQUEST event."""


def handler(event, context):
    headers = event.get("headers") or {}
    query = event.get("queryStringParameters") or {}
    user = next((v for k, v in headers.items() if k.lower() == "x-user"), None)
    tenant = query.get("tenant")
    effect = "Allow" if user and tenant and tenant != "blocked" else "Deny"
    return {
        "principalId": user or "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                           "Resource": event["methodArn"]}],
        },
        "context": {
            "tenant": tenant or "",
            "type": event.get("type", ""),
            "resource": event.get("resource", ""),
            "stageVariable": (event.get("stageVariables") or {}).get("team", ""),
        },
    }
