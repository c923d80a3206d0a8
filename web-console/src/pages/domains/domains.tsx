// Custom domain names: the list (name, endpoint type, status, DNS target, certificate) and
// the create dialog (CreateDomainName with a PEM certificate, chain and private key pasted
// or loaded from files, the security policy, and optionally a mutual TLS truststore).
import { useEffect, useState } from "preact/hooks";
import { fmtDate, listAll, post } from "../../api";
import { Link, navigate } from "../../router";
import { ErrorText, Field, FormActions, ListStatus, Modal, Select, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import { SearchBox, matches, useQuery } from "../../shared/search";
import { DOMAIN_RULES, splitError } from "./fields";
import { FieldError, PemField } from "./pem";
import { certHint } from "./x509";
import { DomainTabs } from "./tabs";
import { SECURITY_POLICIES, certName, endpointType, targetName, type DomainName } from "./types";

export function DomainNames() {
  const list = useAsync(() => listAll<DomainName>("/domainnames"), []);
  const [q, setQ] = useQuery();
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    document.title = "Custom domain names · API Gateway";
  }, []);
  const all = [...(list.data ?? [])].sort((a, b) => a.domainName.localeCompare(b.domainName));
  const shown = all.filter((d) => matches(q, d.domainName, d.domainNameId, certName(d)));
  return (
    <div class="page">
      <div class="page-head">
        <h1>Custom domain names</h1>
        <div class="head-actions">
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create domain name
          </button>
        </div>
      </div>
      <DomainTabs current="domains" />
      <p class="muted">
        Nodes serve a domain on their HTTPS listener with its certificate (chosen by the TLS server name); its base path mappings say which API and stage
        answer each path. Point the domain's DNS at your nodes.
      </p>
      <SearchBox label="Search domain names" value={q} onInput={setQ} placeholder="Search by name, id or certificate" />
      <ListStatus list={list} loading="Loading domain names" empty="No custom domain names yet">
        <p>Create one with its certificate (PEM), then map base paths to your APIs' stages.</p>
      </ListStatus>
      {list.data && list.data.length > 0 && (
        <table class="table" data-testid="domains-table" aria-label="Custom domain names">
          <TableHead columns={["Domain name", "Endpoint", "Status", "DNS target", "Certificate", "Uploaded"]} />
          <tbody>
            {shown.map((d) => (
              <tr key={d.domainName}>
                <td>
                  <Link href={`/custom-domains/${encodeURIComponent(d.domainName)}`}>{d.domainName}</Link>
                </td>
                <td>{endpointType(d)}</td>
                <td class={d.domainNameStatus === "AVAILABLE" ? "status-on" : "status-off"}>{d.domainNameStatus}</td>
                <td>
                  <code>{targetName(d)}</code>
                </td>
                <td>{certName(d) ?? <span class="muted">(no name)</span>}</td>
                <td>{fmtDate(d.certificateUploadDate)}</td>
                <td class="row-actions" />
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No domain name matches “{q}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {creating && (
        <CreateDomain
          onClose={() => setCreating(false)}
          onCreated={(d) => {
            setCreating(false);
            navigate(`/custom-domains/${encodeURIComponent(d.domainName)}`);
          }}
        />
      )}
    </div>
  );
}

function CreateDomain({ onClose, onCreated }: { onClose: () => void; onCreated: (d: DomainName) => void }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("REGIONAL");
  const [policy, setPolicy] = useState("TLS_1_2");
  const [certificateName, setCertificateName] = useState("");
  const [body, setBody] = useState("");
  const [chain, setChain] = useState("");
  const [key, setKey] = useState("");
  const [mtls, setMtls] = useState(false);
  const [truststore, setTruststore] = useState("");
  const a = useAction();
  const err = splitError(a.error, DOMAIN_RULES);
  return (
    <Modal title="Create domain name" onClose={onClose} wide>
      <form
        aria-label="Create domain name"
        onSubmit={async (e) => {
          e.preventDefault();
          let d: DomainName | undefined;
          const regional = type === "REGIONAL";
          const ok = await a.run(async () => {
            d = await post<DomainName>("/domainnames", {
              domainName: name.trim(),
              endpointConfiguration: { types: [type] },
              securityPolicy: policy,
              [regional ? "regionalCertificateName" : "certificateName"]: certificateName.trim() || undefined,
              certificateBody: body,
              certificateChain: chain.trim() ? chain : undefined,
              certificatePrivateKey: key,
              mutualTlsAuthentication: mtls ? { truststoreUri: truststore.trim() } : undefined,
            });
          });
          if (ok && d) {
            toast(`Domain name ${d.domainName} created`);
            onCreated(d);
          }
        }}
      >
        <Field label="Domain name" name="domainName" value={name} onInput={setName} required autoFocus placeholder="api.example.com" error={err.at("domainName")} hint="A host name, or *.example.com for one label" />
        <div class="row">
          <div>
            <Select label="Endpoint type" value={type} options={["REGIONAL", "EDGE"]} onChange={setType} />
            <FieldError error={err.at("endpointType")} />
          </div>
          <div>
            <Select label="Security policy" value={policy} options={SECURITY_POLICIES} onChange={setPolicy} />
            <FieldError error={err.at("securityPolicy")} />
          </div>
        </div>
        <Field label="Certificate name" value={certificateName} onInput={setCertificateName} error={err.at("certificateName")} hint="Shown in the console; e.g. api-2026" />
        <PemField label="Certificate body" value={body} onInput={setBody} required error={err.at("certificateBody")} placeholder="-----BEGIN CERTIFICATE-----" hint={certHint(body, "The domain's end-entity certificate (PEM)")} />
        <PemField label="Certificate chain" value={chain} onInput={setChain} error={err.at("certificateChain")} hint="Intermediate certificates (PEM), optional" />
        <PemField label="Certificate private key" value={key} onInput={setKey} required error={err.at("certificatePrivateKey")} placeholder="-----BEGIN PRIVATE KEY-----" hint="Write-only: stored encrypted, never shown again" />
        <label class="check">
          <input type="checkbox" checked={mtls} onChange={(e) => setMtls((e.currentTarget as HTMLInputElement).checked)} /> Mutual TLS (clients present a certificate)
        </label>
        {mtls && (
          <Field
            label="Truststore URI"
            value={truststore}
            onInput={setTruststore}
            required
            placeholder="file:///etc/apigw/clients-ca.pem"
            error={err.at("truststoreUri")}
            hint="A PEM bundle of the CAs trusted for client certificates, read by the control plane (file://); REGIONAL domains only"
          />
        )}
        <ErrorText error={err.rest} />
        <FormActions submit="Create domain name" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
