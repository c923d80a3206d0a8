// A WebSocket API's Authorizers tab: its REQUEST (Lambda) authorizers, listed with the
// routes that use them; create, edit (name, function, identity sources) and delete (refused
// by the control plane while a route uses one: its message stays in the dialog). The
// `$connect` route chooses one in its Create route dialog (Routes tab).
import { useState } from "preact/hooks";
import { del, post, update } from "../../api";
import { Confirm, EditableRows, ErrorText, Field, FormActions, ListStatus, Modal, Options, toast, useAction, useAsync } from "../../ui";
import { EditDeleteButtons, Table } from "../../shared/table";
import { lambdaUri } from "../../shared/lambda";
import { listV2, splitError, type WsAuthorizer, type WsRoute } from "../../v2";
import type { V2CreateAuthorizerRequest, V2UpdateAuthorizerRequest } from "../../api/types";

/** Where a WebSocket REQUEST authorizer reads an identity; "" keeps an expression as written. */
const KINDS = [
  { value: "route.request.querystring.", label: "Query string" },
  { value: "route.request.header.", label: "Header" },
  { value: "stageVariables.", label: "Stage variable" },
  { value: "context.", label: "Context variable" },
  { value: "", label: "Expression (as written)" },
];
type Source = [kind: string, name: string];

const splitSource = (s: string): Source => {
  const k = KINDS.find((k) => k.value && s.startsWith(k.value))?.value ?? "";
  return [k, s.slice(k.length)];
};

/** The function name of an invocation URI (or the URI itself). */
const functionOf = (uri?: string) => (uri ? (/function:([^/:]+(?::[^/]+)?)\/invocations$/.exec(uri)?.[1] ?? uri) : "—");

// identitySource first: its messages also say "name" ("route.request.header.X" is not one).
const FIELDS = { identitySource: ["identity source"], authorizerUri: ["function"], name: ["authorizer name"] };

export function WsAuthorizers({ apiId }: { apiId: string }) {
  const list = useAsync(() => listV2<WsAuthorizer>(`/v2/apis/${apiId}/authorizers`), [apiId]);
  const routes = useAsync(() => listV2<WsRoute>(`/v2/apis/${apiId}/routes`), [apiId]);
  const [editing, setEditing] = useState<WsAuthorizer | "new" | null>(null);
  const [deleting, setDeleting] = useState<WsAuthorizer | null>(null);
  const rows = [...(list.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const usedBy = (a: WsAuthorizer) =>
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
          A REQUEST authorizer is a Lambda function that decides on <code>$connect</code> whether a client may connect, from its identity sources (a query
          string parameter, a header, ...). The <code>$connect</code> route chooses one.
        </p>
      </ListStatus>
      {rows.length > 0 && (
        <Table
          label="Authorizers"
          testId="ws-authorizers"
          rows={rows}
          rowKey={(a) => a.authorizerId}
          columns={[
            { title: "Name", cell: (a) => a.name },
            { title: "ID", cell: (a) => <code>{a.authorizerId}</code> },
            { title: "Function", cell: (a) => <code title={a.authorizerUri}>{functionOf(a.authorizerUri)}</code> },
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

function AuthorizerDialog(props: { apiId: string; authorizer: WsAuthorizer | null; onClose: () => void; onSaved: () => void }) {
  const was = props.authorizer;
  const [name, setName] = useState(was?.name ?? "");
  const [uri, setUri] = useState(was?.authorizerUri ?? "");
  const [sources, setSources] = useState<Source[]>(was ? (was.identitySource ?? []).map(splitSource) : [["route.request.querystring.", ""]]);
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  return (
    <Modal title={was ? `Edit authorizer ${was.name}` : "Create authorizer"} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const body = {
            name: name.trim(),
            authorizerUri: lambdaUri(uri.trim()),
            identitySource: sources.filter(([, n]) => n.trim()).map(([k, n]) => k + n.trim()),
          } satisfies V2UpdateAuthorizerRequest;
          const ok = await a.run(() =>
            was
              ? update(`/v2/apis/${props.apiId}/authorizers/${was.authorizerId}`, body)
              : post(`/v2/apis/${props.apiId}/authorizers`, { ...body, authorizerType: "REQUEST" } satisfies V2CreateAuthorizerRequest),
          );
          if (ok) {
            toast(`Authorizer ${body.name} ${was ? "saved" : "created"}`);
            props.onSaved();
          }
        }}
      >
        <Field label="Authorizer name" name="authorizerName" value={name} onInput={setName} required autoFocus error={err.at("name")} />
        <Field
          label="Lambda function"
          name="authorizerUri"
          value={uri}
          onInput={setUri}
          required
          placeholder="arn:aws:lambda:us-east-1:000000000000:function:websocket-authorizer"
          hint="A function ARN or its invocation URI; ${stageVariables.name} allowed"
          error={err.at("authorizerUri")}
        />
        <EditableRows
          label="Identity sources"
          rows={sources}
          onChange={setSources}
          removeLabel={(i) => `Remove identity source ${i + 1}`}
          addLabel="Add identity source"
          blank={() => ["route.request.header.", ""] as Source}
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
                placeholder={k ? "Name, e.g. token" : "route.request.querystring.token"}
                value={n}
                aria-invalid={err.at("identitySource") ? true : undefined}
                onInput={(e) => setSources(sources.map((s, j) => (j === i ? [s[0], (e.currentTarget as HTMLInputElement).value] : s)))}
              />
            </>
          )}
        />
        <p class="hint">
          e.g. <code>route.request.querystring.token</code> or <code>route.request.header.Auth</code>: a connection request missing one gets 401 without a call.
        </p>
        <ErrorText error={err.at("identitySource")} />
        <ErrorText error={err.rest} />
        <FormActions submit={was ? "Save" : "Create"} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
