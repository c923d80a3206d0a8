//! Mergeable latency sketches for the per-minute CloudWatch-style series.
//!
//! Values (milliseconds) go into logarithmic bins as DDSketch maps them: bin `i` holds the
//! values in `(γ^(i-1), γ^i]` with `γ = (1 + α) / (1 − α)`, and is read back as
//! `2γ^i / (γ + 1)`, which is within `α` (1 %) of every value in it. Two sketches merge by
//! adding their bins, so a percentile of a whole cluster's minute (or hour) is as accurate as
//! one node's. Count, sum, minimum and maximum are kept exactly beside the bins.
//!
//! Two forms:
//! - [`AtomicSketch`], on a node: fixed bins of atomics, recorded from any request task
//!   without a lock or an allocation, drained into a [`Sketch`] when the node ships.
//! - [`Sketch`], sparse and mergeable: the wire form ([`apigw_proto::metrics::Sketch`]), the
//!   stored form in the control plane, and where quantiles are computed.
//!
//! No crate was used for this: `sketches-ddsketch` and `hdrhistogram` record through
//! `&mut self` (a lock per request on a shared series), and neither takes its bins from the
//! wire; the mapping itself is a few lines.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::Duration;

use apigw_proto::metrics as pb;

/// Relative accuracy of every quantile: 1 %.
pub const RELATIVE_ACCURACY: f64 = 0.01;
/// `γ = (1 + α) / (1 − α)`.
const GAMMA: f64 = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY);
/// Values below this (ms) are counted in `zero_count`, not binned.
pub const MIN_VALUE_MS: f64 = 0.01;
/// Values above this (ms, one hour) go into the top bin; `max` stays exact.
pub const MAX_VALUE_MS: f64 = 3_600_000.0;

fn ln_gamma() -> f64 {
    GAMMA.ln()
}

/// The bin of a value ≥ [`MIN_VALUE_MS`].
fn bin_of(ms: f64) -> i32 {
    (ms.ln() / ln_gamma()).ceil() as i32
}

/// The value a bin stands for (within 1 % of every value in it).
fn value_of(bin: i32) -> f64 {
    2.0 * GAMMA.powi(bin) / (GAMMA + 1.0)
}

/// Lowest and highest bin an [`AtomicSketch`] holds.
fn bin_range() -> (i32, i32) {
    (bin_of(MIN_VALUE_MS), bin_of(MAX_VALUE_MS))
}

/// A value that cannot be a sketch: wrong lengths, negative or non-finite numbers.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SketchError {
    /// `bin_index` and `bin_count` differ in length.
    #[error("sketch has {0} bin indexes but {1} bin counts")]
    BinLengths(usize, usize),
    /// A summary number is negative or not finite.
    #[error("sketch {0} is not a finite non-negative number")]
    BadNumber(&'static str),
}

/// A sparse, mergeable sketch of millisecond values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sketch {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    zero_count: u64,
    bins: BTreeMap<i32, u64>,
}

impl Sketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value (milliseconds; negative values count as 0).
    pub fn record(&mut self, ms: f64) {
        let ms = if ms.is_finite() { ms.max(0.0) } else { 0.0 };
        self.note_summary(1, ms, ms, ms);
        if ms < MIN_VALUE_MS {
            self.zero_count += 1;
        } else {
            *self.bins.entry(bin_of(ms.min(MAX_VALUE_MS))).or_default() += 1;
        }
    }

    fn note_summary(&mut self, count: u64, sum: f64, min: f64, max: f64) {
        if count == 0 {
            return;
        }
        if self.count == 0 {
            self.min = min;
            self.max = max;
        } else {
            self.min = self.min.min(min);
            self.max = self.max.max(max);
        }
        self.count += count;
        self.sum += sum;
    }

    /// Adds every value of `other` (the sketches of two nodes, or of two minutes).
    pub fn merge(&mut self, other: &Sketch) {
        self.note_summary(other.count, other.sum, other.min, other.max);
        self.zero_count += other.zero_count;
        for (&bin, &n) in &other.bins {
            *self.bins.entry(bin).or_default() += n;
        }
    }

    /// How many values it holds.
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Their sum (ms).
    pub fn sum(&self) -> f64 {
        self.sum
    }
    /// Smallest value (ms); `None` when empty.
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }
    /// Largest value (ms); `None` when empty.
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }
    /// Mean (ms); `None` when empty.
    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
    /// Whether it holds no value.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `q`-quantile (0 ≤ q ≤ 1), within 1 % of the true value; `None` when empty.
    /// Rank `q·(n−1)` rounded down, as DDSketch reads it, clamped to the exact min and max.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let binned: u64 = self.zero_count + self.bins.values().sum::<u64>();
        if self.count == 0 || binned == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = (q * (binned - 1) as f64).floor() as u64;
        let mut seen = self.zero_count;
        let estimate = if rank < seen {
            0.0
        } else {
            let mut out = self.max;
            for (&bin, &n) in &self.bins {
                seen += n;
                if rank < seen {
                    out = value_of(bin);
                    break;
                }
            }
            out
        };
        Some(estimate.clamp(self.min, self.max))
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::Sketch {
        pb::Sketch {
            count: self.count,
            sum: self.sum,
            min: if self.count > 0 { self.min } else { 0.0 },
            max: if self.count > 0 { self.max } else { 0.0 },
            zero_count: self.zero_count,
            bin_index: self.bins.keys().copied().collect(),
            bin_count: self.bins.values().copied().collect(),
        }
    }

    /// Reads the wire (or stored) form, refusing what cannot be a sketch.
    pub fn from_proto(p: &pb::Sketch) -> Result<Self, SketchError> {
        if p.bin_index.len() != p.bin_count.len() {
            return Err(SketchError::BinLengths(
                p.bin_index.len(),
                p.bin_count.len(),
            ));
        }
        for (name, v) in [("sum", p.sum), ("min", p.min), ("max", p.max)] {
            if !v.is_finite() || v < 0.0 {
                return Err(SketchError::BadNumber(name));
            }
        }
        let mut bins = BTreeMap::new();
        for (&i, &n) in p.bin_index.iter().zip(&p.bin_count) {
            if n > 0 {
                *bins.entry(i).or_default() += n;
            }
        }
        Ok(Self {
            count: p.count,
            sum: p.sum,
            min: p.min,
            max: p.max,
            zero_count: p.zero_count,
            bins,
        })
    }
}

