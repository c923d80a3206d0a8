//! Node-local state of one shared token bucket: a *lease* of tokens taken from the Redis
//! bucket in one script call and spent locally, and an *over limit until T* memo.
//!
//! - **Lease.** When a request finds the local lease empty it asks the script for
//!   [`lease_size`] tokens (`n = clamp(⌊rate × LEASE_WINDOW⌋, 1, ⌊burst⌋)`, i.e. 20 ms of
//!   refill), keeps one and stores the other `g − 1` it was granted here; following requests
//!   spend them with one compare-and-swap and no Redis call. Only one lease per bucket is in
//!   flight per node; concurrent requests wait for it (bounded by the call timeout) instead
//!   of asking Redis themselves. Tokens are only ever spent after Redis granted them, so the
//!   cluster never admits more tokens than the shared bucket handed out.
//! - **Expiry.** A lease is void [`LEASE_TTL`] after it was granted, so tokens cannot be
//!   hoarded while idle and spent in a burst later. Tokens handed back by a request that a
//!   later check refused return to the lease they came from, or are dropped if it expired.
//! - **Memo.** When Redis refuses because the bucket is empty, it says when the tokens asked
//!   for are due; until then (at most [`MEMO_MAX`], so a raised limit applies within a
//!   second) this node refuses without a Redis call. The bucket cannot refill faster than
//!   that, so the memo refuses nothing Redis would have admitted for that many tokens.
//!
//! Times are milliseconds on the limiter's monotonic clock. The lease packs its expiry and
//! token count in one `AtomicU64` (`expiry << 24 | tokens`), so take, give back and install
//! are lock-free and a token is never counted into a lease other than its own.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::bucket::Limit;

/// A lease is sized to this much refill of the bucket.
pub const LEASE_WINDOW: Duration = Duration::from_millis(20);
/// A lease's tokens are discarded this long after it was granted.
pub const LEASE_TTL: Duration = Duration::from_millis(250);
/// The longest a node refuses on its own after Redis said a bucket is empty.
pub const MEMO_MAX: Duration = Duration::from_secs(1);

const TOKEN_BITS: u32 = 24;
const TOKEN_MASK: u64 = (1 << TOKEN_BITS) - 1;
/// The largest lease (it must fit the packed token count).
pub const MAX_LEASE: u64 = 1 << 20;

/// Tokens to ask for when the local lease is empty: 20 ms of refill, at least one, at most
/// the burst (and [`MAX_LEASE`]). One means no leasing: each request asks Redis itself.
pub fn lease_size(limit: Limit) -> u64 {
    let by_rate = (limit.rate * LEASE_WINDOW.as_secs_f64()).floor();
    let by_burst = limit.burst.floor();
    // Written so that NaN anywhere means no leasing.
    if by_rate >= 1.0 && by_burst >= 1.0 {
        by_rate.min(by_burst).min(MAX_LEASE as f64) as u64
    } else {
        1
    }
}

/// Which lease a locally spent token came from (its expiry), for giving it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// One bucket's node-local state. Shared by `Arc` between requests; no lock.
#[derive(Debug, Default)]
pub struct LocalBucket {
    /// `expiry_ms << 24 | tokens`.
    lease: AtomicU64,
    /// Refuse locally until this time (ms).
    blocked_until: AtomicU64,
    /// A lease call for this bucket is in flight.
    refilling: AtomicBool,
    /// Woken when that call ends.
    refilled: Notify,
}

fn pack(expiry: u64, tokens: u64) -> u64 {
    (expiry << TOKEN_BITS) | tokens.min(TOKEN_MASK)
}

fn unpack(v: u64) -> (u64, u64) {
    (v >> TOKEN_BITS, v & TOKEN_MASK)
}

impl LocalBucket {
    /// Whether Redis said, less than the memo's time ago, that this bucket is empty.
    pub fn blocked(&self, now: u64) -> bool {
        now < self.blocked_until.load(Ordering::Acquire)
    }

    /// Remembers that the bucket is empty for `wait` (capped at [`MEMO_MAX`]).
    pub fn block_for(&self, now: u64, wait: Duration) {
        let wait = wait.min(MEMO_MAX).as_millis() as u64;
        self.blocked_until.fetch_max(now + wait, Ordering::AcqRel);
    }

