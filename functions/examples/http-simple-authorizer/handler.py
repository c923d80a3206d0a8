"""HTTP APIs: a Lambda REQUEST authorizer (payload format 2.0, `enableSimpleResponses`).

The identity source is the `x-token` header: a token starting with `allow` is authorized,
any other is not. The `context` echoes what the authorizer saw of its 2.0 event (version,
type, routeKey, routeArn, identitySource), so tests can check that event through the
integration's `requestContext.authorizer.lambda`. The functions host counts invocations
(`GET /invocations`): tests observe the result cache with it.

When `HTTP_AUTHORIZER_DENY_FILE` names a file that exists, every token is refused: a test
changes what the function answers by creating it (ResetAuthorizersCache's proof)."""

import os


def denies_all():
    path = os.environ.get("HTTP_AUTHORIZER_DENY_FILE", "")
    return bool(path) and os.path.exists(path)


def handler(event, context):
    headers = event.get("headers") or {}
    token = headers.get("x-token", "")
    identity = event.get("identitySource") or []
    return {
        "isAuthorized": token.startswith("allow") and not denies_all(),
        "context": {
            "user": token,
            "version": event.get("version", ""),
            "type": event.get("type", ""),
            "routeKey": event.get("routeKey", ""),
            "routeArn": event.get("routeArn", ""),
            "identitySource": ",".join(identity) if isinstance(identity, list) else repr(identity),
            "rawPath": event.get("rawPath", ""),
        },
    }
