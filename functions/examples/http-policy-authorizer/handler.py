"""HTTP APIs: a Lambda REQUEST authorizer with payload format 1.0 answering an IAM policy.

The identity source is the `x-token` header. A token starting with `allow` gets a policy
allowing `GET /policy/allowed` of the stage the request's `methodArn` names, and nothing
else (the gateway must evaluate the policy against each route's ARN); any other token gets
a policy denying every route of the API. The `context` echoes what the authorizer saw of
its 1.0 event (AWS's documented members), so tests can check that event through the
integration's `requestContext.authorizer`."""

import json


def handler(event, context):
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    token = headers.get("x-token", "")
    arn = event.get("methodArn", "")
    # arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}
    head, _, rest = arn.partition("/")
    stage = rest.split("/", 1)[0]
    if token.startswith("allow"):
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow",
                     "Resource": [f"{head}/{stage}/GET/policy/allowed"]}
    else:
        statement = {"Action": "execute-api:Invoke", "Effect": "Deny",
                     "Resource": f"{head}/*"}
    request_context = event.get("requestContext") or {}
    return {
        "principalId": token or "anonymous",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {
            "user": token,
            "version": event.get("version", ""),
            "type": event.get("type", ""),
            "methodArn": arn,
            "identitySource": event.get("identitySource", ""),
            "authorizationToken": event.get("authorizationToken", ""),
            "resource": event.get("resource", ""),
            "path": event.get("path", ""),
            "httpMethod": event.get("httpMethod", ""),
            "hasBody": "body" in event,
            "query": json.dumps(event.get("queryStringParameters")),
            "accountId": request_context.get("accountId", ""),
            "apiId": request_context.get("apiId", ""),
            "stage": request_context.get("stage", ""),
        },
    }
