// The management API's types, as the control plane describes them in its OpenAPI document
// (GET /openapi.json; the snapshot beside this file). schema.d.ts is generated from that
// snapshot by `npm run gen:api`: never edit it by hand. Response shapes keep the plain
// names (RestApi, Stage, ...); request bodies are the operations' own (CreateRestApi, ...).
import type { components, operations, paths } from "./schema";

export type { components, operations, paths };
type Schemas = components["schemas"];

export type RestApi = Schemas["RestApi"];
export type Resource = Schemas["Resource"];
export type Method = Schemas["Method"];
export type MethodResponse = Schemas["MethodResponse"];
export type Integration = Schemas["Integration"];
export type IntegrationResponse = Schemas["IntegrationResponse"];
export type Stage = Schemas["Stage"];
export type MethodSetting = Schemas["MethodSetting"];
export type CanarySettings = Schemas["CanarySettings"];
export type Deployment = Schemas["Deployment"];
export type ApiKey = Schemas["ApiKey"];
export type UsagePlan = Schemas["UsagePlan"];
export type UsagePlanKey = Schemas["UsagePlanKey"];
export type ApiStage = Schemas["ApiStage"];
export type ThrottleSettings = Schemas["ThrottleSettings"];
export type QuotaSettings = Schemas["QuotaSettings"];
export type Authorizer = Schemas["Authorizer"];
export type RequestValidator = Schemas["RequestValidator"];
export type Model = Schemas["Model"];
export type GatewayResponse = Schemas["GatewayResponse"];
export type DomainName = Schemas["DomainName"];
export type BasePathMapping = Schemas["BasePathMapping"];
export type ClientCertificate = Schemas["ClientCertificate"];
export type PatchOperation = Schemas["PatchOperation"];
export type Usage = Schemas["Usage"];
export type TestInvokeMethodResponse = Schemas["TestInvokeMethodResponse"];
export type TestInvokeAuthorizerResponse = Schemas["TestInvokeAuthorizerResponse"];

// The v2 (apigatewayv2) API, as the control plane's document describes it from the AWS model.
// The console's WebSocket and HTTP API pages use them through v2.ts (WsRoute, HttpRoute, ...), which make the
// members the pages rely on (identifiers) required.
export type V2Api = Schemas["V2Api"];
export type V2Route = Schemas["V2Route"];
export type V2RouteResponse = Schemas["V2RouteResponse"];
export type V2Integration = Schemas["V2Integration"];
export type V2IntegrationResponse = Schemas["V2IntegrationResponse"];
export type V2Authorizer = Schemas["V2Authorizer"];
export type V2Model = Schemas["V2Model"];
export type V2Stage = Schemas["V2Stage"];
export type V2ApiMapping = Schemas["V2ApiMapping"];
export type V2RouteSettings = Schemas["V2RouteSettings"];
export type V2Cors = Schemas["V2Cors"];
export type V2JWTConfiguration = Schemas["V2JWTConfiguration"];
export type V2AccessLogSettings = Schemas["V2AccessLogSettings"];
export type V2UpdateApiRequest = Schemas["V2UpdateApiRequest"];
export type V2UpdateIntegrationRequest = Schemas["V2UpdateIntegrationRequest"];
export type V2CreateDeploymentRequest = Schemas["V2CreateDeploymentRequest"];
export type V2Deployment = Schemas["V2Deployment"];
export type V2CreateApiRequest = Schemas["V2CreateApiRequest"];
export type V2CreateRouteRequest = Schemas["V2CreateRouteRequest"];
export type V2UpdateRouteRequest = Schemas["V2UpdateRouteRequest"];
export type V2CreateIntegrationRequest = Schemas["V2CreateIntegrationRequest"];
export type V2CreateStageRequest = Schemas["V2CreateStageRequest"];
export type V2UpdateStageRequest = Schemas["V2UpdateStageRequest"];
export type V2CreateAuthorizerRequest = Schemas["V2CreateAuthorizerRequest"];
export type V2UpdateAuthorizerRequest = Schemas["V2UpdateAuthorizerRequest"];
export type V2CreateModelRequest = Schemas["V2CreateModelRequest"];
export type V2UpdateModelRequest = Schemas["V2UpdateModelRequest"];
export type V2CreateRouteResponseRequest = Schemas["V2CreateRouteResponseRequest"];
export type V2UpdateRouteResponseRequest = Schemas["V2UpdateRouteResponseRequest"];
export type V2CreateIntegrationResponseRequest = Schemas["V2CreateIntegrationResponseRequest"];
export type V2UpdateIntegrationResponseRequest = Schemas["V2UpdateIntegrationResponseRequest"];

/** The request body of an operation (by its operationId, e.g. "CreateRestApi"). */
export type RequestOf<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;
