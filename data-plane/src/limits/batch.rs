//! Group commit of admission calls: the requests of one node that need the admission
//! script at the same time share one `EVALSHA` of [`script::ADMIT`].
//!
//! A request writes its prepared admission (keys and arguments, [`Prepared`]) and hands it
//! to the limiter's [`Batcher`] with a oneshot for its answer. One driver task per limiter
//! keeps at most [`IN_FLIGHT`] calls in flight: a request arriving while fewer are in
//! flight is sent at once (alone, so a lone request waits for nothing); requests arriving
//! while all are in flight queue, and when a call returns everything queued (up to
//! [`MAX_BATCH`]) goes in the next one. No timer.
//!
//! The script processes the admissions of a call one after the other, each with today's
//! semantics (checks, then takes, counts and meters, or refuses and counts nowhere), in one
//! atomic script run; each request gets its own slice of the reply and installs its leases
//! and memos itself. A call that fails or outlasts [`super::CALL_TIMEOUT`] answers every one
//! of its requests with the error, and each falls back as a lone call would; admissions
//! still queued once a call has failed (Redis marked down) fall back without a call. A
//! request that gave up before its call was sent (its connection closed) is left out of the
//! call. The timeout runs from when a call is sent, so a request waits at most one call's
//! timeout for a free slot and one for its own.
//!
//! On a Redis Cluster every key of the gateway shares one hash slot (the prefix is a hash
//! tag, `apigw_shared_redis`), so one call may carry any admissions.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use apigw_shared_redis::SharedRedis;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, oneshot};

use super::CALL_TIMEOUT;

/// Calls in flight at once per node; more requests queue for the next call.
pub const IN_FLIGHT: usize = 2;
/// The most admissions in one call (bounds how long the script holds Redis).
pub const MAX_BATCH: usize = 128;

/// One admission's keys and arguments, each a length-prefixed frame in one buffer (keys
/// first), so a request costs one buffer however many it writes.
#[derive(Debug, Default)]
pub struct Prepared {
    buf: Vec<u8>,
    keys: u32,
    frames: u32,
}

impl Prepared {
    /// An empty admission with room for a typical one.
    pub fn new() -> Self {
        Prepared {
            buf: Vec::with_capacity(256),
            keys: 0,
            frames: 0,
        }
    }

    /// Starts a frame; its bytes are what is written until [`Frame`] drops.
    fn frame(&mut self) -> Frame<'_> {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.frames += 1;
        Frame { p: self, at }
    }

    /// Adds a key made of `parts` (all keys come before any argument).
    pub fn key(&mut self, parts: &[&[u8]]) -> &mut Self {
        debug_assert_eq!(self.keys, self.frames, "keys come first");
        self.keys += 1;
        let f = self.frame();
        for p in parts {
            f.p.buf.extend_from_slice(p);
        }
        drop(f);
        self
    }

    /// Adds a key whose last part is formatted.
    pub fn key_fmt(&mut self, parts: &[&[u8]], last: std::fmt::Arguments<'_>) -> &mut Self {
        use std::io::Write as _;
        debug_assert_eq!(self.keys, self.frames, "keys come first");
        self.keys += 1;
        let f = self.frame();
        for p in parts {
            f.p.buf.extend_from_slice(p);
        }
        // Writing into a Vec cannot fail.
        let _ = f.p.buf.write_fmt(last);
        drop(f);
        self
    }

    /// Adds an argument, formatted.
    pub fn arg(&mut self, value: std::fmt::Arguments<'_>) -> &mut Self {
        use std::io::Write as _;
        let f = self.frame();
        let _ = f.p.buf.write_fmt(value);
        drop(f);
        self
    }

    /// Adds an argument made of `parts`.
    pub fn arg_bytes(&mut self, parts: &[&[u8]]) -> &mut Self {
        let f = self.frame();
        for p in parts {
            f.p.buf.extend_from_slice(p);
        }
        drop(f);
        self
    }

    /// The frames: keys, then arguments.
    fn frames(&self) -> (Frames<'_>, Frames<'_>) {
        let mut all = Frames(&self.buf);
        let mut rest = all.clone();
        for _ in 0..self.keys {
            rest.next();
        }
        let keys_len = self.buf.len() - rest.0.len();
        all.0 = &self.buf[..keys_len];
        (all, rest)
    }
}

/// An open frame: patches its length in when dropped.
struct Frame<'a> {
    p: &'a mut Prepared,
    at: usize,
}

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        let len = (self.p.buf.len() - self.at - 4) as u32;
        self.p.buf[self.at..self.at + 4].copy_from_slice(&len.to_le_bytes());
    }
}

