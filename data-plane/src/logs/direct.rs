//! Access lines written straight into per-thread buffers, for a node whose lines only go
//! to its file or stdout (not shipped to the control plane).
//!
//! The request's worker formats the whole JSON line of the [`super::sink`]'s shape (the
//! stage's access format already escaped for embedding, inside the line's constant
//! head) at the end of the request, into a buffer of its own thread
//! ([`thread_local::ThreadLocal`]: one slot per worker, so workers never contend); the
//! sink thread swaps each buffer for an empty one and writes it out. A line is then one
//! formatting pass into memory that is reused: no record, no queue slot, no allocation,
//! no copy on the sink's side, and no memory freed on another thread than the one that
//! allocated it. A worker's buffer that the sink has not emptied reaches
//! [`MAX_PENDING_BYTES`]: later lines are dropped and counted, so a stalled disk never
//! stalls a request. The sink is woken when a buffer passes [`WAKE_BYTES`], and
//! otherwise takes what is there every [`super::queue::FLUSH_INTERVAL`].
//!
//! Execution lines and WebSocket access lines still go through the [`super::queue`]
//! (they are not on every request's path, and the shipper needs their records).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Mutex, OnceLock};
use std::thread::Thread;

use thread_local::ThreadLocal;

use super::sink::{LineHead, LineWriter, RequestId};
use super::LogStats;

/// A worker's unwritten bytes past which its new lines are dropped (and counted).
pub const MAX_PENDING_BYTES: usize = 8 << 20;
/// A worker's unwritten bytes past which the sink is woken at once.
pub const WAKE_BYTES: usize = 256 << 10;

/// One worker's buffer, and its writer (which keeps the stage's escaped line head).
#[derive(Debug)]
struct Slot {
    writer: LineWriter,
    buf: String,
}

/// The per-thread buffers, shared by the logs hook (writing) and the sink (emptying).
#[derive(Debug)]
pub struct DirectLines {
    slots: ThreadLocal<Mutex<Slot>>,
    node_id: String,
    max_pending: usize,
    sink: OnceLock<Thread>,
}

impl DirectLines {
    /// Buffers for the node `node_id` (each line's `logStream`).
    pub fn new(node_id: String) -> Self {
        Self::with_limit(node_id, MAX_PENDING_BYTES)
    }

    /// Buffers that drop lines past `max_pending` unwritten bytes per worker.
    pub fn with_limit(node_id: String, max_pending: usize) -> Self {
        DirectLines {
            slots: ThreadLocal::new(),
            node_id,
            max_pending,
            sink: OnceLock::new(),
        }
    }

    /// Registers the calling thread as the one woken when a buffer fills (the sink).
    pub fn register_current_thread(&self) {
        let _ = self.sink.set(std::thread::current());
    }

    /// Appends one line to the calling thread's buffer, or drops it (and counts it) when
    /// that buffer already holds [`MAX_PENDING_BYTES`]. `message` writes the line's
    /// message already escaped as the inside of a JSON string.
    pub(crate) fn write(
        &self,
        stats: &LogStats,
        head: LineHead<'_>,
        request_id: RequestId<'_>,
        timestamp_ms: i64,
        status: u16,
        message: impl FnOnce(&mut String),
    ) {
        let slot = self.slots.get_or(|| {
            Mutex::new(Slot {
                writer: LineWriter::new(self.node_id.clone()),
                buf: String::new(),
            })
        });
        // Only the sink takes this lock, for the time of a swap.
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        let before = slot.buf.len();
        if before >= self.max_pending {
            drop(slot);
            stats.dropped.fetch_add(1, Relaxed);
            return;
        }
        let Slot { writer, buf } = &mut *slot;
        writer.write_line(buf, head, request_id, timestamp_ms, status, message);
        let after = buf.len();
        drop(slot);
        stats.written.fetch_add(1, Relaxed);
        if before < WAKE_BYTES && after >= WAKE_BYTES {
            if let Some(sink) = self.sink.get() {
                sink.unpark();
            }
        }
    }

