#!/usr/bin/env python3
"""HTTP API management through boto3's `apigatewayv2` client: quick create (a URL target,
a Lambda ARN target with a route key), routes / integrations / authorizers / stages CRUD
with the `$default` stage, auto-deploy, CORS, and the errors the v2 service answers
(types and lower-case `message`); GetApis lists HTTP and WebSocket APIs.

Environment: V2_ENDPOINT, V2_ACCESS_KEY_ID / V2_SECRET_ACCESS_KEY, V2_REGION (default
us-east-1), HTTP_BACKEND (an http URL; default http://127.0.0.1:9/). Prints one JSON line
`{"apiId", "lambdaApiId", ...}` for the Rust test, which reads the config stream.
"""

import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

REGION = os.environ.get("V2_REGION", "us-east-1")
BACKEND = os.environ.get("HTTP_BACKEND", "http://127.0.0.1:9/")
v2 = boto3.client(
    "apigatewayv2",
    endpoint_url=os.environ["V2_ENDPOINT"],
    aws_access_key_id=os.environ["V2_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["V2_SECRET_ACCESS_KEY"],
    region_name=REGION,
)
FN_ARN = f"arn:aws:lambda:{REGION}:000000000000:function:http-echo"


def fn_uri(name):
    return (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{REGION}:000000000000:function:{name}/invocations"
    )


def log(msg):
    print(f"[http_api_mgmt.py] {msg}", file=sys.stderr, flush=True)


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


def default_stage_deployment(api_id):
    return v2.get_stage(ApiId=api_id, StageName="$default").get("DeploymentId")


# ---- Quick create with a URL: HTTP_PROXY, ANY, 1.0, route $default, stage $default.
api = v2.create_api(Name="quick-url", ProtocolType="HTTP", Target=BACKEND,
                    Tags={"team": "web"})
api_id = api["ApiId"]
log(f"url api {api_id}")
check(api["ProtocolType"] == "HTTP", "protocolType")
check(api["ApiEndpoint"] == f"https://{api_id}.execute-api.localhost", api["ApiEndpoint"])
check(api["RouteSelectionExpression"] == "${request.method} ${request.path}",
      api["RouteSelectionExpression"])
check(api["DisableExecuteApiEndpoint"] is False, "disableExecuteApiEndpoint default")
check("Target" not in api and "RouteKey" not in api, "quick-create members are not kept")
integrations = v2.get_integrations(ApiId=api_id)["Items"]
check(len(integrations) == 1, f"one integration: {integrations}")
quick_int = integrations[0]
check(quick_int["IntegrationType"] == "HTTP_PROXY", quick_int)
check(quick_int["IntegrationMethod"] == "ANY", quick_int)
check(quick_int["PayloadFormatVersion"] == "1.0", quick_int)
check(quick_int["IntegrationUri"] == BACKEND, quick_int)
check(quick_int["TimeoutInMillis"] == 30000, "HTTP API default timeout 30000")
check(quick_int["ApiGatewayManaged"] is True, "quick-created integration is managed")
routes = v2.get_routes(ApiId=api_id)["Items"]
check([r["RouteKey"] for r in routes] == ["$default"], f"routes {routes}")
check(routes[0]["Target"] == f"integrations/{quick_int['IntegrationId']}", routes[0])
check(routes[0]["AuthorizationType"] == "NONE", routes[0])
stages = v2.get_stages(ApiId=api_id)["Items"]
check([s["StageName"] for s in stages] == ["$default"], f"stages {stages}")
check(stages[0]["AutoDeploy"] is True and stages[0].get("DeploymentId"), stages[0])
first_deployment = stages[0]["DeploymentId"]
check(v2.get_deployment(ApiId=api_id, DeploymentId=first_deployment)["AutoDeployed"] is True,
      "autoDeployed")

# ---- Quick create with a Lambda ARN and a route key: AWS_PROXY, 2.0.
lam = v2.create_api(Name="quick-lambda", ProtocolType="HTTP", Target=FN_ARN,
                    RouteKey="GET /hello")
lam_id = lam["ApiId"]
lam_int = v2.get_integrations(ApiId=lam_id)["Items"][0]
check(lam_int["IntegrationType"] == "AWS_PROXY", lam_int)
check(lam_int["PayloadFormatVersion"] == "2.0", lam_int)
check(lam_int["IntegrationUri"] == FN_ARN, lam_int)
lam_routes = v2.get_routes(ApiId=lam_id)["Items"]
check([r["RouteKey"] for r in lam_routes] == ["GET /hello"], lam_routes)
check(default_stage_deployment(lam_id), "the lambda API's $default stage is deployed")

# ---- GetApis lists HTTP and WebSocket APIs.
ws = v2.create_api(Name="ws", ProtocolType="WEBSOCKET",
                   RouteSelectionExpression="$request.body.action")
listed = {a["ApiId"]: a["ProtocolType"] for a in v2.get_apis()["Items"]}
check(listed.get(api_id) == "HTTP" and listed.get(lam_id) == "HTTP"
      and listed.get(ws["ApiId"]) == "WEBSOCKET", f"GetApis {listed}")

# ---- API errors.
fails(v2.create_api, "BadRequestException", "routeSelectionExpression",
      Name="x", ProtocolType="HTTP", RouteSelectionExpression="$request.body.action")
fails(v2.create_api, "BadRequestException", "target",
      Name="x", ProtocolType="HTTP", Target="ftp://example.com/")
fails(v2.create_api, "BadRequestException", "need a target",
      Name="x", ProtocolType="HTTP", RouteKey="GET /a")
fails(v2.create_api, "BadRequestException", "routeKey",
      Name="x", ProtocolType="HTTP", Target=BACKEND, RouteKey="FETCH /a")
fails(v2.create_api, "BadRequestException", "HTTP APIs",
      Name="x", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action",
      Target=BACKEND)
fails(v2.update_api, "BadRequestException", "HTTP APIs", ApiId=ws["ApiId"], Target=BACKEND)
fails(v2.create_api, "BadRequestException", "allowCredentials",
      Name="x", ProtocolType="HTTP",
      CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True})