/// Bins per chunk of an [`AtomicSketch`] (a factor of about 3.6 in value).
const CHUNK: usize = 64;

/// A chunk of [`CHUNK`] consecutive bins.
type Chunk = [AtomicU32; CHUNK];

/// A sketch a node records into from any task: bins of atomics, no lock.
/// [`AtomicSketch::drain`] takes everything recorded so far and resets it.
///
/// The bins (about 4 KiB for the whole range) come in chunks of [`CHUNK`], each made by
/// the first value that falls in it and kept from then on: a sketch costs what its values'
/// spread needs (a node holds four per series, one series per stage: issue 22). Recording
/// allocates only the first time a chunk is reached.
///
/// A drain that runs while a request records may ship that request's count in one drain
/// and its bin in the next: totals over drains stay exact.
pub struct AtomicSketch {
    count: AtomicU64,
    /// Sum in nanoseconds.
    sum_ns: AtomicU64,
    min_ns: AtomicU64,
    max_ns: AtomicU64,
    zero_count: AtomicU64,
    /// Bin `lo + k` at index `k % CHUNK` of chunk `k / CHUNK`.
    chunks: Box<[OnceLock<Box<Chunk>>]>,
    /// How many bins there are (`lo..=hi`).
    len: usize,
    lo: i32,
}

