// An authorizer's Test panel (TestInvokeAuthorizer): the token (TOKEN, COGNITO_USER_POOLS)
// or the request's headers (REQUEST), a path with query string and stage variables in; the
// client status, principal id, policy, claims, latency and the execution log out.
import { useState } from "preact/hooks";
import { post } from "../../api";
import { ErrorText, Field, KeyValues, fromEntries, useAction } from "../../ui";
import { pretty } from "../../shared/json-editor";
import { parseHeaders } from "../apis/method-test";
import { HEADER, headerOf, type Authorizer } from "./types";
import type { TestInvokeAuthorizerResponse } from "../../api/types";

type Result = TestInvokeAuthorizerResponse;

const json = (v?: string | object) => (typeof v === "string" ? pretty(v) : v ? JSON.stringify(v, null, 2) : "");

export function AuthorizerTest({ apiId, authorizer }: { apiId: string; authorizer: Authorizer }) {
  const token = authorizer.type !== "REQUEST";
  const header = headerOf(authorizer.identitySource) || "Authorization";
  const [value, setValue] = useState("");
  // REQUEST: one line per header source, ready for its value.
  const [headers, setHeaders] = useState(
    (authorizer.identitySource ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.startsWith(HEADER))
      .map((s) => `${s.slice(HEADER.length)}: `)
      .join("\n"),
  );
  const [path, setPath] = useState("/");
  const [vars, setVars] = useState<[string, string][]>([]);
  const [result, setResult] = useState<Result>();
  const a = useAction();
  return (
    <section class="panel test-panel" aria-labelledby="authorizer-test-h">
      <h3 id="authorizer-test-h">Test the authorizer</h3>
      <p class="muted small">Calls the authorizer as saved now (not as deployed), without its cache, and shows what it decided.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          a.run(async () => {
            setResult(undefined);
            setResult(
              await post<Result>(`/restapis/${apiId}/authorizers/${authorizer.id}`, {
                headers: token ? { [header]: value } : parseHeaders(headers),
                pathWithQueryString: path.trim() || "/",
                stageVariables: fromEntries(vars),
              }),
            );
          });
        }}
      >
        {token ? (
          <Field label={`Token (${header} header)`} name="testToken" value={value} onInput={setValue} />
        ) : (
          <Field label="Headers" name="testHeaders" value={headers} onInput={setHeaders} multiline hint="One header per line, as Name: value" />
        )}
        <Field label="Path with query string" name="testPath" value={path} onInput={setPath} placeholder="/pets?type=dog" />
        <KeyValues label="Stage variables" keyLabel="Stage variable" valueLabel="Stage variable value" rows={vars} onChange={setVars} addLabel="Add stage variable" />
        <ErrorText error={a.error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={a.busy}>
            {a.busy ? "Testing…" : "Test authorizer"}
          </button>
        </div>
      </form>
      {result && (
        <div class="test-result" data-testid="authorizer-test-result" aria-live="polite">
          <dl class="facts">
            <dt>Client status</dt>
            <dd data-testid="authorizer-client-status">{result.clientStatus}</dd>
            <dt>Principal ID</dt>
            <dd data-testid="authorizer-principal">{result.principalId || "—"}</dd>
            <dt>Latency</dt>
            <dd>{result.latency ?? 0} ms</dd>
          </dl>
          <h4>Policy</h4>
          <pre class="code" data-testid="authorizer-policy" tabIndex={0}>
            {json(result.policy) || "(none)"}
          </pre>
          {result.claims && Object.keys(result.claims).length > 0 && (
            <>
              <h4>Claims</h4>
              <pre class="code" data-testid="authorizer-claims" tabIndex={0}>
                {json(result.claims)}
              </pre>
            </>
          )}
          <h4>Logs</h4>
          <pre class="code log" data-testid="authorizer-log" tabIndex={0}>
            {result.log ?? ""}
          </pre>
        </div>
      )}
    </section>
  );
}
