// A stage's client certificate (UpdateStage `replace /clientCertificateId`): the one its
// HTTP and HTTP_PROXY integrations present to HTTPS backends, or none.
import { useState } from "preact/hooks";
import { listAll, patch } from "../../api";
import { Link } from "../../router";
import { ErrorText, FormActions, Select, toast, useAction, useAsync } from "../../ui";
import type { ClientCertificate } from "./types";

export function StageClientCertificate(props: { spath: string; current?: string; onChanged: () => void }) {
  const certs = useAsync(() => listAll<ClientCertificate>("/clientcertificates"), []);
  const [choice, setChoice] = useState(props.current ?? "");
  const a = useAction();
  const options = [
    { value: "", label: "None" },
    ...(certs.data ?? []).map((c) => ({ value: c.clientCertificateId, label: `${c.clientCertificateId}${c.description ? ` — ${c.description}` : ""}` })),
  ];
  if (props.current && !options.some((o) => o.value === props.current)) options.push({ value: props.current, label: props.current });
  return (
    <form
      class="panel"
      aria-label="Client certificate"
      onSubmit={async (e) => {
        e.preventDefault();
        if (choice === (props.current ?? "")) return;
        const ok = await a.run(() => patch(props.spath, [choice ? { op: "replace", path: "/clientCertificateId", value: choice } : { op: "remove", path: "/clientCertificateId" }]));
        if (ok) {
          toast(choice ? `Client certificate ${choice} set` : "Client certificate removed");
          props.onChanged();
        }
      }}
    >
      <h3>Client certificate</h3>
      <p class="muted">
        Presented to HTTPS backends by this stage's HTTP integrations. <Link href="/client-certificates">Manage client certificates</Link>
      </p>
      <Select label="Client certificate" value={choice} options={options} onChange={setChoice} />
      <ErrorText error={a.error ?? certs.error} />
      <FormActions submit="Save client certificate" disabled={a.busy} />
    </form>
  );
}
