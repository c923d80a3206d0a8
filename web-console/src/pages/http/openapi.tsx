// OpenAPI 3.0 import and export of HTTP APIs: ImportApi (`PUT /v2/apis`) from the HTTP APIs
// list, ReimportApi (`PUT /v2/apis/{apiId}`, overwrite) and ExportApi
// (`GET /v2/apis/{apiId}/exports/OAS30`) from an API's page. The document is pasted or loaded
// from a file; `failOnWarnings` and `basepath` are the calls' query options. An import's
// warnings (what the document has that an HTTP API cannot use) are listed before moving on;
// a refused import shows the server's message. An export (a stage's deployment or the latest
// configuration, JSON or YAML, with or without the x-amazon-apigateway extensions) is
// downloaded as a file and shown.
import { useEffect, useState } from "preact/hooks";
import { call, getText } from "../../api";
import { navigate } from "../../router";
import { Check, ErrorText, Field, FormActions, Modal, Select, toast, useAction, useAsync } from "../../ui";
import { listV2, type HttpApi, type HttpStage } from "../../v2";
import { HTTP_BASE } from "./apis";

type Imported = HttpApi & { warnings?: string[] };

const BASEPATHS = [
  { value: "ignore", label: "Ignore the servers' base path (default)" },
  { value: "prepend", label: "Prepend it to every route's path" },
  { value: "split", label: "Split: drop its first segment, prepend the rest" },
];

/** The document, its import options and the call's outcome, shared by Import and Reimport. */
function DocumentFields(props: {
  doc: string;
  setDoc: (v: string) => void;
  strict: boolean;
  setStrict: (v: boolean) => void;
  basepath: string;
  setBasepath: (v: string) => void;
}) {
  return (
    <>
      <div class="field">
        <label for="http-openapi-file">Load a file</label>
        <input
          id="http-openapi-file"
          type="file"
          accept=".json,.yaml,.yml,application/json,application/yaml"
          onChange={async (e) => {
            const file = (e.currentTarget as HTMLInputElement).files?.[0];
            if (file) props.setDoc(await file.text());
          }}
        />
      </div>
      <Field
        label="OpenAPI 3.0 document (JSON or YAML)"
        name="openapi"
        value={props.doc}
        onInput={props.setDoc}
        multiline
        required
        hint="Paths and methods become routes; x-amazon-apigateway-integration, x-amazon-apigateway-cors and security schemes (JWT, Lambda authorizers) are imported; the API's name is info.title"
      />
      <Select label="Base path (basepath)" value={props.basepath} options={BASEPATHS} onChange={props.setBasepath} />
      <Check label="Fail on warnings (refuse the document if anything in it would be ignored)" checked={props.strict} onChange={props.setStrict} />
    </>
  );
}

/** ImportApi or ReimportApi: `{ body: document }` with the query options. */
function importCall(path: string, doc: string, strict: boolean, basepath: string): Promise<Imported> {
  const q = new URLSearchParams({ failOnWarnings: String(strict) });
  if (basepath !== "ignore") q.set("basepath", basepath);
  return call<Imported>("PUT", `${path}?${q}`, { body: doc });
}

/** What an import warned about, with the way on. */
function Warnings(props: { api: Imported; verb: string; next: string; onNext: () => void }) {
  const w = props.api.warnings ?? [];
  return (
    <div data-testid="import-warnings">
      <p>
        <strong>{props.api.name}</strong> was {props.verb}, with {w.length} warning{w.length === 1 ? "" : "s"}: these parts of the document were
        ignored.
      </p>
      <ul class="warnings">
        {w.map((text, i) => (
          <li key={i}>{text}</li>
        ))}
      </ul>
      <div class="actions">
        <button type="button" class="primary" autoFocus onClick={props.onNext}>
          {props.next}
        </button>
      </div>
    </div>
  );
}

/** The HTTP APIs list's Import: a new API from a document, then its page. */
export function ImportHttpApi({ onClose }: { onClose: () => void }) {
  const [doc, setDoc] = useState("");
  const [strict, setStrict] = useState(false);
  const [basepath, setBasepath] = useState("ignore");
  const [done, setDone] = useState<Imported>();
  const a = useAction();
  const open = (api: Imported) => {
    onClose();
    navigate(`${HTTP_BASE}/${api.apiId}/routes`);
  };
  return (
    <Modal title="Import HTTP API" onClose={onClose} wide>
      {done ? (
        <Warnings api={done} verb="imported" next="Open the API" onNext={() => open(done)} />
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            let api: Imported | undefined;
            if (!(await a.run(async () => (api = await importCall("/v2/apis", doc, strict, basepath))))) return;
            if (!api) return;
            toast(`HTTP API “${api.name}” imported`);
            if (api.warnings?.length) setDone(api);
            else open(api);
          }}
        >
          <DocumentFields doc={doc} setDoc={setDoc} strict={strict} setStrict={setStrict} basepath={basepath} setBasepath={setBasepath} />
          <ErrorText error={a.error} />
          <FormActions submit="Import" disabled={a.busy} onCancel={onClose} />
        </form>
      )}
    </Modal>
  );
}

