//! The node's access and execution logs (issue 16; docs/logs.md).
//!
//! [`LogsHook`] is an end-of-request hook. For a stage with `accessLogSettings` it
//! writes the request's line with the stage's compiled format (the engine's
//! [`apigw_gateway::access_log`]: one `String`, the only allocation); for a method whose
//! `logging/loglevel` is INFO it takes the execution-log lines the engine collected, and
//! at ERROR it writes the failure's lines. Either way it pushes one [`LogRecord`] onto a
//! bounded lock-free [`queue`] and returns: a full queue drops the record and counts its
//! lines in `apigw_log_lines_dropped_total`, so logging never waits and never slows a
//! request. A stage without access logging and a method with execution logging OFF cost
//! two branches.
//!
//! The queue's consumer is the [`sink`] thread (its own OS thread, so a slow disk never
//! stalls a request worker), woken per batch rather than per line: it writes each line
//! as one JSON object per line to the node's file and/or stdout and queues it for the
//! [`shipper`], which sends what queued to the control plane (`LogsIngest.Ship`) at least
//! every second.

pub mod direct;
pub mod queue;
pub mod shipper;
pub mod sink;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use apigw_gateway::compile::LogLevel;
use apigw_gateway::phases::end::{RequestEnd, RequestSummary};
use apigw_gateway::trace::lines;
use apigw_proto::logs::LogKind;
use http::{HeaderValue, Uri};

use direct::DirectLines;
use queue::LogSender;

/// Records the queue holds at most by default.
pub const DEFAULT_QUEUE: usize = 16_384;

/// The logs' counters (shown on `/metrics`).
#[derive(Debug, Default)]
pub struct LogStats {
    /// Lines written (handed to the sink).
    pub written: AtomicU64,
    /// Lines dropped: the queue was full, or the shipper's backlog overflowed.
    pub dropped: AtomicU64,
    /// Shipments accepted by the control plane.
    pub shipped: AtomicU64,
    /// Ship calls that failed (retried).
    pub ship_failures: AtomicU64,
    /// Shipments queued now.
    pub backlog: AtomicU64,
}

/// What one request logged: its access line or its execution lines, with what the
/// store searches by.
#[derive(Debug)]
pub struct LogRecord {
    /// Access or execution.
    pub kind: LogKind,
    /// The log group the lines go to.
    pub log_group: Arc<str>,
    /// When the request ended, Unix milliseconds.
    pub timestamp_ms: i64,
    /// The line(s), without the execution log's `({requestId}) ` prefix.
    pub lines: Lines,
    /// The API id.
    pub api_id: Arc<str>,
    /// The stage.
    pub stage: Arc<str>,
    /// The request id.
    pub request_id: HeaderValue,
    /// The status sent.
    pub status: u16,
    /// The client's IP.
    pub source_ip: IpAddr,
    /// The API key id, when the request was admitted with one.
    pub api_key_id: Option<Box<str>>,
    /// The request target (`$context.path` is derived from it by the sink).
    pub uri: Uri,
}

/// The text of a record.
#[derive(Debug)]
pub enum Lines {
    /// One access-log line.
    One(String),
    /// A request's execution-log lines, in order.
    Many(Vec<String>),
}

impl Lines {
    fn count(&self) -> u64 {
        match self {
            Lines::One(_) => 1,
            Lines::Many(lines) => lines.len() as u64,
        }
    }
}

/// The end-of-request hook of access and execution logs.
#[derive(Debug)]
pub struct LogsHook {
    queue: LogSender,
    stats: Arc<LogStats>,
    embedded: bool,
    direct: Option<Arc<DirectLines>>,
}

impl LogsHook {
    /// A hook sending into `queue`, counting into `stats`.
    pub fn new(queue: LogSender, stats: Arc<LogStats>) -> Self {
        LogsHook {
            queue,
            stats,
            embedded: false,
            direct: None,
        }
    }

    /// Access lines go straight into the workers' buffers of `lines` ([`direct`]),
    /// formatted whole there, rather than as records through the queue: for a node
    /// whose lines are only written to its file or stdout, not shipped (the sink is
    /// given the same `lines`). Nothing then reads a record's search fields (the
    /// store's path and API key id), so execution records do not copy them.
    pub fn direct(mut self, lines: Arc<DirectLines>) -> Self {
        self.embedded = true;
        self.direct = Some(lines);
        self
    }

    fn send(&self, record: LogRecord) {
        let n = record.lines.count();
        match self.queue.push(record) {
            Ok(()) => {
                self.stats.written.fetch_add(n, Relaxed);
            }
            Err(_) => {
                self.stats.dropped.fetch_add(n, Relaxed);
            }
        }
    }

    /// Writes a WebSocket event's access-log line (the stage's compiled format) into the
    /// same queue, log group semantics and shipping as REST lines.
    pub fn ws_access(
        &self,
        access: &apigw_gateway::compile::websocket::WsAccessLog,
        event: &apigw_gateway::access_log::WsLogEvent<'_>,
        source_ip: IpAddr,
    ) {
        let line = access.format.format_ws(event);
        let timestamp_ms = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis() as i64;
        let uri =
            Uri::try_from(format!("/{}", access.stage)).unwrap_or_else(|_| Uri::from_static("/"));
        self.send(LogRecord {
            kind: LogKind::Access,
            log_group: Arc::clone(&access.group),
            timestamp_ms,
            lines: Lines::One(line),
            api_id: Arc::clone(&access.api_id),
            stage: Arc::clone(&access.stage),
            request_id: HeaderValue::from_str(event.request_id)
                .unwrap_or_else(|_| HeaderValue::from_static("")),
            status: event.status,
            source_ip,
            api_key_id: None,
            uri,
        });
    }

