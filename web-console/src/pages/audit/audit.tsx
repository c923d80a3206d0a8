// Audit log: who changed what through the management API and the console (CloudTrail's
// LookupEvents over the control plane's audit log). Filters by operation, user or resource
// (one at a time, as LookupEvents allows one lookup attribute) and a time range; newest
// first, paged with NextToken; a row opens the event's CloudTrail record.
import { useEffect, useState } from "preact/hooks";
import { lookupEvents, type LookupAttributeKey, type LookupInput, type TrailEvent } from "../../cloudtrail";
import { fmtDateTime } from "../../api";
import { ErrorText, Modal, messageOf } from "../../ui";

const PAGE = 25;
const FILTERS: { value: LookupAttributeKey; label: string }[] = [
  { value: "EventName", label: "Operation" },
  { value: "Username", label: "User" },
  { value: "ResourceName", label: "Resource ARN" },
  { value: "ResourceType", label: "Resource type" },
  { value: "AccessKeyId", label: "Access key" },
];

type Record_ = { sourceIPAddress?: string; errorCode?: string; errorMessage?: string };
const record = (e: TrailEvent): Record_ => {
  try {
    return JSON.parse(e.CloudTrailEvent);
  } catch {
    return {};
  }
};
const toEpoch = (local: string) => (local ? Math.floor(new Date(local).getTime() / 1000) : undefined);

export function AuditLog() {
  const [key, setKey] = useState<LookupAttributeKey>("EventName");
  const [value, setValue] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [query, setQuery] = useState<LookupInput>({});
  // Tokens of the pages before the current one (index 0: the first page has none).
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ events: TrailEvent[]; next?: string }>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [open, setOpen] = useState<TrailEvent>();

  useEffect(() => {
    document.title = "Audit log · API Gateway";
  }, []);

  const load = async (q: LookupInput, token?: string) => {
    setLoading(true);
    setError(undefined);
    try {
      const r = await lookupEvents({ ...q, MaxResults: PAGE, ...(token ? { NextToken: token } : {}) });
      setPage({ events: r.Events ?? [], next: r.NextToken });
    } catch (e) {
      setError(messageOf(e));
      setPage(undefined);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(query, tokens[tokens.length - 1]), [query, tokens]);

  const apply = (e: Event) => {
    e.preventDefault();
    const q: LookupInput = {};
    if (value.trim()) q.LookupAttributes = [{ AttributeKey: key, AttributeValue: value.trim() }];
    const s = toEpoch(from);
    const t = toEpoch(to);
    if (s !== undefined) q.StartTime = s;
    if (t !== undefined) q.EndTime = t;
    setQuery(q);
    setTokens([undefined]);
  };

  const events = page?.events ?? [];
  return (
    <div class="page">
      <div class="page-head">
        <h1>Audit log</h1>
        <div class="head-actions">
          <button type="button" class="secondary" onClick={() => void load(query, tokens[tokens.length - 1])} disabled={loading}>
            Refresh
          </button>
        </div>
      </div>
      <p class="muted">
        Every change made through the management API or this console: who, what, on which resource, from where, and whether it succeeded. Kept 90 days;
        nobody can change or delete an entry. Reads are not recorded. AWS tools read the same log with CloudTrail's LookupEvents.
      </p>
      <form class="audit-filters" aria-label="Filter events" onSubmit={apply}>
        <label>
          Filter by
          <select value={key} onChange={(e) => setKey((e.currentTarget as HTMLSelectElement).value as LookupAttributeKey)} name="attribute">
            {FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Value
          <input name="value" value={value} onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)} placeholder="e.g. CreateRestApi" />
        </label>
        <label>
          From
          <input name="from" type="datetime-local" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label>
          To
          <input name="to" type="datetime-local" value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="primary">
          Apply
        </button>
      </form>
      <ErrorText error={error} />
      {loading && !page && <p class="muted">Loading events…</p>}
      {page && (
        <table class="table" aria-label="Audit events" data-testid="audit-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">User</th>
              <th scope="col">Operation</th>
              <th scope="col">Resource</th>
              <th scope="col">Source IP</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => {
              const r = record(e);
              const resource = e.Resources?.[0]?.ResourceName ?? "—";
              return (
                <tr key={e.EventId} data-event={e.EventName}>
                  <td>{fmtDateTime(e.EventTime)}</td>
                  <td>{e.Username}</td>
                  <td>
                    <button type="button" class="link" onClick={() => setOpen(e)} aria-label={`Show event ${e.EventName} ${e.EventId}`}>
                      {e.EventName}
                    </button>
                  </td>
                  <td class="mono">{resource.replace(/^arn:aws:apigateway:[^:]*::/, "")}</td>
                  <td>{r.sourceIPAddress ?? "—"}</td>
                  <td>{r.errorCode ? <span class="badge warn" title={r.errorMessage}>{r.errorCode}</span> : <span class="badge">Success</span>}</td>
                </tr>
              );
            })}
            {events.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No events match.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <div class="pager">
        <button type="button" class="secondary" disabled={tokens.length <= 1 || loading} onClick={() => setTokens(tokens.slice(0, -1))}>
          Newer
        </button>
        <span class="muted">Page {tokens.length}</span>
        <button type="button" class="secondary" disabled={!page?.next || loading} onClick={() => setTokens([...tokens, page?.next])}>
          Older
        </button>
      </div>
      {open && (
        <Modal title={`${open.EventName} · ${fmtDateTime(open.EventTime)}`} onClose={() => setOpen(undefined)} wide>
          <pre class="event-json" data-testid="event-json" tabIndex={0} aria-label="The event's CloudTrail record">
            {JSON.stringify(JSON.parse(open.CloudTrailEvent), null, 2)}
          </pre>
          <div class="actions">
            <button type="button" class="secondary" onClick={() => setOpen(undefined)}>
              Close
            </button>
          </div>
        </Modal>
      )}
    </div>
  );
}