    /// Spends one token of the current lease, if it has one and has not expired.
    pub fn try_take(&self, now: u64) -> Option<Ticket> {
        let mut cur = self.lease.load(Ordering::Acquire);
        loop {
            let (expiry, tokens) = unpack(cur);
            if tokens == 0 || now >= expiry {
                return None;
            }
            match self.lease.compare_exchange_weak(
                cur,
                pack(expiry, tokens - 1),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(Ticket(expiry)),
                Err(seen) => cur = seen,
            }
        }
    }

    /// Returns a token taken by a request that was then refused, to the lease it came
    /// from; dropped if that lease has expired or been replaced.
    pub fn give_back(&self, ticket: Ticket, now: u64) {
        let mut cur = self.lease.load(Ordering::Acquire);
        loop {
            let (expiry, tokens) = unpack(cur);
            if expiry != ticket.0 || now >= expiry {
                return;
            }
            match self.lease.compare_exchange_weak(
                cur,
                pack(expiry, tokens + 1),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(seen) => cur = seen,
            }
        }
    }

    /// Stores `tokens` freshly granted by Redis (beyond the one the requesting call spent)
    /// as a new lease expiring [`LEASE_TTL`] from `now`; tokens still valid in the old
    /// lease (given back meanwhile) join it.
    pub fn install(&self, tokens: u64, now: u64) {
        let expiry = now + LEASE_TTL.as_millis() as u64;
        let mut cur = self.lease.load(Ordering::Acquire);
        loop {
            let (old_expiry, old) = unpack(cur);
            let kept = if now < old_expiry { old } else { 0 };
            match self.lease.compare_exchange_weak(
                cur,
                pack(expiry, tokens + kept),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(seen) => cur = seen,
            }
        }
    }

    /// Tokens in the lease that are still spendable at `now`.
    pub fn available(&self, now: u64) -> u64 {
        let (expiry, tokens) = unpack(self.lease.load(Ordering::Acquire));
        if now < expiry {
            tokens
        } else {
            0
        }
    }

    /// Claims the right to lease for this bucket; `None` when another request already is.
    /// The claim ends (and waiters wake) when the guard drops, also if the call is cancelled.
    pub fn begin_refill(self: &Arc<Self>) -> Option<RefillGuard> {
        self.refilling
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            .then(|| RefillGuard(Arc::clone(self)))
    }

    /// Waits (at most `limit`) for the lease call in flight, if any, to end.
    pub async fn wait_refill(&self, limit: Duration) {
        let notified = self.refilled.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.refilling.load(Ordering::Acquire) {
            let _ = tokio::time::timeout(limit, notified).await;
        }
    }

    /// Whether the state carries nothing worth keeping (no valid lease, no memo, no call
    /// in flight): the registry may forget it.
    pub fn idle(&self, now: u64) -> bool {
        self.available(now) == 0 && !self.blocked(now) && !self.refilling.load(Ordering::Acquire)
    }
}

/// The right to lease for one bucket, held while the lease call is in flight.
#[derive(Debug)]
pub struct RefillGuard(Arc<LocalBucket>);

