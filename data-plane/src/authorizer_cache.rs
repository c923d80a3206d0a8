//! The cluster-wide store behind each node's authorizer decision cache: Redis keys
//! `{P}az:{sha256}` holding `{expires_ms}:{function answer}`, expiring with the decision, so
//! a decision one node obtained serves every node until its TTL ends. Failures and slow
//! answers count as misses (the authorizer is then called): Redis never blocks
//! authorization.

use apigw_gateway::phases::authorize::cache::SharedDecisions;
use apigw_shared_redis::SharedRedis;
use bytes::Bytes;
use futures::future::BoxFuture;

use crate::limits::CALL_TIMEOUT;

/// Decisions in Redis.
pub struct RedisDecisions {
    redis: SharedRedis,
    prefix: String,
}

impl RedisDecisions {
    /// Decisions under `{prefix}az:`.
    pub fn new(redis: SharedRedis, prefix: &str) -> Self {
        RedisDecisions {
            redis,
            prefix: format!("{prefix}az:"),
        }
    }
}

impl SharedDecisions for RedisDecisions {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<(Bytes, u64)>> {
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let mut cmd = redis::cmd("GET");
            cmd.arg(format!("{}{key}", self.prefix));
            let read = cmd.query_async::<Option<Vec<u8>>>(&mut redis);
            let stored = match tokio::time::timeout(CALL_TIMEOUT, read).await {
                Ok(Ok(stored)) => stored?,
                Ok(Err(error)) => {
                    tracing::debug!(%error, "authorizer cache read failed");
                    return None;
                }
                Err(_) => return None,
            };
            let split = stored.iter().position(|b| *b == b':')?;
            let expires: u64 = std::str::from_utf8(&stored[..split]).ok()?.parse().ok()?;
            Some((Bytes::from(stored).slice(split + 1..), expires))
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: Bytes, expires_ms: u64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let ttl = expires_ms.saturating_sub(apigw_gateway::phases::authorize::cache::now_ms());
            if ttl == 0 {
                return;
            }
            let mut stored = Vec::with_capacity(value.len() + 21);
            stored.extend_from_slice(expires_ms.to_string().as_bytes());
            stored.push(b':');
            stored.extend_from_slice(&value);
            let mut redis = self.redis.clone();
            let mut cmd = redis::cmd("SET");
            cmd.arg(format!("{}{key}", self.prefix))
                .arg(stored)
                .arg("PX")
                .arg(ttl);
            let write = cmd.query_async::<()>(&mut redis);
            match tokio::time::timeout(CALL_TIMEOUT, write).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::debug!(%error, "authorizer cache write failed"),
                Err(_) => tracing::debug!("authorizer cache write timed out"),
            }
        })
    }
}
