// The Authorizer shape of the management API (from its OpenAPI document), and what several
// authorizer screens share.
import type { Authorizer } from "../../api/types";
export type { Authorizer };
export const HEADER = "method.request.header.";

/** TOKEN and REQUEST authorizers call a Lambda function; COGNITO_USER_POOLS ones verify a JWT. */
export const isLambda = (type?: string) => type === "TOKEN" || type === "REQUEST";

export const TYPES = [
  { value: "TOKEN", label: "TOKEN (Lambda, given a token)" },
  { value: "REQUEST", label: "REQUEST (Lambda, given request parameters)" },
  { value: "COGNITO_USER_POOLS", label: "COGNITO_USER_POOLS (JWT from user pools or issuers)" },
];

/** The function of an invocation URI (`.../functions/{arn}/invocations`), short when it is an ARN. */
export const functionOf = (uri = "") =>
  (/functions\/(.+)\/invocations$/.exec(uri)?.[1] ?? uri).replace(/^arn:aws:lambda:[^:]*:[^:]*:function:/, "");

/** The header name of a TOKEN / COGNITO_USER_POOLS identity source. */
export const headerOf = (source = "") => (source.startsWith(HEADER) ? source.slice(HEADER.length) : source);

export const ttlText = (a: Authorizer) => {
  const t = a.authorizerResultTtlInSeconds ?? 300;
  return t ? `${t} s` : "Off";
};
