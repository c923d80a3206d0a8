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

/** The request body of an operation (by its operationId, e.g. "CreateRestApi"). */
export type RequestOf<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;
