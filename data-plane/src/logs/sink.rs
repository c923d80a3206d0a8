//! The sink: one OS thread that takes [`LogRecord`]s off the queue, writes each line as
//! one JSON object per line to the node's file (`--access-log-file`) and/or stdout
//! (`--access-log-stdout`), and queues it as a `LogEvent` for the [`super::shipper`].
//!
//! A written line:
//!
//! ```json
//! {"timestamp":1765000000123,"logGroup":"my-access-logs","logStream":"node-1","kind":"access","requestId":"…","apiId":"a1b2c3","stage":"prod","status":200,"message":"…"}
//! ```
//!
//! Execution lines carry `"kind":"execution"` and their message starts with
//! `({requestId}) ` as API Gateway writes them. Writes are buffered and flushed whenever
//! the queue runs empty, so a line reaches the file within moments of its request. A
//! write error is logged once and the line still goes to the shipper.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use apigw_gateway::access_log::{push_json_escaped, push_status};
use apigw_gateway::phases::end::RequestFacts;
use apigw_proto::logs::{LogEvent, LogKind};
use tokio::sync::Notify;

use super::direct::DirectLines;
use super::queue::LogReceiver;
use super::{Lines, LogRecord, LogStats};

/// Where the sink writes.
#[derive(Debug, Clone, Default)]
pub struct SinkConfig {
    /// Append JSON lines to this file.
    pub file: Option<PathBuf>,
    /// Write JSON lines to standard output.
    pub stdout: bool,
    /// The node's id (each line's `logStream`).
    pub node_id: String,
}

