"""Presigns a WebSocket `$connect` URL with botocore, as AWS clients do for a `$connect`
route with AWS_IAM (tests/tests/websocket_templates.rs connects with it).

botocore's `SigV4QueryAuth` for the service `execute-api` puts `X-Amz-Algorithm`,
`X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders` and
`X-Amz-Signature` in the query of `wss://{host}/{stage}`.

Environment: WS_HOST (`{apiId}.execute-api.localhost`), WS_STAGE, WS_ACCESS_KEY_ID,
WS_SECRET_ACCESS_KEY, WS_REGION (default us-east-1). Prints the query string (`?...`).
"""

import os
from urllib.parse import urlsplit

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

host = os.environ["WS_HOST"]
req = AWSRequest(method="GET", url=f"wss://{host}/{os.environ['WS_STAGE']}")
creds = Credentials(os.environ["WS_ACCESS_KEY_ID"], os.environ["WS_SECRET_ACCESS_KEY"])
SigV4QueryAuth(creds, "execute-api", os.environ.get("WS_REGION", "us-east-1"), expires=300).add_auth(req)
print("?" + urlsplit(req.url).query)
