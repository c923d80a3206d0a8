//! The last deployed state, published to Redis for nodes that start with nothing (issue
//! 21, "nodes that start alone"): a brand-new node with no state file of its own, started
//! while no control plane answers, reads it and serves it until one does.
//!
//! Every replica publishes each state its watcher loads: a full `ConfigUpdate` framed as
//! the nodes' state file is (`apigw_proto::state_frame`, so one reader checks both), into
//! the hash `{prefix}state` (`version`, `state`), by a script that writes only a higher
//! version than the one stored: replicas share the version sequence, so two replicas
//! publishing the same version publish the same content, and an older one never wins.
//! Private keys of custom domains and client certificates are left out (flag
//! `FLAG_KEYS_LEFT_OUT`): Redis is not trusted with them; those domains route plain HTTP on
//! a bootstrapped node and complete TLS handshakes once the control plane answers. API
//! keys are hashes in the stream already. A failed publish is retried with the newest
//! state every few seconds. Publishes are spaced by at least [`MIN_SPACING`], and by
//! [`IDLE_PER_BUSY`] times what the last one took, each with the newest state: a stream
//! of changes writes the whole state once a second at most, not once per change, and a
//! big state (tens of megabytes) takes at most a tenth of a core.

use std::sync::Arc;
use std::time::Duration;

use apigw_proto::config as pb;
use apigw_proto::state_frame::{frame, FLAG_KEYS_LEFT_OUT};
use apigw_shared_redis::SharedRedis;
use tokio::sync::watch;

use super::state::DeployedState;

/// How long to wait before publishing again after a failure.
const RETRY_EVERY: Duration = Duration::from_secs(3);

/// HSET the state when its version is higher than the stored one.
const PUBLISH: &str = r"
local stored = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if tonumber(ARGV[1]) > stored then
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'state', ARGV[2])
  return 1
end
return 0";

/// The framed bytes published for `state` (tens of megabytes at 10,000 APIs: [`run`]
/// encodes on a blocking thread, not on the runtime's workers that serve the nodes).
pub fn encode(state: &DeployedState) -> Vec<u8> {
    let mut domains = (*state.domains).clone();
    strip_private_keys(&mut domains);
    frame(
        &state.encode_full_update(String::new(), &domains),
        FLAG_KEYS_LEFT_OUT,
    )
}

fn strip_private_keys(domains: &mut pb::DomainConfig) {
    for d in &mut domains.domains {
        d.private_key_pem.clear();
    }
    for c in &mut domains.client_certificates {
        c.private_key_pem.clear();
    }
}

/// At most one publish per this long: a steady stream of changes (a generator deploying
/// thousands of APIs) would otherwise write the whole state, megabytes at scale, once per
/// change. The copy a node that starts alone reads is then at most this old.
pub const MIN_SPACING: Duration = Duration::from_secs(1);

/// After a publish that took `t` (encoding and writing), the next waits at least this
/// many times `t` (and [`MIN_SPACING`]): the copy then costs the control plane at most a
/// tenth of a core however big the state. At ~4,600 generated APIs one publish took ~5 s
/// (30 MB), and 1 s apart they ran back to back, a core taken from loads, management
/// calls and the nodes (docs/scale.md); the copy is only for nodes that start while no
/// control plane answers, so it may be that much older.
pub const IDLE_PER_BUSY: u32 = 9;