    /// Swaps every worker's buffer with an empty one from `spare` (emptied buffers are
    /// given back to the workers, so none allocates once warm) and hands each non-empty
    /// one to `out`.
    pub fn take(&self, spare: &mut Vec<String>, mut out: impl FnMut(&str)) {
        for slot in self.slots.iter() {
            let mut taken = spare.pop().unwrap_or_default();
            {
                let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                if slot.buf.is_empty() {
                    spare.push(taken);
                    continue;
                }
                std::mem::swap(&mut slot.buf, &mut taken);
            }
            out(&taken);
            taken.clear();
            spare.push(taken);
        }
    }

    /// Whether any worker's buffer holds a line.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(|slot| {
            slot.lock()
                .unwrap_or_else(|e| e.into_inner())
                .buf
                .is_empty()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_proto::logs::LogKind;
    use std::sync::Arc;

    fn head<'a>(group: &'a Arc<str>, api: &'a Arc<str>, stage: &'a Arc<str>) -> LineHead<'a> {
        LineHead {
            kind: LogKind::Access,
            log_group: group,
            api_id: api,
            stage,
        }
    }

    #[test]
    fn lines_of_several_threads_are_all_taken_once() {
        let lines = Arc::new(DirectLines::new("n1".into()));
        let stats = Arc::new(LogStats::default());
        let (group, api, stage): (Arc<str>, Arc<str>, Arc<str>) =
            ("g".into(), "a1".into(), "prod".into());
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (lines, stats) = (Arc::clone(&lines), Arc::clone(&stats));
                let (group, api, stage) = (&group, &api, &stage);
                scope.spawn(move || {
                    for i in 0..250 {
                        lines.write(
                            &stats,
                            head(group, api, stage),
                            RequestId::Own("rid"),
                            7,
                            200,
                            |buf| buf.push_str(&format!("t{t} i{i} \\\"q\\\"")),
                        );
                    }
                });
            }
        });
        let mut spare = Vec::new();
        let mut all = String::new();
        lines.take(&mut spare, |chunk| all.push_str(chunk));
        assert!(lines.is_empty());
        let parsed: Vec<serde_json::Value> = all
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(parsed.len(), 1000);
        let mut messages: Vec<&str> = parsed
            .iter()
            .map(|v| v["message"].as_str().unwrap())
            .collect();
        messages.sort_unstable();
        messages.dedup();
        assert_eq!(messages.len(), 1000, "every line once");
        assert!(messages.contains(&"t3 i249 \"q\""));
        assert_eq!(parsed[0]["logStream"], "n1");
        assert_eq!(parsed[0]["stage"], "prod");
        assert_eq!(parsed[0]["status"], 200);
        assert_eq!(stats.written.load(Relaxed), 1000);
        // Emptied buffers are kept for reuse.
        lines.write(
            &stats,
            head(&group, &api, &stage),
            RequestId::Own("rid"),
            8,
            200,
            |buf| buf.push('x'),
        );
        let mut again = String::new();
        lines.take(&mut spare, |chunk| again.push_str(chunk));
        assert_eq!(again.lines().count(), 1);
    }

    #[test]
    fn a_full_buffer_drops_and_counts_the_line() {
        let lines = DirectLines::with_limit("n1".into(), 200);
        let stats = LogStats::default();
        let (group, api, stage): (Arc<str>, Arc<str>, Arc<str>) =
            ("g".into(), "a1".into(), "prod".into());
        for _ in 0..10 {
            lines.write(
                &stats,
                head(&group, &api, &stage),
                RequestId::Own("rid"),
                7,
                200,
                |buf| buf.push_str("0123456789"),
            );
        }
        let written = stats.written.load(Relaxed);
        assert!((1..10).contains(&written), "{written}");
        assert_eq!(stats.dropped.load(Relaxed), 10 - written);
        let mut spare = Vec::new();
        let mut all = String::new();
        lines.take(&mut spare, |chunk| all.push_str(chunk));
        assert_eq!(all.lines().count() as u64, written);
        lines.write(
            &stats,
            head(&group, &api, &stage),
            RequestId::Own("rid"),
            7,
            200,
            |buf| buf.push('y'),
        );
        assert_eq!(
            stats.written.load(Relaxed),
            written + 1,
            "room again once taken"
        );
    }
}
