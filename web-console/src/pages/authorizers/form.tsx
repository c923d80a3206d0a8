// Create or edit an authorizer; the form follows the type. TOKEN: the Lambda function, the
// header carrying the token (identity source `method.request.header.X`), a validation regex
// and the cache TTL. REQUEST: the function, its identity sources and the TTL.
// COGNITO_USER_POOLS: the user pools or issuer URLs (providerARNs), the token header and the
// app client id regex (identityValidationExpression). The control plane checks an authorizer
// with the engine's own compiler; its message is shown under the field it names.
import { useState } from "preact/hooks";
import { patch, patchKey, post, type PatchOp } from "../../api";
import { EditableRows, ErrorText, Field, FormActions, Modal, Options, Select, StringRows, toast, useAction } from "../../ui";
import { HEADER, TYPES, headerOf, isLambda, type Authorizer } from "./types";
import { lambdaUri } from "../../shared/lambda";

/** REQUEST identity source kinds; "" keeps an expression as written. */
const KINDS = [
  { value: HEADER, label: "Header" },
  { value: "method.request.multivalueheader.", label: "Multi-value header" },
  { value: "method.request.querystring.", label: "Query string" },
  { value: "method.request.multivaluequerystring.", label: "Multi-value query string" },
  { value: "stageVariables.", label: "Stage variable" },
  { value: "context.", label: "Context variable" },
  { value: "", label: "Expression (as written)" },
];
type Source = [kind: string, name: string];

const splitSources = (text = ""): Source[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const k = KINDS.find((k) => k.value && s.startsWith(k.value))?.value ?? "";
      return [k, s.slice(k.length)];
    });


/** Which field a server (or local) message is about, so it is shown there. */
const FIELDS: [RegExp, string][] = [
  [/authorizerUri/i, "uri"],
  [/identityValidationExpression/i, "regex"],
  [/identity ?source/i, "source"],
  [/authorizerResultTtlInSeconds/i, "ttl"],
  [/providerARNs/i, "providers"],
  [/name/i, "name"],
];

