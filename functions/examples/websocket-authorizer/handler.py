"""A REQUEST authorizer for WebSocket `$connect` (tests/tests/websocket.rs): the query
string's `token` decides: `allow` → Allow, `deny` → Deny, anything else → Unauthorized."""


def handler(event, context):
    token = (event.get("queryStringParameters") or {}).get("token")
    if token == "allow":
        effect = "Allow"
    elif token == "deny":
        effect = "Deny"
    else:
        raise Exception("Unauthorized")
    return {
        "principalId": "user-" + token,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
            ],
        },
        "context": {"user": "u-" + token},
    }
