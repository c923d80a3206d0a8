"""Returns proxy results that break the contract (for the gateway's 502 handling)."""


def handler(event, context):
    kind = (event.get("queryStringParameters") or {}).get("kind", "string")
    if kind == "string":
        return "not an object"
    if kind == "extra-key":
        return {"statusCode": 200, "message": "unexpected"}
    if kind == "object-body":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if kind == "bad-status":
        return {"statusCode": "teapot"}
    if kind == "raise":
        raise RuntimeError("handler failed")
    return {"statusCode": 200, "body": "fine"}
