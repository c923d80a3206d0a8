// The stage cache block of a stage's settings (issue 17): on/off, size, status, the default
// TTL and Cache-Control handling (`*/*` method settings, which GET methods take), and
// "Flush cache" (FlushStageCache). See docs/cache.md.
import { useState } from "preact/hooks";
import { del, patch, type PatchOp } from "../../api";
import { Check, Confirm, ErrorText, Field, FormActions, Select, toast, useAction } from "../../ui";
import type { Stage } from "./api";

const SIZES = ["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"];
const STRATEGIES = ["SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER", "FAIL_WITH_403"];

export function StageCache({ spath, stage, onChanged }: { spath: string; stage: Stage; onChanged: () => void }) {
  const all = stage.methodSettings?.["*/*"];
  const [enabled, setEnabled] = useState(!!stage.cacheClusterEnabled);
  const [size, setSize] = useState(stage.cacheClusterSize ?? "0.5");
  const [ttl, setTtl] = useState(String(all?.cacheTtlInSeconds ?? 300));
  const [requireAuth, setRequireAuth] = useState(all?.requireAuthorizationForCacheControl ?? true);
  const [strategy, setStrategy] = useState<string>(all?.unauthorizedCacheControlHeaderStrategy ?? STRATEGIES[0]);
  const [flushing, setFlushing] = useState(false);
  const a = useAction();
  return (
    <>
    <form
      class="panel"
      aria-label="Stage cache"
      onSubmit={async (e) => {
        e.preventDefault();
        const ops: PatchOp[] = [];
        if (enabled !== !!stage.cacheClusterEnabled) ops.push({ op: "replace", path: "/cacheClusterEnabled", value: String(enabled) });
        if (enabled && size !== (stage.cacheClusterSize ?? "0.5")) ops.push({ op: "replace", path: "/cacheClusterSize", value: size });
        if (ttl !== String(all?.cacheTtlInSeconds ?? 300)) ops.push({ op: "replace", path: "/*/*/caching/ttlInSeconds", value: ttl });
        if (requireAuth !== (all?.requireAuthorizationForCacheControl ?? true))
          ops.push({ op: "replace", path: "/*/*/caching/requireAuthorizationForCacheControl", value: String(requireAuth) });
        if (strategy !== (all?.unauthorizedCacheControlHeaderStrategy ?? STRATEGIES[0]))
          ops.push({ op: "replace", path: "/*/*/caching/unauthorizedCacheControlHeaderStrategy", value: strategy });
        if (await a.run(async () => ops.length && (await patch(spath, ops)))) {
          toast("Stage cache settings saved");
          onChanged();
        }
      }}
    >
      <h3>Stage cache</h3>
      <dl class="props">
        <dt>Status</dt>
        <dd data-testid="cache-status">{stage.cacheClusterStatus ?? "NOT_AVAILABLE"}</dd>
      </dl>
      <Check label="Cache enabled" checked={enabled} onChange={setEnabled} />
      <div class="row">
        <Select label="Cache size (GB)" value={size} options={SIZES} onChange={setSize} />
        <Field label="Default TTL (seconds)" value={ttl} onInput={setTtl} type="number" hint="0 to 3600; 0 turns caching off. GET methods are cached when the cache is on." />
      </div>
      <Check label="Require authorization for Cache-Control: max-age=0" checked={requireAuth} onChange={setRequireAuth} />
      <Select label="Unauthorized Cache-Control header" value={strategy} options={STRATEGIES} onChange={setStrategy} />
      <ErrorText error={a.error} />
      <FormActions submit="Save cache settings" disabled={a.busy} />
      <button type="button" class="secondary" onClick={() => setFlushing(true)}>
        Flush cache
      </button>
    </form>
      {flushing && (
        <Confirm
          title="Flush cache"
          confirm="Flush cache"
          body={<p>Forget every response cached for stage {stage.stageName}, on every node? The next request of each key reaches its integration.</p>}
          onClose={() => setFlushing(false)}
          onConfirm={async () => {
            await del(`${spath}/cache/data`);
            toast(`Cache of ${stage.stageName} flushed`);
          }}
        />
      )}
    </>
  );
}
