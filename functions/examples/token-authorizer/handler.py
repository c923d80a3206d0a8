"""A TOKEN authorizer (seed 000 "Protecting your API: Authorization"), in the shape of AWS's
blueprint: the token says what to answer, so tests can drive every outcome.

- `allow` / `deny`: Allow / Deny `execute-api:Invoke` on the called method's ARN;
- `allow-all`: Allow on every method of the API (`{api}/*`);
- `allow-pets`: Allow only `GET /pets` of any stage (a policy that must not be reused for
  another method: the `{proxy+}` pitfall);
- `key:VALUE`: Allow, with `usageIdentifierKey` VALUE (apiKeySource AUTHORIZER);
- `unauthorized`: fails with "Unauthorized" (401);
- `malformed`: answers without a policy (500 AUTHORIZER_CONFIGURATION_ERROR);
- `fail`: raises (500 AUTHORIZER_FAILURE);
- `slow`: answers Allow after 6 s, longer than a node's authorizer timeout in the tests
  (500 AUTHORIZER_FAILURE).

Every allowed answer carries `context` {user, level, admin} for `$context.authorizer`.
"""

import time


def policy(effect, resource):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
    }


def handler(event, context):
    token = event.get("authorizationToken", "")
    method_arn = event["methodArn"]
    # arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}
    api_arn = method_arn.split("/", 1)[0]
    answer = {"principalId": "user-" + token.split(":", 1)[0],
              "context": {"user": "ann", "level": 3, "admin": True}}
    if token == "allow":
        answer["policyDocument"] = policy("Allow", method_arn)
    elif token == "deny":
        answer["policyDocument"] = policy("Deny", method_arn)
    elif token == "allow-all":
        answer["policyDocument"] = policy("Allow", api_arn + "/*")
    elif token == "allow-pets":
        answer["policyDocument"] = policy("Allow", api_arn + "/*/GET/pets")
    elif token.startswith("key:"):
        answer["policyDocument"] = policy("Allow", api_arn + "/*")
        answer["usageIdentifierKey"] = token[len("key:"):]
    elif token == "unauthorized":
        raise Exception("Unauthorized")
    elif token == "malformed":
        return {"principalId": "x"}
    elif token == "fail":
        raise RuntimeError("the authorizer broke")
    elif token == "slow":
        time.sleep(6)
        answer["policyDocument"] = policy("Allow", method_arn)
    else:
        raise Exception("Unauthorized")
    return answer