    #[cold]
    fn record(
        &self,
        s: &RequestSummary<'_>,
        kind: LogKind,
        log_group: &Arc<str>,
        text: Lines,
    ) -> LogRecord {
        let stage = s.stage.map(|stage| &stage.logging);
        let ended = s.ctx.received_at + s.latency;
        LogRecord {
            kind,
            log_group: Arc::clone(log_group),
            timestamp_ms: ended
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_millis() as i64,
            lines: text,
            api_id: stage.map_or_else(|| Arc::from(""), |l| Arc::clone(&l.api_id)),
            stage: stage.map_or_else(|| Arc::from(""), |l| Arc::clone(&l.stage)),
            request_id: s.ctx.request_id.clone(),
            status: s.status.as_u16(),
            source_ip: s.ctx.source_ip,
            // Only the shipper reads these (the log store searches by them).
            api_key_id: if self.embedded {
                None
            } else {
                s.ctx.api_key_id.get().cloned()
            },
            uri: if self.embedded {
                Uri::default()
            } else {
                s.request.uri.clone()
            },
        }
    }
}

/// The lines of a failed request (a gateway error, or a 5XX) at ERROR level: why it
/// failed, and its status.
fn error_lines(s: &RequestSummary<'_>) -> Option<Vec<String>> {
    if s.error.is_none() && s.status.as_u16() < 500 {
        return None;
    }
    let status = s.status.as_u16();
    let mut out = Vec::with_capacity(3);
    if let Some(error) = s.error {
        out.push(error.execution_log_line());
    }
    // Only the failure's own words: no "Successfully completed execution" for a 4XX.
    out.extend(
        lines::completed(status)
            .into_iter()
            .filter(|line| status >= 500 || !line.starts_with("Successfully")),
    );
    Some(out)
}

thread_local! {
    /// A value's text before it is escaped into an embedded line (reused).
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl RequestEnd for LogsHook {
    fn request_end(&self, s: &RequestSummary<'_>) {
        let Some(stage) = s.stage else {
            return;
        };
        let logging = &stage.logging;
        if let Some(format) = &logging.access {
            if let Some(direct) = &self.direct {
                let head = sink::LineHead {
                    kind: LogKind::Access,
                    log_group: &logging.access_group,
                    api_id: &logging.api_id,
                    stage: &logging.stage,
                };
                let request_id = sink::RequestId::Own(s.ctx.request_id_str());
                let ended = s.ctx.received_at + s.latency;
                let timestamp_ms = ended
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_millis() as i64;
                direct.write(
                    &self.stats,
                    head,
                    request_id,
                    timestamp_ms,
                    s.status.as_u16(),
                    |buf| {
                        SCRATCH.with(|scratch| {
                            format.write_embedded(s, &mut scratch.borrow_mut(), buf)
                        })
                    },
                );
            } else {
                let line = Lines::One(format.format(s));
                self.send(self.record(s, LogKind::Access, &logging.access_group, line));
            }
        }
        let Some(method) = s.method else {
            return;
        };
        let lines = match method.logging.level {
            LogLevel::Off => return,
            LogLevel::Info => match s.ctx.trace.get().filter(|t| t.framed) {
                Some(trace) => trace.take(),
                None => return,
            },
            LogLevel::Error => match error_lines(s) {
                Some(lines) => lines,
                None => return,
            },
        };
        if lines.is_empty() {
            return;
        }
        // A canary's lines go to the stage's group and to the canary's own, as in API
        // Gateway.
        if let Some(canary_group) = &logging.canary_execution_group {
            self.send(self.record(
                s,
                LogKind::Execution,
                canary_group,
                Lines::Many(lines.clone()),
            ));
        }
        self.send(self.record(
            s,
            LogKind::Execution,
            &logging.execution_group,
            Lines::Many(lines),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(n: usize) -> LogRecord {
        LogRecord {
            kind: LogKind::Execution,
            log_group: "g".into(),
            timestamp_ms: 1,
            lines: Lines::Many(vec!["x".into(); n]),
            api_id: "a".into(),
            stage: "s".into(),
            request_id: HeaderValue::from_static("r"),
            status: 200,
            source_ip: IpAddr::from([127, 0, 0, 1]),
            api_key_id: None,
            uri: Uri::from_static("/s/x"),
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_lines() {
        let (tx, rx) = queue::bounded(1);
        let stats = Arc::new(LogStats::default());
        let hook = LogsHook::new(tx, Arc::clone(&stats));
        hook.send(record(2));
        hook.send(record(3));
        hook.send(record(1));
        assert_eq!(stats.written.load(Relaxed), 2);
        assert_eq!(stats.dropped.load(Relaxed), 4);
        assert!(rx.pop().is_some());
        hook.send(record(1));
        assert_eq!(stats.written.load(Relaxed), 3);
    }
}
