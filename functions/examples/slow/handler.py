"""Seed 000, "Custom timeouts": a flaky upstream that sometimes takes a long time.

Sleeps `seconds` (from the event, or the proxy event's query string) before answering, so an
integration timeout (timeoutInMillis) shorter than that fails fast with 504.
"""

import json
import time


def handler(event, context):
    query = event.get("queryStringParameters") or {}
    seconds = float(event.get("seconds", query.get("seconds", 0)))
    time.sleep(seconds)
    return {"statusCode": 200, "body": json.dumps({"slept": seconds})}
