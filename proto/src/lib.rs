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

#[cfg(test)]
mod tests {
    use super::config::*;
    use prost::Message;

    fn full() -> ConfigUpdate {
        let stage = |api: &str| StageConfig {
            api_id: api.into(),
            stage_name: "prod".into(),
            deployment_id: "d1".into(),
            variables: [("a".to_string(), "1".to_string())].into(),
            deployment: Some(DeploymentSnapshot {
                api_id: api.into(),
                format_version: crate::SNAPSHOT_FORMAT_VERSION,
                ..Default::default()
            }),
            ..Default::default()
        };
        ConfigUpdate {
            version: 7,
            nonce: "n".into(),
            full: true,
            upsert_stages: vec![stage("a"), stage("b")],
            remove_stages: vec![StageKey {
                api_id: "c".into(),
                stage_name: "dev".into(),
            }],
            account: Some(AccountSettings {
                throttle_rate_limit: 1.0,
                throttle_burst_limit: 2,
            }),
            usage: Some(UsageConfig::default()),
            iam: Some(IamConfig::default()),
            v2: Some(V2Stages::default()),
            domains: Some(DomainConfig::default()),
        }
    }

    #[test]
    fn a_config_update_reads_as_a_lazy_one_and_back() {
        // What the control plane sends, read by a node: the same message, stages encoded.
        let sent = full().encode_to_vec();
        let read = LazyConfigUpdate::decode(sent.as_slice()).unwrap();
        assert_eq!(read, LazyConfigUpdate::from(full()));
        assert_eq!(read.decode_stages().unwrap(), full());
        assert_eq!(read.encoded_len(), sent.len());
        // And back: what a node writes (its state file) reads as the control plane's type.
        assert_eq!(read.encode_to_vec(), sent);
        assert_eq!(
            ConfigUpdate::decode(read.encode_to_vec().as_slice()).unwrap(),
            full()
        );
        // `StageKey` reads a stage's key from its bytes (its fields are StageConfig's first).
        let key = StageKey::decode(&read.upsert_stages[1][..]).unwrap();
        assert_eq!(
            (key.api_id.as_str(), key.stage_name.as_str()),
            ("b", "prod")
        );
    }

    /// The fields of `message` in config.proto: (number, name, type), one per line.
    fn fields(message: &str) -> Vec<(String, String, String)> {
        let proto = include_str!("../apigw/config/v1/config.proto");
        let start = proto
            .find(&format!("message {message} {{"))
            .expect("the message");
        let body = &proto[start..];
        let body = &body[..body.find("\n}").expect("its end")];
        body.lines()
            .skip(1)
            .map(|line| line.split("//").next().unwrap_or_default().trim())
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (decl, number) = line.trim_end_matches(';').split_once('=').unwrap();
                let words: Vec<&str> = decl.split_whitespace().collect();
                let (name, kind) = words.split_last().unwrap();
                (number.trim().to_string(), name.to_string(), kind.join(" "))
            })
            .collect()
    }

    #[test]
    fn the_lazy_update_has_every_field_of_the_update() {
        // A field added to ConfigUpdate and not to LazyConfigUpdate would be dropped by
        // every node: they must stay the same but for the stages' type.
        let update = fields("ConfigUpdate");
        let mut lazy = fields("LazyConfigUpdate");
        assert_eq!(update.len(), 10);
        for field in &mut lazy {
            if field.1 == "upsert_stages" {
                assert_eq!(field.2, "repeated bytes");
                field.2 = "repeated StageConfig".into();
            }
        }
        assert_eq!(lazy, update);
    }
}
