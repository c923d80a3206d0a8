//! The protobuf contract between the control plane and data-plane nodes.
//!
//! Two things live here: the `DeploymentSnapshot` (the immutable compiled form of a
//! deployed REST API, stored encoded with each deployment) and the `ConfigDiscovery`
//! streaming service through which nodes receive stages and snapshots, and the
//! `MetricsIngest` service through which nodes ship their per-minute request metrics. Keeping it in its
//! own crate lets both planes (and tests) share one definition.

/// Generated types for `apigw.config.v1`.
#[allow(clippy::all, missing_docs)]
pub mod config {
    tonic::include_proto!("apigw.config.v1");
}

/// Generated types for `apigw.metrics.v1`: the per-minute metrics nodes ship.
#[allow(clippy::all, missing_docs)]
pub mod metrics {
    tonic::include_proto!("apigw.metrics.v1");
}

/// The snapshot format this build produces and understands; a node rejects newer ones.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;
