// Logs: the access and execution log lines the nodes ship, searched in the control plane's
// log store by time range (the last hour unless given), log group, status, source IP,
// request id, API key id and path (a trailing * makes it a prefix); newest first, paged.
// A row opens the whole line. AWS tools read the same store with the CloudWatch Logs API.
import { useEffect, useState } from "preact/hooks";
import { describeLogGroups, searchLogs, type LogGroup, type LogLine, type LogSearch } from "../../logs";
import { fmtDateTime } from "../../api";
import { ErrorText, Modal, messageOf } from "../../ui";

const PAGE = 50;
const toMs = (local: string) => (local ? new Date(local).getTime() : undefined);

type Field = "status" | "sourceIp" | "requestId" | "apiKeyId" | "path";
const FIELDS: { name: Field; label: string; placeholder: string }[] = [
  { name: "status", label: "Status", placeholder: "e.g. 502" },
  { name: "sourceIp", label: "Source IP", placeholder: "e.g. 10.0.0.7" },
  { name: "requestId", label: "Request id", placeholder: "request id" },
  { name: "apiKeyId", label: "API key id", placeholder: "key id" },
  { name: "path", label: "Path", placeholder: "/pets or /pets*" },
];

export function Logs() {
  const [groups, setGroups] = useState<LogGroup[]>([]);
  const [group, setGroup] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [fields, setFields] = useState<Record<Field, string>>({ status: "", sourceIp: "", requestId: "", apiKeyId: "", path: "" });
  const [query, setQuery] = useState<LogSearch>({});
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ items: LogLine[]; next?: string }>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [open, setOpen] = useState<LogLine>();

  useEffect(() => {
    document.title = "Logs · API Gateway";
    describeLogGroups()
      .then(setGroups)
      .catch((e) => setError(messageOf(e)));
  }, []);

  const load = async (q: LogSearch, token?: string) => {
    setLoading(true);
    setError(undefined);
    try {
      const end = q.end ?? Date.now() + 1000;
      const start = q.start ?? end - 3600_000;
      const r = await searchLogs({ ...q, start, end, limit: PAGE, ...(token ? { nextToken: token } : {}) });
      setPage({ items: r.items ?? [], next: r.nextToken });
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
    const q: LogSearch = { group: group || undefined, start: toMs(from), end: toMs(to) };
    for (const f of FIELDS) if (fields[f.name].trim()) q[f.name] = fields[f.name].trim();
    setQuery(q);
    setTokens([undefined]);
  };

  const items = page?.items ?? [];
  return (
    <div class="page">
      <div class="page-head">
        <h1>Logs</h1>
        <div class="head-actions">
          <button type="button" class="secondary" onClick={() => void load(query, tokens[tokens.length - 1])} disabled={loading}>
            Refresh
          </button>
        </div>
      </div>
      <p class="muted">
        Access and execution log lines of the stages that write them, from every node, kept {groups[0]?.retentionInDays ?? 30} days. Without a time range,
        the last hour. AWS tools read the same lines with the CloudWatch Logs API (FilterLogEvents, GetLogEvents).
      </p>
      <form class="audit-filters" aria-label="Search logs" onSubmit={apply}>
        <label>
          Log group
          <select name="group" value={group} onChange={(e) => setGroup((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">All log groups</option>
            {groups.map((g) => (
              <option key={g.logGroupName} value={g.logGroupName}>
                {g.logGroupName}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input name="from" type="datetime-local" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label>
          To
          <input name="to" type="datetime-local" value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </label>
        {FIELDS.map((f) => (
          <label key={f.name}>
            {f.label}
            <input
              name={f.name}
              value={fields[f.name]}
              placeholder={f.placeholder}
              onInput={(e) => setFields({ ...fields, [f.name]: (e.currentTarget as HTMLInputElement).value })}
            />
          </label>
        ))}
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <ErrorText error={error} />
      {loading && !page && <p class="muted">Loading lines…</p>}
      {page && (
        <table class="table" aria-label="Log lines" data-testid="logs-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Log group</th>
              <th scope="col">Node</th>
              <th scope="col">Status</th>
              <th scope="col">Source IP</th>
              <th scope="col">Path</th>
              <th scope="col">Line</th>
            </tr>
          </thead>
          <tbody>
            {items.map((l, i) => (
              <tr key={`${l.timestamp}-${i}`} data-request-id={l.requestId}>
                <td>{fmtDateTime(l.timestamp / 1000)}</td>
                <td class="mono">{l.logGroupName}</td>
                <td>{l.logStreamName}</td>
                <td>{l.status ? <span class={l.status >= 500 ? "badge warn" : "badge"}>{l.status}</span> : "—"}</td>
                <td>{l.sourceIp || "—"}</td>
                <td class="mono">{l.path || "—"}</td>
                <td class="mono log-line">
                  <button type="button" class="link" onClick={() => setOpen(l)}>
                    {l.message.length > 120 ? `${l.message.slice(0, 120)}…` : l.message}
                  </button>
                </td>
              </tr>
            ))}
            {items.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No lines match.
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
        <Modal title={`${open.kind === "EXECUTION" ? "Execution" : "Access"} log · ${fmtDateTime(open.timestamp / 1000)}`} onClose={() => setOpen(undefined)} wide>
          <dl class="log-meta">
            <dt>Log group</dt>
            <dd class="mono">{open.logGroupName}</dd>
            <dt>Node</dt>
            <dd>{open.logStreamName}</dd>
            <dt>Request id</dt>
            <dd class="mono">{open.requestId || "—"}</dd>
            <dt>API key id</dt>
            <dd class="mono">{open.apiKeyId || "—"}</dd>
          </dl>
          <pre class="event-json" data-testid="log-line" tabIndex={0} aria-label="The whole log line">
            {open.message}
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
