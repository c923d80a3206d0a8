//! Load from the test process and the bounds a cluster-wide limit must keep: concurrent
//! request loops over several nodes ([`load`], [`load_timed`]), what they saw ([`Tally`],
//! [`Run`]), token-bucket bounds measured by the limiter's own clock
//! ([`assert_bucket_bounds`]) and GetUsage totals ([`usage_total`]). Shared by
//! `usage_plans.rs` and `redis_cluster.rs`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::rest_api::text;
use crate::{redis_time_ms, DataPlane};

/// Status and `message` of one invoke.
pub async fn invoke(client: &reqwest::Client, url: &str, key: Option<&str>) -> (u16, String) {
    let mut req = client.get(url);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, text(&body["message"]))
        }
        Err(_) => (0, String::new()),
    }
}

/// What a load run saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Answered by the integration (2xx from the backend, or its 500): admitted.
    pub admitted: u64,
    /// 429 Too Many Requests.
    pub throttled: u64,
    /// 429 Limit Exceeded.
    pub quota: u64,
    /// 403.
    pub forbidden: u64,
    /// Anything else (connection errors included).
    pub other: u64,
}

#[derive(Default)]
pub struct Counters([AtomicU64; 5]);

impl Counters {
    fn record(&self, status: u16, message: &str) {
        let i = match (status, message) {
            (200 | 500, _) => 0,
            (429, "Too Many Requests") => 1,
            (429, "Limit Exceeded") => 2,
            (403, _) => 3,
            _ => 4,
        };
        self.0[i].fetch_add(1, Ordering::Relaxed);
    }

    fn tally(&self) -> Tally {
        let g = |i: usize| self.0[i].load(Ordering::Relaxed);
        Tally {
            admitted: g(0),
            throttled: g(1),
            quota: g(2),
            forbidden: g(3),
            other: g(4),
        }
    }
}

/// A load run: what it saw and when.
#[derive(Debug, Default)]
pub struct Run {
    pub tally: Tally,
    /// The run's length by the clock of the limiter under test: from before the first
    /// request was sent to after the last answer. Redis's `TIME` when the run was given a
    /// Redis (the shared buckets refill by it); else this machine's monotonic clock, which
    /// is also what the nodes' local fallback buckets refill by.
    pub elapsed: Duration,
    /// The same stretch by this process's clock (it encloses `elapsed`).
    pub wall: Duration,
    /// Every 429 Too Many Requests as (sent, answered), from the run's start, by this
    /// process's clock.
    pub refusals: Vec<(Duration, Duration)>,
    /// Over how many nodes (URLs) the load was spread.
    pub nodes: usize,
    /// Admissions the nodes decided locally during the run because a Redis call failed or
    /// timed out (`apigw_redis_fallback_admissions_total`, summed over the nodes): under
    /// a heavily loaded machine a call can outlast the limiter's timeout.
    pub fallbacks: u64,
}