impl Drop for RefillGuard {
    fn drop(&mut self) {
        self.0.refilling.store(false, Ordering::Release);
        self.0.refilled.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(rate: f64, burst: f64) -> Limit {
        Limit { rate, burst }
    }

    #[test]
    fn lease_is_twenty_ms_of_refill_at_least_one_at_most_the_burst() {
        assert_eq!(lease_size(limit(10_000.0, 5_000.0)), 200);
        assert_eq!(lease_size(limit(1_000.0, 2_000.0)), 20);
        assert_eq!(lease_size(limit(10.0, 20.0)), 1, "low rates are not leased");
        assert_eq!(lease_size(limit(0.5, 1.0)), 1);
        assert_eq!(lease_size(limit(10_000.0, 50.0)), 50, "capped by the burst");
        assert_eq!(lease_size(limit(10_000.0, 0.0)), 1);
        assert_eq!(lease_size(limit(0.0, 100.0)), 1);
        assert_eq!(lease_size(limit(1e12, 1e12)), MAX_LEASE);
        assert_eq!(lease_size(limit(f64::NAN, 10.0)), 1);
    }

    #[test]
    fn spends_exactly_the_leased_tokens() {
        let b = LocalBucket::default();
        assert_eq!(b.try_take(0), None, "no lease yet");
        b.install(3, 100);
        let taken: Vec<_> = (0..5).filter_map(|_| b.try_take(101)).collect();
        assert_eq!(taken.len(), 3);
        assert_eq!(b.available(101), 0);
    }

    #[test]
    fn leases_expire_after_the_ttl() {
        let b = LocalBucket::default();
        b.install(5, 1_000);
        let ttl = LEASE_TTL.as_millis() as u64;
        assert!(b.try_take(1_000 + ttl - 1).is_some());
        assert_eq!(
            b.try_take(1_000 + ttl),
            None,
            "expired tokens are discarded"
        );
        assert_eq!(b.available(1_000 + ttl), 0);
        assert!(b.idle(1_000 + ttl));
        // A new lease does not revive them.
        b.install(1, 2_000);
        assert_eq!(b.available(2_000), 1);
    }

    #[test]
    fn give_back_returns_to_the_same_lease_only() {
        let b = LocalBucket::default();
        b.install(2, 0);
        let t = b.try_take(1).unwrap();
        assert_eq!(b.available(1), 1);
        b.give_back(t, 2);
        assert_eq!(b.available(2), 2, "returned to its lease");
        let t = b.try_take(3).unwrap();
        let ttl = LEASE_TTL.as_millis() as u64;
        b.give_back(t, ttl + 1);
        assert_eq!(b.available(ttl + 1), 0, "its lease expired");
        assert_eq!(b.available(3), 1, "dropped, not returned");
        b.install(2, 10);
        let old = b.try_take(11).unwrap();
        b.install(4, 20);
        b.give_back(old, 21);
        // 1 left + 2 - 1 spent + 4 new: the given-back token is dropped, its lease replaced.
        assert_eq!(b.available(21), 6, "dropped: its lease was replaced");
    }

    #[test]
    fn install_keeps_valid_tokens_of_the_old_lease() {
        let b = LocalBucket::default();
        b.install(2, 0);
        b.install(3, 10);
        assert_eq!(b.available(10), 5);
        let ttl = LEASE_TTL.as_millis() as u64;
        b.install(3, ttl + 20);
        assert_eq!(
            b.available(ttl + 20),
            3,
            "the expired remainder is not carried over"
        );
    }

    #[test]
    fn over_limit_memo_until_due_capped() {
        let b = LocalBucket::default();
        assert!(!b.blocked(0));
        b.block_for(100, Duration::from_millis(50));
        assert!(b.blocked(100));
        assert!(b.blocked(149));
        assert!(!b.blocked(150), "due: ask Redis again");
        assert!(!b.idle(120), "a memo is worth keeping");
        b.block_for(200, Duration::from_secs(3600));
        let cap = MEMO_MAX.as_millis() as u64;
        assert!(b.blocked(200 + cap - 1));
        assert!(
            !b.blocked(200 + cap),
            "capped so a raised limit applies soon"
        );
        // A shorter memo does not shorten a longer one.
        b.block_for(300, Duration::from_millis(1));
        assert!(b.blocked(400));
    }

    #[tokio::test]
    async fn one_refill_at_a_time_and_waiters_wake() {
        let b = Arc::new(LocalBucket::default());
        let guard = b.begin_refill().expect("first claim");
        assert!(b.begin_refill().is_none(), "second claim refused");
        assert!(!b.idle(0));
        let waiter = {
            let b = Arc::clone(&b);
            tokio::spawn(async move {
                b.wait_refill(Duration::from_secs(30)).await;
                b.try_take(1)
            })
        };
        tokio::task::yield_now().await;
        b.install(4, 0);
        drop(guard);
        let got = waiter.await.unwrap();
        assert!(got.is_some(), "the waiter spends from the new lease");
        assert!(b.begin_refill().is_some(), "claim released on drop");
    }
}
