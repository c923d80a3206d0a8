// Settings: account (throttling), my password, my access keys, console users and their
// policies, the policies themselves (admins).
import { useState } from "preact/hooks";
import { del, fmtDate, get, patch, post, put, update, type User } from "../api";
import { Link } from "../router";
import { Check, Confirm, ErrorText, Field, FormActions, ListStatus, Loading, Modal, toast, useAction, useAsync } from "../ui";
import { TableHead } from "../shared/table";
import { listPolicies, Policies } from "./policies";

const TABS: [string, string, boolean][] = [
  ["account", "Account", false],
  ["password", "My password", false],
  ["access-keys", "My access keys", false],
  ["users", "Users", true],
  ["policies", "Policies", true],
];

/** Whether `/settings/{tab}` is a settings screen (else the app shows "Page not found"). */
export const isSettingsTab = (tab: string) => TABS.some(([id]) => id === tab);

export function Settings({ tab, user }: { tab: string; user: User }) {
  return (
    <div class="page">
      <h1>Settings</h1>
      <nav class="tabs" aria-label="Settings sections">
        {TABS.filter(([, , admin]) => !admin || user.isAdmin).map(([id, label]) => (
          <Link key={id} href={`/settings/${id}`} aria-current={tab === id ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {tab === "account" && <Account />}
      {tab === "password" && <Password />}
      {tab === "access-keys" && <AccessKeys />}
      {tab === "users" && (user.isAdmin ? <Users me={user} /> : <ErrorText error="Only administrators can manage console users" />)}
      {tab === "policies" && (user.isAdmin ? <Policies /> : <ErrorText error="Only administrators can manage policies" />)}
    </div>
  );
}

function Account() {
  const account = useAsync(() => get<any>("/account"), []);
  if (account.error) return <ErrorText error={account.error} />;
  if (!account.data) return <Loading what="Loading account settings" />;
  return <AccountForm account={account.data} onSaved={account.reload} />;
}

function AccountForm({ account, onSaved }: { account: any; onSaved: () => void }) {
  const [rate, setRate] = useState(String(account.throttleSettings?.rateLimit ?? ""));
  const [burst, setBurst] = useState(String(account.throttleSettings?.burstLimit ?? ""));
  const a = useAction();
  return (
    <form
      class="panel"
      aria-label="Account settings"
      onSubmit={async (e) => {
        e.preventDefault();
        if (
          await a.run(() =>
            patch("/account", [
              { op: "replace", path: "/throttle/rateLimit", value: rate },
              { op: "replace", path: "/throttle/burstLimit", value: burst },
            ]),
          )
        ) {
          toast("Account settings saved");
          onSaved();
        }
      }}
    >
      <h2>Account-level throttling</h2>
      <p class="muted">Applies to every API and stage unless a stage sets its own limits.</p>
      <div class="row">
        <Field label="Rate limit (requests/s)" value={rate} onInput={setRate} type="number" />
        <Field label="Burst limit" value={burst} onInput={setBurst} type="number" />
      </div>
      <ErrorText error={a.error} />
      <FormActions submit="Save" disabled={a.busy} />
    </form>
  );
}

function Password() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const a = useAction();
  return (
    <form
      class="panel"
      aria-label="Change my password"
      onSubmit={async (e) => {
        e.preventDefault();
        if (await a.run(() => put("/console/api/me/password", { currentPassword: current, newPassword: next }))) {
          toast("Password changed; other sessions were signed out");
          setCurrent("");
          setNext("");
        }
      }}
    >
      <h2>Change my password</h2>
      <Field label="Current password" type="password" value={current} onInput={setCurrent} autocomplete="current-password" required />
      <Field label="New password" type="password" value={next} onInput={setNext} autocomplete="new-password" required hint="At least 12 characters" />
      <ErrorText error={a.error} />
      <FormActions submit="Change password" disabled={a.busy} />
    </form>
  );
}

type Key = { accessKeyId: string; description?: string; enabled: boolean; createdDate: number };

function AccessKeys() {
  const keys = useAsync(() => get<{ item: Key[] }>("/console/api/me/access-keys").then((r) => r.item), []);
  const [description, setDescription] = useState("");
  const [created, setCreated] = useState<(Key & { secretAccessKey: string }) | null>(null);
  const [removing, setRemoving] = useState<Key | null>(null);
  const a = useAction();
  return (
    <div>
      <h2>My access keys</h2>
      <p class="muted">For the AWS CLI and SDKs (Signature V4, service apigateway) pointed at this control plane with --endpoint-url.</p>
      <ListStatus list={keys} loading="Loading access keys" empty="You have no access keys" />
      {keys.data && keys.data.length > 0 && (
        <table class="table">
          <TableHead columns={["Access key ID", "Description", "Created", "Status"]} />
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.accessKeyId}>
                <td>
                  <code>{k.accessKeyId}</code>
                </td>
                <td>{k.description ?? ""}</td>
                <td>{fmtDate(k.createdDate)}</td>
                <td>{k.enabled ? "Active" : "Inactive"}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    class="secondary small"
                    onClick={() =>
                      a.run(async () => {
                        await update(`/console/api/me/access-keys/${k.accessKeyId}`, { enabled: !k.enabled });
                        toast(`${k.accessKeyId} ${k.enabled ? "deactivated" : "activated"}`);
                        keys.reload();
                      })
                    }
                  >
                    {k.enabled ? "Deactivate" : "Activate"}
                  </button>
                  <button type="button" class="link" onClick={() => setRemoving(k)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        class="panel"
        aria-label="Create access key"
        onSubmit={async (e) => {
          e.preventDefault();
          await a.run(async () => {
            setCreated(await post("/console/api/me/access-keys", { description: description || undefined }));
            setDescription("");
            keys.reload();
          });
        }}
      >
        <h3>Create access key</h3>
        <Field label="Description" value={description} onInput={setDescription} placeholder="e.g. laptop CLI" />
        <ErrorText error={a.error} />
        <FormActions submit="Create access key" disabled={a.busy} />
      </form>
      {created && (
        <Modal title="Access key created" onClose={() => setCreated(null)}>
          <p>
            <strong>Copy the secret now: it is shown only once.</strong>
          </p>
          <dl class="props">
            <dt>Access key ID</dt>
            <dd>
              <code data-testid="new-key-id">{created.accessKeyId}</code>
            </dd>
            <dt>Secret access key</dt>
            <dd>
              <code data-testid="new-key-secret">{created.secretAccessKey}</code>
            </dd>
          </dl>
          <div class="actions">
            <button
              type="button"
              class="secondary"
              onClick={() => navigator.clipboard?.writeText(`${created.accessKeyId}\n${created.secretAccessKey}`).then(() => toast("Copied"))}
            >
              Copy both
            </button>
            <button type="button" class="primary" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </Modal>
      )}
      {removing && (
        <Confirm
          title="Delete access key"
          danger
          confirm="Delete"
          body={<p>Delete {removing.accessKeyId}? Scripts using it stop working.</p>}
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await del(`/console/api/me/access-keys/${removing.accessKeyId}`);
            toast(`${removing.accessKeyId} deleted`);
            keys.reload();
          }}
        />
      )}
    </div>
  );
}

/** A user as the admin list shows it: with whether failed sign-ins lock them out now and
 * the names of their policies. */
type ListedUser = User & { signInLocked?: boolean; policies?: string[] };

function Users({ me }: { me: User }) {
  const users = useAsync(() => get<{ item: ListedUser[] }>("/console/api/users").then((r) => r.item), []);
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const a = useAction();
  return (
    <div>
      <div class="page-head">
        <h2>Console users</h2>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create user
        </button>
      </div>
      <ErrorText error={users.error ?? a.error} />
      {users.loading && !users.data && <Loading what="Loading users" />}
      {users.data && (
        <table class="table">
          <TableHead columns={["Username", "Role", "Policies", "Status", "Created"]} />
          <tbody>
            {users.data.map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>{u.isAdmin ? "Admin" : "User"}</td>
                <td data-testid={`policies-${u.username}`}>{(u.policies ?? []).join(", ")}</td>
                <td>
                  {u.enabled ? "Enabled" : "Disabled"}
                  {u.signInLocked && <span class="badge warn">Sign-in locked</span>}
                </td>
                <td>{fmtDate(u.createdDate)}</td>
                <td class="row-actions">
                  {u.signInLocked && (
                    <button
                      type="button"
                      class="secondary small"
                      aria-label={`Unlock ${u.username}`}
                      onClick={() =>
                        a.run(async () => {
                          await post(`/console/api/users/${encodeURIComponent(u.username)}/unlock`);
                          toast(`${u.username} can sign in again`);
                          users.reload();
                        })
                      }
                    >
                      Unlock
                    </button>
                  )}
                  {u.id !== me.id && (
                    <button
                      type="button"
                      class="secondary small"
                      onClick={() =>
                        a.run(async () => {
                          await update(`/console/api/users/${encodeURIComponent(u.username)}`, { enabled: !u.enabled });
                          toast(`${u.username} ${u.enabled ? "disabled" : "enabled"}`);
                          users.reload();
                        })
                      }
                    >
                      {u.enabled ? "Disable" : "Enable"}
                    </button>
                  )}
                  <button type="button" class="link" aria-label={`Policies of ${u.username}`} onClick={() => setEditing(u.username)}>
                    Policies
                  </button>
                  <button type="button" class="link" onClick={() => setResetting(u)}>
                    Set password
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && <CreateUser onClose={() => setCreating(false)} onCreated={users.reload} />}
      {resetting && <SetPassword user={resetting} onClose={() => setResetting(null)} />}
      {editing && (
        <UserPolicies
          user={users.data?.find((u) => u.username === editing)}
          onClose={() => setEditing(null)}
          onChanged={users.reload}
        />
      )}
    </div>
  );
}

/** Attach or detach the policies of one user (PUT / DELETE /console/api/users/{u}/policies/{p}). */
function UserPolicies({ user, onClose, onChanged }: { user?: ListedUser; onClose: () => void; onChanged: () => void }) {
  const policies = useAsync(listPolicies, []);
  const a = useAction();
  if (!user) return null;
  const attached = new Set(user.policies ?? []);
  return (
    <Modal title={`Policies of ${user.username}`} onClose={onClose}>
      <ListStatus list={policies} loading="Loading policies" empty="No policies" />
      {policies.data && (
        <table class="table" aria-label={`Policies of ${user.username}`}>
          <TableHead columns={["Policy", "Attached"]} />
          <tbody>
            {policies.data.map((p) => {
              const on = attached.has(p.name);
              const path = `/console/api/users/${encodeURIComponent(user.username)}/policies/${encodeURIComponent(p.name)}`;
              return (
                <tr key={p.name}>
                  <td>{p.name}</td>
                  <td>{on ? "Yes" : "No"}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="secondary small"
                      aria-label={`${on ? "Detach" : "Attach"} ${p.name}`}
                      disabled={a.busy}
                      onClick={() =>
                        a.run(async () => {
                          await (on ? del(path) : put(path));
                          toast(`${p.name} ${on ? "detached from" : "attached to"} ${user.username}`);
                          onChanged();
                        })
                      }
                    >
                      {on ? "Detach" : "Attach"}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <ErrorText error={a.error} />
      <div class="actions">
        <button type="button" class="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}

function CreateUser({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [admin, setAdmin] = useState(false);
  const a = useAction();
  return (
    <Modal title="Create user" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (await a.run(() => post("/console/api/users", { username, password, isAdmin: admin }))) {
            toast(`User ${username} created`);
            onCreated();
            onClose();
          }
        }}
      >
        <Field label="Username" value={username} onInput={setUsername} required autoFocus />
        <Field label="Initial password" type="password" value={password} onInput={setPassword} autocomplete="new-password" required hint="At least 12 characters" />
        <Check label="Administrator (AdministratorAccess; otherwise ReadOnlyAccess)" checked={admin} onChange={setAdmin} />
        <ErrorText error={a.error} />
        <FormActions submit="Create user" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}

function SetPassword({ user, onClose }: { user: User; onClose: () => void }) {
  const [password, setPassword] = useState("");
  const a = useAction();
  return (
    <Modal title={`Set password of ${user.username}`} onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (await a.run(() => update(`/console/api/users/${encodeURIComponent(user.username)}`, { password }))) {
            toast(`Password of ${user.username} set; their sessions were ended`);
            onClose();
          }
        }}
      >
        <Field label="New password" type="password" value={password} onInput={setPassword} autocomplete="new-password" required autoFocus />
        <ErrorText error={a.error} />
        <FormActions submit="Set password" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}