/// `apigw_redis_fallback_admissions_total` summed over the nodes serving `urls`.
pub async fn fallback_admissions(urls: &[String]) -> u64 {
    let mut origins: Vec<String> = urls
        .iter()
        .filter_map(|u| reqwest::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    origins.sort();
    origins.dedup();
    let mut total = 0;
    for origin in origins {
        let Ok(response) = reqwest::get(format!("{origin}/metrics")).await else {
            continue;
        };
        let body = response.text().await.unwrap_or_default();
        total += body
            .lines()
            .find_map(|l| l.strip_prefix("apigw_redis_fallback_admissions_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

/// Sends requests from `workers` concurrent loops, spread round-robin over `urls`, for
/// `duration` (or until `max` requests were sent; then `duration` is only a cap).
pub async fn load(
    urls: Vec<String>,
    key: Option<String>,
    workers: usize,
    duration: Duration,
    max: Option<u64>,
) -> Run {
    load_timed(None, urls, key, workers, duration, max).await
}

/// [`load`], with [`Run::elapsed`] measured by `redis`'s clock when given.
pub async fn load_timed(
    redis: Option<&str>,
    urls: Vec<String>,
    key: Option<String>,
    workers: usize,
    duration: Duration,
    max: Option<u64>,
) -> Run {
    let client = reqwest::Client::new();
    let fallbacks_before = fallback_admissions(&urls).await;
    let counters = Arc::new(Counters::default());
    let refusals = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sent = Arc::new(AtomicU64::new(0));
    let nodes = urls.len();
    let started = Instant::now();
    let limiter_started = match redis {
        Some(url) => Some(redis_time_ms(url).await),
        None => None,
    };
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, counters, refusals, sent, urls, key) = (
            client.clone(),
            counters.clone(),
            refusals.clone(),
            sent.clone(),
            urls.clone(),
            key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while Instant::now() < deadline {
                let n = sent.fetch_add(1, Ordering::Relaxed);
                if max.is_some_and(|m| n >= m) {
                    break;
                }
                let at = started.elapsed();
                let (status, message) =
                    invoke(&client, &urls[i % urls.len()], key.as_deref()).await;
                if (status, message.as_str()) == (429, "Too Many Requests") {
                    let answered = started.elapsed();
                    refusals
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((at, answered));
                }
                counters.record(status, &message);
                i += 1;
            }
        }));
    }
    for t in tasks {
        t.await.expect("load worker");
    }
    let elapsed = match (redis, limiter_started) {
        (Some(url), Some(t0)) => Duration::from_millis(redis_time_ms(url).await - t0),
        _ => started.elapsed(),
    };
    let wall = started.elapsed();
    let refusals = std::mem::take(&mut *refusals.lock().unwrap_or_else(|e| e.into_inner()));
    let fallbacks = fallback_admissions(&urls)
        .await
        .saturating_sub(fallbacks_before);
    Run {
        tally: counters.tally(),
        elapsed,
        wall,
        refusals,
        nodes,
        fallbacks,
    }
}

pub fn urls(nodes: &[&DataPlane], api: &str, path: &str) -> Vec<String> {
    nodes
        .iter()
        .map(|n| n.invoke_url(api, "prod", path))
        .collect()
}

/// Token-bucket bounds over a run of `t` = [`Run::elapsed`] (the limiter's own clock, around
/// the whole run): admitted ≤ burst + rate × t × 1.05, and ≥ 0.95 × rate × t when the load
/// kept the bucket from sitting full (see [`bucket_kept_busy`]).
pub fn assert_bucket_bounds(what: &str, run: &Run, rate: f64, burst: f64) {
    let t = &run.tally;
    let e = run.elapsed.as_secs_f64();
    let admitted = t.admitted as f64;
    eprintln!(
        "{what}: {t:?} in {e:.3}s by the limiter's clock, {:.3}s by ours (rate {rate}, burst {burst})",
        run.wall.as_secs_f64()
    );
    // Requests a node admitted on its own while a Redis call had failed or timed out are
    // outside the shared bucket's control (the documented fallback: each node's share of
    // the limit): the bound allows them, and says so.
    let fallbacks = run.fallbacks as f64;
    if run.fallbacks > 0 {
        eprintln!(
            "{what}: {} admissions fell back to local shares (a Redis call failed or timed out)",
            run.fallbacks
        );
    }
    assert!(
        admitted <= burst + rate * e * 1.05 + fallbacks,
        "{what}: admitted {admitted} > {burst} + {rate} × {e:.3} × 1.05 + {fallbacks} fallbacks"
    );
    if t.throttled == 0 {
        // The load never exceeded the limit (a loaded machine's client or nodes could not
        // send faster than the rate): only the upper bound says anything about the
        // limiter. Tests that need the limit reached check it themselves.
        eprintln!(
            "{what}: no 429 at all, the load stayed under the limit; lower bound not checked"
        );
        assert_eq!(t.other, 0, "{what}: unexpected answers");
        return;
    }
    // The lower bound is the limiter's promise only while there is demand for every token:
    // a bucket that sits full throws its refill away, whatever the limiter does. On a
    // loaded machine the client (or the nodes) may not keep up the demand all through the
    // run; then the bound is not checked (said in the log), rather than failing the
    // limiter for the machine's speed.
    match bucket_kept_busy(run, rate, burst) {
        Ok(()) => assert!(
            admitted >= 0.95 * rate * e,
            "{what}: admitted {admitted} < 0.95 × {rate} × {e:.3}"
        ),
        Err(why) => eprintln!("{what}: lower bound not checked: {why}"),
    }
    assert_eq!(t.other, 0, "{what}: unexpected answers");
}

/// Whether the run's 429s prove that a correct limiter admitted at least 0.95 × rate × t:
/// `Err` says why they do not.
///
/// Over the run, admitted = burst (full at the start) + rate × t − refill thrown away while
/// the bucket sat full − tokens left (in Redis and in the nodes' leases) at the end. A 429
/// Too Many Requests shows the bucket (nearly) empty at some instant between the request's
/// send and its answer: below one token, or below a lease's worth when a node refused from
/// its memo (data-plane/src/limits/lease.rs). From there it cannot be full again within
/// `(burst − lease) / rate`, so refill can only have been thrown away where 429s stopped
/// for longer than that; and before the first 429, and after the last one (with what is
/// left at the end). Counting the whole refill of those stretches as lost, the loss must
/// fit in what the lower bound leaves out: the burst and 5 % of rate × t. Durations here
/// are this process's clock's (they only decide whether to check; the bound itself uses the
/// limiter's), each estimate on the safe side: a refusal was decided after its send and
/// before its answer.
pub fn bucket_kept_busy(run: &Run, rate: f64, burst: f64) -> Result<(), String> {
    // The lease size of data-plane/src/limits/lease.rs: 20 ms of refill, 1 to the burst.
    let lease = (rate * 0.02).floor().min(burst.floor()).max(1.0);
    let refill = Duration::from_secs_f64(((burst - lease) / rate).max(0.0));
    let mut refusals = run.refusals.clone();
    refusals.sort_by_key(|&(_, answered)| answered);
    let Some(&(mut latest_send, first_answer)) = refusals.first() else {
        return Err("no 429 Too Many Requests at all".into());
    };
    // Full from the start until the first refusal, at worst.
    let start = rate * first_answer.as_secs_f64();
    // Between refusals: a refusal answered at `answered` was decided after the latest send
    // of those answered before it, and the bucket can have been full only past `refill`.
    let mut idle = Duration::ZERO;
    for &(sent, answered) in &refusals[1..] {
        idle += answered.saturating_sub(latest_send).saturating_sub(refill);
        latest_send = latest_send.max(sent);
    }
    let middle = rate * idle.as_secs_f64();
    // After the last refusal: left in Redis or thrown away, plus the nodes' unspent leases.
    let tail = run.wall.saturating_sub(latest_send).as_secs_f64();
    let end = lease + rate * tail + run.nodes as f64 * (lease - 1.0);
    let t = run.elapsed.min(run.wall).as_secs_f64();
    let allowed = burst + 0.05 * rate * t;
    if start + middle + end > allowed {
        return Err(format!(
            "up to {start:.1} + {middle:.1} + {end:.1} tokens may have gone unspent for want \
             of requests (first 429 answered {first_answer:?} into the run, {idle:?} without \
             429s in between, the last sent {tail:.3}s before its end), more than {allowed:.1}"
        ));
    }
    Ok(())
}

pub fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Total `used` over all keys and days of a GetUsage answer.
pub fn usage_total(usage: &Value) -> i64 {
    usage["values"]
        .as_object()
        .map(|keys| {
            keys.values()
                .flat_map(|days| days.as_array().cloned().unwrap_or_default())
                .map(|d| d[0].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}