/// Why the sink could not start.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The file cannot be opened for appending.
    #[error("cannot open the access log file {path}: {source}")]
    Open {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Events waiting for the shipper, bounded: past `max`, the oldest are dropped (and
/// counted).
#[derive(Debug)]
pub struct Pending {
    events: Mutex<VecDeque<LogEvent>>,
    max: usize,
    /// Wakes the shipper when a full shipment's worth is waiting.
    pub ready: Notify,
    ready_at: usize,
}

impl Pending {
    /// A buffer of at most `max` events that wakes the shipper at `ready_at`.
    pub fn new(max: usize, ready_at: usize) -> Self {
        Pending {
            events: Mutex::new(VecDeque::new()),
            max: max.max(1),
            ready: Notify::new(),
            ready_at: ready_at.max(1),
        }
    }

    /// Adds events; returns how many old ones were dropped to make room.
    pub fn push(&self, new: impl IntoIterator<Item = LogEvent>) -> u64 {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.extend(new);
        let mut dropped = 0;
        while events.len() > self.max {
            events.pop_front();
            dropped += 1;
        }
        if events.len() >= self.ready_at {
            self.ready.notify_one();
        }
        dropped
    }

    /// Takes at most `n` events, oldest first.
    pub fn take(&self, n: usize) -> Vec<LogEvent> {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let n = n.min(events.len());
        events.drain(..n).collect()
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Opens the outputs and starts the sink thread; it ends once the queue's sender is
/// gone and the queue is drained. With `direct`, it also writes out the lines the
/// workers wrote into their own buffers ([`super::direct`]).
pub fn start(
    config: SinkConfig,
    queue: LogReceiver,
    pending: Option<Arc<Pending>>,
    stats: Arc<LogStats>,
    direct: Option<Arc<DirectLines>>,
) -> Result<std::thread::JoinHandle<()>, SinkError> {
    let file = match &config.file {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| SinkError::Open {
                    path: path.display().to_string(),
                    source,
                })?,
        ),
        None => None,
    };
    // No `BufWriter`: every write below is a whole batch, flushed at once, so a buffer in
    // between would only copy each line once more.
    let mut file = file;
    let stdout = config.stdout;
    let node_id = config.node_id;
    let thread = std::thread::Builder::new()
        .name("apigw-logs".into())
        .spawn(move || {
            queue.register_current_thread();
            if let Some(direct) = &direct {
                direct.register_current_thread();
            }
            let writes = file.is_some() || stdout;
            let mut buf = String::with_capacity(64 * 1024);
            let mut writer = LineWriter::new(node_id);
            let mut spare = Vec::new();
            let mut warned = false;
            let mut emit = |text: &str| {
                if text.is_empty() {
                    return;
                }
                let mut failed = None;
                if let Some(f) = file.as_mut() {
                    if let Err(e) = f.write_all(text.as_bytes()) {
                        failed = Some(e);
                    }
                }
                if stdout {
                    let mut out = std::io::stdout().lock();
                    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                        failed = Some(e);
                    }
                }
                if let Some(error) = failed {
                    if !warned {
                        tracing::warn!(%error, "cannot write log lines; they are still shipped");
                        warned = true;
                    }
                }
            };
            loop {
                // Read before draining: a record queued before the close is taken below,
                // and so is a line written into a worker's buffer before the hook was
                // dropped (which closed the queue).
                let finished = queue.finished();
                let mut events = Vec::new();
                let mut taken = 0;
                while let Some(record) = queue.pop() {
                    if writes {
                        writer.write_record(&mut buf, &record);
                    }
                    if pending.is_some() {
                        events.extend(events_of(record));
                    }
                    taken += 1;
                    if taken >= BATCH {
                        break;
                    }
                }
                emit(&buf);
                buf.clear();
                if let Some(direct) = &direct {
                    direct.take(&mut spare, &mut emit);
                }
                if let Some(pending) = pending.as_ref().filter(|_| !events.is_empty()) {
                    let dropped = pending.push(events);
                    if dropped > 0 {
                        stats.dropped.fetch_add(dropped, Relaxed);
                    }
                }
                if finished {
                    break;
                }
                if taken < BATCH {
                    queue.wait();
                }
            }
        })
        .map_err(|source| SinkError::Open {
            path: "(sink thread)".into(),
            source,
        })?;
    Ok(thread)
}

/// Records written out per write call, at most.
const BATCH: usize = 4096;

/// The `LogEvent`s of a record: one per line, execution lines prefixed with
/// `({requestId}) `.
pub fn events_of(record: LogRecord) -> Vec<LogEvent> {
    let request_id = record.request_id.to_str().unwrap_or("").to_string();
    let path = RequestFacts {
        uri: record.uri,
        ..Default::default()
    }
    .path()
    .into_owned();
    let event = |message: String| LogEvent {
        kind: record.kind as i32,
        log_group: record.log_group.to_string(),
        timestamp_ms: record.timestamp_ms,
        message,
        api_id: record.api_id.to_string(),
        stage: record.stage.to_string(),
        request_id: request_id.clone(),
        status: u32::from(record.status),
        source_ip: record.source_ip.to_string(),
        api_key_id: record.api_key_id.as_deref().unwrap_or("").to_string(),
        path: path.clone(),
    };
    match record.lines {
        Lines::One(line) => vec![event(line)],
        Lines::Many(lines) => lines
            .into_iter()
            .map(|line| event(format!("({request_id}) {line}")))
            .collect(),
    }
}

/// Writes records as JSON lines. A line's fields besides its timestamp, request id,
/// status and message (log group, node, kind, API, stage) are the same for every
/// request of a stage: they are escaped once into two pieces and reused while the
/// records keep coming from the same stage (the compiled stage's `Arc`s are compared
/// by address).
#[derive(Debug)]
pub(crate) struct LineWriter {
    node_id: String,
    head: Option<CachedHead>,
}

/// The two constant pieces of a stage's lines.
#[derive(Debug)]
struct CachedHead {
    log_group: Arc<str>,
    api_id: Arc<str>,
    stage: Arc<str>,
    kind: LogKind,
    /// `,"logGroup":"…","logStream":"…","kind":"…","requestId":"`
    before_request_id: String,
    /// `","apiId":"…","stage":"…","status":`
    before_status: String,
}

/// What the constant pieces of a line are made of: the same for every line of a stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineHead<'a> {
    /// Access or execution.
    pub kind: LogKind,
    /// The log group.
    pub log_group: &'a Arc<str>,
    /// The API id.
    pub api_id: &'a Arc<str>,
    /// The stage.
    pub stage: &'a Arc<str>,
}

impl<'a> LineHead<'a> {
    fn of(record: &'a LogRecord) -> Self {
        LineHead {
            kind: record.kind,
            log_group: &record.log_group,
            api_id: &record.api_id,
            stage: &record.stage,
        }
    }
}

