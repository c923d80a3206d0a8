"""Signs requests with botocore for tests/botocore.rs.

stdin: JSON list of {method, url, params?: [[k, v]], headers: [[k, v]], body, timestamp,
presign_expires?, region, service, access_key, secret_key, token?}; stdout: JSON list of
{headers: [[k, v]], url} (header signing; url as sent) or {url} (presigned).
"""
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    out = []
    for case in json.load(sys.stdin):
        ts = datetime.datetime.strptime(case["timestamp"], "%Y%m%dT%H%M%SZ")
        ts = ts.replace(tzinfo=datetime.timezone.utc)
        # botocore >= 1.31 reads the clock through get_current_datetime; older through datetime.
        botocore.auth.get_current_datetime = lambda: ts.replace(tzinfo=None)
        creds = Credentials(case["access_key"], case["secret_key"], case.get("token"))
        req = AWSRequest(
            method=case["method"],
            url=case["url"],
            data=case["body"].encode("utf-8"),
            params=[tuple(p) for p in case.get("params") or []] or None,
        )
        for k, v in case["headers"]:
            req.headers[k] = v  # appends: repeated headers stay repeated
        if case.get("presign_expires") is not None:
            signer = botocore.auth.SigV4QueryAuth(
                creds, case["service"], case["region"], expires=case["presign_expires"]
            )
            signer.add_auth(req)
            out.append({"url": req.url})
        else:
            botocore.auth.SigV4Auth(creds, case["service"], case["region"]).add_auth(req)
            out.append({
                "headers": [[k, v] for k, v in req.headers.items()],
                # The URL as sent on the wire (params= are form-encoded into it).
                "url": req.prepare().url,
            })
    json.dump(out, sys.stdout)


main()
