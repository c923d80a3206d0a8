// One custom domain name: its status, DNS target, certificate and TLS settings; "Rotate
// certificate" (one UpdateDomainName replacing body, chain and key together: the new key
// must match or nothing changes); delete; its base path mappings (create with API,
// stage and a base path of one or more segments, delete); and its HTTP API mappings
// (`http-mappings.tsx`).
import { useEffect, useState } from "preact/hooks";
import { del, fmtDateTime, get, listAll, patch, post, type PatchOp } from "../../api";
import { Link, navigate } from "../../router";
import { Confirm, Empty, ErrorText, Field, FormActions, Loading, Modal, Select, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import { Copyable } from "../../shared/copy";
import { Tags } from "../../shared/tags";
import { DOMAIN_RULES, MAPPING_RULES, splitError } from "./fields";
import { FieldError, PemField } from "./pem";
import { certHint } from "./x509";
import { HttpApiMappings } from "./http-mappings";
import { basePathSegment, certArn, certName, endpointType, targetName, type BasePathMapping, type DomainName } from "./types";
import type { RestApi, Stage } from "../../api/types";

export function DomainNamePage({ name }: { name: string }) {
  const path = `/domainnames/${encodeURIComponent(name)}`;
  const domain = useAsync(() => get<DomainName>(path), [name]);
  const mappings = useAsync(() => listAll<BasePathMapping>(`${path}/basepathmappings`), [name]);
  const apis = useAsync(() => listAll<RestApi>("/restapis"), []);
  const apiName = (id: string) => apis.data?.find((x) => x.id === id)?.name;
  const [rotating, setRotating] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [mapping, setMapping] = useState(false);
  const [unmapping, setUnmapping] = useState<BasePathMapping | null>(null);
  useEffect(() => {
    document.title = `${name} · Custom domain names · API Gateway`;
  }, [name]);
  if (domain.error)
    return (
      <div class="page">
        <ErrorText error={domain.error} />
        <Link href="/custom-domains">Back to custom domain names</Link>
      </div>
    );
  if (!domain.data) return <Loading what="Loading the domain name" />;
  const d = domain.data;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/custom-domains">Custom domain names</Link> / <span>{d.domainName}</span>
      </nav>
      <div class="page-head">
        <h1>{d.domainName}</h1>
        <div class="head-actions">
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete domain name
          </button>
          <button type="button" class="primary" onClick={() => setRotating(true)}>
            Rotate certificate
          </button>
        </div>
      </div>
      <section class="panel" aria-labelledby="domain-details">
        <h2 id="domain-details">Details</h2>
        <dl class="props" data-testid="domain-props">
          <dt>Status</dt>
          <dd class={d.domainNameStatus === "AVAILABLE" ? "status-on" : "status-off"}>
            {d.domainNameStatus}
            {d.domainNameStatusMessage ? ` — ${d.domainNameStatusMessage}` : ""}
          </dd>
          <dt>Endpoint type</dt>
          <dd>{endpointType(d)}</dd>
          <dt>{endpointType(d) === "REGIONAL" ? "Regional domain name" : "Distribution domain name"}</dt>
          <dd>
            <Copyable text={targetName(d)} label="Copy the DNS target" testId="domain-target" />
          </dd>
          <dt>Security policy</dt>
          <dd>{d.securityPolicy}</dd>
          <dt>Certificate name</dt>
          <dd data-testid="domain-certificate-name">{certName(d) ?? <span class="muted">(no name)</span>}</dd>
          <dt>Certificate ARN</dt>
          <dd>
            <code>{certArn(d)}</code>
          </dd>
          <dt>Certificate uploaded</dt>
          <dd>{fmtDateTime(d.certificateUploadDate)}</dd>
          <dt>Mutual TLS</dt>
          <dd>
            {d.mutualTlsAuthentication ? (
              <>
                <code>{d.mutualTlsAuthentication.truststoreUri}</code>
                {d.mutualTlsAuthentication.truststoreVersion ? ` (version ${d.mutualTlsAuthentication.truststoreVersion})` : ""}
              </>
            ) : (
              "off"
            )}
          </dd>
        </dl>
      </section>
      <section class="panel" aria-labelledby="mappings-title">
        <div class="page-head">
          <h2 id="mappings-title">API mappings</h2>
          <button type="button" class="secondary" onClick={() => setMapping(true)}>
            Add mapping
          </button>
        </div>
        <ErrorText error={mappings.error} />
        {mappings.loading && !mappings.data && <Loading what="Loading mappings" />}
        {mappings.data && mappings.data.length === 0 && (
          <Empty title="No API mappings">
            <p>Until one is added, every request to this domain is answered 403.</p>
          </Empty>
        )}
        {mappings.data && mappings.data.length > 0 && (
          <table class="table" data-testid="mappings-table" aria-label="API mappings">
            <TableHead columns={["Base path", "API", "Stage", "URL"]} />
            <tbody>
              {mappings.data.map((m) => (
                <tr key={m.basePath}>
                  <td>
                    <code>{m.basePath}</code>
                  </td>
                  <td>
                    <Link href={`/apis/${m.restApiId}`}>{apiName(m.restApiId) ?? m.restApiId}</Link> <code class="muted small">{m.restApiId}</code>
                  </td>
                  <td>
                    {m.stage ? (
                      <Link href={`/apis/${m.restApiId}/stages/${encodeURIComponent(m.stage)}`}>{m.stage}</Link>
                    ) : (
                      <span class="muted">from the path</span>
                    )}
                  </td>
                  <td>
                    <code>{`https://${d.domainName}/${m.basePath === "(none)" ? "" : m.basePath}`}</code>
                  </td>
                  <td class="row-actions">
                    <button type="button" class="link" aria-label={`Delete mapping ${m.basePath}`} onClick={() => setUnmapping(m)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <HttpApiMappings domain={d.domainName} />
      <Tags path={`/domainnames/${d.domainName}`} label="Domain name tags" />
      {rotating && (
        <RotateCertificate
          domain={d}
          onClose={() => setRotating(false)}
          onRotated={() => {
            setRotating(false);
            domain.reload();
          }}
        />
      )}
      {mapping && (
        <CreateMapping
          domain={d}
          onClose={() => setMapping(false)}
          onCreated={() => {
            setMapping(false);
            mappings.reload();
          }}
        />
      )}
      {unmapping && (
        <Confirm
          title="Delete API mapping"
          danger
          confirm="Delete mapping"
          body={
            <p>
              Stop serving <code>{unmapping.basePath}</code> on {d.domainName}? Its requests are answered 403 once the nodes have the change.
            </p>
          }
          onClose={() => setUnmapping(null)}
          onConfirm={async () => {
            await del(`${path}/basepathmappings/${basePathSegment(unmapping.basePath === "(none)" ? "" : unmapping.basePath)}`);
            toast(`Mapping ${unmapping.basePath} deleted`);
            mappings.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete domain name"
          danger
          confirm="Delete domain name"
          body={<p>Delete {d.domainName} and its API mappings? Nodes stop serving it (its TLS handshakes fail) once they have the change.</p>}
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await del(path);
            toast(`Domain name ${d.domainName} deleted`);
            navigate("/custom-domains");
          }}
        />
      )}
    </div>
  );
}

/** UpdateDomainName replacing the certificate's body, chain and key (and name) in one call. */
function RotateCertificate({ domain, onClose, onRotated }: { domain: DomainName; onClose: () => void; onRotated: () => void }) {
  const [certificateName, setCertificateName] = useState(certName(domain) ?? "");
  const [body, setBody] = useState("");
  const [chain, setChain] = useState("");
  const [key, setKey] = useState("");
  const a = useAction();
  const err = splitError(a.error, DOMAIN_RULES);
  return (
    <Modal title="Rotate certificate" onClose={onClose} wide>
      <form
        aria-label="Rotate certificate"
        onSubmit={async (e) => {
          e.preventDefault();
          const ops: PatchOp[] = [
            { op: "replace", path: "/certificateBody", value: body },
            chain.trim() ? { op: "replace", path: "/certificateChain", value: chain } : { op: "remove", path: "/certificateChain" },
            { op: "replace", path: "/certificatePrivateKey", value: key },
          ];
          if (certificateName.trim() !== (certName(domain) ?? "")) ops.push({ op: "replace", path: "/certificateName", value: certificateName.trim() });
          if (await a.run(() => patch(`/domainnames/${encodeURIComponent(domain.domainName)}`, ops))) {
            toast(`Certificate of ${domain.domainName} rotated`);
            onRotated();
          }
        }}
      >
        <p class="muted">The new certificate, chain and key replace the current ones together; nodes use them for the next TLS handshake. A key that does not match the certificate is refused and the current certificate stays.</p>
        <Field label="Certificate name" value={certificateName} onInput={setCertificateName} error={err.at("certificateName")} />
        <PemField label="Certificate body" value={body} onInput={setBody} required error={err.at("certificateBody")} placeholder="-----BEGIN CERTIFICATE-----" hint={certHint(body, "The new end-entity certificate (PEM)")} />
        <PemField label="Certificate chain" value={chain} onInput={setChain} error={err.at("certificateChain")} hint="Empty: no intermediates" />
        <PemField label="Certificate private key" value={key} onInput={setKey} required error={err.at("certificatePrivateKey")} placeholder="-----BEGIN PRIVATE KEY-----" hint="Write-only" />
        <ErrorText error={err.rest} />
        <FormActions submit="Rotate certificate" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}

/** CreateBasePathMapping: an API, a stage (or "from the path") and a base path (`v1/orders`, or empty). */
function CreateMapping({ domain, onClose, onCreated }: { domain: DomainName; onClose: () => void; onCreated: () => void }) {
  const apis = useAsync(() => listAll<RestApi>("/restapis"), []);
  const [apiId, setApiId] = useState("");
  const chosen = apiId || apis.data?.[0]?.id || "";
  const stages = useAsync(async () => (chosen ? (await get<{ item?: Stage[] }>(`/restapis/${chosen}/stages`)).item ?? [] : []), [chosen]);
  const [stage, setStage] = useState("");
  const [basePath, setBasePath] = useState("");
  const a = useAction();
  const err = splitError(a.error, MAPPING_RULES);
  const stageNames = (stages.data ?? []).map((s) => s.stageName);
  const stageChoice = stage === "" || stageNames.includes(stage) ? stage : "";
  return (
    <Modal title="Add API mapping" onClose={onClose}>
      {apis.loading && !apis.data ? (
        <Loading what="Loading APIs" />
      ) : (apis.data ?? []).length === 0 ? (
        <>
          <p>
            There is no API to map: <Link href="/apis">create one</Link> and deploy it to a stage.
          </p>
          <div class="actions">
            <button type="button" class="secondary" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      ) : (
        <form
          aria-label="Add API mapping"
          onSubmit={async (e) => {
            e.preventDefault();
            const ok = await a.run(() =>
              post(`/domainnames/${encodeURIComponent(domain.domainName)}/basepathmappings`, {
                restApiId: chosen,
                stage: stageChoice || undefined,
                basePath: basePath.trim().replace(/^\/+|\/+$/g, "") || undefined,
              }),
            );
            if (ok) {
              toast(`Mapping ${basePath.trim() || "(none)"} added to ${domain.domainName}`);
              onCreated();
            }
          }}
        >
          <div>
            <Select
              label="API"
              value={chosen}
              options={(apis.data ?? []).map((x) => ({ value: x.id, label: `${x.name} (${x.id})` }))}
              onChange={(v) => {
                setApiId(v);
                setStage("");
              }}
            />
            <FieldError error={err.at("restApiId")} />
          </div>
          <div>
            <Select
              label="Stage"
              value={stageChoice}
              options={[{ value: "", label: "(taken from the path's next segment)" }, ...stageNames]}
              onChange={setStage}
            />
            <FieldError error={err.at("stage") ?? stages.error} />
          </div>
          <Field
            label="Base path"
            value={basePath}
            onInput={setBasePath}
            placeholder="v1/orders"
            error={err.at("basePath")}
            hint="One or more segments (v1, v1/orders); empty maps the whole domain"
          />
          <ErrorText error={err.rest ?? apis.error} />
          <FormActions submit="Add mapping" disabled={a.busy || !chosen} onCancel={onClose} />
        </form>
      )}
    </Modal>
  );
}
