//! WebSocket APIs on the node: the upgrade on the HTTP port (`ws://`, Host
//! `{apiId}.{execute-api-domain}`, path `/{stage}`), each connection's session
//! ([`session`]), and `@connections` ([`manage`]) across the cluster.
//!
//! Sockets: hyper's upgrade hands the connection to `tokio-tungstenite` (chosen over a
//! hand-written framing: it is the maintained tokio binding of `tungstenite`, which
//! handles fragmentation, control frames, masking and the message-size cap (close 1009)
//! that the issue asks for, and it takes an already-upgraded hyper socket, so the node
//! keeps one listener and one HTTP stack).
//!
//! The registry: every connection is a Redis hash `{prefix}ws:conn:{id}` (node instance,
//! API, stage, connectedAt, lastActiveAt, source IP, User-Agent) with a TTL
//! (`--ws-registry-ttl`, 60 s) that the holding node refreshes every third of it, so a
//! node killed with SIGKILL leaves nothing that answers 200 past the TTL.
//!
//! Live counts: each node keeps how many connections it holds per (API, stage) and writes
//! them, whenever they change (coalesced) and at every registry refresh, to its own hash
//! `{prefix}ws:count:{instance}` (fields `{apiId}|{stage}`) with the registry's TTL, and
//! adds its instance to the set `{prefix}ws:counts`. The control plane adds the hashes up
//! (`GET /v2/apis/{apiId}/stages/{stage}/connections`): one small hash per node instead of
//! a scan of every connection's key, and a node killed with SIGKILL drops out of the count
//! when its hash expires.
//!
//! Delivery: a send or close for a connection on another node is published on that node's
//! pub/sub channel `{prefix}ws:node:{instance}`. Pub/sub rather than streams: a message
//! is only useful to the live socket it is for; if the holding node is gone there is no
//! one to deliver to later, and `PUBLISH`'s receiver count tells us so at once (0 → the
//! connection is gone: 410, and its registry entry is removed). Streams would keep
//! undeliverable messages and need trimming and consumer bookkeeping for nothing.

pub mod manage;
pub mod session;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apigw_shared_redis::{publish_command, RedisTarget, SharedRedis};
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use apigw_gateway::compile::websocket::WsStage;
use apigw_gateway::limits::{Admission, BucketCheck, Limit, NamedLimit, Verdict};
use apigw_gateway::Gateway;

use crate::limits::Limiter;

/// How often counted WebSocket usage goes to Redis ([`WsHub::flush_usage`]).
const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The largest message (and `@connections` POST) accepted: 128 KB.
pub const MAX_MESSAGE: usize = 128 * 1024;

/// Messages are metered in units of 32 KB (a 33 KB message is 2).
pub fn message_units(len: usize) -> i64 {
    i64::try_from(len.div_ceil(32 * 1024).max(1)).unwrap_or(i64::MAX)
}

/// The node's WebSocket settings (`--ws-*`).
#[derive(Debug, Clone)]
pub struct WsSettings {
    /// A connection with no message either way for this long is closed (1001).
    pub idle_timeout: Duration,
    /// A connection is closed (1001) after this long.
    pub max_duration: Duration,
    /// On SIGTERM, open sockets get this long before they are closed with 1001.
    pub drain_grace: Duration,
    /// The registry entries' TTL (refreshed every third of it).
    pub registry_ttl: Duration,
    /// New connections per second per stage, for the cluster (`0`: no limit).
    pub connect_rate: u32,
}

/// What a session accepts from elsewhere (a local `@connections` call or pub/sub).
#[derive(Debug)]
pub enum Outbound {
    /// Send this data (text if UTF-8, else binary).
    Send(Bytes),
    /// Close the connection (DELETE).
    Close,
}

/// A connection held by this node.
#[derive(Debug, Clone)]
pub struct LocalConn {
    /// Where its session reads [`Outbound`]s.
    pub tx: mpsc::UnboundedSender<Outbound>,
    /// The registry document (connectedAt, identity, ...).
    pub info: Arc<Mutex<Value>>,
    /// Its API and stage (the live count's key).
    pub api_stage: (String, String),
}