#[derive(Clone)]
struct Frames<'a>(&'a [u8]);

impl<'a> Iterator for Frames<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let (len, rest) = self.0.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (frame, rest) = rest.split_at(len);
        self.0 = rest;
        Some(frame)
    }
}

/// Why a call gave no answer for an admission.
#[derive(Debug, Clone)]
pub enum CallError {
    /// Redis answered with an error, or the connection failed.
    Failed(Arc<str>),
    /// The call outlasted [`CALL_TIMEOUT`].
    TimedOut,
    /// The reply did not have the shape the script gives.
    BadReply,
}

impl CallError {
    /// For the log line of marking Redis down.
    pub fn describe(&self) -> &str {
        match self {
            CallError::Failed(why) => why,
            CallError::TimedOut => "admission call timed out",
            CallError::BadReply => "unexpected admission script reply",
        }
    }
}

/// One admission's reply: its slice of the call's reply (shared, not copied).
#[derive(Debug)]
pub struct Answer {
    batch: Arc<[i64]>,
    range: Range<usize>,
}

impl Answer {
    /// The admission's reply as the script documents it.
    pub fn reply(&self) -> &[i64] {
        &self.batch[self.range.clone()]
    }
}

struct Job {
    admission: Prepared,
    answer: oneshot::Sender<Result<Answer, CallError>>,
}

/// Counters the metrics read.
#[derive(Debug, Default)]
pub struct Counters {
    /// Script calls made.
    pub calls: AtomicU64,
    /// Admissions sent in them.
    pub admissions: AtomicU64,
}

/// The queue of one limiter's admissions; the driver task ends when it is dropped.
#[derive(Debug)]
pub struct Batcher {
    queue: mpsc::UnboundedSender<Job>,
}

impl Batcher {
    /// Starts the driver (needs a Tokio runtime).
    /// `up` is the limiter's "Redis reachable" flag: a batch about to be sent while it is
    /// false falls back without a call.
    pub fn start(
        redis: SharedRedis,
        script: redis::Script,
        counters: Arc<Counters>,
        up: Arc<AtomicBool>,
    ) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        let driver = Driver {
            redis,
            script: Arc::new(script),
            counters,
            up,
        };
        tokio::spawn(driver.run(jobs));
        Batcher { queue }
    }

    /// Sends `admission` in the next call and waits for its answer.
    pub async fn admit(&self, admission: Prepared) -> Result<Answer, CallError> {
        let (answer, reply) = oneshot::channel();
        if self.queue.send(Job { admission, answer }).is_err() {
            return Err(CallError::Failed("admission driver stopped".into()));
        }
        reply
            .await
            .unwrap_or_else(|_| Err(CallError::Failed("admission driver stopped".into())))
    }
}

/// What every call of one limiter shares.
#[derive(Clone)]
struct Driver {
    redis: SharedRedis,
    script: Arc<redis::Script>,
    counters: Arc<Counters>,
    up: Arc<AtomicBool>,
}

impl Driver {
    async fn run(self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        let mut in_flight = FuturesUnordered::new();
        let mut open = true;
        while open || !in_flight.is_empty() {
            tokio::select! {
                biased;
                Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
                job = jobs.recv(), if open && in_flight.len() < IN_FLIGHT => match job {
                    Some(job) => {
                        let mut batch = Vec::with_capacity(8);
                        batch.push(job);
                        while batch.len() < MAX_BATCH {
                            match jobs.try_recv() {
                                Ok(job) => batch.push(job),
                                Err(_) => break,
                            }
                        }
                        in_flight.push(self.clone().call(batch));
                    }
                    None => open = false,
                },
            }
        }
    }

    /// One script call for `batch`; answers each of its admissions.
    async fn call(mut self, mut batch: Vec<Job>) {
        // A request that gave up (its connection closed) is not sent: nobody would use its
        // tokens, and it is not counted.
        batch.retain(|job| !job.answer.is_closed());
        if batch.is_empty() {
            return;
        }
        // Queued while a call failed: fall back now rather than wait for another timeout.
        if !self.up.load(Ordering::Acquire) {
            return fail(batch, CallError::Failed("Redis marked down".into()));
        }
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        self.counters
            .admissions
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let cmd = command(&self.script, &batch);
        let redis = &mut self.redis;
        let script = &self.script;
        let reply = tokio::time::timeout(CALL_TIMEOUT, async {
            match cmd.query_async::<Vec<i64>>(redis).await {
                Err(e)
                    if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
                {
                    script.load_async(redis).await?;
                    cmd.query_async::<Vec<i64>>(redis).await
                }
                other => other,
            }
        })
        .await;
        let flat = match reply {
            Ok(Ok(flat)) => flat,
            Ok(Err(e)) => return fail(batch, CallError::Failed(e.to_string().into())),
            Err(_) => return fail(batch, CallError::TimedOut),
        };
        let Some(ranges) = reply_ranges(&flat, batch.len()) else {
            return fail(batch, CallError::BadReply);
        };
        let shared: Arc<[i64]> = flat.into();
        for (job, range) in batch.into_iter().zip(ranges) {
            let _ = job.answer.send(Ok(Answer {
                batch: Arc::clone(&shared),
                range,
            }));
        }
    }
}

