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
