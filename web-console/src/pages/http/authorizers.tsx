// An HTTP API's Authorizers tab: JWT authorizers (issuer, audiences, identity source, usually
// `$request.header.Authorization`) and Lambda REQUEST authorizers (function, payload format
// 1.0 / 2.0, simple responses with 2.0, result TTL, identity sources), listed with the
// routes that use them; create, edit (UpdateAuthorizer) and delete (refused by the control
// plane while a route uses one: its message stays in the dialog). Routes choose theirs on
// the Routes tab.
import { useState } from "preact/hooks";
import { del, post, update } from "../../api";
import { Check, Confirm, ErrorText, Field, FormActions, ListStatus, Modal, Select, StringRows, toast, useAction, useAsync } from "../../ui";
import { EditDeleteButtons, Table } from "../../shared/table";
import { lambdaUri } from "../../shared/lambda";
import { listV2, splitError, type HttpAuthorizer, type HttpRoute } from "../../v2";
import type { V2CreateAuthorizerRequest, V2UpdateAuthorizerRequest } from "../../api/types";

/** The function name of an invocation URI (or the URI itself). */
const functionOf = (uri?: string) => (uri ? (/function:([^/:]+(?::[^/]+)?)\/invocations$/.exec(uri)?.[1] ?? uri) : "—");

// identitySource first: its messages also say "name"; issuer/audience before the rest.
const FIELDS = {
  identitySource: ["identity source", "identity sources"],
  issuer: ["jwtConfiguration.issuer", "issuer"],
  audience: ["jwtConfiguration.audience", "audience"],
  authorizerResultTtlInSeconds: ["ttl"],
  enableSimpleResponses: ["simple responses"],
  authorizerPayloadFormatVersion: ["payload format", "payload format version"],
  authorizerUri: ["function"],
  name: ["authorizer name"],
};

