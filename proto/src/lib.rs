//! The protobuf contract between the control plane and data-plane nodes.
//!
//! Two things live here: the `DeploymentSnapshot` (the immutable compiled form of a
//! deployed REST API, stored encoded with each deployment) and the `ConfigDiscovery`
//! streaming service through which nodes receive stages and snapshots. Keeping it in its
//! own crate lets both planes (and tests) share one definition.

/// Generated types for `apigw.config.v1`.
#[allow(clippy::all, missing_docs)]
pub mod config {
    tonic::include_proto!("apigw.config.v1");
}

/// The snapshot format this build produces and understands; a node rejects newer ones.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;
