// Calls to the control plane: the console endpoints (/console/api/...) and the management
// API (/restapis/...), both authenticated by the session cookie. Unsafe methods echo the
// CSRF token (apigw_csrf cookie) in X-CSRF-Token. A 401 triggers one refresh and a retry;
// if that fails the app goes back to the sign-in screen.

import type { PatchOperation } from "./api/types";

export class ApiError extends Error {
  constructor(
    public status: number,
    public type: string,
    message: string,
  ) {
    super(message);
  }
}

export type User = { id: string; username: string; isAdmin: boolean; enabled: boolean; createdDate: number };

let onSignedOut: () => void = () => {};
/** Registers what to do when the session is gone for good. */
export function setSignedOutHandler(f: () => void) {
  onSignedOut = f;
}

function csrfToken(): string {
  const m = document.cookie.match(/(?:^|;\s*)apigw_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

/** A body sent as is (e.g. a CSV file), with its content type. */
export class RawBody {
  constructor(
    public text: string,
    public contentType: string,
  ) {}
}

async function raw(method: string, path: string, body?: unknown, extra?: Record<string, string>): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json", ...extra };
  if (body instanceof RawBody) headers["content-type"] = body.contentType;
  else if (body !== undefined) headers["content-type"] = "application/json";
  if (!["GET", "HEAD"].includes(method)) headers["x-csrf-token"] = csrfToken();
  return fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : body instanceof RawBody ? body.text : JSON.stringify(body),
  });
}

async function parse<T>(resp: Response): Promise<T> {
  const text = await resp.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!resp.ok) {
    // The management API names the error in x-amzn-ErrorType; CloudWatch's JSON 1.0 in
    // `__type` ("namespace#Code") and, query-compatible, in x-amzn-query-error ("Code;Sender").
    const queryError = resp.headers.get("x-amzn-query-error")?.split(";")[0];
    const jsonType = typeof data?.__type === "string" ? data.__type.split("#").pop() : undefined;
    throw new ApiError(
      resp.status,
      queryError || resp.headers.get("x-amzn-errortype") || jsonType || "Error",
      data?.message ?? data?.Message ?? `${resp.status} ${resp.statusText}`,
    );
  }
  return data as T;
}

// When the access token expires (epoch seconds), as sign-in and refresh answer; kept so a
// later visit renews an expired token before asking who is signed in, instead of after a 401.
const EXPIRY_KEY = "apigw.accessExpiresAt";
const noteExpiry = (body: { expiresAt?: number } | null) => {
  if (typeof body?.expiresAt === "number") localStorage.setItem(EXPIRY_KEY, String(body.expiresAt));
};

let refreshing: Promise<boolean> | null = null;
/** Renews the access token from the refresh cookie; shared by concurrent callers. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= raw("POST", "/console/api/session/refresh", {})
    .then(async (r) => {
      if (r.ok) noteExpiry(await r.json().catch(() => null));
      return r.ok;
    })
    .catch(() => false)
    .finally(() => setTimeout(() => (refreshing = null), 0));
  return refreshing;
}

/** One JSON call (with `headers` beside the usual ones); retries once after refreshing an expired session. */
export async function call<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  let resp = await raw(method, path, body, headers);
  if (resp.status === 401 && !path.startsWith("/console/api/session")) {
    if (await refreshSession()) resp = await raw(method, path, body, headers);
    if (resp.status === 401) {
      onSignedOut();
    }
  }
  return parse<T>(resp);
}

/** A GET whose answer is a document, not JSON (an OpenAPI export): its text; errors as for `call`. */
export async function getText(path: string, accept = "*/*"): Promise<string> {
  let resp = await raw("GET", path, undefined, { accept });
  if (resp.status === 401) {
    if (await refreshSession()) resp = await raw("GET", path, undefined, { accept });
    if (resp.status === 401) onSignedOut();
  }
  if (!resp.ok) await parse(resp);
  return resp.text();
}

export const get = <T = any>(p: string) => call<T>("GET", p);
export const post = <T = any>(p: string, b: unknown = {}) => call<T>("POST", p, b);
export const put = <T = any>(p: string, b: unknown = {}) => call<T>("PUT", p, b);
export const del = <T = any>(p: string) => call<T>("DELETE", p);
/** One patch operation of an Update* call (the management API's `PatchOperation`). */
export type PatchOp = PatchOperation;
export const patch = <T = any>(p: string, ops: PatchOp[]) => call<T>("PATCH", p, { patchOperations: ops });
/** A JSON-merge update of the console's own endpoints. */
export const update = <T = any>(p: string, b: unknown) => call<T>("PATCH", p, b);

/** Escapes one segment of a patch path (`/` becomes `~1`, `~` becomes `~0`). */
export const patchKey = (k: string) => k.replace(/~/g, "~0").replace(/\//g, "~1");

/** Lists every page of an AWS-style `{item, position}` collection. */
export async function listAll<T = any>(path: string): Promise<T[]> {
  const out: T[] = [];
  let position: string | undefined;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await get<{ item?: T[]; position?: string }>(
      `${path}${sep}limit=500${position ? `&position=${encodeURIComponent(position)}` : ""}`,
    );
    out.push(...(page.item ?? []));
    position = page.position;
  } while (position);
  return out;
}

export async function signIn(username: string, password: string): Promise<User> {
  const r = await raw("POST", "/console/api/session", { username, password });
  const body = await parse<{ user: User; expiresAt?: number }>(r);
  noteExpiry(body);
  return body.user;
}

/**
 * The signed-in user, or null. The session, refresh and CSRF cookies are set and cleared
 * together, with the same lifetime; only the CSRF one is readable here. Without it there
 * is no session to ask about, so a first visit makes no call (and logs no 401). With it,
 * an access token known to have expired (or of unknown expiry) is renewed first.
 */
export async function currentUser(): Promise<User | null> {
  if (!csrfToken()) return null;
  if (Number(localStorage.getItem(EXPIRY_KEY) ?? 0) * 1000 < Date.now() + 10_000) await refreshSession();
  let r = await raw("GET", "/console/api/session");
  if (r.status === 401 && (await refreshSession())) r = await raw("GET", "/console/api/session");
  if (r.status === 401) return null;
  return (await parse<{ user: User }>(r)).user;
}

/**
 * Signs out: the server revokes the session (its access and refresh tokens) and clears the
 * cookies. That needs a live access token, so one known to have expired is renewed first,
 * and a 401 is retried after a refresh: otherwise the refresh cookie would outlive sign-out.
 */
export async function signOut(): Promise<void> {
  const expired = Number(localStorage.getItem(EXPIRY_KEY) ?? 0) * 1000 < Date.now() + 10_000;
  localStorage.removeItem(EXPIRY_KEY);
  try {
    if (expired) await refreshSession();
    const r = await raw("DELETE", "/console/api/session");
    if (r.status === 401 && (await refreshSession())) await raw("DELETE", "/console/api/session");
  } catch {
    // Offline: nothing more to do here.
  }
}

export const fmtDate = (epoch?: number) =>
  epoch ? new Date(epoch * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—";
/** Date and time to the second (deployments, stage updates: several can happen in a minute). */
export const fmtDateTime = (epoch?: number) =>
  epoch ? new Date(epoch * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : "—";
