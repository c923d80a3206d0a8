// The `apigatewayv2` management API (`/v2/...`) as the console uses it for WebSocket and HTTP APIs:
// its wire shapes (aliases of the generated OpenAPI types), every page of a `{items, nextToken}` list, and which form field a v2
// error message names (v2 errors carry a lower-case `message`, which `api.ts` reads).
import { get } from "./api";
import type { V2Api, V2Authorizer, V2Deployment, V2Integration, V2IntegrationResponse, V2Model, V2Route, V2RouteResponse, V2RouteSettings, V2Stage, V2Cors } from "./api/types";

// The shapes are the control plane's OpenAPI document's (api/types.ts, generated from the
// AWS model); an item read back always has its identifier, so that member is required here.
export type WsApi = V2Api & { apiId: string };
export type WsRoute = V2Route & { routeId: string };
export type WsIntegration = V2Integration & { integrationId: string; integrationType: NonNullable<V2Integration["integrationType"]> };
export type WsAuthorizer = V2Authorizer & { authorizerId: string; authorizerType: NonNullable<V2Authorizer["authorizerType"]> };
export type WsRouteResponse = V2RouteResponse & { routeResponseId: string };
export type WsIntegrationResponse = V2IntegrationResponse & { integrationResponseId: string };
export type WsModel = V2Model & { modelId: string };
/** A stage's `defaultRouteSettings` or one entry of its `routeSettings` (by route key). */
export type WsRouteSettings = V2RouteSettings;
export type WsStage = V2Stage;
export type WsDeployment = V2Deployment & { deploymentId: string };

// HTTP APIs (protocolType HTTP) are the same v2 shapes; their screens use these names.
export type HttpApi = WsApi;
export type HttpRoute = WsRoute;
export type HttpIntegration = WsIntegration;
export type HttpAuthorizer = WsAuthorizer;
export type HttpStage = WsStage;
export type HttpDeployment = WsDeployment;
export type HttpCors = V2Cors;

/** Every page of a v2 list (`maxResults` / `nextToken`). */
export async function listV2<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await get<{ items?: T[]; nextToken?: string }>(
      `${path}${sep}maxResults=500${next ? `&nextToken=${encodeURIComponent(next)}` : ""}`,
    );
    out.push(...(page.items ?? []));
    next = page.nextToken || undefined;
  } while (next);
  return out;
}

/**
 * The field of a form that a server message names: the first of `fields` (a member name,
 * with optional words the message may use instead, e.g. `["stageName", "stage name"]`) that
 * the message mentions as a whole word, case-insensitively; undefined when none is named.
 */
export function fieldOf(message: string | undefined, fields: Record<string, string[]>): string | undefined {
  if (!message) return undefined;
  const m = message.toLowerCase();
  for (const [field, words] of Object.entries(fields)) {
    for (const w of [field, ...words]) {
      const at = m.indexOf(w.toLowerCase());
      if (at < 0) continue;
      const before = at === 0 ? " " : m[at - 1];
      const after = m[at + w.length] ?? " ";
      if (!/[a-z0-9]/.test(before) && !/[a-z0-9]/.test(after)) return field;
    }
  }
  return undefined;
}

/** A v2 timestamp (ISO 8601) for people. */
export const fmtIso = (t?: string) =>
  t ? new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : "—";

/** Where a stage of a WebSocket API is connected to: `ws(s)://{apiId}.{domain}/{stage}`. */
export function wsUrls(apiId: string, stage: string, e: { node: string; domain: string }) {
  const secure = e.node.startsWith("https:");
  const s = encodeURIComponent(stage);
  return {
    connect: `${secure ? "wss" : "ws"}://${apiId}.${e.domain}/${s}`,
    connections: `${secure ? "https" : "http"}://${apiId}.${e.domain}/${s}/@connections`,
  };
}

/**
 * Where a stage of an HTTP API is invoked: `http(s)://{apiId}.{domain}/{stage}`, and no stage
 * segment for the `$default` stage (the node serves it at the root of the API's host).
 */
export function httpUrl(apiId: string, stage: string, e: { node: string; domain: string }) {
  const scheme = e.node.startsWith("https:") ? "https" : "http";
  return `${scheme}://${apiId}.${e.domain}${stage === "$default" ? "" : `/${encodeURIComponent(stage)}`}`;
}

/** A form's server error split: `at(field)` is the message when it names that field, `rest` otherwise. */
export function splitError(error: string | undefined, fields: Record<string, string[]>) {
  const field = fieldOf(error, fields);
  return { at: (f: string) => (f === field ? error : undefined), rest: field ? undefined : error };
}
