#!/usr/bin/env python3
"""HTTP APIs (`protocolType: HTTP`) built through boto3's `apigatewayv2` client, one part of
the end-to-end proof per invocation (`tests/tests/http_api.rs` runs each part, then calls the
data-plane nodes):

  quick                 quick create: an HTTP_PROXY `$default` API, and a Lambda one with a
                        route key
  routes                the route precedence table of AWS's "Routing API requests"
  route-change API_ID   auto-deploy: adds `GET /fresh`, deletes `ANY /{proxy+}` (no
                        CreateDeployment)
  mapping               HTTP_PROXY with request and response parameter mapping, on a
                        named stage with stage variables
  lambda                AWS_PROXY with payload format 1.0 and 2.0, the 2.0 response shortcuts
  auth                  a JWT authorizer (ISSUER_URL) and a Lambda REQUEST authorizer with
                        simple responses and caching
  cors                  corsConfiguration
  quick-update API FN   UpdateApi's quick-create members: FN's route key, API's target
  body-limit            `$request.body.name` / `$response.body.method` mappings (100 KB)
  auth-v1               a Lambda REQUEST authorizer, payload 1.0, answering IAM policies
  auth-change API AUTH ttl|policy
                        UpdateAuthorizer: AUTH's TTL changes, or it becomes the 1.0
                        policy authorizer
  reset-cache API_ID    ResetAuthorizersCache of API's `$default` stage (NotFoundException
                        for an unknown API or stage first)
  logs                  a `$default` stage with accessLogSettings (JSON)
  openapi               ImportApi of an OpenAPI 3.0 document, ExportApi
  reimport API_ID       ReimportApi with a changed document, ExportApi again

Every part checks what the management API answers (field by field where AWS documents it)
and prints one JSON line for the Rust test.

Environment: V2_ENDPOINT, V2_ACCESS_KEY_ID / V2_SECRET_ACCESS_KEY, V2_REGION (default
us-east-1), V2_ACCOUNT_ID (the control plane's account, default 000000000000), BACKEND_URL (the test's echo backend), ISSUER_URL (the test's OIDC issuer).
"""

import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

