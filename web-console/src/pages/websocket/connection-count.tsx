// A WebSocket stage's live connection count (`GET /v2/apis/{apiId}/stages/{stage}/connections`,
// the gateway's extension: the nodes' per-stage counts added up, see docs/websocket.md),
// refreshed every 5 s while the stage is shown.
import { useEffect } from "preact/hooks";
import { get } from "../../api";
import { useAsync } from "../../ui";

/** How often the count is read again. */
const REFRESH_MS = 5000;

export function ConnectionCount(props: { apiId: string; stage: string }) {
  const path = `/v2/apis/${encodeURIComponent(props.apiId)}/stages/${encodeURIComponent(props.stage)}/connections`;
  const count = useAsync(() => get<{ connectionCount: number }>(path), [path]);
  useEffect(() => {
    const timer = setInterval(count.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [count.reload]);
  const n = count.data?.connectionCount;
  return (
    <span data-testid={`ws-connections-${props.stage}`} aria-live="polite">
      {n !== undefined ? (
        <>
          <strong>{n}</strong> {n === 1 ? "client" : "clients"} connected now
        </>
      ) : count.error ? (
        <span class="muted">Unavailable: {count.error}</span>
      ) : (
        <span class="muted">Counting…</span>
      )}{" "}
      <button type="button" class="link small" onClick={count.reload} aria-label={`Refresh the connection count of ${props.stage}`}>
        Refresh
      </button>
    </span>
  );
}
