"""HTTP APIs, payload format 2.0: the response shortcuts AWS documents, chosen by the
route's `{kind}` path parameter:

- `string`: a bare JSON string (API Gateway infers 200, application/json, the string as body);
- `object`: a JSON object without `statusCode` (inferred: 200, application/json, the object
  serialised as the body);
- `cookies`: the full format with `cookies` (each one a `set-cookie` header), a status and
  headers;
- `base64`: the full format with an `isBase64Encoded` body (bytes 0, 1, 2, 255);
- `cors`: the full format with the function's own `Access-Control-Allow-Origin: *` (which
  API Gateway ignores when the API has a CORS configuration) and an `x-backend-header`.
"""


def handler(event, context):
    kind = (event.get("pathParameters") or {}).get("kind")
    if kind == "string":
        return "Hello from Lambda!"
    if kind == "object":
        return {"message": "Hello from Lambda!"}
    if kind == "cookies":
        return {
            "statusCode": 201,
            "cookies": ["session=abc123; Path=/; HttpOnly", "theme=dark"],
            "headers": {"content-type": "text/plain", "x-custom": "yes"},
            "body": "made",
        }
    if kind == "base64":
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/octet-stream"},
            "isBase64Encoded": True,
            "body": "AAEC/w==",
        }
    if kind == "cors":
        return {
            "statusCode": 200,
            "headers": {
                "content-type": "text/plain",
                "access-control-allow-origin": "*",
                "x-backend-header": "from-function",
            },
            "body": "data",
        }
    return {"statusCode": 400, "body": "unknown kind %r" % kind}