export function AuthorizerDialog(props: { apiId: string; authorizer: Authorizer | null; onClose: () => void; onSaved: () => void }) {
  const was = props.authorizer;
  const [name, setName] = useState(was?.name ?? "");
  const [type, setType] = useState(was?.type ?? "TOKEN");
  const [uri, setUri] = useState(was?.authorizerUri ?? "");
  const [header, setHeader] = useState(was && was.type !== "REQUEST" ? headerOf(was.identitySource) : "Authorization");
  const [sources, setSources] = useState<Source[]>(was?.type === "REQUEST" ? splitSources(was.identitySource) : [[HEADER, ""]]);
  const [regex, setRegex] = useState(was?.identityValidationExpression ?? "");
  const [ttl, setTtl] = useState(String(was?.authorizerResultTtlInSeconds ?? 300));
  const [providers, setProviders] = useState<string[]>(was?.providerARNs ?? [""]);
  const a = useAction();
  const lambda = isLambda(type);
  const at = a.error ? FIELDS.find(([r]) => r.test(a.error!))?.[1] : undefined;
  const err = (field: string) => (at === field ? a.error : undefined);
  const listError = (field: string) => <ErrorText error={err(field)} />;

  const submit = async () => {
    if (lambda && !/^\d+$/.test(ttl.trim())) throw new Error("authorizerResultTtlInSeconds: enter a whole number of seconds from 0 to 3600");
    const after = {
      name: name.trim(),
      type,
      authorizerUri: lambda ? lambdaUri(uri.trim()) : "",
      identitySource:
        type === "REQUEST"
          ? sources
              .filter(([, n]) => n.trim())
              .map(([k, n]) => k + n.trim())
              .join(", ")
          : header.trim() && HEADER + header.trim(),
      identityValidationExpression: type === "REQUEST" ? "" : regex.trim(),
    };
    const arns = lambda ? [] : [...new Set(providers.map((p) => p.trim()).filter(Boolean))];
    if (!was) {
      // Empty fields are left out (JSON drops undefined).
      const body: Record<string, unknown> = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v || undefined]));
      await post(`/restapis/${props.apiId}/authorizers`, {
        ...body,
        authorizerResultTtlInSeconds: lambda ? Number(ttl) : undefined,
        providerARNs: arns.length ? arns : undefined,
      });
      return;
    }
    const ops: PatchOp[] = [];
    for (const [k, v] of Object.entries(after)) {
      const before = String((was as Record<string, unknown>)[k] ?? "");
      if (before === v) continue;
      // name and type cannot be removed: a blank one is the server's to refuse.
      ops.push(v || k === "name" ? { op: "replace", path: `/${k}`, value: v } : { op: "remove", path: `/${k}` });
    }
    if (lambda && Number(ttl) !== (was.authorizerResultTtlInSeconds ?? 300))
      ops.push({ op: "replace", path: "/authorizerResultTtlInSeconds", value: String(Number(ttl)) });
    const before = was.providerARNs ?? [];
    for (const p of before) if (!arns.includes(p)) ops.push({ op: "remove", path: `/providerARNs/${patchKey(p)}` });
    for (const p of arns) if (!before.includes(p)) ops.push({ op: "add", path: `/providerARNs/${patchKey(p)}` });
    if (ops.length) await patch(`/restapis/${props.apiId}/authorizers/${was.id}`, ops);
  };

  return (
    <Modal title={was ? `Edit authorizer ${was.name}` : "Create authorizer"} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (await a.run(submit)) {
            toast(`Authorizer ${name.trim()} saved`);
            props.onSaved();
            props.onClose();
          }
        }}
      >
        <Field label="Authorizer name" name="authorizerName" value={name} onInput={setName} required autoFocus error={err("name")} />
        <Select label="Authorizer type" name="authorizerType" value={type} options={TYPES} onChange={setType} />
        {lambda && (
          <Field
            label="Lambda function"
            name="authorizerUri"
            value={uri}
            onInput={setUri}
            required
            error={err("uri")}
            hint="A function ARN (arn:aws:lambda:{region}:{account}:function:{name}[:{alias}]) or its invocation URI; ${stageVariables.name} allowed"
          />
        )}
        {type === "COGNITO_USER_POOLS" && (
          <>
            <StringRows
              label="User pools and issuers (providerARNs)"
              noun="Provider"
              rows={providers}
              onChange={setProviders}
              placeholder="arn:aws:cognito-idp:{region}:{account}:userpool/{poolId} or https://issuer.example"
            />
            {listError("providers")}
          </>
        )}
        {type !== "REQUEST" && (
          <Field
            label="Token source (header name)"
            name="tokenHeader"
            value={header}
            onInput={setHeader}
            required
            error={err("source")}
            hint="The request header carrying the token"
          />
        )}
        {type === "TOKEN" && (
          <Field
            label="Token validation (regex)"
            name="tokenValidation"
            value={regex}
            onInput={setRegex}
            error={err("regex")}
            hint="Optional: a token not matching it gets 401 without a call, e.g. Bearer [-0-9a-zA-Z._]+"
          />
        )}
        {type === "COGNITO_USER_POOLS" && (
          <Field
            label="App client ID (regex)"
            name="clientId"
            value={regex}
            onInput={setRegex}
            error={err("regex")}
            hint="Optional: the token's aud or client_id must match it"
          />
        )}
        {type === "REQUEST" && (
          <>
            <EditableRows
              label="Identity sources"
              rows={sources}
              onChange={setSources}
              removeLabel={(i) => `Remove identity source ${i + 1}`}
              addLabel="Add identity source"
              blank={() => [HEADER, ""] as Source}
              row={([k, n], i) => (
                <>
                  <select
                    aria-label={`Identity source ${i + 1} kind`}
                    value={k}
                    onChange={(e) => setSources(sources.map((s, j) => (j === i ? [(e.currentTarget as HTMLSelectElement).value, s[1]] : s)))}
                  >
                    <Options options={KINDS} />
                  </select>
                  <input
                    aria-label={`Identity source ${i + 1} name`}
                    placeholder="Name"
                    value={n}
                    onInput={(e) => setSources(sources.map((s, j) => (j === i ? [s[0], (e.currentTarget as HTMLInputElement).value] : s)))}
                  />
                </>
              )}
            />
            <p class="hint">A request missing one gets 401 without a call. Required when the TTL is above 0: they make the cache key.</p>
            {listError("source")}
          </>
        )}
        {lambda && (
          <Field
            label="Result cache TTL (seconds)"
            name="ttl"
            type="number"
            value={ttl}
            onInput={setTtl}
            error={err("ttl")}
            hint="0 to 3600; 0: no caching"
          />
        )}
        {!at && <ErrorText error={a.error} />}
        <FormActions submit={was ? "Save" : "Create authorizer"} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
