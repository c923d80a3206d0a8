//! Authorizer decisions reused for their TTL: a node-local front (a bounded concurrent
//! map, read without awaiting) over an optional cluster-wide store (the node's is Redis),
//! so N nodes call an authorizer function once per identity per TTL, not N times.
//!
//! Keys are SHA-256 digests of (API, stage, the stage's flush epoch, authorizer, identity),
//! so no identity is kept in clear and a flush (a new epoch) makes every old entry
//! unreachable at once, on every node.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

/// How many decisions a node keeps (least recently used go first).
const LOCAL_CAPACITY: usize = 100_000;

/// A cache key.
pub type Key = [u8; 32];

/// The cluster-wide store behind the local front: raw authorizer answers with their
/// expiry (Unix ms), by hex key.
pub trait SharedDecisions: Send + Sync + 'static {
    /// The stored answer and its expiry, if any.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<(Bytes, u64)>>;
    /// Stores an answer until `expires_ms` (Unix ms); failures are the store's to log.
    fn put<'a>(&'a self, key: &'a str, value: Bytes, expires_ms: u64) -> BoxFuture<'a, ()>;
}

/// One cached entry: a decision usable until `expires`.
struct Entry<T> {
    expires: Instant,
    value: Arc<T>,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Entry {
            expires: self.expires,
            value: Arc::clone(&self.value),
        }
    }
}

/// The node-local front.
pub struct LocalDecisions<T> {
    map: quick_cache::sync::Cache<Key, Entry<T>>,
}

impl<T: Send + Sync + 'static> Default for LocalDecisions<T> {
    fn default() -> Self {
        LocalDecisions {
            map: quick_cache::sync::Cache::new(LOCAL_CAPACITY),
        }
    }
}

impl<T: Send + Sync + 'static> LocalDecisions<T> {
    /// The decision under `key`, if still fresh.
    pub fn get(&self, key: &Key) -> Option<Arc<T>> {
        let entry = self.map.get(key)?;
        if entry.expires > Instant::now() {
            Some(entry.value)
        } else {
            self.map.remove(key);
            None
        }
    }

    /// Keeps `value` for `ttl`.
    pub fn put(&self, key: Key, value: Arc<T>, ttl: Duration) {
        self.map.insert(
            key,
            Entry {
                expires: Instant::now() + ttl,
                value,
            },
        );
    }
}

/// The key of an identity: `parts` are hashed with separators that cannot occur inside
/// them ambiguously (each part is length-prefixed).
pub fn key<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Key {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The key as the shared store names it.
pub fn hex(key: &Key) -> String {
    hex::encode(key)
}

/// Now in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unambiguous() {
        assert_ne!(
            key([b"ab".as_slice(), b"c".as_slice()]),
            key([b"a".as_slice(), b"bc".as_slice()])
        );
        assert_eq!(key([b"x".as_slice()]), key([b"x".as_slice()]));
    }

    #[test]
    fn entries_expire() {
        let local = LocalDecisions::<u32>::default();
        let k = key([b"t".as_slice()]);
        local.put(k, Arc::new(7), Duration::from_secs(60));
        assert_eq!(local.get(&k).as_deref(), Some(&7));
        local.put(k, Arc::new(8), Duration::ZERO);
        assert_eq!(local.get(&k), None);
    }
}
