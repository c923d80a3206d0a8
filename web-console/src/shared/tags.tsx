// Tags of a taggable resource (a REST API, a stage, an API key, a usage plan), edited as
// key/value rows and saved with TagResource / UntagResource on the resource's ARN
// (`arn:aws:apigateway:{region}::{path}`, the control plane's region).
import { useState } from "preact/hooks";
import { del, get, put } from "../api";
import { FormActions, KeyValues, Loading, ErrorText, entries, toast, useAction, useAsync } from "../ui";

let region: Promise<string> | undefined;
/** The control plane's region (from the session), asked once. */
const controlPlaneRegion = () =>
  (region ??= get<{ region?: string }>("/console/api/session").then((s) => s.region ?? "us-east-1"));

/** The ARN of the resource at management `path` (`/restapis/{id}`, `/apikeys/{id}`, ...). */
export const arnOf = async (path: string) => `arn:aws:apigateway:${await controlPlaneRegion()}::${path}`;

export function Tags({ path, label }: { path: string; label: string }) {
  const state = useAsync(async () => {
    const arn = await arnOf(path);
    const { tags } = await get<{ tags?: Record<string, string> }>(`/tags/${encodeURIComponent(arn)}`);
    return { arn, tags: tags ?? {} };
  }, [path]);
  if (state.error) return <ErrorText error={`Tags: ${state.error}`} />;
  if (!state.data) return <Loading what="Loading tags" />;
  return <TagsForm key={state.data.arn} label={label} arn={state.data.arn} saved={state.data.tags} onSaved={state.reload} />;
}

function TagsForm(props: { label: string; arn: string; saved: Record<string, string>; onSaved: () => void }) {
  const [rows, setRows] = useState<[string, string][]>(entries(props.saved));
  const a = useAction();
  const tagsUrl = `/tags/${encodeURIComponent(props.arn)}`;
  return (
    <form
      class="panel"
      aria-label={props.label}
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await a.run(async () => {
          const next = Object.fromEntries(rows.filter(([k]) => k.trim()).map(([k, v]) => [k.trim(), v]));
          const gone = Object.keys(props.saved).filter((k) => !(k in next));
          if (gone.length) await del(`${tagsUrl}?${gone.map((k) => `tagKeys=${encodeURIComponent(k)}`).join("&")}`);
          if (Object.keys(next).length) await put(tagsUrl, { tags: next });
        });
        if (ok) {
          toast("Tags saved");
          props.onSaved();
        }
      }}
    >
      <h2>{props.label}</h2>
      <KeyValues label="Tags (at most 50; keys up to 128 characters, not starting with aws:)" keyLabel="Tag key" valueLabel="Tag value" rows={rows} onChange={setRows} addLabel="Add tag" />
      <ErrorText error={a.error} />
      <FormActions submit="Save tags" disabled={a.busy} />
    </form>
  );
}
