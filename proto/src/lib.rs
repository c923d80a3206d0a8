//! The protobuf contract between the control plane and data-plane nodes.
//!
//! What lives here: the `DeploymentSnapshot` (the immutable compiled form of a deployed
//! REST API, stored encoded with each deployment), the `ConfigDiscovery` streaming service
//! through which nodes receive stages and snapshots, the `MetricsIngest` service through
//! which nodes ship their per-minute request metrics, and the `LogsIngest` service through
//! which they ship access and execution log lines. Keeping it in its own crate lets both
//! planes (and tests) share one definition.

/// Generated types for `apigw.config.v1`.
#[allow(clippy::all, missing_docs)]
pub mod config {
    tonic::include_proto!("apigw.config.v1");
}

/// Generated types for `apigw.metrics.v1`: the per-minute metrics nodes ship.
#[allow(clippy::all, missing_docs)]
pub mod metrics {
    tonic::include_proto!("apigw.metrics.v1");

    /// The `MinuteSeries.method` that marks a WebSocket API's series (see `metrics.proto`).
    pub const WEBSOCKET_METHOD: &str = "WEBSOCKET";

    /// The `MinuteSeries.method` that marks an HTTP API's series (see `metrics.proto`).
    pub const HTTP_API_METHOD: &str = "HTTPAPI";
}

/// Generated types for `apigw.logs.v1`: the access and execution log lines nodes ship.
#[allow(clippy::all, missing_docs)]
pub mod logs {
    tonic::include_proto!("apigw.logs.v1");
}

pub mod state_frame;

impl From<config::ConfigUpdate> for config::LazyConfigUpdate {
    /// The same update with its stages encoded (what a node would have read off the wire).
    fn from(update: config::ConfigUpdate) -> Self {
        let config::ConfigUpdate {
            version,
            nonce,
            full,
            upsert_stages,
            remove_stages,
            account,
            usage,
            iam,
            v2,
            domains,
        } = update;
        config::LazyConfigUpdate {
            version,
            nonce,
            full,
            upsert_stages: upsert_stages
                .iter()
                .map(|stage| prost::Message::encode_to_vec(stage).into())
                .collect(),
            remove_stages,
            account,
            usage,
            iam,
            v2,
            domains,
        }
    }
}

impl config::LazyConfigUpdate {
    /// The update with every stage decoded (tests, tools: a node decodes one at a time).
    pub fn decode_stages(&self) -> Result<config::ConfigUpdate, prost::DecodeError> {
        Ok(config::ConfigUpdate {
            version: self.version,
            nonce: self.nonce.clone(),
            full: self.full,
            upsert_stages: self
                .upsert_stages
                .iter()
                .map(|bytes| <config::StageConfig as prost::Message>::decode(&bytes[..]))
                .collect::<Result<_, _>>()?,
            remove_stages: self.remove_stages.clone(),
            account: self.account,
            usage: self.usage.clone(),
            iam: self.iam.clone(),
            v2: self.v2.clone(),
            domains: self.domains.clone(),
        })
    }
}

/// The snapshot format this build produces and understands; a node rejects newer ones.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// The `ConfigDiscovery.Stream` response metadata naming the control plane's cluster (its
/// id in Postgres). A node whose Redis key prefix is claimed by another cluster refuses the
/// stream.
pub const CLUSTER_ID_METADATA: &str = "apigw-cluster-id";

/// The Redis key, after the key prefix, holding the id of the cluster that claimed the
/// prefix (set once by its first control plane, never expiring).
pub const CLUSTER_CLAIM_KEY: &str = "cluster";

/// The Redis hash, after the key prefix, holding the last deployed state the control
/// planes published for brand-new nodes: `version` (decimal) and `state` (a full
/// `ConfigUpdate` framed by [`state_frame`], private keys left out). Written only forwards
/// (a higher version), never expiring.
pub const PUBLISHED_STATE_KEY: &str = "state";
