//! The queue between the request workers and the [`super::sink`] thread.
//!
//! A bounded lock-free queue ([`crossbeam_queue::ArrayQueue`]) that a request pushes
//! into without waking anyone: the sink thread wakes on its own every
//! [`FLUSH_INTERVAL`], or as soon as the queue holds [`LogQueue::wake_at`] records, so
//! a busy node pays one wake-up per batch rather than one per logged request (a tokio
//! channel woke the blocked sink for every line: a futex call and a thread switch per
//! request). A full queue refuses the record; the hook drops and counts it.
//!
//! The one [`LogSender`] belongs to the logs hook; dropping it (the gateway is gone)
//! closes the queue, and the sink drains what is left and ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;

use super::LogRecord;

/// How long a line waits, at most, for the sink to write it when the node is quiet.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// The queue, shared by the hook's [`LogSender`] and the sink's [`LogReceiver`].
#[derive(Debug)]
struct LogQueue {
    records: ArrayQueue<LogRecord>,
    /// Pushing past this many queued records wakes the sink at once.
    wake_at: usize,
    closed: AtomicBool,
    sink: OnceLock<Thread>,
}

impl LogQueue {
    fn wake(&self) {
        if let Some(thread) = self.sink.get() {
            thread.unpark();
        }
    }
}

/// The largest queue [`bounded`] makes (its slots are allocated up front).
pub const MAX_CAPACITY: usize = 1 << 20;

/// A queue of `capacity` records (1 ..= [`MAX_CAPACITY`]): its sending and receiving
/// ends.
pub fn bounded(capacity: usize) -> (LogSender, LogReceiver) {
    let capacity = capacity.clamp(1, MAX_CAPACITY);
    let queue = Arc::new(LogQueue {
        records: ArrayQueue::new(capacity),
        wake_at: (capacity / 4).clamp(1, 1024),
        closed: AtomicBool::new(false),
        sink: OnceLock::new(),
    });
    (LogSender(Arc::clone(&queue)), LogReceiver(queue))
}

/// The hook's end: [`LogSender::push`] never blocks and never wakes the sink below the
/// wake-up mark. Dropping it closes the queue.
#[derive(Debug)]
pub struct LogSender(Arc<LogQueue>);

impl LogSender {
    /// Queues `record`, or drops it when the queue is full.
    pub fn push(&self, record: LogRecord) -> Result<(), Full> {
        self.0.records.push(record).map_err(|_| Full)?;
        if self.0.records.len() >= self.0.wake_at {
            self.0.wake();
        }
        Ok(())
    }
}

impl Drop for LogSender {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.wake();
    }
}

/// The queue was full: the record was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// The sink's end.
#[derive(Debug)]
pub struct LogReceiver(Arc<LogQueue>);

impl LogReceiver {
    /// Registers the calling thread as the one the sender wakes. Call it from the sink
    /// thread before its first [`LogReceiver::wait`].
    pub fn register_current_thread(&self) {
        let _ = self.0.sink.set(std::thread::current());
    }

    /// The next queued record, if any.
    pub fn pop(&self) -> Option<LogRecord> {
        self.0.records.pop()
    }

    /// Whether the sender is gone and nothing is left to take.
    pub fn finished(&self) -> bool {
        self.0.closed.load(Ordering::Acquire) && self.0.records.is_empty()
    }

    /// Sleeps until woken, or for at most [`FLUSH_INTERVAL`], unless records are
    /// already waiting or the queue closed.
    pub fn wait(&self) {
        if self.0.records.is_empty() && !self.0.closed.load(Ordering::Acquire) {
            std::thread::park_timeout(FLUSH_INTERVAL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::tests::record;

    #[test]
    fn a_full_queue_refuses_the_record() {
        let (tx, rx) = bounded(2);
        assert!(tx.push(record(1)).is_ok());
        assert!(tx.push(record(1)).is_ok());
        assert_eq!(tx.push(record(1)), Err(Full));
        assert!(rx.pop().is_some());
        assert!(tx.push(record(1)).is_ok());
    }

    #[test]
    fn dropping_the_sender_finishes_the_receiver_once_drained() {
        let (tx, rx) = bounded(4);
        tx.push(record(1)).unwrap();
        drop(tx);
        assert!(!rx.finished(), "a record is left");
        assert!(rx.pop().is_some());
        assert!(rx.finished());
    }

    #[test]
    fn the_sink_is_woken_at_the_mark_and_by_the_close() {
        let (tx, rx) = bounded(8);
        let sink = std::thread::spawn(move || {
            rx.register_current_thread();
            let mut taken = 0;
            while !rx.finished() {
                rx.wait();
                while rx.pop().is_some() {
                    taken += 1;
                }
            }
            taken
        });
        for _ in 0..20 {
            while tx.push(record(1)).is_err() {
                std::thread::yield_now();
            }
        }
        drop(tx);
        assert_eq!(sink.join().unwrap(), 20);
    }
}