export function HttpAuthorizers({ apiId }: { apiId: string }) {
  const list = useAsync(() => listV2<HttpAuthorizer>(`/v2/apis/${apiId}/authorizers`), [apiId]);
  const routes = useAsync(() => listV2<HttpRoute>(`/v2/apis/${apiId}/routes`), [apiId]);
  const [editing, setEditing] = useState<HttpAuthorizer | "new" | null>(null);
  const [deleting, setDeleting] = useState<HttpAuthorizer | null>(null);
  const rows = [...(list.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const usedBy = (a: HttpAuthorizer) =>
    (routes.data ?? [])
      .filter((r) => r.authorizerId === a.authorizerId)
      .map((r) => r.routeKey)
      .join(", ");
  return (
    <section>
      <div class="page-head">
        <h2>Authorizers</h2>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Create authorizer
        </button>
      </div>
      <ListStatus list={list} loading="Loading authorizers" empty="No authorizers yet">
        <p>
          A JWT authorizer checks a token from an issuer (its signature against the issuer's keys, its audience, and the route's scopes); a Lambda
          authorizer asks a function. Routes choose one on the Routes tab.
        </p>
      </ListStatus>
      {rows.length > 0 && (
        <Table
          label="Authorizers"
          testId="http-authorizers"
          rows={rows}
          rowKey={(a) => a.authorizerId}
          columns={[
            { title: "Name", cell: (a) => a.name },
            { title: "ID", cell: (a) => <code>{a.authorizerId}</code> },
            { title: "Type", cell: (a) => (a.authorizerType === "JWT" ? "JWT" : "Lambda (REQUEST)") },
            {
              title: "Settings",
              cell: (a) =>
                a.authorizerType === "JWT" ? (
                  <>
                    Issuer <code>{a.jwtConfiguration?.issuer ?? "—"}</code>
                    {a.jwtConfiguration?.audience?.length ? (
                      <>
                        {" "}
                        · audience <code>{a.jwtConfiguration.audience.join(", ")}</code>
                      </>
                    ) : null}
                  </>
                ) : (
                  <>
                    <code title={a.authorizerUri}>{functionOf(a.authorizerUri)}</code> · payload {a.authorizerPayloadFormatVersion ?? "—"}
                    {a.enableSimpleResponses ? " · simple responses" : ""} · TTL {a.authorizerResultTtlInSeconds ?? 0} s
                  </>
                ),
            },
            {
              title: "Identity sources",
              cell: (a) =>
                a.identitySource?.length ? (
                  a.identitySource.map((s) => (
                    <span key={s}>
                      <code>{s}</code>{" "}
                    </span>
                  ))
                ) : (
                  <span class="muted">None</span>
                ),
            },
            { title: "Used by", cell: (a) => usedBy(a) || <span class="muted">No route</span> },
            {
              title: "Actions",
              hidden: true,
              cell: (a) => <EditDeleteButtons what={`authorizer ${a.name}`} onEdit={() => setEditing(a)} onDelete={() => setDeleting(a)} />,
            },
          ]}
        />
      )}
      {editing && (
        <AuthorizerDialog
          apiId={apiId}
          authorizer={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete authorizer"
          danger
          confirm="Delete authorizer"
          body={
            <p>
              Delete the authorizer <strong>{deleting.name}</strong>? A route that uses it must stop using it first.
            </p>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`/v2/apis/${apiId}/authorizers/${deleting.authorizerId}`);
            toast(`Authorizer ${deleting.name} deleted`);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function AuthorizerDialog(props: { apiId: string; authorizer: HttpAuthorizer | null; onClose: () => void; onSaved: () => void }) {
  const was = props.authorizer;
  const [type, setType] = useState<string>(was?.authorizerType ?? "JWT");
  const [name, setName] = useState(was?.name ?? "");
  const [sources, setSources] = useState<string[]>(was?.identitySource ?? ["$request.header.Authorization"]);
  const [issuer, setIssuer] = useState(was?.jwtConfiguration?.issuer ?? "");
  const [audience, setAudience] = useState<string[]>(was?.jwtConfiguration?.audience ?? [""]);
  const [uri, setUri] = useState(was?.authorizerUri ?? "");
  const [payload, setPayload] = useState(was?.authorizerPayloadFormatVersion ?? "2.0");
  const [simple, setSimple] = useState(was?.enableSimpleResponses ?? true);
  const [ttl, setTtl] = useState(String(was?.authorizerResultTtlInSeconds ?? 0));
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  const jwt = type === "JWT";
  return (
    <Modal title={was ? `Edit authorizer ${was.name}` : "Create authorizer"} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const identitySource = sources.map((s) => s.trim()).filter(Boolean);
          const body: V2UpdateAuthorizerRequest = jwt
            ? { name: name.trim(), identitySource, jwtConfiguration: { issuer: issuer.trim(), audience: audience.map((s) => s.trim()).filter(Boolean) } }
            : {
                name: name.trim(),
                identitySource,
                authorizerUri: lambdaUri(uri.trim()),
                authorizerPayloadFormatVersion: payload,
                enableSimpleResponses: payload === "2.0" ? simple : false,
                authorizerResultTtlInSeconds: ttl.trim() === "" ? 0 : Number(ttl),
              };
          const ok = await a.run(() =>
            was
              ? update(`/v2/apis/${props.apiId}/authorizers/${was.authorizerId}`, body)
              : post(`/v2/apis/${props.apiId}/authorizers`, { ...body, name: name.trim(), identitySource, authorizerType: jwt ? "JWT" : "REQUEST" } satisfies V2CreateAuthorizerRequest),
          );
          if (ok) {
            toast(`Authorizer ${name.trim()} ${was ? "saved" : "created"}`);
            props.onSaved();
          }
        }}
      >
        {was ? (
          <p>
            Type: <strong>{jwt ? "JWT" : "Lambda (REQUEST)"}</strong>
          </p>
        ) : (
          <Select
            label="Authorizer type"
            name="authorizerType"
            value={type}
            options={[
              { value: "JWT", label: "JWT (OpenID Connect / OAuth 2.0 issuer)" },
              { value: "REQUEST", label: "Lambda (REQUEST)" },
            ]}
            onChange={(v) => {
              setType(v);
              if (v === "JWT" && sources.length === 0) setSources(["$request.header.Authorization"]);
            }}
          />
        )}
        <Field label="Authorizer name" name="authorizerName" value={name} onInput={setName} required autoFocus error={err.at("name")} />
        {jwt ? (
          <>
            <Field
              label="Issuer"
              name="issuer"
              value={issuer}
              onInput={setIssuer}
              required
              placeholder="https://issuer.example.com/"
              hint="The token's iss; its keys are read from {issuer}/.well-known/openid-configuration"
              error={err.at("issuer")}
            />
            <StringRows label="Audience" noun="Audience" rows={audience} onChange={setAudience} placeholder="my-client-id" />
            <p class="hint">The token's aud (or client_id) must be one of them.</p>
            {err.at("audience") && <ErrorText error={err.at("audience")} />}
          </>
        ) : (
          <>
            <Field
              label="Lambda function"
              name="authorizerUri"
              value={uri}
              onInput={setUri}
              required
              placeholder="arn:aws:lambda:us-east-1:000000000000:function:authorizer"
              hint="A function ARN or its invocation URI"
              error={err.at("authorizerUri")}
            />
            <div class="row">
              <Select
                label="Payload format version"
                name="authorizerPayloadFormatVersion"
                value={payload}
                options={[
                  { value: "2.0", label: "2.0" },
                  { value: "1.0", label: "1.0 (IAM policy answers)" },
                ]}
                onChange={setPayload}
              />
              <Field
                label="Result TTL (seconds)"
                name="authorizerResultTtlInSeconds"
                type="number"
                value={ttl}
                onInput={setTtl}
                hint="0 to 3600; 0: no caching (caching needs identity sources)"
                error={err.at("authorizerResultTtlInSeconds")}
              />
            </div>
            {err.at("authorizerPayloadFormatVersion") && <ErrorText error={err.at("authorizerPayloadFormatVersion")} />}
            {payload === "2.0" && <Check label="Simple responses ({isAuthorized, context} instead of an IAM policy)" checked={simple} onChange={setSimple} />}
            {err.at("enableSimpleResponses") && <ErrorText error={err.at("enableSimpleResponses")} />}
          </>
        )}
        <StringRows label="Identity sources" noun="Identity source" rows={sources} onChange={setSources} placeholder="$request.header.Authorization" />
        <p class="hint">
          e.g. <code>$request.header.Authorization</code>, <code>$request.querystring.token</code>, <code>$context.x</code> or{" "}
          <code>$stageVariables.x</code>
          {jwt ? ": where the token is read." : ": a request missing one gets 401 without a call."}
        </p>
        <ErrorText error={err.at("identitySource")} />
        <ErrorText error={err.rest} />
        <FormActions submit={was ? "Save" : "Create"} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