/// Why one publish did not happen (retried with the newest state).
#[derive(Debug, thiserror::Error)]
enum Failed {
    /// Redis did not take it.
    #[error("{0}")]
    Redis(#[from] redis::RedisError),
    /// The encoding thread failed.
    #[error("encoding the state: {0}")]
    Encode(#[from] tokio::task::JoinError),
}

/// Publishes the states `states` sees, the current one first, until the channel closes:
/// the newest one at each turn, at most once per [`MIN_SPACING`].
pub async fn run(redis: SharedRedis, prefix: String, states: watch::Receiver<Arc<DeployedState>>) {
    let key = format!("{prefix}{}", apigw_proto::PUBLISHED_STATE_KEY);
    let script = redis::Script::new(PUBLISH);
    publish_spaced(states, MIN_SPACING, |state| {
        let (redis, key, script) = (redis.clone(), key.clone(), script.clone());
        async move {
            let encoding = Arc::clone(&state);
            let started = std::time::Instant::now();
            let bytes = tokio::task::spawn_blocking(move || encode(&encoding)).await?;
            let encoded_in = started.elapsed();
            let mut conn = redis;
            let _: i64 = script
                .key(&key)
                .arg(state.version)
                .arg(bytes.as_slice())
                .invoke_async(&mut conn)
                .await?;
            tracing::debug!(
                version = state.version,
                bytes = bytes.len(),
                encode_ms = encoded_in.as_millis() as u64,
                written_ms = (started.elapsed() - encoded_in).as_millis() as u64,
                "deployed state published to Redis"
            );
            Ok(())
        }
    })
    .await;
}

/// The loop of [`run`], apart from Redis: `publish` is called with the newest state not
/// yet published, never sooner than `spacing`, nor than [`IDLE_PER_BUSY`] times its
/// duration, after the previous call that succeeded.
async fn publish_spaced<F, Fut>(
    mut states: watch::Receiver<Arc<DeployedState>>,
    spacing: Duration,
    mut publish: F,
) where
    F: FnMut(Arc<DeployedState>) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failed>>,
{
    let mut published = 0;
    let mut next: Option<tokio::time::Instant> = None;
    loop {
        if let Some(at) = next {
            // Changes meanwhile are not lost: the newest is read below.
            tokio::time::sleep_until(at).await;
        }
        let state = states.borrow_and_update().clone();
        if state.version > published {
            let started = tokio::time::Instant::now();
            match publish(Arc::clone(&state)).await {
                Ok(()) => {
                    published = state.version;
                    let done = tokio::time::Instant::now();
                    next = Some(done + spacing.max((done - started) * IDLE_PER_BUSY));
                }
                Err(error) => {
                    tracing::warn!(%error, version = state.version, "publishing the deployed state to Redis failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(RETRY_EVERY) => continue,
                        changed = states.changed() => if changed.is_err() { return } else { continue },
                    }
                }
            }
        }
        if states.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::time::Instant;

    fn state(version: u64) -> Arc<DeployedState> {
        Arc::new(DeployedState {
            version,
            ..Default::default()
        })
    }

    type Calls = Arc<Mutex<Vec<(u64, Instant)>>>;

    fn recording(
        rx: watch::Receiver<Arc<DeployedState>>,
        spacing: Duration,
    ) -> (Calls, tokio::task::JoinHandle<()>) {
        let calls: Calls = Arc::default();
        let seen = Arc::clone(&calls);
        let task = tokio::spawn(publish_spaced(rx, spacing, move |s| {
            seen.lock().unwrap().push((s.version, Instant::now()));
            async { Ok(()) }
        }));
        (calls, task)
    }

    async fn until_published(calls: &Calls, version: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while calls.lock().unwrap().last().map(|c| c.0) != Some(version) {
            assert!(
                Instant::now() < deadline,
                "version {version} never published"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn a_stream_of_changes_is_published_spaced_ending_with_the_newest() {
        let spacing = Duration::from_millis(100);
        let (tx, rx) = watch::channel(state(1));
        let started = Instant::now();
        let (calls, task) = recording(rx, spacing);
        until_published(&calls, 1).await;
        for version in 2..=100 {
            tx.send(state(version)).unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        until_published(&calls, 100).await;
        let elapsed = started.elapsed();
        drop(tx);
        task.await.unwrap();
        let calls = calls.lock().unwrap();
        let versions: Vec<u64> = calls.iter().map(|c| c.0).collect();
        assert_eq!(versions.first(), Some(&1));
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        for pair in calls.windows(2) {
            assert!(pair[1].1 - pair[0].1 >= spacing, "{versions:?}");
        }
        // Never more than one per spacing, however slow the machine made the loop.
        let most = 1 + (elapsed.as_millis() / spacing.as_millis()) as usize;
        assert!(
            versions.len() <= most && versions.len() < 100,
            "{} publishes in {elapsed:?}: {versions:?}",
            versions.len()
        );
    }

    #[tokio::test]
    async fn a_slow_publish_is_followed_by_a_longer_wait() {
        let spacing = Duration::from_millis(10);
        let took = Duration::from_millis(30);
        let (tx, rx) = watch::channel(state(1));
        let calls: Calls = Arc::default();
        let seen = Arc::clone(&calls);
        let task = tokio::spawn(publish_spaced(rx, spacing, move |s| {
            seen.lock().unwrap().push((s.version, Instant::now()));
            async move {
                tokio::time::sleep(took).await;
                Ok(())
            }
        }));
        until_published(&calls, 1).await;
        for version in 2..=3 {
            tx.send(state(version)).unwrap();
            until_published(&calls, version).await;
        }
        drop(tx);
        task.await.unwrap();
        let calls = calls.lock().unwrap();
        for pair in calls.windows(2) {
            // Each publish took at least `took`, so the next started at least
            // `took` + IDLE_PER_BUSY × `took` after it.
            assert!(pair[1].1 - pair[0].1 >= took * (IDLE_PER_BUSY + 1));
        }
    }

    #[tokio::test]
    async fn a_change_after_a_quiet_spell_is_published() {
        let spacing = Duration::from_millis(100);
        let (tx, rx) = watch::channel(state(1));
        let (calls, task) = recording(rx, spacing);
        until_published(&calls, 1).await;
        tokio::time::sleep(spacing * 2).await;
        let sent = Instant::now();
        tx.send(state(2)).unwrap();
        until_published(&calls, 2).await;
        drop(tx);
        task.await.unwrap();
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        // Published for the change, not before it (how soon after is a wall-clock
        // matter this test does not assert: the loop only waits while the spacing since
        // the last publish has not passed, and here it had).
        assert!(calls[1].1 >= sent, "{:?}", calls[1].1 - calls[0].1);
        assert!(calls[1].1 - calls[0].1 >= spacing * 2);
    }
}
