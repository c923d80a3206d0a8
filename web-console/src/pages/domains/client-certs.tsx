// Client certificates: the gateway's own certificates it presents to HTTPS backends (a
// stage's clientCertificateId). List, generate (GenerateClientCertificate with a
// description), view the PEM to copy into the backend's truststore, delete.
import { useEffect, useState } from "preact/hooks";
import { del, fmtDate, listAll, post } from "../../api";
import { ErrorText, Field, FormActions, ListStatus, Modal, Confirm, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import { CopyButton } from "../../shared/copy";
import type { ClientCertificate } from "./types";
import { DomainTabs } from "./tabs";

export function ClientCertificates() {
  const list = useAsync(() => listAll<ClientCertificate>("/clientcertificates"), []);
  const [generating, setGenerating] = useState(false);
  const [viewing, setViewing] = useState<ClientCertificate | null>(null);
  const [deleting, setDeleting] = useState<ClientCertificate | null>(null);
  useEffect(() => {
    document.title = "Client certificates · API Gateway";
  }, []);
  const certs = [...(list.data ?? [])].sort((a, b) => b.createdDate - a.createdDate);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Client certificates</h1>
        <div class="head-actions">
          <button type="button" class="primary" onClick={() => setGenerating(true)}>
            Generate client certificate
          </button>
        </div>
      </div>
      <DomainTabs current="certs" />
      <p class="muted">
        A stage that names a client certificate presents it to its HTTPS backends (HTTP and HTTP_PROXY integrations); the backend trusts its PEM. The gateway
        keeps the private key.
      </p>
      <ListStatus list={list} loading="Loading client certificates" empty="No client certificates yet" />
      {certs.length > 0 && (
        <table class="table" data-testid="client-certs-table" aria-label="Client certificates">
          <TableHead columns={["ID", "Description", "Created", "Expires"]} />
          <tbody>
            {certs.map((c) => (
              <tr key={c.clientCertificateId}>
                <td>
                  <code>{c.clientCertificateId}</code>
                </td>
                <td>{c.description ?? ""}</td>
                <td>{fmtDate(c.createdDate)}</td>
                <td>{fmtDate(c.expirationDate)}</td>
                <td class="row-actions">
                  <button type="button" class="secondary small" aria-label={`View PEM of client certificate ${c.clientCertificateId}`} onClick={() => setViewing(c)}>
                    View PEM
                  </button>
                  <button type="button" class="link" aria-label={`Delete client certificate ${c.clientCertificateId}`} onClick={() => setDeleting(c)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {generating && (
        <Generate
          onClose={() => setGenerating(false)}
          onGenerated={(c) => {
            setGenerating(false);
            list.reload();
            setViewing(c);
          }}
        />
      )}
      {viewing && <ViewPem cert={viewing} onClose={() => setViewing(null)} />}
      {deleting && (
        <Confirm
          title="Delete client certificate"
          danger
          confirm="Delete client certificate"
          body={<p>Delete client certificate {deleting.clientCertificateId}? A stage still naming it refuses the deletion.</p>}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`/clientcertificates/${deleting.clientCertificateId}`);
            toast(`Client certificate ${deleting.clientCertificateId} deleted`);
            list.reload();
          }}
        />
      )}
    </div>
  );
}

function Generate({ onClose, onGenerated }: { onClose: () => void; onGenerated: (c: ClientCertificate) => void }) {
  const [description, setDescription] = useState("");
  const a = useAction();
  return (
    <Modal title="Generate client certificate" onClose={onClose}>
      <form
        aria-label="Generate client certificate"
        onSubmit={async (e) => {
          e.preventDefault();
          let c: ClientCertificate | undefined;
          const ok = await a.run(async () => {
            c = await post<ClientCertificate>("/clientcertificates", { description: description.trim() || undefined });
          });
          if (ok && c) {
            toast(`Client certificate ${c.clientCertificateId} generated`);
            onGenerated(c);
          }
        }}
      >
        <p class="muted">An ECDSA P-256 key pair and a self-signed certificate valid for 365 days.</p>
        <Field label="Description" value={description} onInput={setDescription} autoFocus />
        <ErrorText error={a.error} />
        <FormActions submit="Generate" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}

function ViewPem({ cert, onClose }: { cert: ClientCertificate; onClose: () => void }) {
  return (
    <Modal title={`Client certificate ${cert.clientCertificateId}`} onClose={onClose} wide>
      <p>
        {cert.description ? `${cert.description}. ` : ""}Expires {fmtDate(cert.expirationDate)}. Add this PEM to your backend's trusted client certificates.
      </p>
      <pre class="pem" data-testid="client-cert-pem" tabIndex={0} role="region" aria-label="Certificate PEM">
        {cert.pemEncodedCertificate}
      </pre>
      <div class="actions">
        <CopyButton text={cert.pemEncodedCertificate} label="Copy the certificate PEM" />
        <button type="button" class="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}