REGION = os.environ.get("V2_REGION", "us-east-1")
ACCOUNT = os.environ.get("V2_ACCOUNT_ID", "000000000000")
v2 = boto3.client(
    "apigatewayv2",
    endpoint_url=os.environ["V2_ENDPOINT"],
    aws_access_key_id=os.environ["V2_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["V2_SECRET_ACCESS_KEY"],
    region_name=REGION,
)


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def invocation_uri(name):
    return (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"{function_arn(name)}/invocations"
    )


def log(msg):
    print(f"[http_api.py] {msg}", file=sys.stderr, flush=True)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


def fails(call, error_type, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        check(code == error_type, f"{call.__name__}: {code} != {error_type} ({e})")
        return e.response["Error"]["Message"]
    raise SystemExit(f"FAILED: {call.__name__}({kwargs}) succeeded")


def integration(api_id, **kwargs):
    return v2.create_integration(ApiId=api_id, **kwargs)["IntegrationId"]


def route(api_id, key, integration_id, **kwargs):
    return v2.create_route(
        ApiId=api_id, RouteKey=key, Target=f"integrations/{integration_id}", **kwargs
    )


def default_stage(api_id, **kwargs):
    """The `$default` stage with autoDeploy: every change deploys itself."""
    stage = v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, **kwargs)
    check(stage["StageName"] == "$default" and stage["AutoDeploy"] is True, f"stage {stage}")
    return stage


def out(value):
    print(json.dumps(value), flush=True)


def part_quick():
    backend = os.environ["BACKEND_URL"]
    # Quick create with a URL target: an HTTP_PROXY integration (ANY), the `$default` route
    # and the `$default` stage with autoDeploy.
    api = v2.create_api(Name="quick-http", ProtocolType="HTTP", Target=backend)
    api_id = api["ApiId"]
    check(api["ProtocolType"] == "HTTP", "protocolType")
    check(api["ApiEndpoint"] == f"https://{api_id}.execute-api.localhost", api["ApiEndpoint"])
    check(api["RouteSelectionExpression"] == "${request.method} ${request.path}",
          f"routeSelectionExpression {api.get('RouteSelectionExpression')}")
    routes = v2.get_routes(ApiId=api_id)["Items"]
    check([r["RouteKey"] for r in routes] == ["$default"], f"routes {routes}")
    integrations = v2.get_integrations(ApiId=api_id)["Items"]
    check(len(integrations) == 1, f"integrations {integrations}")
    it = integrations[0]
    check(it["IntegrationType"] == "HTTP_PROXY", f"type {it}")
    check(it["IntegrationUri"] == backend, f"uri {it}")
    check(it["IntegrationMethod"] == "ANY", f"method {it}")
    check(it["PayloadFormatVersion"] == "1.0", f"payload {it}")
    check(routes[0]["Target"] == f"integrations/{it['IntegrationId']}", f"target {routes[0]}")
    stages = v2.get_stages(ApiId=api_id)["Items"]
    check([s["StageName"] for s in stages] == ["$default"], f"stages {stages}")
    check(stages[0]["AutoDeploy"] is True, "the quick-created stage auto-deploys")
    check(stages[0].get("DeploymentId"), f"the $default stage is deployed: {stages[0]}")

    # Quick create with a Lambda target and a route key: an AWS_PROXY integration on that
    # route only.
    fn = v2.create_api(Name="quick-fn", ProtocolType="HTTP",
                       Target=function_arn("http-shortcuts"), RouteKey="GET /shortcut/{kind}")
    fn_id = fn["ApiId"]
    fn_routes = v2.get_routes(ApiId=fn_id)["Items"]
    check([r["RouteKey"] for r in fn_routes] == ["GET /shortcut/{kind}"], f"routes {fn_routes}")
    fn_it = v2.get_integrations(ApiId=fn_id)["Items"]
    check(len(fn_it) == 1 and fn_it[0]["IntegrationType"] == "AWS_PROXY", f"{fn_it}")
    check(fn_it[0]["IntegrationUri"] == function_arn("http-shortcuts"), f"{fn_it}")

    # Quick create is for HTTP APIs only, and the target wants a URL or a function ARN.
    fails(v2.create_api, "BadRequestException", Name="x", ProtocolType="WEBSOCKET",
          RouteSelectionExpression="$request.body.action", Target=backend)
    out({"apiId": api_id, "fnApiId": fn_id})


# AWS's "Routing API requests" example routes, plus method precedence on one path.
PRECEDENCE_ROUTES = [
    "GET /pets/dog/1",
    "GET /pets/dog/{id}",
    "GET /pets/{proxy+}",
    "ANY /{proxy+}",
    "$default",
    "GET /toys/{id}",
    "ANY /toys/{id}",
]


def part_routes():
    api = v2.create_api(Name="precedence", ProtocolType="HTTP")
    api_id = api["ApiId"]
    echo = integration(api_id, IntegrationType="AWS_PROXY",
                       IntegrationUri=function_arn("http-echo"), PayloadFormatVersion="2.0")
    for key in PRECEDENCE_ROUTES:
        route(api_id, key, echo)
    got = sorted(r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"])
    check(got == sorted(PRECEDENCE_ROUTES), f"routes {got}")
    # Route keys as AWS checks them.
    fails(v2.create_route, "ConflictException", ApiId=api_id, RouteKey="GET /pets/dog/1",
          Target=f"integrations/{echo}")
    fails(v2.create_route, "BadRequestException", ApiId=api_id, RouteKey="GET pets",
          Target=f"integrations/{echo}")
    fails(v2.create_route, "BadRequestException", ApiId=api_id, RouteKey="GET /a/{proxy+}/b",
          Target=f"integrations/{echo}")
    stage = default_stage(api_id)
    out({"apiId": api_id, "deploymentId": stage.get("DeploymentId")})


def part_route_change(api_id):
    before = v2.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    echo = v2.get_integrations(ApiId=api_id)["Items"][0]["IntegrationId"]
    route(api_id, "GET /fresh", echo)
    greedy = [r for r in v2.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "ANY /{proxy+}"]
    check(len(greedy) == 1, f"ANY /{{proxy+}} {greedy}")
    v2.delete_route(ApiId=api_id, RouteId=greedy[0]["RouteId"])
    after = v2.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    check(after != before, f"auto-deploy made a new deployment ({before} -> {after})")
    deployments = {d["DeploymentId"]: d for d in v2.get_deployments(ApiId=api_id)["Items"]}
    check(deployments[after].get("AutoDeployed") is True, f"autoDeployed: {deployments[after]}")
    out({"before": before, "after": after})


def part_mapping():
    backend = os.environ["BACKEND_URL"]
    api = v2.create_api(Name="mapping", ProtocolType="HTTP")
    api_id = api["ApiId"]
    items = integration(
        api_id, IntegrationType="HTTP_PROXY", IntegrationUri=f"{backend}/ignored",
        IntegrationMethod="ANY", PayloadFormatVersion="1.0",
        RequestParameters={
            "overwrite:path": "/items/${request.path.id}/details",
            "overwrite:header.x-team": "team-${request.path.id}",
            "append:querystring.source": "gateway",
            "overwrite:header.x-color": "$stageVariables.color",
            "overwrite:header.x-route": "$context.routeKey",
            "remove:header.x-secret": "''",
        },
    )
    got = v2.get_integration(ApiId=api_id, IntegrationId=items)
    check(got["RequestParameters"]["overwrite:path"] == "/items/${request.path.id}/details",
          f"requestParameters {got}")
    status = integration(
        api_id, IntegrationType="HTTP_PROXY", IntegrationUri=f"{backend}/status/200",
        IntegrationMethod="GET", PayloadFormatVersion="1.0",
        RequestParameters={"overwrite:path": "/status/$request.path.code"},
        ResponseParameters={
            "404": {
                "overwrite:statuscode": "410",
                "overwrite:header.x-backend-header": "mapped",
                "append:header.x-stage": "$context.stage",
            },
        },
    )
    # The integration URI may name the route's path parameters (AWS's
    # `/pets/extendedpath/{petID}`).
    by_uri = integration(api_id, IntegrationType="HTTP_PROXY",
                         IntegrationUri=f"{backend}/extended/{{petId}}",
                         IntegrationMethod="GET", PayloadFormatVersion="1.0")
    route(api_id, "GET /items/{id}", items)
    route(api_id, "GET /status/{code}", status)
    route(api_id, "GET /pets/{petId}", by_uri)
    # Reserved headers and unknown keys are refused.
    fails(v2.create_integration, "BadRequestException", ApiId=api_id,
          IntegrationType="HTTP_PROXY", IntegrationUri=backend, IntegrationMethod="ANY",
          PayloadFormatVersion="1.0", RequestParameters={"overwrite:header.Connection": "x"})
    fails(v2.create_integration, "BadRequestException", ApiId=api_id,
          IntegrationType="HTTP_PROXY", IntegrationUri=backend, IntegrationMethod="ANY",
          PayloadFormatVersion="1.0", RequestParameters={"overwrite:body.x": "y"})
    # A named stage with stage variables, deployed by CreateDeployment.
    v2.create_stage(ApiId=api_id, StageName="dev", StageVariables={"color": "blue"})
    deployment = v2.create_deployment(ApiId=api_id, StageName="dev")
    check(deployment["DeploymentStatus"] == "DEPLOYED", f"deployment {deployment}")
    check(deployment.get("AutoDeployed") is not True, f"not auto-deployed {deployment}")
    stage = v2.get_stage(ApiId=api_id, StageName="dev")
    check(stage["DeploymentId"] == deployment["DeploymentId"], f"stage {stage}")
    out({"apiId": api_id})


def part_lambda():
    api = v2.create_api(Name="payloads", ProtocolType="HTTP")
    api_id = api["ApiId"]
    two = integration(api_id, IntegrationType="AWS_PROXY",
                      IntegrationUri=function_arn("http-echo"), PayloadFormatVersion="2.0")
    one = integration(api_id, IntegrationType="AWS_PROXY",
                      IntegrationUri=invocation_uri("http-echo"), PayloadFormatVersion="1.0")
    shortcuts = integration(api_id, IntegrationType="AWS_PROXY",
                            IntegrationUri=function_arn("http-shortcuts"),
                            PayloadFormatVersion="2.0")
    got = v2.get_integration(ApiId=api_id, IntegrationId=two)
    check(got["PayloadFormatVersion"] == "2.0", f"payload {got}")
    check(got["TimeoutInMillis"] == 30000, f"default timeout of HTTP APIs {got}")
    route(api_id, "$default", two)
    route(api_id, "ANY /one/{proxy+}", one)
    route(api_id, "GET /shortcut/{kind}", shortcuts)
    fails(v2.create_integration, "BadRequestException", ApiId=api_id,
          IntegrationType="AWS_PROXY", IntegrationUri=function_arn("x"),
          PayloadFormatVersion="3.0")
    # The stage variables of AWS's 2.0 example event.
    default_stage(api_id, StageVariables={"stageVariable1": "value1",
                                          "stageVariable2": "value2"})
    out({"apiId": api_id})


def part_auth():
    issuer = os.environ["ISSUER_URL"]
    api = v2.create_api(Name="auth", ProtocolType="HTTP")
    api_id = api["ApiId"]
    echo = integration(api_id, IntegrationType="AWS_PROXY",
                       IntegrationUri=function_arn("http-echo"), PayloadFormatVersion="2.0")
    jwt = v2.create_authorizer(
        ApiId=api_id, AuthorizerType="JWT", Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer, "Audience": ["api-audience"]},
    )
    check(jwt["JwtConfiguration"] == {"Issuer": issuer, "Audience": ["api-audience"]},
          f"jwtConfiguration {jwt}")
    lam = v2.create_authorizer(
        ApiId=api_id, AuthorizerType="REQUEST", Name="simple",
        AuthorizerUri=invocation_uri("http-simple-authorizer"),
        AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True,
        AuthorizerResultTtlInSeconds=300, IdentitySource=["$request.header.x-token"],
    )
    check(lam["EnableSimpleResponses"] is True and lam["AuthorizerResultTtlInSeconds"] == 300,
          f"authorizer {lam}")
    # Simple responses need payload format 2.0; caching needs an identity source; a JWT
    # authorizer needs its configuration.
    fails(v2.create_authorizer, "BadRequestException", ApiId=api_id,
          AuthorizerType="REQUEST", Name="bad", AuthorizerUri=invocation_uri("x"),
          AuthorizerPayloadFormatVersion="1.0", EnableSimpleResponses=True,
          IdentitySource=["$request.header.x"])
    fails(v2.create_authorizer, "BadRequestException", ApiId=api_id,
          AuthorizerType="REQUEST", Name="bad", AuthorizerUri=invocation_uri("x"),
          AuthorizerPayloadFormatVersion="2.0", AuthorizerResultTtlInSeconds=60,
          IdentitySource=[])
    fails(v2.create_authorizer, "BadRequestException", ApiId=api_id, AuthorizerType="JWT",
          Name="bad", IdentitySource=["$request.header.Authorization"])
    route(api_id, "GET /me", echo, AuthorizationType="JWT", AuthorizerId=jwt["AuthorizerId"])
    admin = route(api_id, "GET /admin", echo, AuthorizationType="JWT",
                  AuthorizerId=jwt["AuthorizerId"], AuthorizationScopes=["admin:write"])
    check(admin["AuthorizationScopes"] == ["admin:write"], f"scopes {admin}")
    route(api_id, "GET /lambda", echo, AuthorizationType="CUSTOM",
          AuthorizerId=lam["AuthorizerId"])
    route(api_id, "GET /open", echo)
    default_stage(api_id)
    out({"apiId": api_id, "lambdaAuthorizerId": lam["AuthorizerId"]})


def part_cors():
    api = v2.create_api(
        Name="cors", ProtocolType="HTTP",
        CorsConfiguration={
            "AllowOrigins": ["https://www.example.com"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["x-custom", "authorization"],
            "ExposeHeaders": ["x-backend-header"],
            "MaxAge": 300,
            "AllowCredentials": True,
        },
    )
    api_id = api["ApiId"]
    check(api["CorsConfiguration"]["MaxAge"] == 300, f"cors {api}")
    # `GET /data/cors` answers with the function's own `Access-Control-Allow-Origin: *`,
    # which the gateway ignores when the API has a CORS configuration.
    fn = integration(api_id, IntegrationType="AWS_PROXY",
                     IntegrationUri=function_arn("http-shortcuts"), PayloadFormatVersion="2.0")
    route(api_id, "GET /data/{kind}", fn)
    default_stage(api_id)
    out({"apiId": api_id})


def openapi_document(extra_paths):
    backend = os.environ["BACKEND_URL"]
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "imported-pets", "version": "2024-01-01"},
        "paths": {
            "/pets": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy",
                        "httpMethod": "GET",
                        "uri": f"{backend}/store/pets",
                        "payloadFormatVersion": "1.0",
                    },
                },
            },
            "/pets/{petId}": {
                "get": {
                    "parameters": [{"name": "petId", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": invocation_uri("http-echo"),
                        "payloadFormatVersion": "2.0",
                    },
                },
            },
        },
        "x-amazon-apigateway-cors": {
            "allowOrigins": ["https://app.example.com"],
            "allowMethods": ["GET"],
            "maxAge": 60,
        },
    }
    doc["paths"].update(extra_paths)
    return json.dumps(doc)


