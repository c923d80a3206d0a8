#!/usr/bin/env python3
"""Custom domain names, base path mappings and client certificates through boto3 (issue 18).

Against a control plane (tests/tests/domains.rs starts one and passes certificates its test
CA issued), boto3's `apigateway` client round-trips every operation:

- CreateDomainName with PEM certificate members, GetDomainName, GetDomainNames,
  UpdateDomainName (rotation of body + key; a mismatched key refused with the old kept;
  securityPolicy; the file:// truststore), DeleteDomainName;
- CreateBasePathMapping ((none), v1, v1/orders), GetBasePathMapping(s),
  UpdateBasePathMapping, DeleteBasePathMapping;
- GenerateClientCertificate, GetClientCertificate(s), UpdateClientCertificate,
  DeleteClientCertificate, and UpdateStage's clientCertificateId;
- GetDomainNameAccessAssociations and CreateDomainNameAccessAssociation;
- and AWS's exception classes for what is refused.

Environment: APIGW_ENDPOINT, APIGW_ACCESS_KEY_ID / APIGW_SECRET_ACCESS_KEY, APIGW_REGION;
CERT_PEM / KEY_PEM (for api.example.com), CERT2_PEM / KEY2_PEM (its rotation), OTHER_KEY_PEM
(a key of another certificate), CA_PEM, TRUSTSTORE_PATH (a PEM file of client CAs).
"""

import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("APIGW_ENDPOINT", "http://127.0.0.1:8080")
KEY = os.environ.get("APIGW_ACCESS_KEY_ID", "AKIAAPIGWLOCALDEV000")
SECRET = os.environ.get("APIGW_SECRET_ACCESS_KEY", "apigw-local-development-secret-key-change-me")
REGION = os.environ.get("APIGW_REGION", "us-east-1")
E = os.environ

_started = time.monotonic()


class Failure(Exception):
    pass


def log(msg):
    print(f"[domains.py {time.monotonic() - _started:7.3f}s] {msg}", flush=True)


def check(cond, what):
    if not cond:
        raise Failure(what)


