//! Idle keep-alive connections per backend (scheme + authority), most recently used first.
//!
//! Nobody polls an idle connection, so a backend that closed one is only noticed when the
//! connection is looked at: at checkout (a non-blocking read that sees the EOF the reactor
//! recorded, usually without a syscall) and by the periodic reaper.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::uri::Authority;

use super::conn::BackendConn;

/// Which connections can serve a request: same scheme, same authority. Compared and
/// hashed as written (not case-folded byte by byte, as `Authority` itself is): compiled
/// integrations always spell their backend the same way, and a key is looked up twice
/// per request.
#[derive(Debug, Clone)]
pub(super) struct PoolKey {
    pub(super) https: bool,
    pub(super) authority: Authority,
    /// The client certificate presented on these connections (HTTPS only).
    pub(super) identity: Option<std::sync::Arc<str>>,
    /// Connections made without verifying the backend (`insecureSkipVerification`).
    pub(super) insecure: bool,
}

impl PartialEq for PoolKey {
    fn eq(&self, other: &Self) -> bool {
        self.https == other.https
            && self.authority.as_str() == other.authority.as_str()
            && self.identity == other.identity
            && self.insecure == other.insecure
    }
}

impl Eq for PoolKey {}

impl Hash for PoolKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.https.hash(state);
        self.authority.as_str().hash(state);
        self.identity.hash(state);
        self.insecure.hash(state);
    }
}

struct Idle {
    conn: Box<BackendConn>,
    since: Instant,
}

/// The idle connections of one client.
pub(super) struct Pool {
    idle: Mutex<HashMap<PoolKey, VecDeque<Idle>, foldhash::fast::RandomState>>,
    idle_timeout: Duration,
    max_per_backend: usize,
}

impl Pool {
    pub(super) fn new(idle_timeout: Duration, max_per_backend: usize) -> Self {
        Pool {
            idle: Mutex::new(HashMap::default()),
            idle_timeout,
            max_per_backend,
        }
    }

    /// The most recently returned live connection for `key`, if any. Expired and closed
    /// ones met on the way are dropped (closed).
    pub(super) fn checkout(&self, key: &PoolKey) -> Option<Box<BackendConn>> {
        let now = Instant::now();
        loop {
            let mut idle = {
                let mut map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                map.get_mut(key)?.pop_back()?
            };
            // Dropped outside the lock: closing a socket is a syscall.
            if now.duration_since(idle.since) < self.idle_timeout && idle.conn.is_usable() {
                return Some(idle.conn);
            }
        }
    }

    /// Returns a connection whose exchange is complete; it is kept if there is room,
    /// closed otherwise.
    pub(super) fn put(&self, key: PoolKey, conn: Box<BackendConn>) {
        let idle = Idle {
            conn,
            since: Instant::now(),
        };
        let mut map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let queue = map.entry(key).or_default();
        if queue.len() < self.max_per_backend {
            queue.push_back(idle);
        }
    }

    /// Closes every idle connection that expired or that its backend closed.
    pub(super) fn reap(&self) {
        let now = Instant::now();
        let mut closed = Vec::new();
        {
            let mut map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            for queue in map.values_mut() {
                let mut kept = VecDeque::with_capacity(queue.len());
                for mut idle in queue.drain(..) {
                    if now.duration_since(idle.since) < self.idle_timeout && idle.conn.is_usable() {
                        kept.push_back(idle);
                    } else {
                        closed.push(idle);
                    }
                }
                *queue = kept;
            }
            map.retain(|_, queue| !queue.is_empty());
        }
        drop(closed);
    }

    #[cfg(test)]
    pub(super) fn idle_count(&self) -> usize {
        let map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        map.values().map(VecDeque::len).sum()
    }
}