fails(v2.create_api, "BadRequestException", "WebSocket",
      Name="x", ProtocolType="HTTP", DisableSchemaValidation=True)

# ---- UpdateApi's quick-create members (AWS: Target "updates the integration URI and
# integration type", RouteKey "replaces the route key of the quick create route",
# CredentialsArn "replaces the credentials associated with the quick create integration").
qu = v2.create_api(Name="quick-update", ProtocolType="HTTP", Target=BACKEND)
qu_id = qu["ApiId"]
qu_deployment = default_stage_deployment(qu_id)
qu_int = v2.get_integrations(ApiId=qu_id)["Items"][0]
qu_route = v2.get_routes(ApiId=qu_id)["Items"][0]
other_backend = BACKEND.rstrip("/") + "/elsewhere"
upd = v2.update_api(ApiId=qu_id, Target=other_backend, RouteKey="GET /moved/{proxy+}")
check("Target" not in upd and "RouteKey" not in upd, f"quick members not kept: {upd}")
it = v2.get_integration(ApiId=qu_id, IntegrationId=qu_int["IntegrationId"])
check(it["IntegrationUri"] == other_backend and it["IntegrationType"] == "HTTP_PROXY"
      and it["IntegrationMethod"] == "ANY" and it["PayloadFormatVersion"] == "1.0", it)
routes_now = v2.get_routes(ApiId=qu_id)["Items"]
check([(r["RouteId"], r["RouteKey"]) for r in routes_now]
      == [(qu_route["RouteId"], "GET /moved/{proxy+}")], f"the quick route moved: {routes_now}")
check(routes_now[0]["Target"] == f"integrations/{qu_int['IntegrationId']}", routes_now)
check(default_stage_deployment(qu_id) != qu_deployment, "UpdateApi auto-deploys the change")
# A function ARN target turns the integration into quick create's AWS_PROXY 2.0; the
# credentials go onto it.
role = "arn:aws:iam::000000000000:role/invoker"
v2.update_api(ApiId=qu_id, Target=FN_ARN, CredentialsArn=role)
it = v2.get_integration(ApiId=qu_id, IntegrationId=qu_int["IntegrationId"])
check(it["IntegrationType"] == "AWS_PROXY" and it["IntegrationUri"] == FN_ARN
      and it["PayloadFormatVersion"] == "2.0" and it.get("CredentialsArn") == role, it)
