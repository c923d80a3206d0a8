//! The `LogsIngest` gRPC service (proto `apigw.logs.v1`): data-plane nodes ship the access
//! and execution log lines they wrote, and each shipment is stored exactly once by
//! [`store::logs::apply_shipment`] (a retry of a stored `(node_instance, seq)` writes
//! nothing and is answered with the stored seq).
//!
//! A shipment is checked whole first: a UUID `node_instance`, `seq ≥ 1`, a `node_id` that
//! can be a log stream name (it is the stream), at most [`MAX_EVENTS`] lines. A bad one
//! is `InvalidArgument` (the node should drop it). Lines that cannot be stored on their
//! own are dropped, counted and logged, and the rest stored: a log group name outside
//! CloudWatch's pattern, an empty message, a time outside the retention or more than a
//! day ahead. A message longer than [`MAX_MESSAGE`] is cut there (CloudWatch's event
//! limit). A database failure is `Unavailable`, so the node keeps the shipment and retries.

use apigw_proto::logs as pb;
use apigw_proto::logs::logs_ingest_server::LogsIngest;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::store;
use crate::store::logs::{NewEvent, ShipOutcome, DAY_MS};

/// Most lines one shipment may carry.
pub const MAX_EVENTS: usize = 100_000;
/// Largest encoded shipment accepted.
pub const MAX_MESSAGE_BYTES: usize = 32 << 20;
/// Longest line kept (CloudWatch Logs' event size limit, 256 KiB).
pub const MAX_MESSAGE: usize = 256 * 1024;
/// Longest log group and stream name (CloudWatch's).
const MAX_NAME: usize = 512;
/// Longest search field kept.
const MAX_FIELD: usize = 2048;

/// The `LogsIngest` service.
#[derive(Clone)]
pub struct LogsIngestService {
    db: PgPool,
    retention_days: u32,
}

impl LogsIngestService {
    /// A service storing into `db`, accepting lines no older than `retention_days`.
    pub fn new(db: PgPool, retention_days: u32) -> Self {
        Self { db, retention_days }
    }
}

/// Whether a name is a CloudWatch log group name (`[\.\-_/#A-Za-z0-9]+`, 1–512).
pub fn valid_group_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'))
}

/// Whether a name is a CloudWatch log stream name (`[^:*]*`, 1–512).
pub fn valid_stream_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME && !s.contains([':', '*'])
}

