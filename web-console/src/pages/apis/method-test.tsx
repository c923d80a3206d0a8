// The method's "Test" panel (AWS console's Test tab): path parameters, query string, headers
// and body in; TestInvokeMethod runs the method of the current, undeployed API; status,
// latency, response headers, body and the execution log out.
import { useState } from "preact/hooks";
import { post } from "../../api";
import { ErrorText, Field, useAction } from "../../ui";
import type { TestInvokeMethodResponse } from "../../api/types";

type TestResult = TestInvokeMethodResponse;

/** The path parameters of a resource path: `{id}` and greedy `{proxy+}`. */
export const pathParams = (path: string) => [...path.matchAll(/\{([^}]+?)(\+?)\}/g)].map((m) => ({ name: m[1], greedy: m[2] === "+" }));

/** `Name: value` lines into a header map (blank lines skipped). */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at <= 0) throw new Error(`Write each header as "Name: value" (line "${line.trim()}")`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

export function TestPanel({ mpath, resourcePath }: { mpath: string; resourcePath: string }) {
  const params = pathParams(resourcePath);
  const [values, setValues] = useState<Record<string, string>>({});
  const [query, setQuery] = useState("");
  const [headers, setHeaders] = useState("");
  const [body, setBody] = useState("");
  const [result, setResult] = useState<TestResult>();
  const a = useAction();

  const run = () =>
    a.run(async () => {
      let path = resourcePath;
      for (const p of params) {
        const v = values[p.name]?.trim() ?? "";
        if (!v) throw new Error(`Enter a value for the path parameter ${p.name}`);
        const encoded = p.greedy ? v.split("/").map(encodeURIComponent).join("/") : encodeURIComponent(v);
        path = path.replace(`{${p.name}${p.greedy ? "+" : ""}}`, encoded);
      }
      const q = query.trim().replace(/^\?/, "");
      setResult(undefined);
      setResult(
        await post<TestResult>(mpath, {
          pathWithQueryString: q ? `${path}?${q}` : path,
          headers: parseHeaders(headers),
          ...(body ? { body } : {}),
        }),
      );
    });

  return (
    <section id="test-panel" class="panel test-panel" aria-labelledby="test-h">
      <h3 id="test-h">Test the method</h3>
      <p class="muted small">Runs the method as it is now, without deploying it. API keys and throttling are not applied.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        {params.length > 0 && (
          <fieldset class="group">
            <legend>Path parameters</legend>
            {params.map((p) => (
              <Field key={p.name} label={p.name} value={values[p.name] ?? ""} onInput={(v) => setValues({ ...values, [p.name]: v })} />
            ))}
          </fieldset>
        )}
        <Field label="Query string" value={query} onInput={setQuery} placeholder="param1=value1&param2=value2" />
        <Field label="Headers" value={headers} onInput={setHeaders} multiline placeholder="Accept: application/json" hint="One header per line, as Name: value" />
        <Field label="Request body" value={body} onInput={setBody} multiline />
        <ErrorText error={a.error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={a.busy}>
            {a.busy ? "Testing…" : "Test"}
          </button>
        </div>
      </form>
      {result && (
        <div class="test-result" data-testid="test-result" aria-live="polite">
          <dl class="facts">
            <dt>Status</dt>
            <dd data-testid="test-status">{result.status}</dd>
            <dt>Latency</dt>
            <dd>{result.latency} ms</dd>
          </dl>
          <h4>Response body</h4>
          <pre class="code" data-testid="test-body" tabIndex={0}>{result.body || "(empty)"}</pre>
          <h4>Response headers</h4>
          <pre class="code" data-testid="test-headers" tabIndex={0}>
            {Object.entries(result.headers ?? {})
              .map(([k, v]) => `${k}: ${v}`)
              .join("\n") || "(none)"}
          </pre>
          <h4>Logs</h4>
          <pre class="code log" data-testid="test-log" tabIndex={0}>{result.log ?? ""}</pre>
        </div>
      )}
    </section>
  );
}