def check_export(api_id, paths):
    body = v2.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON",
                         IncludeExtensions=True)["body"].read()
    doc = json.loads(body)
    check(doc["openapi"].startswith("3.0"), f"openapi {doc.get('openapi')}")
    check(doc["info"]["title"] == "imported-pets", f"info {doc.get('info')}")
    check(sorted(doc["paths"]) == sorted(paths), f"paths {sorted(doc['paths'])}")
    get_pets = doc["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]
    check(get_pets["type"].lower() == "http_proxy", f"integration {get_pets}")
    check(get_pets["uri"] == f"{os.environ['BACKEND_URL']}/store/pets", f"uri {get_pets}")
    check(get_pets["payloadFormatVersion"] == "1.0", f"payload {get_pets}")
    pet = doc["paths"]["/pets/{petId}"]["get"]["x-amazon-apigateway-integration"]
    check(pet["type"].lower() == "aws_proxy", f"integration {pet}")
    check(pet["payloadFormatVersion"] == "2.0", f"payload {pet}")
    check("http-echo" in pet["uri"], f"uri {pet}")
    cors = doc.get("x-amazon-apigateway-cors")
    check(cors is not None and cors["allowOrigins"] == ["https://app.example.com"]
          and cors["maxAge"] == 60, f"cors {cors}")
    yaml_body = v2.export_api(ApiId=api_id, Specification="OAS30", OutputType="YAML",
                              IncludeExtensions=True)["body"].read().decode()
    return yaml_body


def part_openapi():
    api = v2.import_api(Body=openapi_document({}))
    api_id = api["ApiId"]
    check(api["Name"] == "imported-pets" and api["ProtocolType"] == "HTTP", f"api {api}")
    check(api["CorsConfiguration"]["AllowOrigins"] == ["https://app.example.com"], f"{api}")
    routes = sorted(r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"])
    check(routes == ["GET /pets", "GET /pets/{petId}"], f"routes {routes}")
    kinds = sorted((i["IntegrationType"], i["PayloadFormatVersion"])
                   for i in v2.get_integrations(ApiId=api_id)["Items"])
    check(kinds == [("AWS_PROXY", "2.0"), ("HTTP_PROXY", "1.0")], f"integrations {kinds}")
    fails(v2.import_api, "BadRequestException", Body="{not a document")
    default_stage(api_id)
    yaml_body = check_export(api_id, ["/pets", "/pets/{petId}"])
    out({"apiId": api_id, "yaml": yaml_body})


def part_reimport(api_id):
    toys = {
        "/toys": {
            "get": {
                "x-amazon-apigateway-integration": {
                    "type": "http_proxy",
                    "httpMethod": "GET",
                    "uri": f"{os.environ['BACKEND_URL']}/store/toys",
                    "payloadFormatVersion": "1.0",
                },
            },
        },
    }
    v2.reimport_api(ApiId=api_id, Body=openapi_document(toys))
    routes = sorted(r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"])
    check(routes == ["GET /pets", "GET /pets/{petId}", "GET /toys"], f"routes {routes}")
    check_export(api_id, ["/pets", "/pets/{petId}", "/toys"])
    out({"apiId": api_id})


def part_quick_update(api_id, fn_id):
    # AWS: RouteKey "replaces the route key of the quick create route"; Target "updates the
    # integration URI and integration type".
    v2.update_api(ApiId=fn_id, RouteKey="GET /short/{kind}")
    keys = [r["RouteKey"] for r in v2.get_routes(ApiId=fn_id)["Items"]]
    check(keys == ["GET /short/{kind}"], f"routes {keys}")
    v2.update_api(ApiId=api_id, Target=function_arn("http-echo"))
    its = v2.get_integrations(ApiId=api_id)["Items"]
    check(len(its) == 1 and its[0]["IntegrationType"] == "AWS_PROXY"
          and its[0]["PayloadFormatVersion"] == "2.0"
          and its[0]["IntegrationUri"] == function_arn("http-echo"), f"integrations {its}")
    out({"apiId": api_id, "fnApiId": fn_id})


def part_body_limit():
    backend = os.environ["BACKEND_URL"]
    api = v2.create_api(Name="body-limit", ProtocolType="HTTP")
    api_id = api["ApiId"]
    it = integration(
        api_id, IntegrationType="HTTP_PROXY", IntegrationUri=backend,
        IntegrationMethod="ANY", PayloadFormatVersion="1.0",
        RequestParameters={"overwrite:header.x-name": "$request.body.name"},
        ResponseParameters={"200": {"overwrite:header.x-method": "$response.body.method"}},
    )
    route(api_id, "POST /limit", it)
    default_stage(api_id)
    out({"apiId": api_id})


def part_auth_v1():
    api = v2.create_api(Name="auth-v1", ProtocolType="HTTP")
    api_id = api["ApiId"]
    echo = integration(api_id, IntegrationType="AWS_PROXY",
                       IntegrationUri=function_arn("http-echo"), PayloadFormatVersion="2.0")
    lam = v2.create_authorizer(
        ApiId=api_id, AuthorizerType="REQUEST", Name="policy",
        AuthorizerUri=invocation_uri("http-policy-authorizer"),
        AuthorizerPayloadFormatVersion="1.0", AuthorizerResultTtlInSeconds=300,
        IdentitySource=["$request.header.x-token"],
    )
    check(lam["AuthorizerPayloadFormatVersion"] == "1.0"
          and lam.get("EnableSimpleResponses") is not True, f"authorizer {lam}")
    for key in ["GET /policy/allowed", "GET /policy/other"]:
        route(api_id, key, echo, AuthorizationType="CUSTOM", AuthorizerId=lam["AuthorizerId"])
    route(api_id, "GET /open", echo)
    default_stage(api_id)
    out({"apiId": api_id})


def part_auth_change(api_id, authorizer_id, what):
    if what == "ttl":
        v2.update_authorizer(ApiId=api_id, AuthorizerId=authorizer_id,
                             AuthorizerResultTtlInSeconds=120)
    else:
        v2.update_authorizer(
            ApiId=api_id, AuthorizerId=authorizer_id,
            AuthorizerUri=invocation_uri("http-policy-authorizer"),
            AuthorizerPayloadFormatVersion="1.0", EnableSimpleResponses=False,
        )
    got = v2.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    check(got["AuthorizerResultTtlInSeconds"] == 120
          or got["AuthorizerPayloadFormatVersion"] == "1.0", f"authorizer {got}")
    out({"apiId": api_id})


def part_reset_cache(api_id):
    message = fails(v2.reset_authorizers_cache, "NotFoundException", ApiId=api_id,
                    StageName="nosuchstage")
    check("nosuchstage" in message, f"message names the stage: {message}")
    message = fails(v2.reset_authorizers_cache, "NotFoundException", ApiId="nosuchapi",
                    StageName="$default")
    check("nosuchapi" in message, f"message names the API: {message}")
    got = v2.reset_authorizers_cache(ApiId=api_id, StageName="$default")
    status = got["ResponseMetadata"]["HTTPStatusCode"]
    check(status == 204, f"ResetAuthorizersCache answered {status}")
    out({"apiId": api_id})


LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "routeKey": "$context.routeKey",
    "status": "$context.status", "method": "$context.httpMethod", "path": "$context.path",
    "stage": "$context.stage", "apiId": "$context.apiId",
    "accountId": "$context.accountId", "protocol": "$context.protocol",
    "integrationStatus": "$context.integrationStatus", "ip": "$context.identity.sourceIp",
    "extendedRequestId": "$context.extendedRequestId",
}, separators=(",", ":"))


def part_logs():
    backend = os.environ["BACKEND_URL"]
    api = v2.create_api(Name="logged", ProtocolType="HTTP")
    api_id = api["ApiId"]
    it = integration(api_id, IntegrationType="HTTP_PROXY", IntegrationUri=backend,
                     IntegrationMethod="ANY", PayloadFormatVersion="1.0")
    route(api_id, "GET /logged/{id}", it)
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:http-access"
    stage = default_stage(api_id, AccessLogSettings={"DestinationArn": arn,
                                                     "Format": LOG_FORMAT})
    check(stage["AccessLogSettings"] == {"DestinationArn": arn, "Format": LOG_FORMAT},
          f"accessLogSettings {stage}")
    out({"apiId": api_id})


def main():
    part = sys.argv[1] if len(sys.argv) > 1 else ""
    args = sys.argv[2:]
    parts = {
        "quick": part_quick,
        "routes": part_routes,
        "route-change": part_route_change,
        "mapping": part_mapping,
        "lambda": part_lambda,
        "auth": part_auth,
        "cors": part_cors,
        "openapi": part_openapi,
        "reimport": part_reimport,
        "quick-update": part_quick_update,
        "body-limit": part_body_limit,
        "auth-v1": part_auth_v1,
        "auth-change": part_auth_change,
        "reset-cache": part_reset_cache,
        "logs": part_logs,
    }
    if part not in parts:
        raise SystemExit(f"usage: http_api.py {{{'|'.join(parts)}}} [API_ID]")
    log(f"part {part} {' '.join(args)}")
    parts[part](*args)


if __name__ == "__main__":
    main()