/// A shipment that passed validation.
#[derive(Debug)]
pub struct ValidShipment {
    /// The node process.
    pub node_instance: uuid::Uuid,
    /// Its seq, ≥ 1.
    pub seq: i64,
    /// The lines to store.
    pub events: Vec<NewEvent>,
    /// Lines dropped, with the first reason.
    pub dropped: usize,
    /// Why the first dropped line was.
    pub first_drop: Option<String>,
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Checks a shipment as of `now_ms` with `retention_days`; the error says what is wrong.
pub fn validate(
    s: &pb::LogShipment,
    now_ms: i64,
    retention_days: u32,
) -> Result<ValidShipment, String> {
    let node_instance = uuid::Uuid::parse_str(&s.node_instance)
        .map_err(|_| format!("node_instance {:?} is not a UUID", s.node_instance))?;
    if !valid_stream_name(&s.node_id) {
        return Err(format!(
            "node_id {:?} cannot be a log stream name: 1 to {MAX_NAME} characters, no ':' or '*'",
            s.node_id
        ));
    }
    let seq = i64::try_from(s.seq)
        .ok()
        .filter(|&q| q >= 1)
        .ok_or_else(|| format!("seq {} must be between 1 and {}", s.seq, i64::MAX))?;
    if s.events.len() > MAX_EVENTS {
        return Err(format!(
            "a shipment carries at most {MAX_EVENTS} lines, not {}",
            s.events.len()
        ));
    }
    let oldest = now_ms - i64::from(retention_days) * DAY_MS;
    let newest = now_ms + DAY_MS;
    let mut events = Vec::with_capacity(s.events.len());
    let mut dropped = 0;
    let mut first_drop = None;
    for (i, e) in s.events.iter().enumerate() {
        let why = if !valid_group_name(&e.log_group) {
            Some(format!(
                "events[{i}]: log group {:?} is not a CloudWatch log group name",
                cut(&e.log_group, 80)
            ))
        } else if e.message.is_empty() {
            Some(format!("events[{i}]: the message is empty"))
        } else if e.timestamp_ms < oldest || e.timestamp_ms > newest {
            Some(format!(
                "events[{i}]: timestamp {} is older than the {retention_days}-day retention or more than a day ahead",
                e.timestamp_ms
            ))
        } else {
            None
        };
        if let Some(why) = why {
            dropped += 1;
            first_drop.get_or_insert(why);
            continue;
        }
        events.push(NewEvent {
            log_group: e.log_group.clone(),
            ts_ms: e.timestamp_ms,
            kind: if e.kind == pb::LogKind::Execution as i32 {
                1
            } else {
                0
            },
            message: cut(&e.message, MAX_MESSAGE),
            api_id: cut(&e.api_id, MAX_FIELD),
            stage: cut(&e.stage, MAX_FIELD),
            request_id: cut(&e.request_id, MAX_FIELD),
            status: i32::try_from(e.status).unwrap_or(0),
            source_ip: cut(&e.source_ip, MAX_FIELD),
            api_key_id: cut(&e.api_key_id, MAX_FIELD),
            path: cut(&e.path, MAX_FIELD),
        });
    }
    Ok(ValidShipment {
        node_instance,
        seq,
        events,
        dropped,
        first_drop,
    })
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[tonic::async_trait]
impl LogsIngest for LogsIngestService {
    async fn ship(
        &self,
        request: Request<pb::LogShipment>,
    ) -> Result<Response<pb::LogShipmentAck>, Status> {
        let shipment = request.into_inner();
        let now = now_ms();
        let valid = validate(&shipment, now, self.retention_days).map_err(|msg| {
            tracing::warn!(node_id = %shipment.node_id, %msg, "log shipment refused");
            Status::invalid_argument(msg)
        })?;
        if valid.dropped > 0 {
            tracing::warn!(node_id = %shipment.node_id, seq = valid.seq, dropped = valid.dropped,
                first = valid.first_drop.as_deref().unwrap_or(""),
                "log lines dropped from a shipment");
        }
        let outcome = store::logs::apply_shipment(
            &self.db,
            valid.node_instance,
            &shipment.node_id,
            valid.seq,
            &valid.events,
            now,
        )
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.code().is_some_and(|c| c.starts_with("22")) => {
                tracing::warn!(error = %d, "log shipment refused by the database");
                Status::invalid_argument(format!("shipment cannot be stored: {d}"))
            }
            e => {
                tracing::warn!(error = %e, "log shipment not stored");
                Status::unavailable(format!("log store unavailable: {e}"))
            }
        })?;
        let applied_seq = match outcome {
            ShipOutcome::Stored {
                applied_seq,
                previous_seq,
            } => {
                if previous_seq > 0 && applied_seq > previous_seq + 1 {
                    tracing::warn!(node_id = %shipment.node_id, previous_seq, seq = applied_seq,
                        "log shipments skipped: the node dropped some");
                }
                tracing::debug!(node_id = %shipment.node_id, seq = applied_seq,
                    lines = valid.events.len(), "log shipment stored");
                applied_seq
            }
            ShipOutcome::AlreadyStored { applied_seq } => {
                tracing::debug!(node_id = %shipment.node_id, seq = valid.seq, applied_seq,
                    "log shipment already stored (a retry)");
                applied_seq
            }
        };
        Ok(Response::new(pb::LogShipmentAck { applied_seq }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn shipment() -> pb::LogShipment {
        pb::LogShipment {
            node_id: "node-a".into(),
            node_instance: uuid::Uuid::new_v4().to_string(),
            seq: 1,
            events: vec![pb::LogEvent {
                kind: pb::LogKind::Access as i32,
                log_group: "API-Gateway-Access/prod".into(),
                timestamp_ms: NOW - 1000,
                message: "{\"status\":\"200\"}".into(),
                status: 200,
                ..pb::LogEvent::default()
            }],
        }
    }

    #[test]
    fn a_good_shipment_passes() {
        let v = validate(&shipment(), NOW, 30).unwrap();
        assert_eq!((v.seq, v.events.len(), v.dropped), (1, 1, 0));
        assert_eq!(v.events[0].status, 200);
    }

    #[test]
    fn bad_shipments_say_why() {
        type Breaker = fn(&mut pb::LogShipment);
        let cases: Vec<(Breaker, &str)> = vec![
            (|s| s.node_instance = "x".into(), "not a UUID"),
            (|s| s.seq = 0, "seq 0"),
            (|s| s.node_id = String::new(), "node_id"),
            (|s| s.node_id = "a:b".into(), "node_id"),
            (
                |s| s.events = vec![s.events[0].clone(); MAX_EVENTS + 1],
                "at most",
            ),
        ];
        for (break_it, says) in cases {
            let mut s = shipment();
            break_it(&mut s);
            let err = validate(&s, NOW, 30).unwrap_err();
            assert!(err.contains(says), "{err:?} should say {says:?}");
        }
    }

    #[test]
    fn bad_lines_are_dropped_and_the_rest_kept() {
        let mut s = shipment();
        let good = s.events[0].clone();
        let mut bad_group = good.clone();
        bad_group.log_group = "no spaces allowed".into();
        let mut empty = good.clone();
        empty.message.clear();
        let mut old = good.clone();
        old.timestamp_ms = NOW - 31 * DAY_MS;
        let mut long = good.clone();
        long.message = "é".repeat(MAX_MESSAGE);
        s.events = vec![bad_group, good, empty, old, long];
        let v = validate(&s, NOW, 30).unwrap();
        assert_eq!((v.events.len(), v.dropped), (2, 3));
        assert!(v.first_drop.unwrap().contains("log group"));
        assert!(v.events[1].message.len() <= MAX_MESSAGE);
    }
}
