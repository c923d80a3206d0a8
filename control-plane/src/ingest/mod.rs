//! The cluster's request metrics on their way in: the `MetricsIngest` gRPC service that
//! data-plane nodes ship their per-minute series to ([`MetricsIngestService`]), and the
//! background roll-up and retention task ([`rollup`]); and the access and execution log
//! lines they ship to `LogsIngest` ([`logs`]).
//!
//! A shipment is validated whole before anything is stored (a UUID `node_instance`,
//! `seq ≥ 1`, at most [`MAX_SERIES`] series in at most [`MAX_MESSAGE_BYTES`], minutes that are multiples of 60 within the
//! last [`MAX_AGE_SECS`] and at most [`MAX_AHEAD_SECS`] ahead, named series, counts that fit
//! in a `BIGINT`, sketches that decode); a bad one is answered `InvalidArgument` saying which series
//! and why, and a node should drop it rather than retry. A good one is merged exactly once
//! by [`store::metrics::apply_shipment`]; a database failure answers `Unavailable`, so the
//! node keeps the shipment and retries it.

pub mod logs;
pub mod rollup;

use apigw_proto::metrics as pb;
use apigw_proto::metrics::metrics_ingest_server::MetricsIngest;
use apigw_sketch::Sketch;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::store;
use crate::store::metrics::{MinuteDelta, ShipOutcome, StoreError};

/// Most series one shipment may carry: a node that could not ship for an hour merges its
/// later drains into one shipment spanning many minutes, so this is generous.
pub const MAX_SERIES: usize = 50_000;
/// Largest encoded shipment accepted (tonic's default is 4 MiB).
pub const MAX_MESSAGE_BYTES: usize = 32 << 20;
/// Oldest minute accepted, seconds before now: a node's backlog is bounded well below this,
/// and the shipment records of silent nodes are kept longer (2 days).
pub const MAX_AGE_SECS: i64 = 86_400;
/// Newest minute accepted, seconds after now (clock skew between nodes and control plane).
pub const MAX_AHEAD_SECS: i64 = 300;
/// Largest count (of a series or a sketch bin) one shipment may carry: far above any real
/// minute, and low enough that sums over millions of shipments stay inside a `BIGINT`.
pub const MAX_COUNT: u64 = 1 << 40;
/// Most bins a sketch may carry (a node's sketches have about a thousand).
pub const MAX_BINS: usize = 4096;
/// Longest api id, stage, method, node id accepted.
const MAX_NAME: usize = 256;
/// Longest API name and resource path accepted.
const MAX_PATH: usize = 2048;

/// The `MetricsIngest` service.
#[derive(Clone)]
pub struct MetricsIngestService {
    db: PgPool,
}

