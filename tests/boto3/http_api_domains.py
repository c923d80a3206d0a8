#!/usr/bin/env python3
"""Custom domain names and API mappings of HTTP APIs through boto3's `apigatewayv2` client
(and its `apigateway` client for the REST side of the same domains); run by
`tests/tests/http_api_domains.rs`, one part per invocation:

  setup            a REST CreateDomainName uploads a wildcard certificate (rest.example.com);
                   apigatewayv2 sees that domain, creates api.example.com with the same
                   certificate by ARN, and maps four HTTP API stages on it (the empty key,
                   `v1`, `v1/orders`, `fn`) next to a REST base path mapping (`rest`);
                   every refusal with AWS's exception class
  delete DOMAIN ID DeleteApiMapping, then GetApiMapping is a NotFoundException

Every part prints one JSON line for the Rust test.

Environment: V2_ENDPOINT, V2_ACCESS_KEY_ID / V2_SECRET_ACCESS_KEY, CERT_PEM / KEY_PEM (a
`*.example.com` certificate and its key), CA_PEM, BACKEND_ROOT / BACKEND_V1 /
BACKEND_ORDERS (echo backends), REST_API_ID (a REST API deployed to `prod`).
"""

import datetime
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"
E = os.environ
session = dict(
    endpoint_url=E["V2_ENDPOINT"],
    aws_access_key_id=E["V2_ACCESS_KEY_ID"],
    aws_secret_access_key=E["V2_SECRET_ACCESS_KEY"],
    region_name=REGION,
)
v2 = boto3.client("apigatewayv2", **session)
v1 = boto3.client("apigateway", **session)


def log(msg):
    print(f"[http_api_domains.py] {msg}", file=sys.stderr, flush=True)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


def fails(call, error_type, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(code == error_type, f"{call.__name__}: {code} != {error_type} ({e})")
        want = {"BadRequestException": 400, "NotFoundException": 404,
                "ConflictException": 409}[error_type]
        check(status == want, f"{call.__name__}: status {status} for {error_type}")
        return e.response["Error"]["Message"]
    raise SystemExit(f"FAILED: {call.__name__}({kwargs}) succeeded")


def out(value):
    print(json.dumps(value), flush=True)


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def http_api(name, routes, stage="$default", **kwargs):
    """An HTTP API whose routes (key -> HTTP_PROXY URL) are deployed to an autoDeploy stage."""
    api_id = v2.create_api(Name=name, ProtocolType="HTTP", **kwargs)["ApiId"]
    for key, uri in routes.items():
        it = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY",
                                   IntegrationUri=uri, IntegrationMethod="ANY",
                                   PayloadFormatVersion="1.0")["IntegrationId"]
        v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{it}")
    v2.create_stage(ApiId=api_id, StageName=stage, AutoDeploy=True)
    return api_id


def check_domain(d, name, arn, policy):
    check(d["DomainName"] == name, f"domainName {d}")
    check(d["DomainNameArn"] == f"arn:aws:apigateway:{REGION}::/domainnames/{name}", f"arn {d}")
    check(d["ApiMappingSelectionExpression"] == "$request.basepath", f"selection {d}")
    configs = d["DomainNameConfigurations"]
    check(len(configs) == 1, f"configurations {d}")
    c = configs[0]
    check(c["CertificateArn"] == arn, f"certificateArn {c}")
    check(c["EndpointType"] == "REGIONAL", f"endpointType {c}")
    check(c["DomainNameStatus"] == "AVAILABLE", f"status {c}")
    check(c["SecurityPolicy"] == policy, f"securityPolicy {c}")
    check(c["ApiGatewayDomainName"].endswith(".execute-api.localhost"), f"target {c}")
    check(c["ApiGatewayDomainName"].startswith("d-"), f"target {c}")
    check(bool(c["HostedZoneId"]), f"hostedZoneId {c}")
    check(isinstance(c["CertificateUploadDate"], datetime.datetime), f"upload date {c}")


