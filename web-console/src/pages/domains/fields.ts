// Which form field a control-plane refusal is about. The management API answers a
// BadRequestException with a message naming the member ("certificatePrivateKey does not
// match ...", "Invalid domain name ...", "Truststore 'file://...' ..."): the member named
// first is the field the message is shown at; a message naming none stays under the form.

type Rule = [field: string, pattern: RegExp];

/** Finds the field whose pattern matches earliest in `message`, among `rules`. */
export function fieldOf(message: string | undefined, rules: Rule[]): string | undefined {
  if (!message) return undefined;
  let best: { field: string; at: number } | undefined;
  for (const [field, re] of rules) {
    const m = re.exec(message);
    if (m && (!best || m.index < best.at)) best = { field, at: m.index };
  }
  return best?.field;
}

/** The fields of the create-domain and rotate-certificate forms. */
export const DOMAIN_RULES: Rule[] = [
  ["domainName", /domain name '|domainName/i],
  ["certificateBody", /certificateBody|certificate is required/],
  ["certificateChain", /certificateChain/],
  ["certificatePrivateKey", /certificatePrivateKey/],
  ["certificateName", /certificateName/],
  ["securityPolicy", /securityPolicy|security policy/i],
  ["endpointType", /endpointConfiguration|endpoint type|Private custom domain/i],
  ["truststoreUri", /truststore|Mutual TLS/i],
];

/** The fields of the base path mapping form. */
export const MAPPING_RULES: Rule[] = [
  ["basePath", /base path/i],
  ["restApiId", /REST API identifier|restApiId/i],
  ["stage", /stage identifier|stage/i],
];

/**
 * A form's server error split into its field's message and the rest: `at(field)` is the
 * message when it is about `field`, `rest` when it is about no field of the form.
 */
export function splitError(error: string | undefined, rules: Rule[]) {
  const field = fieldOf(error, rules);
  return { at: (f: string) => (field === f ? error : undefined), rest: field ? undefined : error };
}
