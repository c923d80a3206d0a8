#!/usr/bin/env python3
"""`@connections` through boto3's `apigatewaymanagementapi` client, against a node other
than the one holding the connections (tests/tests/websocket.rs): GetConnection (identity,
timestamps), PostToConnection to a client on the other node, a 200 KB post refused with
PayloadTooLargeException, DeleteConnection, then GoneException for the closed connection.

Environment: WS_NODE (`http://127.0.0.1:PORT` of the node to call), WS_HOST (the invoke
host `{apiId}.execute-api.localhost`), WS_STAGE, WS_KEEP (a connection to post to),
WS_CLOSE (a connection to close), WS_ACCESS_KEY_ID / WS_SECRET_ACCESS_KEY.
"""

import os
import socket
import sys
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

node = urlsplit(os.environ["WS_NODE"])
host = os.environ["WS_HOST"]
_getaddrinfo = socket.getaddrinfo


def getaddrinfo(name, *args, **kwargs):
    # The invoke host names the API; the node listens on 127.0.0.1.
    return _getaddrinfo("127.0.0.1" if name == host else name, *args, **kwargs)


socket.getaddrinfo = getaddrinfo

client = boto3.client(
    "apigatewaymanagementapi",
    endpoint_url=f"http://{host}:{node.port}/{os.environ['WS_STAGE']}",
    aws_access_key_id=os.environ["WS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["WS_SECRET_ACCESS_KEY"],
    region_name="us-east-1",
)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


def fails(call, code, status, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        check(got == (code, status), f"{call.__name__}: {got} != {(code, status)}")
        return
    raise SystemExit(f"FAILED: {call.__name__} succeeded")


keep, close = os.environ["WS_KEEP"], os.environ["WS_CLOSE"]
info = client.get_connection(ConnectionId=close)
check(info["Identity"]["SourceIp"] == "127.0.0.1", f"identity {info['Identity']}")
check(info["Identity"]["UserAgent"] == "chat-test", f"user agent {info['Identity']}")
check(info["ConnectedAt"] <= info["LastActiveAt"], "connectedAt <= lastActiveAt")
client.post_to_connection(ConnectionId=keep, Data=b'{"note": "from boto3"}')
fails(client.post_to_connection, "PayloadTooLargeException", 413,
      ConnectionId=keep, Data=b"x" * (200 * 1024))
client.delete_connection(ConnectionId=close)
fails(client.get_connection, "GoneException", 410, ConnectionId=close)
fails(client.post_to_connection, "GoneException", 410, ConnectionId=close, Data=b"late")
fails(client.post_to_connection, "GoneException", 410, ConnectionId="neverexisted", Data=b"x")
print("ok")
print("[websocket_connections.py] all checks passed", file=sys.stderr)
