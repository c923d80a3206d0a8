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
//! state every few seconds.

use std::sync::Arc;
use std::time::Duration;

use apigw_proto::config as pb;
use apigw_proto::state_frame::{frame, FLAG_KEYS_LEFT_OUT};
use apigw_shared_redis::SharedRedis;
use prost::Message;
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

/// The framed bytes published for `state`.
pub fn encode(state: &DeployedState) -> Vec<u8> {
    let mut update = state.full_update(String::new());
    if let Some(domains) = &mut update.domains {
        strip_private_keys(domains);
    }
    frame(&update.encode_to_vec(), FLAG_KEYS_LEFT_OUT)
}

fn strip_private_keys(domains: &mut pb::DomainConfig) {
    for d in &mut domains.domains {
        d.private_key_pem.clear();
    }
    for c in &mut domains.client_certificates {
        c.private_key_pem.clear();
    }
}

/// Publishes every state `states` sees, the current one first, until the channel closes.
pub async fn run(
    redis: SharedRedis,
    prefix: String,
    mut states: watch::Receiver<Arc<DeployedState>>,
) {
    let key = format!("{prefix}{}", apigw_proto::PUBLISHED_STATE_KEY);
    let script = redis::Script::new(PUBLISH);
    let mut published = 0;
    loop {
        let state = states.borrow_and_update().clone();
        if state.version > published {
            let bytes = encode(&state);
            let mut conn = redis.clone();
            let outcome: redis::RedisResult<i64> = script
                .key(&key)
                .arg(state.version)
                .arg(bytes.as_slice())
                .invoke_async(&mut conn)
                .await;
            match outcome {
                Ok(_) => {
                    tracing::debug!(
                        version = state.version,
                        bytes = bytes.len(),
                        "deployed state published to Redis"
                    );
                    published = state.version;
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
