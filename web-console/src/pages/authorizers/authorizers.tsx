// Authorizers of one API (`/apis/{id}/authorizers`): Lambda TOKEN and REQUEST authorizers and
// Cognito user pool (JWT) ones; create, edit, delete (refused by the control plane while a
// method uses one: its message is shown). Each has its own page
// (`/apis/{id}/authorizers/{authorizerId}`) with its settings and the Test panel. Methods
// choose one in their method request.
import { useState } from "preact/hooks";
import { del, get, listAll } from "../../api";
import { Link, match, navigate } from "../../router";
import { Confirm, ErrorText, ListStatus, Loading, toast, useAsync } from "../../ui";
import { EditDeleteButtons, Table } from "../../shared/table";
import { AuthorizerDialog } from "./form";
import { AuthorizerTest } from "./test";
import { functionOf, isLambda, ttlText, type Authorizer } from "./types";

export function Authorizers({ apiId, path }: { apiId: string; path: string }) {
  const id = match("/apis/:id/authorizers/:aid", path)?.aid;
  return id ? <AuthorizerPage key={id} apiId={apiId} id={id} /> : <AuthorizerList apiId={apiId} />;
}

const decides = (a: Authorizer) => (isLambda(a.type) ? `Function ${functionOf(a.authorizerUri)}` : (a.providerARNs ?? []).join(", "));

function AuthorizerList({ apiId }: { apiId: string }) {
  const authorizers = useAsync(() => listAll<Authorizer>(`/restapis/${apiId}/authorizers`), [apiId]);
  const [editing, setEditing] = useState<Authorizer | "new" | null>(null);
  const [deleting, setDeleting] = useState<Authorizer | null>(null);
  const list = [...(authorizers.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div>
      <div class="page-head">
        <h2>Authorizers</h2>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Create authorizer
        </button>
      </div>
      <p class="muted">
        CUSTOM methods use a Lambda authorizer (TOKEN or REQUEST: a function answers with a principal and a policy); COGNITO_USER_POOLS methods a Cognito one
        (a JWT is verified). Changes take effect on the next deployment.
      </p>
      <ListStatus list={authorizers} loading="Loading authorizers" empty="No authorizers yet" />
      {list.length > 0 && (
        <Table
          label="Authorizers"
          rows={list}
          rowKey={(a) => a.id}
          columns={[
            { title: "Name", cell: (a) => <Link href={`/apis/${apiId}/authorizers/${a.id}`}>{a.name}</Link> },
            { title: "ID", cell: (a) => <code>{a.id}</code> },
            { title: "Type", cell: (a) => a.type },
            { title: "Identity source", cell: (a) => a.identitySource || "—" },
            { title: "Decided by", cell: decides },
            { title: "Cache TTL", cell: (a) => (isLambda(a.type) ? ttlText(a) : "—") },
            {
              title: "Actions",
              hidden: true,
              cell: (a) => <EditDeleteButtons what={`authorizer ${a.name}`} onEdit={() => setEditing(a)} onDelete={() => setDeleting(a)} />,
            },
          ]}
        />
      )}
      {editing && (
        <AuthorizerDialog apiId={apiId} authorizer={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={authorizers.reload} />
      )}
      {deleting && <DeleteAuthorizer apiId={apiId} authorizer={deleting} onClose={() => setDeleting(null)} onDeleted={authorizers.reload} />}
    </div>
  );
}

/** The confirmation; a refusal (409 while a method uses it) stays in the dialog. */
function DeleteAuthorizer(props: { apiId: string; authorizer: Authorizer; onClose: () => void; onDeleted: () => void }) {
  const a = props.authorizer;
  return (
    <Confirm
      title="Delete authorizer"
      danger
      confirm="Delete authorizer"
      body={
        <p>
          Delete the authorizer <strong>{a.name}</strong>? Methods that use it must stop using it first.
        </p>
      }
      onClose={props.onClose}
      onConfirm={async () => {
        await del(`/restapis/${props.apiId}/authorizers/${a.id}`);
        toast(`Authorizer ${a.name} deleted`);
        props.onDeleted();
      }}
    />
  );
}

function AuthorizerPage({ apiId, id }: { apiId: string; id: string }) {
  const authorizer = useAsync(() => get<Authorizer>(`/restapis/${apiId}/authorizers/${id}`), [apiId, id]);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const back = `/apis/${apiId}/authorizers`;
  const a = authorizer.data;
  if (!a)
    return authorizer.error ? (
      <div>
        <ErrorText error={authorizer.error} />
        <Link href={back}>All authorizers</Link>
      </div>
    ) : (
      <Loading what="Loading the authorizer" />
    );
  const cognito = a.type === "COGNITO_USER_POOLS";
  return (
    <div>
      <p class="small">
        <Link href={back}>All authorizers</Link>
      </p>
      <div class="page-head">
        <h2>Authorizer {a.name}</h2>
        <div class="head-actions">
          <button type="button" class="secondary" onClick={() => setEditing(true)}>
            Edit authorizer
          </button>
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete authorizer
          </button>
        </div>
      </div>
      <dl class="props" data-testid="authorizer-props">
        <dt>ID</dt>
        <dd>
          <code>{a.id}</code>
        </dd>
        <dt>Type</dt>
        <dd>{a.type}</dd>
        {cognito ? (
          <>
            <dt>Providers</dt>
            <dd>{(a.providerARNs ?? []).join(", ")}</dd>
          </>
        ) : (
          <>
            <dt>Lambda function</dt>
            <dd>
              <code>{a.authorizerUri}</code>
            </dd>
          </>
        )}
        <dt>Identity source</dt>
        <dd>
          <code>{a.identitySource || "none"}</code>
        </dd>
        {a.identityValidationExpression && (
          <>
            <dt>{cognito ? "App client ID (regex)" : "Token validation (regex)"}</dt>
            <dd>
              <code>{a.identityValidationExpression}</code>
            </dd>
          </>
        )}
        {!cognito && (
          <>
            <dt>Result cache TTL</dt>
            <dd>{ttlText(a)}</dd>
          </>
        )}
      </dl>
      <AuthorizerTest key={JSON.stringify(a)} apiId={apiId} authorizer={a} />
      {editing && <AuthorizerDialog apiId={apiId} authorizer={a} onClose={() => setEditing(false)} onSaved={authorizer.reload} />}
      {deleting && <DeleteAuthorizer apiId={apiId} authorizer={a} onClose={() => setDeleting(false)} onDeleted={() => navigate(back)} />}
    </div>
  );
}