impl MetricsIngestService {
    /// A service storing into `db`.
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A shipment that passed validation.
#[derive(Debug)]
pub struct ValidShipment {
    /// The node process.
    pub node_instance: uuid::Uuid,
    /// Its seq, ≥ 1.
    pub seq: i64,
    /// The series, as stored.
    pub series: Vec<MinuteDelta>,
}

fn count(v: u64, what: &str, i: usize) -> Result<i64, String> {
    if v > MAX_COUNT {
        return Err(format!("series[{i}]: {what} {v} is too large"));
    }
    i64::try_from(v).map_err(|_| format!("series[{i}]: {what} {v} is too large"))
}

/// DataProcessed bytes: anything an i64 holds (no request-count cap applies).
fn bytes(v: u64, i: usize) -> Result<i64, String> {
    i64::try_from(v).map_err(|_| format!("series[{i}]: data_processed {v} is too large"))
}

fn name(v: &str, what: &str, max: usize, required: bool, i: usize) -> Result<String, String> {
    if required && v.is_empty() {
        return Err(format!("series[{i}]: {what} is empty"));
    }
    if v.len() > max {
        return Err(format!("series[{i}]: {what} is longer than {max} bytes"));
    }
    Ok(v.to_string())
}

fn sketch(p: Option<&pb::Sketch>, what: &str, i: usize) -> Result<Sketch, String> {
    match p {
        None => Ok(Sketch::new()),
        Some(p) => {
            if p.bin_index.len() > MAX_BINS {
                return Err(format!(
                    "series[{i}]: {what}: more than {MAX_BINS} bins ({})",
                    p.bin_index.len()
                ));
            }
            let too_large = [p.count, p.zero_count]
                .iter()
                .chain(&p.bin_count)
                .any(|&n| n > MAX_COUNT);
            if too_large {
                return Err(format!("series[{i}]: {what}: a count is too large"));
            }
            Sketch::from_proto(p).map_err(|e| format!("series[{i}]: {what}: {e}"))
        }
    }
}

/// Checks a shipment as of `now` (Unix seconds); the error says what is wrong.
pub fn validate(s: &pb::MetricsShipment, now: i64) -> Result<ValidShipment, String> {
    let node_instance = uuid::Uuid::parse_str(&s.node_instance)
        .map_err(|_| format!("node_instance {:?} is not a UUID", s.node_instance))?;
    if s.node_id.len() > MAX_NAME {
        return Err(format!("node_id is longer than {MAX_NAME} bytes"));
    }
    let seq = i64::try_from(s.seq)
        .ok()
        .filter(|&q| q >= 1)
        .ok_or_else(|| format!("seq {} must be between 1 and {}", s.seq, i64::MAX))?;
    if s.series.len() > MAX_SERIES {
        return Err(format!(
            "a shipment carries at most {MAX_SERIES} series, not {}",
            s.series.len()
        ));
    }
    let mut series = Vec::with_capacity(s.series.len());
    for (i, m) in s.series.iter().enumerate() {
        if m.minute.rem_euclid(60) != 0 {
            return Err(format!(
                "series[{i}]: minute {} is not a multiple of 60",
                m.minute
            ));
        }
        if m.minute < now - MAX_AGE_SECS || m.minute > now + MAX_AHEAD_SECS {
            return Err(format!(
                "series[{i}]: minute {} is more than {MAX_AGE_SECS} s in the past or {MAX_AHEAD_SECS} s in the future",
                m.minute
            ));
        }
        // A WebSocket series (method WEBSOCKET) or an HTTP API's (method HTTPAPI) has its
        // route in `resource`, or nothing for the stage's own.
        if m.resource.is_empty() != m.method.is_empty()
            && m.method != pb::WEBSOCKET_METHOD
            && m.method != pb::HTTP_API_METHOD
        {
            return Err(format!(
                "series[{i}]: resource and method are both set (detailed metrics) or both empty"
            ));
        }
        let total = count(m.count, "count", i)?;
        let (e4, e5) = (
            count(m.error_4xx, "error_4xx", i)?,
            count(m.error_5xx, "error_5xx", i)?,
        );
        let (hit, miss) = (
            count(m.cache_hit, "cache_hit", i)?,
            count(m.cache_miss, "cache_miss", i)?,
        );
        // No `error_4xx + error_5xx <= count` rule: a node drains its counters one by one
        // while requests record into them, so one shipment may carry a request's error and
        // the next its count. Totals over shipments are exact; refusing one would lose it.
        series.push(MinuteDelta {
            minute: m.minute,
            api_id: name(&m.api_id, "api_id", MAX_NAME, true, i)?,
            api_name: name(&m.api_name, "api_name", MAX_PATH, false, i)?,
            stage: name(&m.stage, "stage", MAX_NAME, true, i)?,
            resource: name(&m.resource, "resource", MAX_PATH, false, i)?,
            method: name(&m.method, "method", MAX_NAME, false, i)?,
            count: total,
            error_4xx: e4,
            error_5xx: e5,
            cache_hit: hit,
            cache_miss: miss,
            latency: sketch(m.latency.as_ref(), "latency", i)?,
            integration_latency: sketch(m.integration_latency.as_ref(), "integration_latency", i)?,
            data_processed: bytes(m.data_processed, i)?,
        });
    }
    Ok(ValidShipment {
        node_instance,
        seq,
        series,
    })
}

#[tonic::async_trait]
impl MetricsIngest for MetricsIngestService {
    async fn ship(
        &self,
        request: Request<pb::MetricsShipment>,
    ) -> Result<Response<pb::ShipmentAck>, Status> {
        let shipment = request.into_inner();
        let valid = validate(&shipment, unix_now()).map_err(|msg| {
            tracing::warn!(node_id = %shipment.node_id, %msg, "metrics shipment refused");
            Status::invalid_argument(msg)
        })?;
        let series = valid.series.len();
        let outcome = store::metrics::apply_shipment(
            &self.db,
            valid.node_instance,
            &shipment.node_id,
            valid.seq,
            valid.series,
        )
        .await
        .map_err(|e| match e {
            // A data exception (class 22, e.g. a sum out of range) will not go away on a
            // retry: the node should drop that shipment.
            StoreError::Db(sqlx::Error::Database(d))
                if d.code().is_some_and(|c| c.starts_with("22")) =>
            {
                tracing::warn!(error = %d, "metrics shipment refused by the database");
                Status::invalid_argument(format!("shipment cannot be stored: {d}"))
            }
            StoreError::Db(e) => {
                tracing::warn!(error = %e, "metrics shipment not stored");
                Status::unavailable(format!("metrics store unavailable: {e}"))
            }
            other => Status::internal(other.to_string()),
        })?;
        let applied_seq = match outcome {
            ShipOutcome::Applied {
                applied_seq,
                previous_seq,
            } => {
                if previous_seq > 0 && applied_seq > previous_seq + 1 {
                    tracing::warn!(node_id = %shipment.node_id, node_instance = %valid.node_instance,
                        previous_seq, seq = applied_seq,
                        "metrics shipments skipped: the node dropped some");
                } else if previous_seq == 0 && applied_seq > 1 {
                    tracing::info!(node_id = %shipment.node_id, node_instance = %valid.node_instance,
                        seq = applied_seq, "first metrics shipment seen for this node process is not seq 1");
                }
                tracing::debug!(node_id = %shipment.node_id, seq = applied_seq, series, "metrics shipment applied");
                applied_seq
            }
            ShipOutcome::AlreadyApplied { applied_seq } => {
                tracing::debug!(node_id = %shipment.node_id, seq = valid.seq, applied_seq,
                    "metrics shipment already applied (a retry)");
                applied_seq
            }
        };
        Ok(Response::new(pb::ShipmentAck { applied_seq }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipment() -> pb::MetricsShipment {
        pb::MetricsShipment {
            node_id: "n1".into(),
            node_instance: uuid::Uuid::new_v4().to_string(),
            seq: 1,
            series: vec![pb::MinuteSeries {
                minute: 6000,
                api_id: "a1".into(),
                api_name: "Pets".into(),
                stage: "prod".into(),
                count: 3,
                error_4xx: 1,
                error_5xx: 1,
                latency: Some(Sketch::new().to_proto()),
                ..pb::MinuteSeries::default()
            }],
        }
    }

    #[test]
    fn a_good_shipment_passes() {
        let v = validate(&shipment(), 6030).unwrap();
        assert_eq!((v.seq, v.series.len(), v.series[0].count), (1, 1, 3));
        // A drain racing a request may ship its error before its count.
        let mut s = shipment();
        s.series[0].count = 0;
        assert!(validate(&s, 6030).is_ok());
    }

    type Breaker = fn(&mut pb::MetricsShipment);

    #[test]
    fn bad_shipments_say_why() {
        let cases: Vec<(Breaker, &str)> = vec![
            (|s| s.node_instance = "x".into(), "not a UUID"),
            (|s| s.seq = 0, "seq 0"),
            (|s| s.seq = u64::MAX, "seq"),
            (|s| s.series[0].minute = 6001, "multiple of 60"),
            (|s| s.series[0].minute = 6000 - 2 * 86_400, "in the past"),
            (|s| s.series[0].minute = 6000 + 3600, "in the future"),
            (|s| s.series[0].stage = String::new(), "stage is empty"),
            (|s| s.series[0].api_id = String::new(), "api_id is empty"),
            (|s| s.series[0].method = "GET".into(), "both set"),
            (|s| s.series[0].count = u64::MAX, "too large"),
            (
                |s| s.series[0].latency.as_mut().unwrap().count = u64::MAX,
                "too large",
            ),
            (
                |s| {
                    let l = s.series[0].latency.as_mut().unwrap();
                    l.bin_index = vec![1; MAX_BINS + 1];
                    l.bin_count = vec![1; MAX_BINS + 1];
                },
                "bins",
            ),
            (
                |s| s.series[0].latency.as_mut().unwrap().sum = f64::NAN,
                "latency",
            ),
            (
                |s| s.series = vec![s.series[0].clone(); MAX_SERIES + 1],
                "at most",
            ),
        ];
        for (break_it, says) in cases {
            let mut s = shipment();
            break_it(&mut s);
            let err = validate(&s, 6030).unwrap_err();
            assert!(err.contains(says), "{err:?} should say {says:?}");
        }
    }
}