impl std::fmt::Debug for AtomicSketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicSketch")
            .field("count", &self.count.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for AtomicSketch {
    fn default() -> Self {
        Self::new()
    }
}

impl AtomicSketch {
    /// An empty sketch (no bins yet).
    pub fn new() -> Self {
        let (lo, hi) = bin_range();
        let len = usize::try_from(hi - lo + 1).unwrap_or(1).max(1);
        Self {
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            min_ns: AtomicU64::new(u64::MAX),
            max_ns: AtomicU64::new(0),
            zero_count: AtomicU64::new(0),
            chunks: (0..len.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
            len,
            lo,
        }
    }

    /// Records one duration.
    pub fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.count.fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
        self.min_ns.fetch_min(ns, Relaxed);
        self.max_ns.fetch_max(ns, Relaxed);
        let ms = ns as f64 / 1e6;
        if ms < MIN_VALUE_MS {
            self.zero_count.fetch_add(1, Relaxed);
        } else {
            let k = ((bin_of(ms.min(MAX_VALUE_MS)) - self.lo).max(0) as usize).min(self.len - 1);
            if let Some(chunk) = self.chunks.get(k / CHUNK) {
                let chunk =
                    chunk.get_or_init(|| Box::new(std::array::from_fn(|_| AtomicU32::new(0))));
                chunk[k % CHUNK].fetch_add(1, Relaxed);
            }
        }
    }

    /// Takes what was recorded since the last drain; `None` when nothing was.
    pub fn drain(&self) -> Option<Sketch> {
        let count = self.count.swap(0, Relaxed);
        if count == 0 {
            return None;
        }
        let sum_ns = self.sum_ns.swap(0, Relaxed);
        let min_ns = self.min_ns.swap(u64::MAX, Relaxed);
        let max_ns = self.max_ns.swap(0, Relaxed);
        let mut bins = BTreeMap::new();
        for (c, chunk) in self.chunks.iter().enumerate() {
            let Some(chunk) = chunk.get() else { continue };
            for (i, bin) in chunk.iter().enumerate() {
                let n = bin.swap(0, Relaxed);
                if n > 0 {
                    bins.insert(self.lo + (c * CHUNK + i) as i32, u64::from(n));
                }
            }
        }
        let min = if min_ns == u64::MAX {
            0.0
        } else {
            min_ns as f64 / 1e6
        };
        Some(Sketch {
            count,
            sum: sum_ns as f64 / 1e6,
            min,
            max: (max_ns as f64 / 1e6).max(min),
            zero_count: self.zero_count.swap(0, Relaxed),
            bins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_quantile(sorted: &[f64], q: f64) -> f64 {
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
    }

    fn values(n: usize, seed: u64) -> Vec<f64> {
        // A spread from 0.05 ms to ~30 s, deterministic.
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                0.05 * (600_000f64).powf(u)
            })
            .collect()
    }

    #[test]
    fn quantiles_are_within_one_percent() {
        let vs = values(20_000, 7);
        let mut s = Sketch::new();
        for &v in &vs {
            s.record(v);
        }
        let mut sorted = vs.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let got = s.quantile(q).unwrap();
            let want = exact_quantile(&sorted, q);
            assert!(
                (got - want).abs() <= RELATIVE_ACCURACY * want + 1e-9,
                "q={q}: {got} vs {want}"
            );
        }
        assert_eq!(s.count(), 20_000);
        assert_eq!(s.min(), Some(sorted[0]));
        assert_eq!(s.max(), Some(sorted[sorted.len() - 1]));
    }

    #[test]
    fn merged_sketches_answer_as_one() {
        let a = values(5_000, 1);
        let b = values(7_000, 2);
        let (mut sa, mut sb, mut all) = (Sketch::new(), Sketch::new(), Sketch::new());
        for &v in &a {
            sa.record(v);
            all.record(v);
        }
        for &v in &b {
            sb.record(v);
            all.record(v);
        }
        sa.merge(&sb);
        assert_eq!(sa.count(), all.count());
        for q in [0.5, 0.9, 0.99] {
            assert_eq!(sa.quantile(q), all.quantile(q));
        }
        assert!((sa.sum() - all.sum()).abs() < 1e-6);
    }

    #[test]
    fn atomic_sketch_drains_what_it_recorded() {
        let a = AtomicSketch::new();
        let mut plain = Sketch::new();
        for ms in [0.001, 0.5, 3.0, 3.0, 250.0, 29_000.0, 7_200_000.0] {
            a.record(Duration::from_secs_f64(ms / 1000.0));
            plain.record(ms);
        }
        let drained = a.drain().unwrap();
        assert_eq!(drained.count(), 7);
        assert_eq!(drained.zero_count, 1);
        for q in [0.0, 0.5, 0.9, 1.0] {
            let (x, y) = (drained.quantile(q).unwrap(), plain.quantile(q).unwrap());
            assert!((x - y).abs() <= 1e-6 * y.max(1.0), "q={q}: {x} vs {y}");
        }
        assert!(a.drain().is_none(), "a drain resets the sketch");
    }

    #[test]
    fn atomic_sketch_makes_only_the_chunks_its_values_reach() {
        let a = AtomicSketch::new();
        let made = |a: &AtomicSketch| a.chunks.iter().filter(|c| c.get().is_some()).count();
        assert_eq!(made(&a), 0);
        a.record(Duration::from_micros(3000));
        a.record(Duration::from_micros(3100));
        assert_eq!(made(&a), 1);
        a.record(Duration::from_secs(7200));
        assert_eq!(made(&a), 2, "past the range: the last bin");
        a.drain();
        assert_eq!(made(&a), 2, "a drain keeps the chunks");
    }

    #[test]
    fn wire_form_round_trips_and_rejects_nonsense() {
        let mut s = Sketch::new();
        for v in values(100, 3) {
            s.record(v);
        }
        assert_eq!(Sketch::from_proto(&s.to_proto()).unwrap(), s);
        let mut bad = s.to_proto();
        bad.bin_count.pop();
        assert!(matches!(
            Sketch::from_proto(&bad),
            Err(SketchError::BinLengths(_, _))
        ));
        let mut bad = s.to_proto();
        bad.sum = f64::NAN;
        assert_eq!(Sketch::from_proto(&bad), Err(SketchError::BadNumber("sum")));
    }

    #[test]
    fn empty_sketch_has_no_quantile() {
        assert_eq!(Sketch::new().quantile(0.5), None);
        assert_eq!(AtomicSketch::new().drain(), None);
    }
}