check(len(v2.get_integrations(ApiId=qu_id)["Items"]) == 1, "no new integration")
# Another route may still be added; the quick route's new key must stay unique.
extra = v2.create_route(ApiId=qu_id, RouteKey="GET /other",
                        Target=f"integrations/{qu_int['IntegrationId']}")
fails(v2.update_api, "ConflictException", "GET /other", ApiId=qu_id, RouteKey="GET /other")
fails(v2.update_api, "BadRequestException", "routeKey", ApiId=qu_id, RouteKey="FETCH /a")
fails(v2.update_api, "BadRequestException", "target", ApiId=qu_id, Target="ftp://example.com/")
check(v2.get_route(ApiId=qu_id, RouteId=qu_route["RouteId"])["RouteKey"]
      == "GET /moved/{proxy+}", "a refused update changes nothing")
v2.delete_route(ApiId=qu_id, RouteId=extra["RouteId"])
# An API that was not quick-created has no quick route or integration to update.
plain = v2.create_api(Name="plain", ProtocolType="HTTP")
fails(v2.update_api, "BadRequestException", "quick-created", ApiId=plain["ApiId"],
      Target=BACKEND)
v2.delete_api(ApiId=plain["ApiId"])
v2.delete_api(ApiId=qu_id)
fails(v2.update_api, "BadRequestException", "allowMethods",
      ApiId=api_id, CorsConfiguration={"AllowMethods": ["FETCH"]})
fails(v2.get_api, "NotFoundException", "Invalid API identifier", ApiId="nosuchapi")

# ---- CORS and disableExecuteApiEndpoint through UpdateApi; auto-deploy follows.
cors = {"AllowOrigins": ["https://www.example.com"], "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["authorization", "content-type"], "ExposeHeaders": ["x-trace"],
        "MaxAge": 300, "AllowCredentials": True}
updated = v2.update_api(ApiId=api_id, CorsConfiguration=cors, Description="quick")
check(updated["CorsConfiguration"]["AllowOrigins"] == ["https://www.example.com"], updated)
check(updated["RouteSelectionExpression"] == "${request.method} ${request.path}", "kept")
second_deployment = default_stage_deployment(api_id)
check(second_deployment != first_deployment, "UpdateApi redeploys the autoDeploy stage")

# ---- Integrations.
proxy = v2.create_integration(
    ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=BACKEND + "pets/{id}",
    IntegrationMethod="GET", PayloadFormatVersion="1.0", TimeoutInMillis=5000,
    RequestParameters={"append:header.x-from": "gateway",
                       "overwrite:querystring.id": "$request.path.id"},
    ResponseParameters={"404": {"overwrite:statuscode": "204"}},
    TlsConfig={"ServerNameToVerify": "backend.example.com"},
)
check(proxy["TimeoutInMillis"] == 5000 and proxy["ConnectionType"] == "INTERNET", proxy)
check(proxy["ResponseParameters"] == {"404": {"overwrite:statuscode": "204"}}, proxy)
check(proxy["TlsConfig"] == {"ServerNameToVerify": "backend.example.com"}, proxy)
fn_int = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                               IntegrationUri=fn_uri("http-echo"), PayloadFormatVersion="2.0")
fails(v2.create_integration, "BadRequestException", "payloadFormatVersion",
      ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=FN_ARN)
fails(v2.create_integration, "BadRequestException", "HTTP_PROXY integrations support only 1.0",
      ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=BACKEND,
      IntegrationMethod="GET", PayloadFormatVersion="2.0")
fails(v2.create_integration, "BadRequestException", "integrationMethod",
      ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=BACKEND,
      PayloadFormatVersion="1.0")
fails(v2.create_integration, "BadRequestException", "integrationUri",
      ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri="not a url",
      IntegrationMethod="GET", PayloadFormatVersion="1.0")
fails(v2.create_integration, "BadRequestException", "integrationUri",
      ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri="arn:aws:s3:::bucket",
      PayloadFormatVersion="2.0")
fails(v2.create_integration, "BadRequestException", "not supported for HTTP APIs",
      ApiId=api_id, IntegrationType="MOCK", PayloadFormatVersion="1.0")