def part_setup():
    # One namespace of domain names: a REST CreateDomainName uploads the certificate...
    rest = v1.create_domain_name(
        domainName="rest.example.com", certificateName="wildcard",
        certificateBody=E["CERT_PEM"], certificateChain=E["CA_PEM"],
        certificatePrivateKey=E["KEY_PEM"], endpointConfiguration={"types": ["REGIONAL"]})
    arn = rest["regionalCertificateArn"]
    # ... and apigatewayv2 sees that domain.
    check_domain(v2.get_domain_name(DomainName="rest.example.com"), "rest.example.com", arn,
                 "TLS_1_2")

    # CreateDomainName refusals.
    msg = fails(v2.create_domain_name, "BadRequestException", DomainName="api.example.com")
    check("certificateArn" in msg, msg)
    fails(v2.create_domain_name, "BadRequestException", DomainName="api.example.com",
          DomainNameConfigurations=[{"CertificateArn": "arn:aws:acm:us-east-1:1:certificate/x"}])
    fails(v2.create_domain_name, "BadRequestException", DomainName="api.example.com",
          DomainNameConfigurations=[{"CertificateArn": f"{arn}-missing"}])
    fails(v2.create_domain_name, "BadRequestException", DomainName="not a host",
          DomainNameConfigurations=[{"CertificateArn": arn}])
    fails(v2.create_domain_name, "BadRequestException", DomainName="api.example.com",
          DomainNameConfigurations=[{"CertificateArn": arn}], RoutingMode="ROUTING_RULE_ONLY")
    fails(v2.create_domain_name, "ConflictException", DomainName="rest.example.com",
          DomainNameConfigurations=[{"CertificateArn": arn}])

    # The HTTP API domain, serving the same certificate (named by its ARN).
    d = v2.create_domain_name(
        DomainName="api.example.com", Tags={"team": "orders"},
        DomainNameConfigurations=[{"CertificateArn": arn, "EndpointType": "REGIONAL",
                                   "SecurityPolicy": "TLS_1_2"}])
    check_domain(d, "api.example.com", arn, "TLS_1_2")
    check(d["Tags"] == {"team": "orders"}, f"tags {d}")
    check(d["RoutingMode"] == "API_MAPPING_ONLY", f"routingMode {d}")
    # The REST API sees it too.
    seen = v1.get_domain_name(domainName="api.example.com")
    check(seen["regionalCertificateArn"] == arn, f"REST view {seen}")
    names = sorted(x["DomainName"] for x in v2.get_domain_names()["Items"])
    check(names == ["api.example.com", "rest.example.com"], f"domains {names}")
    # UpdateDomainName: what is given changes, the rest stays.
    u = v2.update_domain_name(DomainName="api.example.com",
                              DomainNameConfigurations=[{"SecurityPolicy": "TLS_1_0"}])
    check_domain(u, "api.example.com", arn, "TLS_1_0")
    u = v2.update_domain_name(DomainName="api.example.com",
                              DomainNameConfigurations=[{"SecurityPolicy": "TLS_1_2",
                                                         "CertificateArn": arn}])
    check_domain(u, "api.example.com", arn, "TLS_1_2")
    fails(v2.update_domain_name, "NotFoundException", DomainName="nope.example.com",
          DomainNameConfigurations=[{"SecurityPolicy": "TLS_1_2"}])
    fails(v2.get_domain_name, "NotFoundException", DomainName="nope.example.com")
    # DeleteDomainName.
    v2.create_domain_name(DomainName="tmp.example.com",
                          DomainNameConfigurations=[{"CertificateArn": arn}])
    v2.delete_domain_name(DomainName="tmp.example.com")
    fails(v2.get_domain_name, "NotFoundException", DomainName="tmp.example.com")
    fails(v2.delete_domain_name, "NotFoundException", DomainName="tmp.example.com")

    # The HTTP APIs: the domain's root, `v1`, `v1/orders` (a named stage of an API whose
    # execute-api endpoint is disabled) and `fn` (a Lambda echo, payload 2.0).
    root = http_api("root", {"GET /other": f"{E['BACKEND_ROOT']}/other"})
    one = http_api("v1", {"ANY /{proxy+}": f"{E['BACKEND_V1']}/{{proxy}}"})
    orders = http_api("orders", {"GET /items/{id}": f"{E['BACKEND_ORDERS']}/items/{{id}}"},
                      stage="live", DisableExecuteApiEndpoint=True)
    fn = v2.create_api(Name="fn", ProtocolType="HTTP")["ApiId"]
    it = v2.create_integration(ApiId=fn, IntegrationType="AWS_PROXY",
                               IntegrationUri=function_arn("http-echo"),
                               PayloadFormatVersion="2.0")["IntegrationId"]
    v2.create_route(ApiId=fn, RouteKey="ANY /{proxy+}", Target=f"integrations/{it}")
    v2.create_stage(ApiId=fn, StageName="$default", AutoDeploy=True)
    ws = v2.create_api(Name="ws", ProtocolType="WEBSOCKET",
                       RouteSelectionExpression="$request.body.action")["ApiId"]

    dom = "api.example.com"
    made = {}
    for key, api, stage in [("", root, "$default"), ("v1", one, "$default"),
                            ("v1/orders", orders, "live"), ("fn", fn, "$default")]:
        kwargs = {"ApiMappingKey": key} if key else {}
        m = v2.create_api_mapping(DomainName=dom, ApiId=api, Stage=stage, **kwargs)
        check(m["ApiId"] == api and m["Stage"] == stage, f"mapping {m}")
        check(m["ApiMappingKey"] == key, f"key {m}")
        check(bool(m["ApiMappingId"]), f"id {m}")
        made[key or "(none)"] = m["ApiMappingId"]
    # A REST stage on the same domain, by base path mapping.
    v1.create_base_path_mapping(domainName=dom, basePath="rest", restApiId=E["REST_API_ID"],
                                stage="prod")

    # API mapping refusals.
    msg = fails(v2.create_api_mapping, "BadRequestException", DomainName=dom, ApiId="nope",
                Stage="$default", ApiMappingKey="x")
    check("nope" in msg, msg)
    msg = fails(v2.create_api_mapping, "BadRequestException", DomainName=dom, ApiId=root,
                Stage="nope", ApiMappingKey="x")
    check("stage" in msg.lower(), msg)
    fails(v2.create_api_mapping, "BadRequestException", DomainName=dom, ApiId=ws,
          Stage="$default", ApiMappingKey="x")
    for bad in ["/x", "x/", "a//b", "a b", "(none)"]:
        fails(v2.create_api_mapping, "BadRequestException", DomainName=dom, ApiId=root,
              Stage="$default", ApiMappingKey=bad)
    fails(v2.create_api_mapping, "ConflictException", DomainName=dom, ApiId=root,
          Stage="$default", ApiMappingKey="v1/orders")
    fails(v2.create_api_mapping, "ConflictException", DomainName=dom, ApiId=root,
          Stage="$default")
    # One namespace of keys per domain, both ways.
    fails(v2.create_api_mapping, "ConflictException", DomainName=dom, ApiId=root,
          Stage="$default", ApiMappingKey="rest")
    fails(v1.create_base_path_mapping, "ConflictException", domainName=dom, basePath="v1",
          restApiId=E["REST_API_ID"], stage="prod")
    fails(v2.create_api_mapping, "BadRequestException", DomainName=dom, ApiId=root,
          Stage="$default", ApiMappingKey="k" * 301)
    # AWS maps HTTP APIs only to REGIONAL domains with the TLS 1.2 policy.
    v2.create_domain_name(DomainName="edge.example.com",
                          DomainNameConfigurations=[{"CertificateArn": arn,
                                                     "EndpointType": "EDGE"}])
    msg = fails(v2.create_api_mapping, "BadRequestException", DomainName="edge.example.com",
                ApiId=root, Stage="$default")
    check("REGIONAL" in msg, msg)
    v2.update_domain_name(DomainName="edge.example.com",
                          DomainNameConfigurations=[{"EndpointType": "REGIONAL",
                                                     "SecurityPolicy": "TLS_1_0"}])
    fails(v2.create_api_mapping, "BadRequestException", DomainName="edge.example.com",
          ApiId=root, Stage="$default")
    v2.delete_domain_name(DomainName="edge.example.com")
    fails(v2.create_api_mapping, "NotFoundException", DomainName="nope.example.com",
          ApiId=root, Stage="$default", ApiMappingKey="x")
    fails(v2.get_api_mapping, "NotFoundException", DomainName=dom, ApiMappingId="nope")
    fails(v2.get_api_mappings, "NotFoundException", DomainName="nope.example.com")

    # Reads and UpdateApiMapping.
    listed = v2.get_api_mappings(DomainName=dom)["Items"]
    check(sorted(m["ApiMappingKey"] for m in listed) == ["", "fn", "v1", "v1/orders"],
          f"listed {listed}")
    got = v2.get_api_mapping(DomainName=dom, ApiMappingId=made["v1/orders"])
    check(got == {**got, "ApiId": orders, "Stage": "live", "ApiMappingKey": "v1/orders"},
          f"got {got}")
    moved = v2.update_api_mapping(DomainName=dom, ApiMappingId=made["fn"], ApiId=fn,
                                  ApiMappingKey="lambda/echo")
    check(moved["ApiMappingKey"] == "lambda/echo" and moved["Stage"] == "$default", f"{moved}")
    fails(v2.update_api_mapping, "ConflictException", DomainName=dom,
          ApiMappingId=made["fn"], ApiId=fn, ApiMappingKey="v1")
    fails(v2.update_api_mapping, "BadRequestException", DomainName=dom,
          ApiMappingId=made["fn"], ApiId=fn, Stage="nope")
    fails(v2.update_api_mapping, "NotFoundException", DomainName=dom,
          ApiMappingId="nope", ApiId=fn)
    out({"root": root, "v1": one, "orders": orders, "fn": fn, "mappings": made})


def part_delete(domain, mapping_id):
    v2.delete_api_mapping(DomainName=domain, ApiMappingId=mapping_id)
    fails(v2.get_api_mapping, "NotFoundException", DomainName=domain, ApiMappingId=mapping_id)
    fails(v2.delete_api_mapping, "NotFoundException", DomainName=domain,
          ApiMappingId=mapping_id)
    keys = sorted(m["ApiMappingKey"] for m in v2.get_api_mappings(DomainName=domain)["Items"])
    out({"keys": keys})


def main():
    part = sys.argv[1] if len(sys.argv) > 1 else ""
    parts = {"setup": part_setup, "delete": part_delete}
    if part not in parts:
        raise SystemExit(f"usage: http_api_domains.py {{{'|'.join(parts)}}} [ARGS]")
    log(f"part {part} {' '.join(sys.argv[2:])}")
    parts[part](*sys.argv[2:])


if __name__ == "__main__":
    main()