impl CachedHead {
    fn of(head: LineHead<'_>, node_id: &str) -> CachedHead {
        let kind = if head.kind == LogKind::Execution {
            "execution"
        } else {
            "access"
        };
        let mut before_request_id = String::with_capacity(96);
        before_request_id.push_str(",\"logGroup\":\"");
        push_json_escaped(head.log_group, &mut before_request_id);
        before_request_id.push_str("\",\"logStream\":\"");
        push_json_escaped(node_id, &mut before_request_id);
        before_request_id.push_str("\",\"kind\":\"");
        before_request_id.push_str(kind);
        before_request_id.push_str("\",\"requestId\":\"");
        let mut before_status = String::with_capacity(64);
        before_status.push_str("\",\"apiId\":\"");
        push_json_escaped(head.api_id, &mut before_status);
        before_status.push_str("\",\"stage\":\"");
        push_json_escaped(head.stage, &mut before_status);
        before_status.push_str("\",\"status\":");
        CachedHead {
            log_group: Arc::clone(head.log_group),
            api_id: Arc::clone(head.api_id),
            stage: Arc::clone(head.stage),
            kind: head.kind,
            before_request_id,
            before_status,
        }
    }

    fn fits(&self, head: LineHead<'_>) -> bool {
        self.kind == head.kind
            && Arc::ptr_eq(&self.log_group, head.log_group)
            && Arc::ptr_eq(&self.api_id, head.api_id)
            && Arc::ptr_eq(&self.stage, head.stage)
    }
}