/// Everything the WebSocket side of a node shares.
pub struct WsHub {
    /// The engine (state, functions client, backend client, invoke domain).
    pub gateway: Arc<Gateway<Limiter>>,
    /// The settings.
    pub settings: WsSettings,
    /// This process's id (its pub/sub channel).
    pub instance: String,
    /// The connections on this node.
    pub local: Mutex<HashMap<String, LocalConn>>,
    redis: Option<SharedRedis>,
    redis_target: Option<RedisTarget>,
    prefix: String,
    /// Becomes true on SIGTERM (sessions then close after the drain grace).
    pub draining: watch::Receiver<bool>,
    /// The region of `@connections` signatures and method ARNs.
    pub region: String,
    /// Connections held here per (API, stage), as the live count publishes them.
    counts: Mutex<HashMap<(String, String), u64>>,
    /// Wakes the count writer when `counts` changed.
    counts_changed: tokio::sync::Notify,
    /// Usage counted here and not yet added to Redis: `(api, stage, day)` → (messages in
    /// 32 KB units, connection minutes). Flushed every second by one pipeline
    /// ([`WsHub::flush_usage`]); what a failed flush held is put back and sent with the
    /// next one, so an unreachable Redis delays counts instead of losing them.
    usage: Mutex<PendingUsage>,
    /// The node's access logs (none with `--logs false`): stages with
    /// `accessLogSettings` write a line per CONNECT, MESSAGE and DISCONNECT.
    pub logs: Option<Arc<crate::logs::LogsHook>>,
}

/// Day → API → stage → (messages in 32 KB units, connection minutes). Nested so that a
/// message's count is found by borrowed keys: no allocation once a stage has a counter.
type PendingUsage = HashMap<time::Date, HashMap<String, HashMap<String, (i64, i64)>>>;

/// Adds `(messages, minutes)` to `usage` under `day`, `api`, `stage`.
fn add_usage(
    usage: &mut PendingUsage,
    day: time::Date,
    api: &str,
    stage: &str,
    counts: (i64, i64),
) {
    let apis = usage.entry(day).or_default();
    if !apis.contains_key(api) {
        apis.insert(api.to_string(), HashMap::new());
    }
    let Some(stages) = apis.get_mut(api) else {
        return;
    };
    if !stages.contains_key(stage) {
        stages.insert(stage.to_string(), (0, 0));
    }
    if let Some(entry) = stages.get_mut(stage) {
        entry.0 += counts.0;
        entry.1 += counts.1;
    }
}

