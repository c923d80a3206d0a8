"""Echoes a proxy request's body back with its Content-Type, keeping `isBase64Encoded`.

With the content type in the API's binaryMediaTypes, the body arrives base64-encoded and
goes back base64-encoded; the gateway decodes it for clients that accept that type.
"""


def handler(event, context):
    headers = event.get("headers") or {}
    content_type = headers.get("content-type", "application/octet-stream")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": content_type},
        "body": event.get("body") or "",
        "isBase64Encoded": bool(event.get("isBase64Encoded")),
    }