fails(v2.create_integration, "BadRequestException", "not supported for HTTP APIs",
      ApiId=api_id, IntegrationType="HTTP", IntegrationUri=BACKEND, IntegrationMethod="GET",
      PayloadFormatVersion="1.0")
fails(v2.create_integration, "BadRequestException", "timeoutInMillis",
      ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=BACKEND,
      IntegrationMethod="GET", PayloadFormatVersion="1.0", TimeoutInMillis=30001)
fails(v2.create_integration, "BadRequestException", "requestTemplates",
      ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=BACKEND,
      IntegrationMethod="GET", PayloadFormatVersion="1.0", RequestTemplates={"a": "b"})
fails(v2.create_integration, "BadRequestException", "responseParameters key '600'",
      ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=BACKEND,
      IntegrationMethod="GET", PayloadFormatVersion="1.0",
      ResponseParameters={"600": {"overwrite:statuscode": "200"}})
fails(v2.create_integration, "BadRequestException", "serverNameToVerify",
      ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=BACKEND,
      IntegrationMethod="GET", PayloadFormatVersion="1.0",
      TlsConfig={"ServerNameToVerify": "bad name"})
changed = v2.update_integration(ApiId=api_id, IntegrationId=proxy["IntegrationId"],
                                TimeoutInMillis=30000)
check(changed["TimeoutInMillis"] == 30000 and changed["IntegrationMethod"] == "GET", changed)
spare = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY",
                              IntegrationUri=BACKEND, IntegrationMethod="ANY",
                              PayloadFormatVersion="1.0")
v2.delete_integration(ApiId=api_id, IntegrationId=spare["IntegrationId"])
fails(v2.get_integration, "NotFoundException", "Invalid Integration identifier",
      ApiId=api_id, IntegrationId=spare["IntegrationId"])

# ---- Authorizers.
jwt = v2.create_authorizer(
    ApiId=api_id, AuthorizerType="JWT", Name="jwt",
    IdentitySource=["$request.header.Authorization"],
    JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["pets"]},
)
check(jwt["JwtConfiguration"]["Audience"] == ["pets"], jwt)
lam_auth = v2.create_authorizer(
    ApiId=api_id, AuthorizerType="REQUEST", Name="lambda",
    AuthorizerUri=fn_uri("http-authorizer"), AuthorizerPayloadFormatVersion="2.0",
    EnableSimpleResponses=True, AuthorizerResultTtlInSeconds=60,
    IdentitySource=["$request.header.x-token", "$request.querystring.t"],
)
check(lam_auth["EnableSimpleResponses"] is True, lam_auth)
fails(v2.create_authorizer, "BadRequestException", "jwtConfiguration.audience",
      ApiId=api_id, AuthorizerType="JWT", Name="j2",
      IdentitySource=["$request.header.Authorization"],
      JwtConfiguration={"Issuer": "https://issuer.example.com"})
fails(v2.create_authorizer, "BadRequestException", "jwtConfiguration.issuer",
      ApiId=api_id, AuthorizerType="JWT", Name="j3",
      IdentitySource=["$request.header.Authorization"], JwtConfiguration={"Audience": ["a"]})
fails(v2.create_authorizer, "BadRequestException", "exactly one identitySource",
      ApiId=api_id, AuthorizerType="JWT", Name="j4",
      IdentitySource=["$request.header.A", "$request.header.B"],
      JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["a"]})
fails(v2.create_authorizer, "BadRequestException", "identitySource",
      ApiId=api_id, AuthorizerType="REQUEST", Name="r1", AuthorizerUri=fn_uri("a"),
      AuthorizerPayloadFormatVersion="2.0", IdentitySource=["route.request.header.x"])
fails(v2.create_authorizer, "BadRequestException", "authorizerPayloadFormatVersion",
      ApiId=api_id, AuthorizerType="REQUEST", Name="r2", AuthorizerUri=fn_uri("a"),
      IdentitySource=["$request.header.x"])
fails(v2.create_authorizer, "BadRequestException", "enableSimpleResponses",
      ApiId=api_id, AuthorizerType="REQUEST", Name="r3", AuthorizerUri=fn_uri("a"),
      AuthorizerPayloadFormatVersion="1.0", EnableSimpleResponses=True,
      IdentitySource=["$request.header.x"])
