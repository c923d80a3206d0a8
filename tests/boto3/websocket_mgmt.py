#!/usr/bin/env python3
"""WebSocket API management through boto3's `apigatewayv2` client: the seeds' chat API
defined route by route (REQUEST authorizer on `$connect` reading a query-string token,
`sendmessage` routed by `$request.body.action` with a route response, `$default`,
`$disconnect`, AWS_PROXY / MOCK / HTTP integrations with templates and integration
responses), a stage with route settings, a deployment, auto-deploy, and the errors the
v2 service answers (types and lower-case `message`).

Environment: V2_ENDPOINT, V2_ACCESS_KEY_ID / V2_SECRET_ACCESS_KEY, V2_REGION (default
us-east-1). Prints one JSON line `{"apiId", "stage", ...}` for the Rust test.
"""

import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

REGION = os.environ.get("V2_REGION", "us-east-1")
v2 = boto3.client(
    "apigatewayv2",
    endpoint_url=os.environ["V2_ENDPOINT"],
    aws_access_key_id=os.environ["V2_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["V2_SECRET_ACCESS_KEY"],
    region_name=REGION,
)


def fn_uri(name):
    return (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{REGION}:000000000000:function:{name}/invocations"
    )


def log(msg):
    print(f"[websocket_mgmt.py] {msg}", file=sys.stderr, flush=True)


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


# The API.
api = v2.create_api(
    Name="chat",
    ProtocolType="WEBSOCKET",
    RouteSelectionExpression="$request.body.action",
    Tags={"team": "chat"},
)
api_id = api["ApiId"]
check(api["ApiKeySelectionExpression"] == "$request.header.x-api-key", "default api key expr")
check(api["ApiEndpoint"].startswith(f"wss://{api_id}."), api["ApiEndpoint"])
check(api["CreatedDate"].year >= 2024, "createdDate is a timestamp")
check(api["Tags"] == {"team": "chat"}, "tags")
log(f"api {api_id}")

fails(v2.create_api, "BadRequestException", "routeSelectionExpression",
      Name="x", ProtocolType="WEBSOCKET")
fails(v2.create_api, "BadRequestException", "routeSelectionExpression",
      Name="x", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.header.x")
fails(v2.create_api, "BadRequestException", "apiKeySelectionExpression",
      Name="x", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.a",
      ApiKeySelectionExpression="$request.querystring.key")
fails(v2.get_api, "NotFoundException", "Invalid API identifier", ApiId="nosuchapi")

updated = v2.update_api(ApiId=api_id, Description="the seeds' chat")
check(updated["Description"] == "the seeds' chat", "UpdateApi description")
check(updated["RouteSelectionExpression"] == "$request.body.action", "UpdateApi keeps the rest")
check(any(a["ApiId"] == api_id for a in v2.get_apis()["Items"]), "GetApis lists it")

# Integrations.
chat = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                             IntegrationUri=fn_uri("websocket-chat"))
check(chat["PayloadFormatVersion"] == "1.0", "AWS_PROXY payload 1.0")
check(chat["TimeoutInMillis"] == 29000, "default timeout")
mock = v2.create_integration(
    ApiId=api_id, IntegrationType="MOCK",
    RequestTemplates={"$default": '{"statusCode": 200}'},
    TemplateSelectionExpression="\\$default",
)
v2.create_integration_response(
    ApiId=api_id, IntegrationId=mock["IntegrationId"], IntegrationResponseKey="$default",
    ResponseTemplates={"$default": '{"message": "unknown action"}'},
)
fails(v2.create_integration, "BadRequestException", "integrationUri",
      ApiId=api_id, IntegrationType="AWS_PROXY")
fails(v2.create_integration, "BadRequestException", "integrationType",
      ApiId=api_id, IntegrationType="LAMBDA", IntegrationUri=fn_uri("x"))
fails(v2.create_integration, "BadRequestException", "timeoutInMillis",
      ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri="http://127.0.0.1:1/",
      IntegrationMethod="POST", TimeoutInMillis=29500)
fails(v2.create_integration, "BadRequestException", "mapping template",
      ApiId=api_id, IntegrationType="MOCK", RequestTemplates={"$default": "#if("})
fails(v2.create_integration_response, "BadRequestException", "integrationResponseKey",
      ApiId=api_id, IntegrationId=mock["IntegrationId"], IntegrationResponseKey="200")
fails(v2.create_integration_response, "ConflictException", "$default",
      ApiId=api_id, IntegrationId=mock["IntegrationId"], IntegrationResponseKey="$default")

# The authorizer on $connect.
authz = v2.create_authorizer(
    ApiId=api_id, AuthorizerType="REQUEST", Name="token",
    AuthorizerUri=fn_uri("websocket-authorizer"),
    IdentitySource=["route.request.querystring.token"],
)
fails(v2.create_authorizer, "BadRequestException", "identitySource",
      ApiId=api_id, AuthorizerType="REQUEST", Name="bad", AuthorizerUri=fn_uri("a"),
      IdentitySource=["$request.header.Auth"])
fails(v2.create_authorizer, "BadRequestException", "REQUEST",
      ApiId=api_id, AuthorizerType="JWT", Name="jwt", IdentitySource=["$request.header.Auth"])

# Routes.
target = f"integrations/{chat['IntegrationId']}"
connect = v2.create_route(ApiId=api_id, RouteKey="$connect", AuthorizationType="CUSTOM",
                          AuthorizerId=authz["AuthorizerId"], Target=target)
check(connect["ApiKeyRequired"] is False, "apiKeyRequired default")
v2.create_route(ApiId=api_id, RouteKey="$disconnect", Target=target)
send = v2.create_route(ApiId=api_id, RouteKey="sendmessage", Target=target,
                       RouteResponseSelectionExpression="$default")
v2.create_route_response(ApiId=api_id, RouteId=send["RouteId"], RouteResponseKey="$default")
default = v2.create_route(ApiId=api_id, RouteKey="$default",
                          Target=f"integrations/{mock['IntegrationId']}",
                          RouteResponseSelectionExpression="$default")
v2.create_route_response(ApiId=api_id, RouteId=default["RouteId"], RouteResponseKey="$default")

fails(v2.create_route, "ConflictException", "sendmessage",
      ApiId=api_id, RouteKey="sendmessage", Target=target)
fails(v2.create_route, "BadRequestException", "$connect",
      ApiId=api_id, RouteKey="other", AuthorizationType="CUSTOM",
      AuthorizerId=authz["AuthorizerId"], Target=target)
fails(v2.create_route, "BadRequestException", "integration",
      ApiId=api_id, RouteKey="nowhere", Target="integrations/nosuch")
fails(v2.create_route, "BadRequestException", "reserved",
      ApiId=api_id, RouteKey="$other", Target=target)
fails(v2.create_route_response, "BadRequestException", "routeResponseKey",
      ApiId=api_id, RouteId=send["RouteId"], RouteResponseKey="200")
fails(v2.get_route, "NotFoundException", "Invalid Route identifier", ApiId=api_id, RouteId="nosuch")
fails(v2.delete_integration, "ConflictException", "sendmessage",
      ApiId=api_id, IntegrationId=chat["IntegrationId"])
fails(v2.delete_authorizer, "ConflictException", "$connect",
      ApiId=api_id, AuthorizerId=authz["AuthorizerId"])

routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api_id)["Items"]}
check(set(routes) == {"$connect", "$disconnect", "sendmessage", "$default"}, f"routes {set(routes)}")
page = v2.get_routes(ApiId=api_id, MaxResults="2")
check(len(page["Items"]) == 2 and "NextToken" in page, "paging")
rest = v2.get_routes(ApiId=api_id, MaxResults="2", NextToken=page["NextToken"])
check(len(rest["Items"]) == 2 and "NextToken" not in rest, "second page")
renamed = v2.update_route(ApiId=api_id, RouteId=send["RouteId"], OperationName="SendMessage")
check(renamed["RouteKey"] == "sendmessage" and renamed["OperationName"] == "SendMessage", "UpdateRoute")
# An empty string detaches, as AWS's UpdateRoute takes it (CloudFormation and Terraform send
# it when a property is removed): OperationName, then the target and back.
cleared = v2.update_route(ApiId=api_id, RouteId=send["RouteId"], OperationName="")
check("OperationName" not in cleared, f"OperationName cleared: {cleared}")
detached = v2.update_route(ApiId=api_id, RouteId=send["RouteId"], Target="")
check("Target" not in detached and "Target" not in v2.get_route(ApiId=api_id, RouteId=send["RouteId"]),
      "Target detached")
