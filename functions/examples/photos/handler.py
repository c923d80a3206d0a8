"""Seed 003, "Use API Gateway stages with Lambda aliases": one function, an alias per stage.

The integration URI ends in `function:photos:${stageVariables.alias}/invocations`, so each
stage invokes the alias its `alias` variable names; function.json maps aliases to settings.
"""

import json
import os


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({
            "version": context.function_version,
            "album": os.environ.get("ALBUM", "latest"),
            "stage": (event.get("requestContext") or {}).get("stage"),
        }),
    }