fails(v2.create_authorizer, "BadRequestException", "authorizerResultTtlInSeconds",
      ApiId=api_id, AuthorizerType="REQUEST", Name="r4", AuthorizerUri=fn_uri("a"),
      AuthorizerPayloadFormatVersion="2.0", AuthorizerResultTtlInSeconds=3601,
      IdentitySource=["$request.header.x"])
fails(v2.create_authorizer, "ConflictException", "jwt",
      ApiId=api_id, AuthorizerType="JWT", Name="jwt",
      IdentitySource=["$request.header.Authorization"],
      JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["a"]})

# ---- Routes.
get_pet = v2.create_route(ApiId=api_id, RouteKey="GET /pets/{id}",
                          Target=f"integrations/{proxy['IntegrationId']}",
                          AuthorizationType="JWT", AuthorizerId=jwt["AuthorizerId"],
                          AuthorizationScopes=["pets/read"])
check(get_pet["AuthorizationScopes"] == ["pets/read"], get_pet)
post_pet = v2.create_route(ApiId=api_id, RouteKey="POST /pets",
                           Target=f"integrations/{fn_int['IntegrationId']}",
                           AuthorizationType="CUSTOM", AuthorizerId=lam_auth["AuthorizerId"])
greedy = v2.create_route(ApiId=api_id, RouteKey="ANY /files/{proxy+}",
                         Target=f"integrations/{proxy['IntegrationId']}",
                         AuthorizationType="AWS_IAM")
fails(v2.create_route, "ConflictException", "GET /pets/{id}",
      ApiId=api_id, RouteKey="GET /pets/{id}")
fails(v2.create_route, "BadRequestException", "routeKey",
      ApiId=api_id, RouteKey="sendmessage")
fails(v2.create_route, "BadRequestException", "routeKey",
      ApiId=api_id, RouteKey="$connect")
fails(v2.create_route, "BadRequestException", "integration",
      ApiId=api_id, RouteKey="GET /nowhere", Target="integrations/nosuch")
fails(v2.create_route, "BadRequestException", "JWT authorizer",
      ApiId=api_id, RouteKey="GET /a", AuthorizationType="JWT",
      AuthorizerId=lam_auth["AuthorizerId"])
fails(v2.create_route, "BadRequestException", "REQUEST authorizer",
      ApiId=api_id, RouteKey="GET /b", AuthorizationType="CUSTOM",
      AuthorizerId=jwt["AuthorizerId"])
fails(v2.create_route, "BadRequestException", "authorizerId is required",
      ApiId=api_id, RouteKey="GET /c", AuthorizationType="JWT")
fails(v2.create_route, "BadRequestException", "authorizationScopes",
      ApiId=api_id, RouteKey="GET /d", AuthorizationType="CUSTOM",
      AuthorizerId=lam_auth["AuthorizerId"], AuthorizationScopes=["x"])
fails(v2.create_route, "BadRequestException", "apiKeyRequired",
      ApiId=api_id, RouteKey="GET /e", ApiKeyRequired=True)
fails(v2.create_route_response, "BadRequestException", "WebSocket",
      ApiId=api_id, RouteId=get_pet["RouteId"], RouteResponseKey="$default")
fails(v2.create_integration_response, "BadRequestException", "WebSocket",
      ApiId=api_id, IntegrationId=proxy["IntegrationId"], IntegrationResponseKey="$default")
fails(v2.create_model, "BadRequestException", "WebSocket",
      ApiId=api_id, Name="M", Schema="{}")
fails(v2.delete_authorizer, "ConflictException", "GET /pets/{id}",
      ApiId=api_id, AuthorizerId=jwt["AuthorizerId"])
fails(v2.delete_integration, "ConflictException", "POST /pets",
      ApiId=api_id, IntegrationId=fn_int["IntegrationId"])
fails(v2.update_authorizer, "ConflictException", "cannot change",
      ApiId=api_id, AuthorizerId=lam_auth["AuthorizerId"], AuthorizerType="JWT",
      IdentitySource=["$request.header.Authorization"], AuthorizerUri="",
      AuthorizerPayloadFormatVersion="", EnableSimpleResponses=False,
      AuthorizerResultTtlInSeconds=0,
      JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["a"]})