v2.update_route(ApiId=api_id, RouteId=send["RouteId"], Target=renamed["Target"])

# A model, kept in the deployment.
v2.create_model(ApiId=api_id, Name="Message", Schema=json.dumps({"type": "object"}))
fails(v2.create_model, "BadRequestException", "schema",
      ApiId=api_id, Name="Bad", Schema="{not json")

# A stage and a deployment.
fails(v2.create_stage, "BadRequestException", "RouteSettings",
      ApiId=api_id, StageName="dev", RouteSettings={"nosuchroute": {"ThrottlingBurstLimit": 1}})
stage = v2.create_stage(
    ApiId=api_id, StageName="dev", StageVariables={"room": "lobby"},
    DefaultRouteSettings={"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50.0},
    RouteSettings={"sendmessage": {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5.0},
                   "$default": {"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 0.5}},
)
check("DeploymentId" not in stage, "no deployment yet")
deployment = v2.create_deployment(ApiId=api_id, StageName="dev", Description="first")
check(deployment["DeploymentStatus"] == "DEPLOYED", "deployed")
stage = v2.get_stage(ApiId=api_id, StageName="dev")
check(stage["DeploymentId"] == deployment["DeploymentId"], "stage points at the deployment")
check(stage["RouteSettings"]["sendmessage"]["ThrottlingBurstLimit"] == 10, "route settings")
fails(v2.delete_deployment, "BadRequestException", "Active stages",
      ApiId=api_id, DeploymentId=deployment["DeploymentId"])
fails(v2.create_stage, "ConflictException", "dev", ApiId=api_id, StageName="dev")
fails(v2.create_stage, "BadRequestException", "Stage name", ApiId=api_id, StageName="a b")

# Auto-deploy: a stage created with it deploys at once, later changes redeploy it.
auto = v2.create_stage(ApiId=api_id, StageName="live", AutoDeploy=True)
first = auto["DeploymentId"]
v2.update_route(ApiId=api_id, RouteId=send["RouteId"], OperationName="Send")
again = v2.get_stage(ApiId=api_id, StageName="live")["DeploymentId"]
check(again != first, "a change redeploys an autoDeploy stage")
check(v2.get_deployment(ApiId=api_id, DeploymentId=again)["AutoDeployed"] is True, "autoDeployed")
check(v2.get_stage(ApiId=api_id, StageName="dev")["DeploymentId"] == deployment["DeploymentId"],
      "a stage without autoDeploy keeps its deployment")
v2.delete_stage(ApiId=api_id, StageName="live")
fails(v2.get_stage, "NotFoundException", "stage", ApiId=api_id, StageName="live")

# An API with no routes cannot be deployed.
empty = v2.create_api(Name="empty", ProtocolType="WEBSOCKET",
                      RouteSelectionExpression="$request.body.action")
fails(v2.create_deployment, "BadRequestException", "At least one route",
      ApiId=empty["ApiId"])
v2.delete_api(ApiId=empty["ApiId"])
fails(v2.get_api, "NotFoundException", "Invalid API identifier", ApiId=empty["ApiId"])

print(json.dumps({"apiId": api_id, "stage": "dev", "deploymentId": deployment["DeploymentId"]}))
log("all checks passed")
