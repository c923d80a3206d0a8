"""The seeds' WebSocket chat backend (tests/tests/websocket.rs).

`$connect` records the connection, `$disconnect` forgets it, `sendmessage` broadcasts the
message's `data` to every recorded connection through `@connections` (SigV4-signed for
`execute-api`), whichever node holds it, and answers how many it reached (sent back to the
sender by the route response). Every event is appended to `events.log` as JSON.

Environment (from the functions host): WS_CHAT_DIR (state; its file `endpoint` names the
node to call, `http://127.0.0.1:PORT`), WS_CHAT_KEY / WS_CHAT_SECRET (an access key),
WS_CHAT_REGION (the control plane's region, default us-east-1).
"""

import http.client
import json
import os
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

DIR = os.environ.get("WS_CHAT_DIR", "/tmp/ws-chat")


def post(domain, stage, connection_id, data):
    url = f"http://{domain}/{stage}/@connections/{connection_id}"
    req = AWSRequest(method="POST", url=url, data=data.encode(), headers={"Host": domain})
    creds = Credentials(os.environ["WS_CHAT_KEY"], os.environ["WS_CHAT_SECRET"])
    SigV4Auth(creds, "execute-api", os.environ.get("WS_CHAT_REGION", "us-east-1")).add_auth(req)
    with open(os.path.join(DIR, "endpoint")) as f:
        node = urlsplit(f.read().strip())
    conn = http.client.HTTPConnection(node.hostname, node.port, timeout=10)
    conn.request("POST", f"/{stage}/@connections/{connection_id}", body=data.encode(),
                 headers=dict(req.headers.items()))
    status = conn.getresponse().status
    conn.close()
    return status


def handler(event, context):
    ctx = event["requestContext"]
    route, cid = ctx["routeKey"], ctx["connectionId"]
    conns = os.path.join(DIR, "connections")
    os.makedirs(conns, exist_ok=True)
    with open(os.path.join(DIR, "events.log"), "a") as log:
        log.write(json.dumps(event) + "\n")
    if route == "$connect":
        open(os.path.join(conns, cid), "w").close()
        return {"statusCode": 200}
    if route == "$disconnect":
        try:
            os.remove(os.path.join(conns, cid))
        except FileNotFoundError:
            pass
        return {"statusCode": 200}
    body = json.loads(event.get("body") or "{}")
    data = json.dumps({"from": cid, "data": body.get("data")})
    sent = 0
    for other in sorted(os.listdir(conns)):
        status = post(ctx["domainName"], ctx["stage"], other, data)
        if status == 200:
            sent += 1
        elif status == 410:
            os.remove(os.path.join(conns, other))
    return {"statusCode": 200, "body": json.dumps({"sent": sent})}