impl std::fmt::Debug for WsHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsHub")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl WsHub {
    /// A hub; `redis` (and its target, for the pub/sub connection) when the node has Redis.
    pub fn new(
        gateway: Arc<Gateway<Limiter>>,
        settings: WsSettings,
        redis: Option<SharedRedis>,
        redis_target: Option<RedisTarget>,
        prefix: &str,
        draining: watch::Receiver<bool>,
    ) -> Self {
        WsHub {
            gateway,
            settings,
            instance: uuid::Uuid::new_v4().to_string(),
            local: Mutex::default(),
            redis,
            redis_target,
            prefix: prefix.to_string(),
            draining,
            region: std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
            counts: Mutex::default(),
            counts_changed: tokio::sync::Notify::new(),
            usage: Mutex::default(),
            logs: None,
        }
    }

    /// Writes the WebSocket stages' access logs through `logs` (the REST lines' queue).
    pub fn with_logs(mut self, logs: Option<Arc<crate::logs::LogsHook>>) -> Self {
        self.logs = logs;
        self
    }

    fn conn_key(&self, id: &str) -> String {
        format!("{}ws:conn:{id}", self.prefix)
    }

    /// The hash of this node's live counts.
    fn count_key(&self) -> String {
        format!("{}ws:count:{}", self.prefix, self.instance)
    }

    fn node_channel(&self, instance: &str) -> String {
        format!("{}ws:node:{instance}", self.prefix)
    }

    /// Admits one new connection for a stage: the stage's new-connection bucket
    /// (`--ws-connect-rate` per second, the same burst) and, when `$connect` is throttled
    /// by the stage's route settings, its route bucket. Both are shared by the cluster
    /// through the node's [`Limiter`] (Redis buckets, leases, the local shares while Redis
    /// is down), checked in one atomic step: a refused connection takes no token.
    pub async fn admit_connection(&self, stage: &WsStage) -> bool {
        let connect = stage.route("$connect").and_then(|r| r.throttle.as_ref());
        let mut admission = Admission {
            buckets: Vec::with_capacity(2),
            ..Admission::default()
        };
        if let Some(limit) = connect {
            admission.buckets.push(BucketCheck {
                name: Cow::Borrowed(&*limit.name),
                limit: limit.limit,
            });
        }
        let rate = self.settings.connect_rate;
        if rate > 0 {
            admission.buckets.push(BucketCheck {
                name: Cow::Borrowed(&*stage.connect_bucket),
                limit: Limit {
                    rate: f64::from(rate),
                    burst: f64::from(rate),
                },
            });
        }
        self.gateway.limiter().admit(&admission).await == Verdict::Admitted
    }

    /// Admits one message on a throttled route: a token from the route's bucket, shared by
    /// the cluster like a REST method's stage setting.
    pub async fn admit_message(&self, throttle: &NamedLimit) -> bool {
        let admission = Admission {
            buckets: vec![BucketCheck {
                name: Cow::Borrowed(&*throttle.name),
                limit: throttle.limit,
            }],
            ..Admission::default()
        };
        self.gateway.limiter().admit(&admission).await == Verdict::Admitted
    }

    /// Registers a connection held here (locally and in Redis).
    pub async fn register(&self, id: &str, conn: LocalConn) {
        let info = conn.info.lock().map(|i| i.clone()).unwrap_or_default();
        let api_stage = conn.api_stage.clone();
        let added = self
            .local
            .lock()
            .map(|mut local| local.insert(id.to_string(), conn).is_none())
            .unwrap_or(false);
        if added {
            self.count(api_stage, true);
        }
        if let Some(mut redis) = self.redis.clone() {
            let ttl = self.settings.registry_ttl.as_secs().max(1);
            let doc = json!({"node": self.instance, "info": info}).to_string();
            let res: redis::RedisResult<()> = redis::cmd("SET")
                .arg(self.conn_key(id))
                .arg(doc)
                .arg("EX")
                .arg(ttl)
                .query_async(&mut redis)
                .await;
            if let Err(error) = res {
                tracing::warn!(%error, "registering a WebSocket connection in Redis");
            }
        }
    }

    /// Forgets a connection held here.
    pub async fn unregister(&self, id: &str) {
        let removed = self
            .local
            .lock()
            .ok()
            .and_then(|mut local| local.remove(id));
        if let Some(conn) = removed {
            self.count(conn.api_stage, false);
        }
        if let Some(mut redis) = self.redis.clone() {
            let _: redis::RedisResult<()> = redis::cmd("DEL")
                .arg(self.conn_key(id))
                .query_async(&mut redis)
                .await;
        }
    }

    /// Counts a connection of `api_stage` in (`true`) or out, and wakes the count writer.
    fn count(&self, api_stage: (String, String), added: bool) {
        if let Ok(mut counts) = self.counts.lock() {
            if added {
                *counts.entry(api_stage).or_default() += 1;
            } else if let Some(n) = counts.get_mut(&api_stage) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(&api_stage);
                }
            }
        }
        self.counts_changed.notify_one();
    }

    /// Connections held here per (API, stage).
    pub fn local_counts(&self) -> Vec<((String, String), u64)> {
        self.counts
            .lock()
            .map(|c| c.iter().map(|(k, n)| (k.clone(), *n)).collect())
            .unwrap_or_default()
    }

    /// Forgets a connection at once (DeleteConnection), before its session has finished
    /// closing it, so a GET right after answers 410 on every node.
    pub async fn forget(&self, id: &str) {
        self.unregister(id).await;
    }

    /// Meters WebSocket usage for billing: `messages` units and connection `minutes` of a
    /// stage today (UTC), added to the `{prefix}wsu` hash the control plane moves to
    /// Postgres. Fire and forget: a Redis failure loses the count, never a message.
    pub fn meter(&self, api: &str, stage: &str, messages: i64, minutes: i64) {
        if self.redis.is_none() || (messages == 0 && minutes == 0) {
            return;
        }
        let day = time::OffsetDateTime::now_utc().date();
        if let Ok(mut usage) = self.usage.lock() {
            add_usage(&mut usage, day, api, stage, (messages, minutes));
        }
    }

    /// Adds the usage counted since the last flush to `{prefix}wsu` in one pipeline;
    /// `false` (the counts kept for the next flush) when Redis did not take it.
    pub async fn flush_usage(&self) -> bool {
        let Some(mut redis) = self.redis.clone() else {
            return true;
        };
        let batch = match self.usage.lock() {
            Ok(mut usage) => std::mem::take(&mut *usage),
            Err(_) => return false,
        };
        if batch.is_empty() {
            return true;
        }
        let key = format!("{}wsu", self.prefix);
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (day, apis) in &batch {
            let day = day.format(&format).unwrap_or_default();
            for (api, stages) in apis {
                for (stage, (messages, minutes)) in stages {
                    let field = format!("{api}|{stage}|{day}");
                    if *messages > 0 {
                        pipe.hincr(&key, format!("{field}|m"), *messages).ignore();
                    }
                    if *minutes > 0 {
                        pipe.hincr(&key, format!("{field}|c"), *minutes).ignore();
                    }
                }
            }
        }
        match pipe.query_async::<()>(&mut redis).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "metering WebSocket usage: kept for the next flush");
                if let Ok(mut usage) = self.usage.lock() {
                    for (day, apis) in batch {
                        for (api, stages) in apis {
                            for (stage, counts) in stages {
                                add_usage(&mut usage, day, &api, &stage, counts);
                            }
                        }
                    }
                }
                false
            }
        }
    }

    /// Flushes the usage every second (a second after a failure too).
    async fn usage_loop(&self) {
        loop {
            tokio::time::sleep(USAGE_FLUSH_EVERY).await;
            self.flush_usage().await;
        }
    }

    /// Records activity on a local connection (`lastActiveAt`).
    pub fn touch(&self, id: &str) {
        let local = self.local.lock().ok().and_then(|l| l.get(id).cloned());
        if let Some(conn) = local {
            if let Ok(mut info) = conn.info.lock() {
                info["lastActiveAt"] = json!(now_ms());
            }
        }
    }

    /// The registry entry of a connection: `(holding node instance, info)`.
    pub async fn lookup(&self, id: &str) -> Option<(String, Value)> {
        if let Some(conn) = self.local.lock().ok().and_then(|l| l.get(id).cloned()) {
            let info = conn.info.lock().map(|i| i.clone()).unwrap_or_default();
            return Some((self.instance.clone(), info));
        }
        let mut redis = self.redis.clone()?;
        let doc: Option<String> = redis::cmd("GET")
            .arg(self.conn_key(id))
            .query_async(&mut redis)
            .await
            .ok()?;
        let doc: Value = serde_json::from_str(&doc?).ok()?;
        Some((doc["node"].as_str()?.to_string(), doc["info"].clone()))
    }

    /// Delivers a send or close to a connection wherever it is; false when it is gone.
    pub async fn deliver(&self, id: &str, out: Outbound) -> bool {
        if let Some(conn) = self.local.lock().ok().and_then(|l| l.get(id).cloned()) {
            return conn.tx.send(out).is_ok();
        }
        let Some((node, _)) = self.lookup(id).await else {
            return false;
        };
        let Some(mut redis) = self.redis.clone() else {
            return false;
        };
        let msg = match &out {
            Outbound::Send(data) => json!({"id": id, "op": "send",
                "data": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, data)}),
            Outbound::Close => json!({"id": id, "op": "close"}),
        };
        // PUBLISH, or SPUBLISH on a cluster: answered by the channel's slot's master, where
        // the holding node's SSUBSCRIBE listens, so the receiver count is meaningful.
        let receivers: redis::RedisResult<i64> =
            publish_command(&redis, &self.node_channel(&node), &msg.to_string())
                .query_async(&mut redis)
                .await;
        match receivers {
            Ok(n) if n > 0 => true,
            _ => {
                // The holding node is gone: so is the connection.
                let _: redis::RedisResult<()> = redis::cmd("DEL")
                    .arg(self.conn_key(id))
                    .query_async(&mut redis)
                    .await;
                false
            }
        }
    }

    /// Background work: refreshes the registry TTL of local connections, and delivers
    /// what other nodes publish on this node's channel. Runs until the process ends.
    pub async fn run(self: Arc<Self>) {
        let refresher = {
            let hub = Arc::clone(&self);
            tokio::spawn(async move { hub.refresh_loop().await })
        };
        let counter = {
            let hub = Arc::clone(&self);
            tokio::spawn(async move { hub.count_loop().await })
        };
        let usage = {
            let hub = Arc::clone(&self);
            tokio::spawn(async move { hub.usage_loop().await })
        };
        self.subscribe_loop().await;
        refresher.abort();
        counter.abort();
        usage.abort();
    }

    /// Writes this node's live counts to `{prefix}ws:count:{instance}` when they change
    /// (a burst of connects is one write) and every third of the registry TTL, so the hash
    /// outlives the node by at most the TTL.
    async fn count_loop(&self) {
        let Some(mut redis) = self.redis.clone() else {
            return;
        };
        let ttl = self.settings.registry_ttl.as_secs().max(1);
        let every = (self.settings.registry_ttl / 3).max(Duration::from_millis(300));
        let key = self.count_key();
        let nodes = format!("{}ws:counts", self.prefix);
        loop {
            tokio::select! {
                () = self.counts_changed.notified() => {}
                () = tokio::time::sleep(every) => {}
            }
            let fields: Vec<(String, u64)> = self
                .local_counts()
                .into_iter()
                .map(|((api, stage), n)| (format!("{api}|{stage}"), n))
                .collect();
            let mut pipe = redis::pipe();
            pipe.atomic().del(&key).ignore();
            if !fields.is_empty() {
                pipe.hset_multiple(&key, &fields)
                    .ignore()
                    .expire(&key, i64::try_from(ttl).unwrap_or(i64::MAX))
                    .ignore()
                    .sadd(&nodes, &self.instance)
                    .ignore();
            }
            if let Err(error) = pipe.query_async::<()>(&mut redis).await {
                tracing::warn!(%error, "writing the WebSocket live connection counts");
            }
        }
    }

    async fn refresh_loop(&self) {
        let Some(mut redis) = self.redis.clone() else {
            return;
        };
        let ttl = self.settings.registry_ttl.as_secs().max(1);
        let every = (self.settings.registry_ttl / 3).max(Duration::from_millis(300));
        loop {
            tokio::time::sleep(every).await;
            let entries: Vec<(String, Value)> = self
                .local
                .lock()
                .map(|l| {
                    l.iter()
                        .map(|(id, c)| {
                            (
                                id.clone(),
                                c.info.lock().map(|i| i.clone()).unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if entries.is_empty() {
                continue;
            }
            let mut pipe = redis::pipe();
            for (id, info) in &entries {
                let doc = json!({"node": self.instance, "info": info}).to_string();
                pipe.cmd("SET")
                    .arg(self.conn_key(id))
                    .arg(doc)
                    .arg("EX")
                    .arg(ttl)
                    .ignore();
            }
            if let Err(error) = pipe.query_async::<()>(&mut redis).await {
                tracing::warn!(%error, "refreshing WebSocket registry entries");
            }
        }
    }

    async fn subscribe_loop(&self) {
        use futures::StreamExt;
        let Some(target) = self.redis_target.clone() else {
            return;
        };
        let channel = self.node_channel(&self.instance);
        loop {
            let subscribed = target.subscribe(&channel).await;
            let mut messages = match subscribed {
                Ok(p) => p,
                Err(error) => {
                    tracing::warn!(%error, "subscribing to the WebSocket delivery channel");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(payload) = messages.next().await {
                let Ok(text) = String::from_utf8(payload) else {
                    continue;
                };
                let Ok(doc) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let id = doc["id"].as_str().unwrap_or_default();
                let out = match doc["op"].as_str() {
                    Some("send") => {
                        let data = doc["data"].as_str().unwrap_or_default();
                        match base64::Engine::decode(
                            &base64::engine::general_purpose::STANDARD,
                            data,
                        ) {
                            Ok(d) => Outbound::Send(Bytes::from(d)),
                            Err(_) => continue,
                        }
                    }
                    Some("close") => Outbound::Close,
                    _ => continue,
                };
                if let Some(conn) = self.local.lock().ok().and_then(|l| l.get(id).cloned()) {
                    let _ = conn.tx.send(out);
                }
            }
            tracing::warn!("WebSocket delivery channel closed; resubscribing");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_adds_up_per_day_api_and_stage() {
        let mut usage = PendingUsage::new();
        let day = time::macros::date!(2026 - 12 - 06);
        add_usage(&mut usage, day, "a", "dev", (1, 0));
        add_usage(&mut usage, day, "a", "dev", (2, 3));
        add_usage(&mut usage, day, "a", "prod", (5, 0));
        add_usage(
            &mut usage,
            day.next_day().expect("a day"),
            "a",
            "dev",
            (7, 0),
        );
        assert_eq!(usage[&day]["a"]["dev"], (3, 3));
        assert_eq!(usage[&day]["a"]["prod"], (5, 0));
        assert_eq!(usage.len(), 2);
    }
}
