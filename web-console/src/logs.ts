// The log store, as the Logs page reads it: the log groups through the control plane's
// CloudWatch Logs API (JSON 1.1, `POST /` with `X-Amz-Target: Logs_20140328.DescribeLogGroups`,
// shapes of logs.service-2.json, as boto3 sends them), and the search by the fields nodes
// ship beside each line (status, source IP, request id, API key id, path) through the
// console's own endpoint `GET /console/api/logs/search`. Both through `call` in api.ts, so
// the session and CSRF token apply.
import { call, RawBody } from "./api";

export type LogGroup = { logGroupName: string; creationTime?: number; storedBytes?: number; retentionInDays?: number };

/** Every log group (DescribeLogGroups, following nextToken). */
export async function describeLogGroups(): Promise<LogGroup[]> {
  const out: LogGroup[] = [];
  let token: string | undefined;
  for (let i = 0; i < 100; i++) {
    const r = await call<{ logGroups?: LogGroup[]; nextToken?: string }>(
      "POST",
      "/",
      new RawBody(JSON.stringify({ limit: 50, ...(token ? { nextToken: token } : {}) }), "application/x-amz-json-1.1"),
      { "x-amz-target": "Logs_20140328.DescribeLogGroups" },
    );
    out.push(...(r.logGroups ?? []));
    token = r.nextToken;
    if (!token) break;
  }
  return out;
}

export type LogLine = {
  timestamp: number;
  logGroupName: string;
  logStreamName: string;
  kind: "ACCESS" | "EXECUTION";
  message: string;
  apiId: string;
  stage: string;
  requestId: string;
  status: number;
  sourceIp: string;
  apiKeyId: string;
  path: string;
};

export type LogSearch = {
  group?: string;
  start?: number;
  end?: number;
  status?: string;
  sourceIp?: string;
  requestId?: string;
  apiKeyId?: string;
  path?: string;
  limit?: number;
  nextToken?: string;
};

/** One page of the console's search, newest first. */
export function searchLogs(q: LogSearch) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") params.set(k, String(v));
  return call<{ items: LogLine[]; nextToken?: string }>("GET", `/console/api/logs/search?${params}`);
}