fn fail(batch: Vec<Job>, error: CallError) {
    for job in batch {
        let _ = job.answer.send(Err(error.clone()));
    }
}

/// `EVALSHA sha numkeys keys… m args…`: every admission's keys, then `m` and every
/// admission's arguments (each starting with its bucket count, which fixes how many keys
/// and arguments are its own).
fn command(script: &redis::Script, batch: &[Job]) -> redis::Cmd {
    let keys: u32 = batch.iter().map(|j| j.admission.keys).sum();
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(script.get_hash()).arg(keys);
    for job in batch {
        for key in job.admission.frames().0 {
            cmd.arg(key);
        }
    }
    cmd.arg(batch.len());
    for job in batch {
        for arg in job.admission.frames().1 {
            cmd.arg(arg);
        }
    }
    cmd
}

/// Splits the batch script's flat reply `{c1, r1…, c2, r2…}` (each admission's reply
/// preceded by its length) into the `m` admissions' replies; `None` unless it is exactly
/// that, each reply non-empty.
pub fn reply_ranges(flat: &[i64], m: usize) -> Option<Vec<Range<usize>>> {
    let mut ranges = Vec::with_capacity(m);
    let mut at = 0usize;
    for _ in 0..m {
        let len = usize::try_from(*flat.get(at)?).ok().filter(|n| *n > 0)?;
        let start = at + 1;
        let end = start.checked_add(len)?;
        if end > flat.len() {
            return None;
        }
        ranges.push(start..end);
        at = end;
    }
    (at == flat.len()).then_some(ranges)
}

#[cfg(test)]
mod tests {
    use super::super::script;
    use super::*;

    #[test]
    fn replies_split_per_admission() {
        // Admitted with grants 5 and 1; throttled at bucket 2, 40 ms; quota exceeded.
        let flat = [3, 0, 5, 1, 3, 1, 2, 40, 1, 2];
        let ranges = reply_ranges(&flat, 3).expect("well formed");
        let replies: Vec<&[i64]> = ranges.iter().map(|r| &flat[r.clone()]).collect();
        assert_eq!(replies, [&[0, 5, 1][..], &[1, 2, 40], &[2]]);
        assert_eq!(
            reply_ranges(&[1, script::ADMITTED], 1).map(|r| (r.len(), r[0].clone())),
            Some((1, 1..2)),
            "one admission without buckets"
        );
    }

    #[test]
    fn malformed_replies_are_refused() {
        assert_eq!(reply_ranges(&[], 1), None, "too few admissions");
        assert_eq!(reply_ranges(&[1, 0, 1, 0], 1), None, "too many");
        assert_eq!(reply_ranges(&[3, 0, 5], 1), None, "cut short");
        assert_eq!(reply_ranges(&[0, 1, 0], 2), None, "an empty reply");
        assert_eq!(reply_ranges(&[-1, 0], 1), None, "a negative length");
        assert_eq!(reply_ranges(&[i64::MAX, 0], 1), None, "a huge length");
        assert_eq!(reply_ranges(&[], 0), Some(vec![]));
    }

    #[test]
    fn prepared_frames_keys_then_args() {
        let mut p = Prepared::new();
        p.key(&[b"{P}", b"b:acct"])
            .key_fmt(&[b"{P}", b"q:p:k:"], format_args!("{}", 1_764_547_200))
            .arg(format_args!("{}", 2))
            .arg(format_args!("{}", 0.5))
            .arg_bytes(&[b"p|k|", b"2026-12-07"])
            .arg_bytes(&[]);
        let (keys, args) = p.frames();
        let keys: Vec<&[u8]> = keys.collect();
        let args: Vec<&[u8]> = args.collect();
        assert_eq!(keys, [&b"{P}b:acct"[..], b"{P}q:p:k:1764547200"]);
        assert_eq!(args, [&b"2"[..], b"0.5", b"p|k|2026-12-07", b""]);
    }
}
