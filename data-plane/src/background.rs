//! Config work below request priority: one OS thread, with a higher nice value than the
//! request threads, that compiles config updates and frees the states they replace.
//!
//! Compiling a large stage (an API of 1,000 resources with templates) takes tens of
//! milliseconds of CPU. On a node whose request threads share their core with it (a
//! one-core node, or a node pinned to one CPU as the bench runs it), a compile at the same
//! priority takes half the core for its whole length whenever both are runnable, so
//! requests queue behind it: the config push scenario's tail latency. At nice
//! [`DEFAULT_NICE`] the scheduler gives this thread about a tenth of a contended core
//! (weight 110 against 1,024 for nice 0), so requests keep nine tenths and the compile
//! finishes in the core's idle time; on a saturated node it still finishes, about ten
//! times slower. The node's `--compile-nice 0` turns this off.
//!
//! The state an update replaces is moved here too, and freed once [`GRACE`] has passed:
//! the requests that held its stages have ended by then, so the last reference (and the
//! thousands of frees of a large compiled stage) is this thread's, not a request's.

use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The compile thread's nice value unless the node is told otherwise.
pub const DEFAULT_NICE: i32 = 10;

/// How long a replaced state is kept before this thread frees it.
pub const GRACE: Duration = Duration::from_secs(1);

type Job = Box<dyn FnOnce() + Send>;

enum Msg {
    Run(Job),
    Free(Box<dyn Send>, Instant),
}

/// A job did not complete: it panicked (a bug: the panic is logged and the thread goes
/// on), or the thread is gone.
#[derive(Debug, thiserror::Error)]
#[error("the config compile thread did not finish the job (it panicked or is gone)")]
pub struct JobFailed;

/// The handle to the compile thread; cheap to clone. The thread ends when every handle
/// is dropped, freeing what it still holds.
#[derive(Clone)]
pub struct Background {
    tx: mpsc::Sender<Msg>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background").finish_non_exhaustive()
    }
}

impl Background {
    /// Starts the thread at `nice` (0 = the request threads' priority). A nice value the
    /// system refuses is logged and the thread runs at its inherited priority.
    pub fn start(nice: i32) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Msg>();
        std::thread::Builder::new()
            .name("config-compile".into())
            .spawn(move || {
                if nice != 0 {
                    let tid = rustix::thread::gettid();
                    if let Err(error) = rustix::process::setpriority_process(Some(tid), nice) {
                        tracing::warn!(nice, %error, "cannot lower the config compile thread's priority");
                    }
                }
                serve(rx)
            })?;
        Ok(Background { tx })
    }

    /// Runs `job` on the thread and waits for its result without blocking the runtime.
    pub async fn run<T, F>(&self, job: F) -> Result<T, JobFailed>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The receiver may be gone (the session ended): the result is then dropped here.
            let _ = done.send(job());
        });
        self.tx.send(Msg::Run(job)).map_err(|_| JobFailed)?;
        result.await.map_err(|_| JobFailed)
    }

    /// Hands `value` to the thread, which drops it once [`GRACE`] has passed.
    pub fn free_later<T: Send + 'static>(&self, value: T) {
        // With the thread gone (only at shutdown) the value is dropped here instead.
        let _ = self
            .tx
            .send(Msg::Free(Box::new(value), Instant::now() + GRACE));
    }
}

/// The thread's loop: jobs in order, frees when due.
fn serve(rx: mpsc::Receiver<Msg>) {
    let mut due: std::collections::VecDeque<(Box<dyn Send>, Instant)> = Default::default();
    loop {
        let msg = match due.front() {
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            Some((_, at)) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        match msg {
            Ok(Msg::Run(job)) => {
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                    tracing::error!("a config job panicked; the state is unchanged");
                }
            }
            Ok(Msg::Free(value, at)) => due.push_back((value, at)),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        while due.front().is_some_and(|(_, at)| *at <= now) {
            due.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn jobs_run_in_order_and_a_panic_fails_only_its_job() {
        let bg = Background::start(DEFAULT_NICE).unwrap();
        assert_eq!(bg.run(|| 1 + 1).await.unwrap(), 2);
        let failed = bg.run(|| -> u32 { panic!("boom") }).await;
        assert!(failed.is_err());
        assert_eq!(bg.run(|| "still here").await.unwrap(), "still here");
    }

    #[tokio::test]
    async fn the_thread_runs_at_the_nice_value_asked() {
        let bg = Background::start(DEFAULT_NICE).unwrap();
        let base = rustix::process::getpriority_process(None).unwrap();
        let nice = bg
            .run(|| rustix::process::getpriority_process(Some(rustix::thread::gettid())))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(nice, (base + DEFAULT_NICE).min(19));
    }

    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_freed_value_is_dropped_after_the_grace_and_not_before() {
        let bg = Background::start(0).unwrap();
        let dropped = Arc::new(AtomicBool::new(false));
        let handed = Instant::now();
        bg.free_later(Flag(dropped.clone()));
        // A job run meanwhile does not free it early.
        bg.run(|| ()).await.unwrap();
        assert!(!dropped.load(Ordering::SeqCst) || handed.elapsed() >= GRACE);
        let deadline = Instant::now() + GRACE * 10;
        while !dropped.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "never freed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            handed.elapsed() >= GRACE,
            "freed before the grace had passed"
        );
    }
}
