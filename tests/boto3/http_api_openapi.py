#!/usr/bin/env python3
"""HTTP API OpenAPI import, reimport and export through boto3's `apigatewayv2` client.

    http_api_openapi.py import     ImportApi (a YAML document with AWS's extensions: HTTP
                                   proxy integrations with parameter mapping, a shared
                                   integration, the $default route, a JWT authorizer with
                                   scopes, CORS), failOnWarnings, errors, the $default stage
                                   with autoDeploy, ExportApi (JSON, YAML, a stage, without
                                   extensions), and the exported document imported as a
                                   second API that exports the same document again.
    http_api_openapi.py reimport API_ID
                                   ReimportApi: routes, integrations and authorizers
                                   replaced, the API's name from the new document.

Environment: V2_ENDPOINT, V2_ACCESS_KEY_ID / V2_SECRET_ACCESS_KEY, BACKEND_URL (the echo
backend the integrations call). Prints one JSON line for the Rust test
(tests/tests/http_api_openapi.rs).
"""

import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

v2 = boto3.client(
    "apigatewayv2",
    endpoint_url=os.environ["V2_ENDPOINT"],
    aws_access_key_id=os.environ["V2_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["V2_SECRET_ACCESS_KEY"],
    region_name="us-east-1",
)
BACKEND = os.environ["BACKEND_URL"]


def log(msg):
    print(f"[http_api_openapi.py] {msg}", file=sys.stderr, flush=True)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


def fails(call, error_type, words, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        message = e.response["Error"]["Message"]
        check(code == error_type, f"{call.__name__}: {code} != {error_type} ({message})")
        check(words in message, f"{call.__name__}: '{words}' not in '{message}'")
        return message
    raise SystemExit(f"FAILED: {call.__name__}({kwargs}) succeeded")


# A YAML document as AWS documents HTTP API definitions (written as text: YAML is what
# the import reads, and no YAML library is needed here).
PETS = f"""
openapi: 3.0.1
info:
  title: pets-imported
  description: imported from OpenAPI
  version: "2026-12-07"
x-amazon-apigateway-importexport-version: "1.0"
x-amazon-apigateway-request-validators:
  all: {{validateRequestBody: true}}
x-amazon-apigateway-cors:
  allowOrigins: ["https://app.example.com"]
  allowMethods: [GET, POST]
  allowHeaders: [content-type]
  maxAge: 600
paths:
  /pets:
    get:
      operationId: listPets
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: {BACKEND}/pets
        payloadFormatVersion: "1.0"
        requestParameters:
          overwrite:header.x-imported: "yes"
          append:querystring.source: openapi
    post:
      security:
        - jwt: [pets.write]
      x-amazon-apigateway-integration:
        $ref: "#/components/x-amazon-apigateway-integrations/pets-backend"
  /pets/{{petId}}:
    x-amazon-apigateway-any-method:
      parameters:
        - name: petId
          in: path
          required: true
          schema: {{type: string}}
      x-amazon-apigateway-integration:
        $ref: "#/components/x-amazon-apigateway-integrations/pets-backend"
  /$default:
    x-amazon-apigateway-any-method:
      isDefaultRoute: true
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: ANY
        uri: {BACKEND}/fallback
        payloadFormatVersion: "1.0"
        timeoutInMillis: 5000
components:
  securitySchemes:
    jwt:
      type: oauth2
      flows: {{}}
      x-amazon-apigateway-authorizer:
        type: jwt
        identitySource: $request.header.Authorization
        jwtConfiguration:
          issuer: https://issuer.example.com
          audience: [pets-app]
  x-amazon-apigateway-integrations:
    pets-backend:
      type: http_proxy
      httpMethod: ANY
      uri: {BACKEND}/shared
      payloadFormatVersion: "1.0"
"""


def export(api_id, output="JSON", **kwargs):
    body = v2.export_api(ApiId=api_id, OutputType=output, Specification="OAS30", **kwargs)["body"]
    text = body.read() if hasattr(body, "read") else body
    return text.decode() if isinstance(text, bytes) else text


def comparable(doc):
    """An exported document without what differs between two APIs (the host, the version
    written from the creation date)."""
    doc = json.loads(json.dumps(doc))
    doc.pop("servers", None)
    doc["info"].pop("version", None)
    # Shared integrations are named after their ids.
    shared = doc.get("components", {}).pop("x-amazon-apigateway-integrations", {})
    for item in doc["paths"].values():
        for op in item.values():
            ref = op.get("x-amazon-apigateway-integration", {}).get("$ref")
            if ref:
                op["x-amazon-apigateway-integration"] = shared[ref.rsplit("/", 1)[1]]
    return doc


def do_import():
    # failOnWarnings refuses a document with something ignored, naming it.
    msg = fails(v2.import_api, "BadRequestException", "Warnings found during import",
                Body=PETS, FailOnWarnings=True)
    check("x-amazon-apigateway-request-validators" in msg, msg)
    # Not an OpenAPI 3.0 document; an integration the rules refuse, named by its route.
    fails(v2.import_api, "BadRequestException", "OpenAPI 3.0",
          Body=json.dumps({"swagger": "2.0", "info": {"title": "x"}, "paths": {}}))
    fails(v2.import_api, "BadRequestException", "cannot be read", Body="{not json")
    bad_uri = PETS.replace(f"uri: {BACKEND}/pets\n", "uri: ftp://nowhere/pets\n")
    msg = fails(v2.import_api, "BadRequestException", "GET /pets", Body=bad_uri)
    check("integrationUri" in msg, msg)
    fails(v2.import_api, "BadRequestException", "unknown integration type",
          Body=PETS.replace("type: http_proxy\n        httpMethod: GET", "type: grpc\n        httpMethod: GET"))
    check(not [a for a in v2.get_apis()["Items"] if a["Name"] == "pets-imported"],
          "a refused import leaves no API behind")

    api = v2.import_api(Body=PETS, Basepath="ignore")
    api_id = api["ApiId"]
    log(f"imported {api_id}")
    check(api["ProtocolType"] == "HTTP", api)
    check(api["Name"] == "pets-imported" and api["Version"] == "2026-12-07", api)
    check(api["Description"] == "imported from OpenAPI", api)
    check(api["CorsConfiguration"]["AllowOrigins"] == ["https://app.example.com"], api)
    check(any("request-validators" in w for w in api.get("Warnings", [])), api)

    routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api_id)["Items"]}
    check(sorted(routes) == ["$default", "ANY /pets/{petId}", "GET /pets", "POST /pets"], routes)
    check(routes["GET /pets"].get("OperationName") == "listPets", routes["GET /pets"])
    post = routes["POST /pets"]
    check(post["AuthorizationType"] == "JWT" and post["AuthorizationScopes"] == ["pets.write"], post)
    authorizers = v2.get_authorizers(ApiId=api_id)["Items"]
    check(len(authorizers) == 1 and authorizers[0]["AuthorizerType"] == "JWT", authorizers)
    check(post["AuthorizerId"] == authorizers[0]["AuthorizerId"], post)
    check(authorizers[0]["JwtConfiguration"]["Audience"] == ["pets-app"], authorizers)
    integrations = {i["IntegrationId"]: i for i in v2.get_integrations(ApiId=api_id)["Items"]}
    check(len(integrations) == 3, integrations)  # the shared one once
    check(post["Target"] == routes["ANY /pets/{petId}"]["Target"], "shared integration")
    get_pets = integrations[routes["GET /pets"]["Target"].split("/")[1]]
    check(get_pets["IntegrationType"] == "HTTP_PROXY" and get_pets["IntegrationMethod"] == "GET", get_pets)
    check(get_pets["RequestParameters"] == {"overwrite:header.x-imported": "yes",
                                            "append:querystring.source": "openapi"}, get_pets)

    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)

    # Export: the latest configuration, JSON.
    doc = json.loads(export(api_id))
    check(doc["openapi"] == "3.0.1" and doc["info"]["title"] == "pets-imported", doc)
    check(doc["x-amazon-apigateway-importexport-version"] == "1.0", doc)
    check(doc["x-amazon-apigateway-cors"]["maxAge"] == 600, doc)
    check(doc["paths"]["/$default"]["x-amazon-apigateway-any-method"]["isDefaultRoute"] is True, doc)
    check(doc["paths"]["/pets"]["post"]["security"] == [{"jwt": ["pets.write"]}], doc)
    integ = doc["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]
    check(integ["type"] == "http_proxy" and integ["uri"] == f"{BACKEND}/pets", integ)
    scheme = doc["components"]["securitySchemes"]["jwt"]["x-amazon-apigateway-authorizer"]
    check(scheme["type"] == "jwt" and scheme["jwtConfiguration"]["issuer"] == "https://issuer.example.com", scheme)
    # YAML, a stage, no extensions.
    text = export(api_id, "YAML", StageName="$default")
    check("openapi: 3.0.1" in text and "x-amazon-apigateway-integration" in text, text)
    bare = json.loads(export(api_id, IncludeExtensions=False))
    check("x-amazon-apigateway-integration" not in json.dumps(bare), bare)
    check("/pets/{petId}" in bare["paths"], bare)
    fails(v2.export_api, "NotFoundException", "nosuch", ApiId=api_id, OutputType="JSON",
          Specification="OAS30", StageName="nosuch")
    fails(v2.export_api, "BadRequestException", "exportVersion", ApiId=api_id,
          OutputType="JSON", Specification="OAS30", ExportVersion="2.0")
    fails(v2.export_api, "NotFoundException", "Invalid API identifier", ApiId="nosuchapi",
          OutputType="JSON", Specification="OAS30")

    # The exported document is an API again, and it exports the same document.
    copy = v2.import_api(Body=json.dumps(doc), FailOnWarnings=True)
    check(copy["Warnings"] == [] if "Warnings" in copy else True, copy)
    again = json.loads(export(copy["ApiId"]))
    check(comparable(again) == comparable(doc),
          f"round trip differs:\n{json.dumps(comparable(doc), sort_keys=True)}\n"
          f"{json.dumps(comparable(again), sort_keys=True)}")
    print(json.dumps({"apiId": api_id, "copyId": copy["ApiId"]}))


V2_DOC = f"""{{
  "openapi": "3.0.1",
  "info": {{"title": "pets-reimported", "version": "2"}},
  "paths": {{
    "/v2/items/{{proxy+}}": {{
      "x-amazon-apigateway-any-method": {{
        "x-amazon-apigateway-integration": {{
          "type": "HTTP_PROXY", "httpMethod": "ANY", "uri": "{BACKEND}/items/{{proxy}}",
          "payloadFormatVersion": "1.0",
          "requestParameters": {{"overwrite:header.x-reimported": "$request.path.proxy"}}
        }}
      }}
    }}
  }}
}}"""


def do_reimport(api_id):
    fails(v2.reimport_api, "NotFoundException", "nosuchapi", ApiId="nosuchapi", Body=V2_DOC)
    fails(v2.reimport_api, "BadRequestException", "Errors found during import",
          ApiId=api_id, Body=V2_DOC.replace('"info"', '"nfo"'))
    api = v2.reimport_api(ApiId=api_id, Body=V2_DOC)
    check(api["ApiId"] == api_id and api["Name"] == "pets-reimported", api)
    check("CorsConfiguration" not in api, api)
    routes = v2.get_routes(ApiId=api_id)["Items"]
    check([r["RouteKey"] for r in routes] == ["ANY /v2/items/{proxy+}"], routes)
    check(len(v2.get_integrations(ApiId=api_id)["Items"]) == 1, "integrations replaced")
    check(v2.get_authorizers(ApiId=api_id)["Items"] == [], "authorizers replaced")
    stage = v2.get_stage(ApiId=api_id, StageName="$default")
    doc = json.loads(export(api_id, StageName="$default"))
    check(list(doc["paths"]) == ["/v2/items/{proxy+}"], doc)
    print(json.dumps({"apiId": api_id, "deploymentId": stage["DeploymentId"]}))


if sys.argv[1] == "import":
    do_import()
else:
    do_reimport(sys.argv[2])