/** An API page's Reimport: the document replaces the API's definition; stages stay. */
export function ReimportHttpApi(props: { api: HttpApi; onClose: () => void; onDone: () => void }) {
  const [doc, setDoc] = useState("");
  const [strict, setStrict] = useState(false);
  const [basepath, setBasepath] = useState("ignore");
  const [done, setDone] = useState<Imported>();
  const a = useAction();
  return (
    <Modal title={`Reimport ${props.api.name}`} onClose={done ? props.onDone : props.onClose} wide>
      {done ? (
        <Warnings api={done} verb="reimported" next="Done" onNext={props.onDone} />
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            let api: Imported | undefined;
            if (!(await a.run(async () => (api = await importCall(`/v2/apis/${props.api.apiId}`, doc, strict, basepath))))) return;
            if (!api) return;
            toast(`HTTP API “${api.name}” reimported`);
            if (api.warnings?.length) setDone(api);
            else props.onDone();
          }}
        >
          <p class="muted">
            Overwrites the API: its name, description, version and CORS configuration, and all its routes, integrations and authorizers, become the
            document's. Stages stay; those with automatic deployment serve the new definition at once.
          </p>
          <DocumentFields doc={doc} setDoc={setDoc} strict={strict} setStrict={setStrict} basepath={basepath} setBasepath={setBasepath} />
          <ErrorText error={a.error} />
          <FormActions submit="Reimport" disabled={a.busy} onCancel={props.onClose} />
        </form>
      )}
    </Modal>
  );
}

/** Saves `text` as a file named `name` (the browser's download). */
function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** An API page's Export: OAS30 of a stage's deployment or of the latest configuration. */
export function ExportHttpApi(props: { api: HttpApi; onClose: () => void }) {
  const stages = useAsync(() => listV2<HttpStage>(`/v2/apis/${props.api.apiId}/stages`), [props.api.apiId]);
  const [stage, setStage] = useState("");
  const [format, setFormat] = useState("YAML");
  const [extensions, setExtensions] = useState(true);
  const [exported, setExported] = useState<{ name: string; text: string; type: string }>();
  const a = useAction();
  useEffect(() => setExported(undefined), [stage, format, extensions]);
  const options = [
    { value: "", label: "None: the latest configuration" },
    ...(stages.data ?? []).map((s) => ({ value: s.stageName ?? "", label: `${s.stageName} (its deployment)` })),
  ];
  return (
    <Modal title={`Export ${props.api.name}`} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const q = new URLSearchParams({ outputType: format, includeExtensions: String(extensions) });
          if (stage) q.set("stageName", stage);
          const type = format === "JSON" ? "application/json" : "application/yaml";
          let text = "";
          if (!(await a.run(async () => (text = await getText(`/v2/apis/${props.api.apiId}/exports/OAS30?${q}`, type))))) return;
          const name = `${props.api.name}-${stage || "latest"}-oas30.${format === "JSON" ? "json" : "yaml"}`;
          download(name, text, type);
          setExported({ name, text, type });
        }}
      >
        <Select label="Stage" value={stage} options={options} onChange={setStage} />
        <Select
          label="Format (outputType)"
          value={format}
          options={[
            { value: "YAML", label: "YAML" },
            { value: "JSON", label: "JSON" },
          ]}
          onChange={setFormat}
        />
        <Check label="Include the x-amazon-apigateway extensions (integrations, authorizers, CORS)" checked={extensions} onChange={setExtensions} />
        <ErrorText error={a.error ?? stages.error} />
        <FormActions submit="Export" disabled={a.busy} onCancel={props.onClose} />
      </form>
      {exported && (
        <div class="field">
          <p>
            Downloaded <code>{exported.name}</code>.{" "}
            <button type="button" class="link" onClick={() => download(exported.name, exported.text, exported.type)}>
              Download again
            </button>
          </p>
          <pre class="pem" data-testid="export-document" tabIndex={0} role="region" aria-label="Exported document">
            {exported.text}
          </pre>
        </div>
      )}
    </Modal>
  );
}
