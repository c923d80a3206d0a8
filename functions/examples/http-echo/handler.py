"""HTTP APIs (AWS_PROXY, payload format 1.0 or 2.0): answers 200 with the event it received
as a JSON body, so tests compare the event field by field with AWS's documented examples.
The answer has the full (1.0-compatible) response shape, so it means the same under both
payload formats."""

import json


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(event),
        "isBase64Encoded": False,
    }