def refused(error_code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        check(code == error_code, f"expected {error_code}, got {code}: {e}")
        return e.response["Error"].get("Message", "")
    raise Failure(f"expected {error_code}, the call succeeded")


def main():
    c = boto3.client(
        "apigateway",
        endpoint_url=ENDPOINT,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name=REGION,
    )
    name = "api.example.com"

    msg = refused(
        "BadRequestException",
        c.create_domain_name,
        domainName=name,
        certificateBody=E["CERT_PEM"],
        certificatePrivateKey=E["OTHER_KEY_PEM"],
    )
    check("does not match" in msg, msg)
    d = c.create_domain_name(
        domainName=name,
        certificateName="api",
        certificateBody=E["CERT_PEM"],
        certificateChain=E["CA_PEM"],
        certificatePrivateKey=E["KEY_PEM"],
        endpointConfiguration={"types": ["REGIONAL"]},
        securityPolicy="TLS_1_2",
        mutualTlsAuthentication={"truststoreUri": "file://" + E["TRUSTSTORE_PATH"], "truststoreVersion": "1"},
        tags={"team": "web"},
    )
    check(d["domainNameStatus"] == "AVAILABLE", d)
    check(d["regionalCertificateName"] == "api", d)
    check(d["mutualTlsAuthentication"]["truststoreUri"].startswith("file://"), d)
    check("certificatePrivateKey" not in d, d)
    log("CreateDomainName")
    refused("ConflictException", c.create_domain_name, domainName=name,
            regionalCertificateArn=d["regionalCertificateArn"])
    got = c.get_domain_name(domainName=name)
    check(got["regionalCertificateArn"] == d["regionalCertificateArn"], got)
    check(got["tags"] == {"team": "web"}, got)
    check([x["domainName"] for x in c.get_domain_names()["items"]] == [name], "GetDomainNames")
    refused("NotFoundException", c.get_domain_name, domainName="nope.example.com")
    log("GetDomainName(s)")

    refused("BadRequestException", c.update_domain_name, domainName=name, patchOperations=[
        {"op": "replace", "path": "/certificateBody", "value": E["CERT2_PEM"]},
        {"op": "replace", "path": "/certificatePrivateKey", "value": E["OTHER_KEY_PEM"]},
    ])
    check(c.get_domain_name(domainName=name)["regionalCertificateArn"] == d["regionalCertificateArn"],
          "the old certificate stays")
    u = c.update_domain_name(domainName=name, patchOperations=[
        {"op": "replace", "path": "/certificateBody", "value": E["CERT2_PEM"]},
        {"op": "replace", "path": "/certificatePrivateKey", "value": E["KEY2_PEM"]},
        {"op": "replace", "path": "/certificateName", "value": "api-2"},
        {"op": "replace", "path": "/mutualTlsAuthentication/truststoreVersion", "value": "2"},
    ])
    check(u["regionalCertificateArn"] != d["regionalCertificateArn"], u)
    check(u["regionalCertificateName"] == "api-2", u)
    check(u["mutualTlsAuthentication"]["truststoreVersion"] == "2", u)
    refused("BadRequestException", c.update_domain_name, domainName=name, patchOperations=[
        {"op": "replace", "path": "/mutualTlsAuthentication/truststoreUri", "value": "s3://b/ca.pem"}])
    log("UpdateDomainName")

    api = c.create_rest_api(name="domains-boto3")["id"]
    root = c.get_resources(restApiId=api)["items"][0]["id"]
    c.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    c.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
    c.create_deployment(restApiId=api, stageName="prod")

    m = c.create_base_path_mapping(domainName=name, restApiId=api, stage="prod")
    check(m["basePath"] == "(none)", m)
    c.create_base_path_mapping(domainName=name, restApiId=api, basePath="v1", stage="prod")
    c.create_base_path_mapping(domainName=name, restApiId=api, basePath="v1/orders")
    refused("ConflictException", c.create_base_path_mapping, domainName=name, restApiId=api, basePath="v1")
    refused("BadRequestException", c.create_base_path_mapping, domainName=name, restApiId=api,
            basePath="v2", stage="nope")
    got = c.get_base_path_mapping(domainName=name, basePath="v1/orders")
    got.pop("ResponseMetadata", None)
    check(got == {"basePath": "v1/orders", "restApiId": api}, got)
    check(c.get_base_path_mapping(domainName=name, basePath="(none)")["stage"] == "prod", "(none)")
    items = c.get_base_path_mappings(domainName=name)["items"]
    check([i["basePath"] for i in items] == ["(none)", "v1", "v1/orders"], items)
    moved = c.update_base_path_mapping(domainName=name, basePath="v1/orders", patchOperations=[
        {"op": "replace", "path": "/basePath", "value": "v2/orders"},
        {"op": "replace", "path": "/stage", "value": "prod"}])
    check(moved["basePath"] == "v2/orders" and moved["stage"] == "prod", moved)
    c.delete_base_path_mapping(domainName=name, basePath="v2/orders")
    refused("NotFoundException", c.get_base_path_mapping, domainName=name, basePath="v2/orders")
    log("base path mappings")

    assoc = c.get_domain_name_access_associations()
    check(assoc.get("items", []) == [], assoc)
    refused("BadRequestException", c.create_domain_name_access_association,
            domainNameArn=d["domainNameArn"], accessAssociationSourceType="VPCE",
            accessAssociationSource="vpce-0123")
    log("access associations")

    cert = c.generate_client_certificate(description="to backends", tags={"k": "v"})
    cid = cert["clientCertificateId"]
    check(cert["pemEncodedCertificate"].startswith("-----BEGIN CERTIFICATE-----"), cert)
    check(cert["expirationDate"] > cert["createdDate"], cert)
    check(c.get_client_certificate(clientCertificateId=cid)["description"] == "to backends", "get")
    check([x["clientCertificateId"] for x in c.get_client_certificates()["items"]] == [cid], "list")
    up = c.update_client_certificate(clientCertificateId=cid, patchOperations=[
        {"op": "replace", "path": "/description", "value": "renamed"}])
    check(up["description"] == "renamed", up)
    refused("BadRequestException", c.update_stage, restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/clientCertificateId", "value": "nosuch"}])
    s = c.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/clientCertificateId", "value": cid}])
    check(s["clientCertificateId"] == cid, s)
    refused("BadRequestException", c.delete_client_certificate, clientCertificateId=cid)
    c.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "remove", "path": "/clientCertificateId"}])
    c.delete_client_certificate(clientCertificateId=cid)
    refused("NotFoundException", c.get_client_certificate, clientCertificateId=cid)
    log("client certificates")

    c.delete_domain_name(domainName=name)
    refused("NotFoundException", c.get_domain_name, domainName=name)
    log("DeleteDomainName: all round trips passed")


if __name__ == "__main__":
    try:
        main()
    except Failure as f:
        print(f"FAILED: {f}", file=sys.stderr)
        sys.exit(1)
