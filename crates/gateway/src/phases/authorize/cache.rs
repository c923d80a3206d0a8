//! Authorizer decisions reused for their TTL: a node-local front (a bounded concurrent
//! map, read without awaiting) over an optional cluster-wide store (the node's is Redis),
//! so N nodes call an authorizer function once per identity per TTL, not N times.
//!
//! A key is (API, stage, the stage's flush epoch, authorizer, identity), length-prefixed
//! into one byte string: the local map compares it whole (its hash is only a fast, keyed
//! index, so no two identities can share a decision), and the shared store names it by
//! its SHA-256 digest (computed on a local miss only), so Redis never holds an identity in
//! clear. A flush (a new epoch) makes every old entry unreachable at once, on every node.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

/// How many decisions a node keeps (least recently used go first).
const LOCAL_CAPACITY: usize = 100_000;

/// A cache key: the length-prefixed parts of an identity, compared whole.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(Vec<u8>);

impl Key {
    /// The key of `parts` (each length-prefixed, so no two lists of parts share a key).
    pub fn new<'a, I>(parts: I) -> Key
    where
        I: IntoIterator<Item = &'a [u8]>,
        I::IntoIter: Clone,
    {
        let parts = parts.into_iter();
        let len = parts.clone().map(|p| p.len() + 8).sum();
        let mut bytes = Vec::with_capacity(len);
        for part in parts {
            bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
            bytes.extend_from_slice(part);
        }
        Key(bytes)
    }

    /// How the shared store names it: the hex SHA-256 of the key.
    pub fn shared_name(&self) -> String {
        hex::encode(Sha256::digest(&self.0))
    }
}

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
    map: quick_cache::sync::Cache<Box<[u8]>, Entry<T>>,
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
        let entry = self.map.get(key.0.as_slice())?;
        if entry.expires > Instant::now() {
            Some(entry.value)
        } else {
            self.map.remove(key.0.as_slice());
            None
        }
    }

    /// Keeps `value` for `ttl`.
    pub fn put(&self, key: Key, value: Arc<T>, ttl: Duration) {
        self.map.insert(
            key.0.into_boxed_slice(),
            Entry {
                expires: Instant::now() + ttl,
                value,
            },
        );
    }
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
        let key = |parts: &[&[u8]]| Key::new(parts.iter().copied());
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
        assert_eq!(key(&[b"x"]), key(&[b"x"]));
        assert_eq!(key(&[b"x"]).shared_name().len(), 64);
    }

    #[test]
    fn entries_expire() {
        let local = LocalDecisions::<u32>::default();
        let k = Key::new([b"t".as_slice()]);
        local.put(k.clone(), Arc::new(7), Duration::from_secs(60));
        assert_eq!(local.get(&k).as_deref(), Some(&7));
        local.put(k.clone(), Arc::new(8), Duration::ZERO);
        assert_eq!(local.get(&k), None);
    }
}