/// A line's `requestId`, as its writer knows it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RequestId<'a> {
    /// The request context's own id (`RequestContext::request_id_str`: a UUID's hex digits
    /// and dashes), which holds nothing JSON escapes: written as it is.
    Own(&'a str),
    /// An id carried by a record: escaped.
    Other(&'a str),
}

impl LineWriter {
    /// A writer for the node `node_id` (each line's `logStream`).
    pub(crate) fn new(node_id: String) -> Self {
        LineWriter {
            node_id,
            head: None,
        }
    }

    /// Appends the record's lines, one JSON object each, straight from the record (no
    /// intermediate event; an access line costs no allocation here).
    pub(crate) fn write_record(&mut self, buf: &mut String, record: &LogRecord) {
        // The gateway's own id (hex and dashes): UTF-8 checked a word at a time.
        let request_id = std::str::from_utf8(record.request_id.as_bytes()).unwrap_or("");
        let head = LineHead::of(record);
        match &record.lines {
            Lines::One(text) => self.write_line(
                buf,
                head,
                RequestId::Other(request_id),
                record.timestamp_ms,
                record.status,
                |buf| push_json_escaped(text, buf),
            ),
            Lines::Many(lines) => {
                for text in lines {
                    // `({requestId}) ` as API Gateway prefixes them, escaped in place.
                    self.write_line(
                        buf,
                        head,
                        RequestId::Other(request_id),
                        record.timestamp_ms,
                        record.status,
                        |buf| {
                            buf.push('(');
                            push_json_escaped(request_id, buf);
                            buf.push_str(") ");
                            push_json_escaped(text, buf);
                        },
                    );
                }
            }
        }
    }

    /// Appends one line, one JSON object, whose message `message` writes into the buffer
    /// already escaped as the inside of a JSON string.
    pub(crate) fn write_line(
        &mut self,
        buf: &mut String,
        head: LineHead<'_>,
        request_id: RequestId<'_>,
        timestamp_ms: i64,
        status: u16,
        message: impl FnOnce(&mut String),
    ) {
        if !self.head.as_ref().is_some_and(|h| h.fits(head)) {
            self.head = Some(CachedHead::of(head, &self.node_id));
        }
        let Some(cached) = self.head.as_ref() else {
            return;
        };
        buf.push_str("{\"timestamp\":");
        buf.push_str(itoa::Buffer::new().format(timestamp_ms));
        buf.push_str(&cached.before_request_id);
        match request_id {
            RequestId::Own(id) => buf.push_str(id),
            RequestId::Other(id) => push_json_escaped(id, buf),
        }
        buf.push_str(&cached.before_status);
        push_status(status, buf);
        buf.push_str(",\"message\":\"");
        message(buf);
        buf.push_str("\"}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, Uri};
    use std::net::IpAddr;

    fn record(lines: Lines, kind: LogKind) -> LogRecord {
        LogRecord {
            kind,
            log_group: "g".into(),
            timestamp_ms: 7,
            lines,
            api_id: "a1".into(),
            stage: "prod".into(),
            request_id: HeaderValue::from_static("rid"),
            status: 200,
            source_ip: IpAddr::from([10, 0, 0, 1]),
            api_key_id: Some("k1".into()),
            uri: Uri::from_static("/restapis/a1/prod/_user_request_/pets?x=1"),
        }
    }

    #[test]
    fn execution_lines_are_prefixed_and_fields_filled() {
        let events = events_of(record(
            Lines::Many(vec!["a".into(), "b".into()]),
            LogKind::Execution,
        ));
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].message, "(rid) a");
        assert_eq!(events[1].message, "(rid) b");
        assert_eq!(events[0].path, "/prod/pets");
        assert_eq!(events[0].source_ip, "10.0.0.1");
        assert_eq!(events[0].api_key_id, "k1");
        let mut buf = String::new();
        LineWriter::new("n1".into()).write_record(
            &mut buf,
            &record(
                Lines::Many(vec!["a \"quoted\"".into(), "b".into()]),
                LogKind::Execution,
            ),
        );
        let lines: Vec<serde_json::Value> = buf
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let v = &lines[0];
        assert_eq!(v["logStream"], "n1");
        assert_eq!(v["kind"], "execution");
        assert_eq!(v["message"], "(rid) a \"quoted\"");
        assert_eq!(v["requestId"], "rid");
        assert_eq!(v["apiId"], "a1");
        assert_eq!(v["stage"], "prod");
        assert_eq!(v["status"], 200);
        assert_eq!(v["logGroup"], "g");
        assert_eq!(v["timestamp"], 7);
        assert_eq!(lines[1]["message"], "(rid) b");
        assert!(buf.ends_with('\n'));
    }

    #[test]
    fn a_direct_line_is_the_line_written_for_its_record() {
        let line = r#"{"id":"r1", "ua":"a \"b\" \\"}"#;
        let record = record(Lines::One(line.into()), LogKind::Access);
        let mut plain = String::new();
        LineWriter::new("n1".into()).write_record(&mut plain, &record);
        let direct = super::super::direct::DirectLines::new("n1".into());
        let stats = LogStats::default();
        direct.write(
            &stats,
            LineHead::of(&record),
            RequestId::Own("rid"),
            record.timestamp_ms,
            record.status,
            |buf| push_json_escaped(line, buf),
        );
        let mut written = String::new();
        direct.take(&mut Vec::new(), |chunk| written.push_str(chunk));
        assert_eq!(plain, written);
        let v: serde_json::Value = serde_json::from_str(plain.trim_end()).unwrap();
        assert_eq!(v["message"], line);
    }

    #[test]
    fn each_line_carries_its_own_stage_when_records_alternate() {
        let mut writer = LineWriter::new("n\"1".into());
        let mut buf = String::new();
        let a = record(Lines::One("a".into()), LogKind::Access);
        let mut b = record(Lines::One("b".into()), LogKind::Access);
        b.log_group = "other \"group\"".into();
        b.api_id = "b2".into();
        b.stage = "dev".into();
        b.status = 404;
        let c = record(Lines::Many(vec!["c".into()]), LogKind::Execution);
        for r in [&a, &b, &a, &c, &b] {
            writer.write_record(&mut buf, r);
        }
        let lines: Vec<serde_json::Value> = buf
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let fields = |v: &serde_json::Value| {
            [
                "logGroup",
                "logStream",
                "kind",
                "apiId",
                "stage",
                "status",
                "message",
            ]
            .map(|k| v[k].to_string())
            .join(" ")
        };
        let got: Vec<String> = lines.iter().map(fields).collect();
        assert_eq!(
            got,
            [
                r#""g" "n\"1" "access" "a1" "prod" 200 "a""#,
                r#""other \"group\"" "n\"1" "access" "b2" "dev" 404 "b""#,
                r#""g" "n\"1" "access" "a1" "prod" 200 "a""#,
                r#""g" "n\"1" "execution" "a1" "prod" 200 "(rid) c""#,
                r#""other \"group\"" "n\"1" "access" "b2" "dev" 404 "b""#,
            ]
        );
    }

    #[test]
    fn pending_is_bounded_and_drops_the_oldest() {
        let pending = Pending::new(3, 2);
        let ev = |m: &str| LogEvent {
            message: m.into(),
            ..Default::default()
        };
        assert_eq!(pending.push([ev("1"), ev("2")]), 0);
        assert_eq!(pending.push([ev("3"), ev("4"), ev("5")]), 2);
        let taken: Vec<String> = pending.take(10).into_iter().map(|e| e.message).collect();
        assert_eq!(taken, ["3", "4", "5"]);
        assert!(pending.is_empty());
    }
}
