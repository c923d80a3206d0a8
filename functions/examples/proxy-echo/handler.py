"""Returns the proxy event it received as the response body (to inspect the event format)."""

import json


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"X-Request-Id": [context.aws_request_id]},
        "body": json.dumps(event),
    }
