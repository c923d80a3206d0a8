//! Token-bucket arithmetic, shared by the local fallback and (in Lua) the Redis script:
//! a bucket holds at most `burst` tokens, refills at `rate` per second (fractional rates
//! allowed), starts full, and a request takes one token.

use std::time::Instant;

pub use apigw_gateway::limits::{Limit, NamedLimit};

/// A bucket's state.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn full(limit: Limit, now: Instant) -> Self {
        Bucket {
            tokens: limit.burst,
            at: now,
        }
    }

    /// The tokens available at `now` (refilled, capped at the burst).
    pub fn available(&self, limit: Limit, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * limit.rate).min(limit.burst)
    }

    /// Sets the bucket to `tokens` at `now` (after a check of all buckets passed).
    pub fn set(&mut self, tokens: f64, now: Instant) {
        self.tokens = tokens;
        self.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn take(b: &mut Bucket, limit: Limit, now: Instant) -> bool {
        let t = b.available(limit, now);
        if t >= 1.0 {
            b.set(t - 1.0, now);
            true
        } else {
            false
        }
    }

    #[test]
    fn burst_then_rate() {
        let limit = Limit {
            rate: 10.0,
            burst: 20.0,
        };
        let t0 = Instant::now();
        let mut b = Bucket::full(limit, t0);
        let first = (0..100).filter(|_| take(&mut b, limit, t0)).count();
        assert_eq!(first, 20);
        let t1 = t0 + Duration::from_millis(1000);
        let later = (0..100).filter(|_| take(&mut b, limit, t1)).count();
        assert_eq!(later, 10);
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(b.available(limit, t2), 20.0, "capped at burst");
    }

    #[test]
    fn fractional_rate() {
        let limit = Limit {
            rate: 0.5,
            burst: 1.0,
        };
        let t0 = Instant::now();
        let mut b = Bucket::full(limit, t0);
        assert!(take(&mut b, limit, t0));
        assert!(!take(&mut b, limit, t0 + Duration::from_millis(1900)));
        assert!(take(&mut b, limit, t0 + Duration::from_millis(2000)));
    }

    #[test]
    fn shares() {
        let l = Limit {
            rate: 10.0,
            burst: 20.0,
        };
        assert_eq!(l.share(3).rate, 10.0 / 3.0);
        assert_eq!(l.share(0).burst, 20.0);
        assert_eq!(
            Limit {
                rate: 1.0,
                burst: 2.0
            }
            .share(3)
            .burst,
            1.0
        );
        assert_eq!(
            Limit {
                rate: 1.0,
                burst: 0.0
            }
            .share(3)
            .burst,
            0.0
        );
    }
}
