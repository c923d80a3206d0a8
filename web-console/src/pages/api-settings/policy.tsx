// An API's resource policy: an IAM policy document on execute-api:Invoke, checked before the
// method's authorization. Saved with UpdateRestApi (`replace /policy`, the JSON text as the
// value; `remove /policy` when emptied); the control plane compiles it and its message
// (unknown element, bad Effect, ...) is shown.
import { useState } from "preact/hooks";
import { patch } from "../../api";
import { ErrorText, FormActions, toast, useAction } from "../../ui";
import { JsonEditor, jsonError, pretty } from "../../shared/json-editor";
import type { RestApi } from "../apis/apis";

const statement = (Effect: string, extra?: object) => ({ Effect, Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*", ...extra });
const EXAMPLE = JSON.stringify(
  { Version: "2012-10-17", Statement: [statement("Allow"), statement("Deny", { Condition: { NotIpAddress: { "aws:SourceIp": ["192.0.2.0/24"] } } })] },
  null,
  2,
);

export function ResourcePolicy({ api, onSaved }: { api: RestApi; onSaved: () => void }) {
  const [text, setText] = useState(pretty(api.policy));
  const a = useAction();
  return (
    <form
      class="panel"
      aria-label="Resource policy"
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await a.run(async () => {
          const syntax = jsonError(text);
          if (syntax) throw new Error(`The policy is not valid JSON: ${syntax}`);
          if (!text.trim()) {
            if (api.policy) await patch(`/restapis/${api.id}`, [{ op: "remove", path: "/policy" }]);
          } else if (text !== pretty(api.policy)) await patch(`/restapis/${api.id}`, [{ op: "replace", path: "/policy", value: text }]);
        });
        if (ok) {
          toast(text.trim() ? "Resource policy saved" : "Resource policy removed");
          onSaved();
        }
      }}
    >
      <h2>Resource policy</h2>
      <p class="muted">
        Who may call the API: an IAM policy on <code>execute-api:Invoke</code>, checked before the method's authorization;{" "}
        <code>execute-api:/{"{stage}/{METHOD}/{path}"}</code> names this API's methods. Empty: none. Deploy the API for a change to take effect.
      </p>
      <JsonEditor label="Policy document (JSON)" value={text} onInput={setText} rows={16} hint="Principal, Action, Resource, Condition (aws:SourceIp, …)" />
      {!text.trim() && (
        <button type="button" class="secondary small" onClick={() => setText(EXAMPLE)}>
          Start from an example
        </button>
      )}
      <ErrorText error={a.error} />
      <FormActions submit="Save resource policy" disabled={a.busy} />
    </form>
  );
}
