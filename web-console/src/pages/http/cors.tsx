// An HTTP API's CORS tab: its `corsConfiguration` (allowed origins, methods, headers, exposed
// headers, max age, credentials), saved with UpdateApi and removed with
// DeleteCorsConfiguration. With it, the gateway answers preflight requests itself and adds
// the CORS headers to every response of the API's stages.
import { useState } from "preact/hooks";
import { del, update } from "../../api";
import { Check, Confirm, ErrorText, Field, FormActions, StringRows, toast, useAction } from "../../ui";
import { splitError, type HttpApi, type HttpCors } from "../../v2";
import type { V2UpdateApiRequest } from "../../api/types";

const METHODS = ["*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

// maxAge and allowCredentials first: their messages may also mention origins.
const FIELDS = {
  maxAge: ["max age"],
  allowCredentials: ["credentials"],
  allowOrigins: ["origin", "origins"],
  allowMethods: ["method", "methods"],
  exposeHeaders: ["expose"],
  allowHeaders: ["header", "headers"],
};

const clean = (rows: string[]) => rows.map((s) => s.trim()).filter(Boolean);

export function HttpCorsTab({ api, onChanged }: { api: HttpApi; onChanged: () => void }) {
  const c = api.corsConfiguration;
  const [origins, setOrigins] = useState<string[]>(c?.allowOrigins ?? [""]);
  const [methods, setMethods] = useState<string[]>(c?.allowMethods ?? []);
  const [headers, setHeaders] = useState<string[]>(c?.allowHeaders ?? []);
  const [expose, setExpose] = useState<string[]>(c?.exposeHeaders ?? []);
  const [maxAge, setMaxAge] = useState(c?.maxAge === undefined ? "" : String(c.maxAge));
  const [credentials, setCredentials] = useState(c?.allowCredentials ?? false);
  const [removing, setRemoving] = useState(false);
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  const toggle = (m: string) => setMethods(methods.includes(m) ? methods.filter((x) => x !== m) : [...methods, m]);
  return (
    <section>
      <div class="page-head">
        <h2>CORS</h2>
        {c && (
          <button type="button" class="danger secondary" onClick={() => setRemoving(true)}>
            Remove CORS configuration
          </button>
        )}
      </div>
      <p class="muted">
        {c
          ? "Configured: the gateway answers preflight (OPTIONS) requests itself and adds the CORS headers to every response."
          : "Not configured: the gateway adds no CORS headers and routes OPTIONS requests like any other."}
      </p>
      <form
        class="panel"
        aria-label="CORS configuration"
        onSubmit={async (e) => {
          e.preventDefault();
          const cors: HttpCors = {
            allowOrigins: clean(origins),
            allowMethods: methods,
            allowHeaders: clean(headers),
            exposeHeaders: clean(expose),
            maxAge: maxAge.trim() === "" ? undefined : Number(maxAge),
            allowCredentials: credentials,
          };
          if (await a.run(() => update(`/v2/apis/${api.apiId}`, { corsConfiguration: cors } satisfies V2UpdateApiRequest))) {
            toast("CORS configuration saved");
            onChanged();
          }
        }}
      >
        <StringRows label="Allowed origins" noun="Origin" rows={origins} onChange={setOrigins} placeholder="https://app.example.com or *" />
        {err.at("allowOrigins") && <ErrorText error={err.at("allowOrigins")} />}
        <fieldset class="kv">
          <legend>Allowed methods</legend>
          <div class="row">
            {METHODS.map((m) => (
              <Check key={m} label={m === "*" ? "* (every method)" : m} checked={methods.includes(m)} onChange={() => toggle(m)} />
            ))}
          </div>
        </fieldset>
        {err.at("allowMethods") && <ErrorText error={err.at("allowMethods")} />}
        <StringRows label="Allowed headers" noun="Allowed header" rows={headers} onChange={setHeaders} placeholder="authorization, content-type or *" />
        {err.at("allowHeaders") && <ErrorText error={err.at("allowHeaders")} />}
        <StringRows label="Exposed headers" noun="Exposed header" rows={expose} onChange={setExpose} placeholder="x-request-id" />
        {err.at("exposeHeaders") && <ErrorText error={err.at("exposeHeaders")} />}
        <Field label="Max age (seconds)" name="maxAge" type="number" value={maxAge} onInput={setMaxAge} hint="How long a browser keeps a preflight answer; empty: not sent" error={err.at("maxAge")} />
        <Check label="Allow credentials (cookies, authorization headers)" checked={credentials} onChange={setCredentials} />
        {err.at("allowCredentials") && <ErrorText error={err.at("allowCredentials")} />}
        <ErrorText error={err.rest} />
        <FormActions submit="Save CORS configuration" disabled={a.busy} />
      </form>
      {removing && (
        <Confirm
          title="Remove CORS configuration"
          danger
          confirm="Remove"
          body={<p>Remove the CORS configuration of {api.name}? Browsers on other origins can no longer call it.</p>}
          onClose={() => setRemoving(false)}
          onConfirm={async () => {
            await del(`/v2/apis/${api.apiId}/cors`);
            toast("CORS configuration removed");
            setOrigins([""]);
            setMethods([]);
            setHeaders([]);
            setExpose([]);
            setMaxAge("");
            setCredentials(false);
            onChanged();
          }}
        />
      )}
    </section>
  );
}