# Auto-deploy: a route change makes a new deployment on the $default stage.
before = default_stage_deployment(api_id)
renamed = v2.update_route(ApiId=api_id, RouteId=greedy["RouteId"], RouteKey="ANY /docs/{proxy+}")
check(renamed["RouteKey"] == "ANY /docs/{proxy+}", renamed)
after = default_stage_deployment(api_id)
check(after != before, "a route change redeploys the $default stage")
check(v2.get_deployment(ApiId=api_id, DeploymentId=after)["AutoDeployed"] is True, "autoDeployed")
v2.delete_route(ApiId=api_id, RouteId=greedy["RouteId"])
fails(v2.get_route, "NotFoundException", "Invalid Route identifier",
      ApiId=api_id, RouteId=greedy["RouteId"])
check(default_stage_deployment(api_id) != after, "a route deletion redeploys too")

# ---- Stages: a named one with settings, deployments by hand.
fails(v2.create_stage, "ConflictException", "$default", ApiId=api_id, StageName="$default")
fails(v2.create_stage, "BadRequestException", "RouteSettings",
      ApiId=api_id, StageName="dev", RouteSettings={"GET /nosuch": {"ThrottlingBurstLimit": 1}})
fails(v2.create_stage, "BadRequestException", "loggingLevel",
      ApiId=api_id, StageName="dev", DefaultRouteSettings={"LoggingLevel": "INFO"})
dev = v2.create_stage(
    ApiId=api_id, StageName="dev", StageVariables={"color": "blue"},
    DefaultRouteSettings={"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50.0,
                          "DetailedMetricsEnabled": True},
    RouteSettings={"GET /pets/{id}": {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 2.0,
                                      "DetailedMetricsEnabled": False}},
    AccessLogSettings={"DestinationArn": f"arn:aws:logs:{REGION}:000000000000:log-group:http",
                       "Format": '{"id":"$context.requestId","status":"$context.status"}'},
)
check("DeploymentId" not in dev, "no deployment yet")
fails(v2.create_stage, "BadRequestException", "Stage name", ApiId=api_id, StageName="a b")
deployment = v2.create_deployment(ApiId=api_id, StageName="dev", Description="by hand")
check(v2.get_stage(ApiId=api_id, StageName="dev")["DeploymentId"] == deployment["DeploymentId"],
      "dev points at the deployment")
fails(v2.create_deployment, "BadRequestException", "autoDeploy",
      ApiId=api_id, StageName="$default")
fails(v2.delete_deployment, "BadRequestException", "Active stages",
      ApiId=api_id, DeploymentId=deployment["DeploymentId"])
v2.update_stage(ApiId=api_id, StageName="dev", StageVariables={"color": "green"})
check(v2.get_stage(ApiId=api_id, StageName="dev")["StageVariables"] == {"color": "green"},
      "UpdateStage")
# A stage without autoDeploy keeps its deployment through changes.
v2.update_route(ApiId=api_id, RouteId=post_pet["RouteId"], OperationName="CreatePet")
check(v2.get_stage(ApiId=api_id, StageName="dev")["DeploymentId"] == deployment["DeploymentId"],
      "dev keeps its deployment")
scratch = v2.create_stage(ApiId=api_id, StageName="scratch")
v2.delete_stage(ApiId=api_id, StageName=scratch["StageName"])
fails(v2.get_stage, "NotFoundException", "stage", ApiId=api_id, StageName="scratch")

# An API with no routes deploys (HTTP APIs need none).
empty = v2.create_api(Name="empty", ProtocolType="HTTP")
v2.create_stage(ApiId=empty["ApiId"], StageName="$default", AutoDeploy=True)
check(default_stage_deployment(empty["ApiId"]), "an empty HTTP API deploys")
v2.delete_api(ApiId=empty["ApiId"])
v2.delete_api(ApiId=ws["ApiId"])

print(json.dumps({
    "apiId": api_id,
    "lambdaApiId": lam_id,
    "defaultDeploymentId": default_stage_deployment(api_id),
    "devDeploymentId": deployment["DeploymentId"],
    "proxyIntegrationId": proxy["IntegrationId"],
    "lambdaIntegrationId": fn_int["IntegrationId"],
    "jwtAuthorizerId": jwt["AuthorizerId"],
    "lambdaAuthorizerId": lam_auth["AuthorizerId"],
}))
