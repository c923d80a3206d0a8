// The `apigatewayv2` management API (`/v2/...`) as the console uses it for WebSocket APIs:
// its wire shapes, every page of a `{items, nextToken}` list, and which form field a v2
// error message names (v2 errors carry a lower-case `message`, which `api.ts` reads).
import { get } from "./api";

export type WsApi = {
  apiId: string;
  name: string;
  protocolType: string;
  routeSelectionExpression: string;
  description?: string;
  apiEndpoint?: string;
  createdDate?: string;
};
export type WsRoute = {
  routeId: string;
  routeKey: string;
  authorizationType?: string;
  authorizerId?: string;
  apiKeyRequired?: boolean;
  target?: string;
  routeResponseSelectionExpression?: string;
};
export type WsIntegration = {
  integrationId: string;
  integrationType: string;
  integrationUri?: string;
  integrationMethod?: string;
  timeoutInMillis?: number;
  description?: string;
};
export type WsAuthorizer = {
  authorizerId: string;
  name: string;
  authorizerType: string;
  authorizerUri?: string;
  identitySource?: string[];
};
export type WsRouteResponse = {
  routeResponseId: string;
  routeResponseKey: string;
  modelSelectionExpression?: string;
  responseModels?: Record<string, string>;
};
export type WsIntegrationResponse = {
  integrationResponseId: string;
  integrationResponseKey: string;
  templateSelectionExpression?: string;
  responseTemplates?: Record<string, string>;
};
export type WsModel = { modelId: string; name: string; contentType?: string; description?: string; schema?: string };
/** A stage's `defaultRouteSettings` or one entry of its `routeSettings` (by route key). */
export type WsRouteSettings = {
  throttlingBurstLimit?: number;
  throttlingRateLimit?: number;
  detailedMetricsEnabled?: boolean;
  dataTraceEnabled?: boolean;
  loggingLevel?: string;
};
export type WsStage = {
  stageName: string;
  deploymentId?: string;
  autoDeploy?: boolean;
  description?: string;
  stageVariables?: Record<string, string>;
  defaultRouteSettings?: WsRouteSettings;
  routeSettings?: Record<string, WsRouteSettings>;
  createdDate?: string;
  lastUpdatedDate?: string;
};
export type WsDeployment = { deploymentId: string; deploymentStatus?: string; description?: string; createdDate?: string };

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

/** A form's server error split: `at(field)` is the message when it names that field, `rest` otherwise. */
export function splitError(error: string | undefined, fields: Record<string, string[]>) {
  const field = fieldOf(error, fields);
  return { at: (f: string) => (f === field ? error : undefined), rest: field ? undefined : error };
}
