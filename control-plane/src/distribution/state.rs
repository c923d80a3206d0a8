//! The deployed state and how it is loaded and diffed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use apigw_proto::config as pb;
use prost::Message;
use sqlx::PgPool;

use crate::store;
use crate::wire::{CanarySettings, Stage, ThrottleSettings};

/// (api id, stage name).
pub type StageKey = (String, String);

/// One deployed stage, with a fingerprint that changes whenever its config does.
#[derive(Debug, Clone)]
pub struct StageEntry {
    /// Cheap identity of the config: deployment id and the stage document.
    pub fingerprint: String,
    /// What is sent to nodes.
    pub config: Arc<pb::StageConfig>,
}

/// Everything nodes need, at one version. Immutable once published.
#[derive(Debug, Clone, Default)]
pub struct DeployedState {
    /// Monotonic per control-plane replica; follows the `config_version` sequence.
    pub version: u64,
    /// Every stage.
    pub stages: BTreeMap<StageKey, StageEntry>,
    /// Account-level settings.
    pub account: pb::AccountSettings,
    /// API keys (hashes) and usage plans.
    pub usage: Arc<pb::UsageConfig>,
    /// What nodes need to verify AWS_IAM signatures (derived keys, never secrets).
    pub iam: Arc<pb::IamConfig>,
    /// The UTC day the IAM keys were derived for (a new day needs new keys).
    pub iam_day: String,
    /// Every deployed apigatewayv2 (WebSocket) stage (`crate::v2::distribute`).
    pub v2: Arc<pb::V2Stages>,
    /// Custom domains (with their keys) and client certificates.
    pub domains: Arc<pb::DomainConfig>,
}

impl DeployedState {
    /// The message that replaces a node's whole state.
    pub fn full_update(&self, nonce: String) -> pb::ConfigUpdate {
        pb::ConfigUpdate {
            version: self.version,
            nonce,
            full: true,
            upsert_stages: self.stages.values().map(|e| (*e.config).clone()).collect(),
            remove_stages: vec![],
            account: Some(self.account),
            usage: Some((*self.usage).clone()),
            iam: Some((*self.iam).clone()),
            v2: Some((*self.v2).clone()),
            domains: Some((*self.domains).clone()),
        }
    }

    /// The message that takes a node from `prev` to `self`; `None` when nothing differs.
    pub fn delta_from(&self, prev: &DeployedState, nonce: String) -> Option<pb::ConfigUpdate> {
        let upsert: Vec<pb::StageConfig> = self
            .stages
            .iter()
            .filter(|(k, e)| prev.stages.get(*k).map(|p| &p.fingerprint) != Some(&e.fingerprint))
            .map(|(_, e)| (*e.config).clone())
            .collect();
        let remove: Vec<pb::StageKey> = prev
            .stages
            .keys()
            .filter(|k| !self.stages.contains_key(*k))
            .map(|(api_id, stage_name)| pb::StageKey {
                api_id: api_id.clone(),
                stage_name: stage_name.clone(),
            })
            .collect();
        let account_changed = self.account != prev.account;
        let usage_changed = self.usage != prev.usage;
        let iam_changed = self.iam != prev.iam;
        let v2_changed = self.v2 != prev.v2;
        let domains_changed = self.domains != prev.domains;
        if upsert.is_empty()
            && remove.is_empty()
            && !account_changed
            && !usage_changed
            && !iam_changed
            && !v2_changed
            && !domains_changed
        {
            return None;
        }
        Some(pb::ConfigUpdate {
            version: self.version,
            nonce,
            full: false,
            upsert_stages: upsert,
            remove_stages: remove,
            account: account_changed.then_some(self.account),
            usage: usage_changed.then(|| (*self.usage).clone()),
            iam: iam_changed.then(|| (*self.iam).clone()),
            v2: v2_changed.then(|| (*self.v2).clone()),
            domains: domains_changed.then(|| (*self.domains).clone()),
        })
    }

    /// Whether two states hold the same config (versions aside).
    pub fn same_content(&self, other: &DeployedState) -> bool {
        self.account == other.account
            && self.usage == other.usage
            && self.iam == other.iam
            && self.v2 == other.v2
            && self.domains == other.domains
            && self.stages.len() == other.stages.len()
            && self
                .stages
                .iter()
                .all(|(k, e)| other.stages.get(k).map(|o| &o.fingerprint) == Some(&e.fingerprint))
    }
}

/// Errors while loading the deployed state.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Postgres failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored snapshot does not decode (should never happen: we wrote it).
    #[error("snapshot {api_id}/{deployment_id} does not decode: {source}")]
    Snapshot {
        /// API id.
        api_id: String,
        /// Deployment id.
        deployment_id: String,
        /// Decoder error.
        source: prost::DecodeError,
    },
}

/// Loads [`DeployedState`]s, caching decoded snapshots (they never change).
#[derive(Debug)]
pub struct Loader {
    db: PgPool,
    /// Unseals access-key secrets to derive the nodes' signing keys.
    vault: Arc<crate::keys::KeyVault>,
    /// The region signing keys are derived for (the control plane's).
    region: String,
    snapshots: HashMap<(String, String), Arc<pb::DeploymentSnapshot>>,
}

impl Loader {
    /// A loader over `db`.
    pub fn new(db: PgPool, vault: Arc<crate::keys::KeyVault>, region: String) -> Self {
        Self {
            db,
            vault,
            region,
            snapshots: HashMap::new(),
        }
    }

    /// Reads the current state; `prev` provides the version to advance from.
    pub async fn load(&mut self, prev: &DeployedState) -> Result<DeployedState, LoadError> {
        let mut tx = self.db.begin().await?;
        store::deployed::consistent_read(&mut tx).await?;
        let (seq, called) = store::config::version(&mut *tx).await?;
        let rows = store::deployed::stages(&mut tx).await?;
        let account = store::account::load(&mut tx).await?;
        let usage = load_usage(&mut tx).await?;
        let access_keys = store::access_keys::all_enabled(&mut tx).await?;
        let v2 = crate::v2::distribute::load(&mut tx, &self.region).await?;
        let domains = load_domains(&mut tx, &self.vault).await?;
        let mut missing: Vec<(String, String)> = rows
            .iter()
            .flat_map(|r| {
                let canary = r.doc.canary_settings.as_ref();
                std::iter::once(r.deployment_id.clone())
                    .chain(canary.map(|c| c.deployment_id.clone()))
                    .map(|id| (r.api_id.clone(), id))
            })
            .filter(|k| !self.snapshots.contains_key(k))
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            let (apis, ids): (Vec<String>, Vec<String>) = missing.into_iter().unzip();
            let found = store::deployed::snapshots(&mut tx, &apis, &ids).await?;
            for (api_id, deployment_id, bytes) in found {
                let snap = pb::DeploymentSnapshot::decode(bytes.as_slice()).map_err(|source| {
                    LoadError::Snapshot {
                        api_id: api_id.clone(),
                        deployment_id: deployment_id.clone(),
                        source,
                    }
                })?;
                self.snapshots
                    .insert((api_id, deployment_id), Arc::new(snap));
            }
        }
        tx.commit().await?;

        let mut stages = BTreeMap::new();
        for row in rows {
            let store::deployed::StageRow {
                api_id,
                stage_name,
                deployment_id,
                doc,
                last_updated,
                authorizer_epoch,
                cache_epoch,
                cache_key_salt,
            } = row;
            let fingerprint = format!(
                "{deployment_id}|{authorizer_epoch}|{cache_epoch}|{cache_key_salt}|{}",
                serde_json::to_string(&doc).unwrap_or_default()
            );
            let key = (api_id.clone(), stage_name.clone());
            if let Some(old) = prev
                .stages
                .get(&key)
                .filter(|e| e.fingerprint == fingerprint)
            {
                stages.insert(key, old.clone());
                continue;
            }
            let Some(snapshot) = self.snapshots.get(&(api_id.clone(), deployment_id.clone()))
            else {
                continue; // deleted between the two reads; the next load settles it
            };
            let canary = match &doc.canary_settings {
                Some(c) => match self
                    .snapshots
                    .get(&(api_id.clone(), c.deployment_id.clone()))
                {
                    Some(snap) => Some((c, snap.as_ref())),
                    None => continue, // as above
                },
                None => None,
            };
            let mut config = stage_config(
                &api_id,
                &stage_name,
                &doc,
                last_updated,
                Epochs {
                    authorizer: authorizer_epoch,
                    cache: cache_epoch,
                    cache_salt: cache_key_salt.as_u64_pair().0,
                },
                snapshot,
            );
            config.canary = canary.map(|(c, snap)| canary_config(c, snap));
            if seals_cache_data(&doc) {
                config.cache_data_key = self
                    .vault
                    .stage_cache_key(&api_id, &stage_name, cache_key_salt.as_bytes(), cache_epoch)
                    .to_vec();
            }
            stages.insert(
                key,
                StageEntry {
                    fingerprint,
                    config: Arc::new(config),
                },
            );
        }
        let usage = if *prev.usage == usage {
            prev.usage.clone()
        } else {
            Arc::new(usage)
        };
        let iam_day = super::iam::today();
        let iam = super::iam::config(&access_keys, &self.vault, &self.region, &iam_day);
        let iam = if *prev.iam == iam {
            prev.iam.clone()
        } else {
            Arc::new(iam)
        };
        let v2 = if *prev.v2 == v2 {
            prev.v2.clone()
        } else {
            Arc::new(v2)
        };
        let domains = if *prev.domains == domains {
            prev.domains.clone()
        } else {
            Arc::new(domains)
        };
        let mut next = DeployedState {
            version: prev.version,
            v2,
            domains,
            usage,
            iam,
            iam_day,
            stages,
            account: pb::AccountSettings {
                throttle_rate_limit: account.throttle_settings.rate_limit,
                throttle_burst_limit: account.throttle_settings.burst_limit,
            },
        };
        let seq = if called { seq.max(0) as u64 } else { 0 };
        if prev.version == 0 || !next.same_content(prev) {
            next.version = seq.max(prev.version + 1);
        }
        // Drop cached snapshots no stage uses any more.
        let used: std::collections::HashSet<(String, String)> = next
            .stages
            .values()
            .flat_map(|e| {
                let canary = e.config.canary.as_ref();
                std::iter::once(e.config.deployment_id.clone())
                    .chain(canary.map(|c| c.deployment_id.clone()))
                    .map(|id| (e.config.api_id.clone(), id))
            })
            .collect();
        self.snapshots.retain(|k, _| used.contains(k));
        Ok(next)
    }
}

/// Reads the custom domains (keys unsealed with the master key) with their base path
/// mappings, and the client certificates. A key that does not unseal (a changed master
/// key) leaves its domain or certificate out, loudly, instead of stopping the stream.
async fn load_domains(
    conn: &mut sqlx::PgConnection,
    vault: &crate::keys::KeyVault,
) -> Result<pb::DomainConfig, sqlx::Error> {
    let rows = store::domains::deployed(&mut *conn).await?;
    let mappings = store::domains::all_mappings(&mut *conn).await?;
    let certs = store::client_certificates::all_with_keys(&mut *conn).await?;
    let mut out = pb::DomainConfig::default();
    for (name, policy, truststore, body, chain, key_enc) in rows {
        let key = match vault.decrypt(&key_enc) {
            Ok(key) => key,
            Err(e) => {
                tracing::error!(domain = %name, error = %e, "domain certificate key does not unseal; not shipped");
                continue;
            }
        };
        out.domains.push(pb::CustomDomain {
            mappings: mappings
                .iter()
                .filter(|(d, _)| *d == name)
                .map(|(_, m)| pb::BasePathMappingConfig {
                    base_path: if m.base_path == "(none)" {
                        String::new()
                    } else {
                        m.base_path.clone()
                    },
                    api_id: m.rest_api_id.clone(),
                    stage: m.stage.clone().unwrap_or_default(),
                })
                .collect(),
            domain_name: name,
            certificate_chain_pem: body + chain.as_deref().unwrap_or(""),
            private_key_pem: key,
            security_policy: policy,
            truststore_pem: truststore.unwrap_or_default(),
        });
    }
    for (cert, key_enc) in certs {
        match vault.decrypt(&key_enc) {
            Ok(key) => out.client_certificates.push(pb::ClientCertificateConfig {
                id: cert.client_certificate_id,
                certificate_pem: cert.pem_encoded_certificate,
                private_key_pem: key,
            }),
            Err(e) => tracing::error!(
                client_certificate = %cert.client_certificate_id,
                error = %e,
                "client certificate key does not unseal; not shipped"
            ),
        }
    }
    Ok(out)
}

/// Reads API keys (hash, enabled, plans) and usage plans into their streamed form.
async fn load_usage(conn: &mut sqlx::PgConnection) -> Result<pb::UsageConfig, sqlx::Error> {
    let keys = store::deployed::api_keys(&mut *conn).await?;
    let plans = store::deployed::usage_plans(&mut *conn).await?;
    let throttle = |t: &ThrottleSettings| pb::ThrottleLimit {
        rate_limit: t.rate_limit,
        burst_limit: t.burst_limit,
    };
    Ok(pb::UsageConfig {
        api_keys: keys
            .into_iter()
            .map(|(id, hash, doc, plan_ids)| pb::ApiKeyEntry {
                id,
                value_hash: hash,
                enabled: doc.enabled,
                plan_ids,
            })
            .collect(),
        usage_plans: plans
            .into_iter()
            .map(|(p, created)| pb::UsagePlanConfig {
                id: p.id,
                throttle: p.throttle.as_ref().map(throttle),
                quota: p.quota.map(|q| pb::QuotaLimit {
                    limit: q.limit,
                    offset: q.offset,
                    period: q.period,
                }),
                api_stages: p
                    .api_stages
                    .iter()
                    .map(|s| pb::PlanApiStage {
                        api_id: s.api_id.clone(),
                        stage: s.stage.clone(),
                        method_throttle: s
                            .throttle
                            .iter()
                            .map(|(k, t)| (k.clone(), throttle(t)))
                            .collect(),
                    })
                    .collect(),
                created_date: created,
            })
            .collect(),
    })
}

/// Whether a stage's nodes need its cache data key: its cache is on and some method
/// setting has `caching/dataEncrypted`. Stages that never ask for encryption never carry
/// key material on the config stream.
fn seals_cache_data(doc: &Stage) -> bool {
    doc.cache_cluster_enabled && doc.method_settings.values().any(|s| s.cache_data_encrypted)
}

/// A stage's flush counters (FlushStageAuthorizersCache, FlushStageCache), and the stage
/// row's random cache salt: the streamed cache epoch is `salt + epoch`, so a stage deleted
/// and created again under the same name never reads its predecessor's cache entries
/// (its epoch starts again at 0, its salt does not).
struct Epochs {
    authorizer: i64,
    cache: i64,
    cache_salt: u64,
}

/// Builds the streamed form of a stage.
fn stage_config(
    api_id: &str,
    stage_name: &str,
    doc: &Stage,
    last_updated: i64,
    epochs: Epochs,
    snapshot: &pb::DeploymentSnapshot,
) -> pb::StageConfig {
    pb::StageConfig {
        api_id: api_id.to_string(),
        stage_name: stage_name.to_string(),
        deployment_id: doc.deployment_id.clone(),
        variables: doc.variables.clone().into_iter().collect(),
        method_settings: doc
            .method_settings
            .iter()
            .map(|(k, s)| {
                (
                    k.clone(),
                    pb::MethodSetting {
                        metrics_enabled: s.metrics_enabled,
                        logging_level: s.logging_level.clone(),
                        data_trace_enabled: s.data_trace_enabled,
                        throttling_burst_limit: s.throttling_burst_limit,
                        throttling_rate_limit: s.throttling_rate_limit,
                        caching_enabled: s.caching_enabled,
                        cache_ttl_in_seconds: s.cache_ttl_in_seconds,
                        cache_data_encrypted: s.cache_data_encrypted,
                        require_authorization_for_cache_control: s
                            .require_authorization_for_cache_control,
                        unauthorized_cache_control_header_strategy: s
                            .unauthorized_cache_control_header_strategy
                            .clone(),
                    },
                )
            })
            .collect(),
        deployment: Some(snapshot.clone()),
        last_updated_date: last_updated,
        cache_cluster_enabled: doc.cache_cluster_enabled,
        tracing_enabled: doc.tracing_enabled,
        authorizer_cache_epoch: u64::try_from(epochs.authorizer).unwrap_or(0),
        // Both members or nothing: lines need a format and a log group to go to.
        access_log: doc.access_log_settings.as_ref().and_then(|a| {
            Some(pb::AccessLogSettings {
                format: a.format.clone()?,
                destination_arn: a.destination_arn.clone()?,
            })
        }),
        cache_epoch: epochs
            .cache_salt
            .wrapping_add(u64::try_from(epochs.cache).unwrap_or(0)),
        cache_cluster_size: doc.cache_cluster_size.clone().unwrap_or_default(),
        client_certificate_id: doc.client_certificate_id.clone().unwrap_or_default(),
        ..Default::default()
    }
}

/// Builds the streamed form of a stage's canary.
fn canary_config(canary: &CanarySettings, snapshot: &pb::DeploymentSnapshot) -> pb::CanaryConfig {
    pb::CanaryConfig {
        deployment_id: canary.deployment_id.clone(),
        deployment: Some(snapshot.clone()),
        percent_traffic: canary.percent_traffic,
        stage_variable_overrides: canary
            .stage_variable_overrides
            .clone()
            .into_iter()
            .collect(),
        use_stage_cache: canary.use_stage_cache,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(api: &str, stage: &str, fp: &str) -> (StageKey, StageEntry) {
        (
            (api.into(), stage.into()),
            StageEntry {
                fingerprint: fp.into(),
                config: Arc::new(pb::StageConfig {
                    api_id: api.into(),
                    stage_name: stage.into(),
                    ..Default::default()
                }),
            },
        )
    }

    #[test]
    fn deltas_carry_only_changes() {
        let a = DeployedState {
            version: 1,
            stages: [entry("a", "prod", "1"), entry("a", "dev", "1")].into(),
            account: Default::default(),
            ..Default::default()
        };
        assert!(a.delta_from(&a, "n".into()).is_none());
        let b = DeployedState {
            version: 2,
            stages: [entry("a", "prod", "2"), entry("b", "prod", "1")].into(),
            account: Default::default(),
            ..Default::default()
        };
        let d = b.delta_from(&a, "n".into()).unwrap();
        assert!(!d.full);
        let upserts: Vec<_> = d
            .upsert_stages
            .iter()
            .map(|s| (s.api_id.as_str(), s.stage_name.as_str()))
            .collect();
        assert_eq!(upserts, vec![("a", "prod"), ("b", "prod")]);
        assert_eq!(d.remove_stages.len(), 1);
        assert_eq!(d.remove_stages[0].stage_name, "dev");
        assert!(d.account.is_none());
        let full = b.full_update("n".into());
        assert!(full.full && full.upsert_stages.len() == 2 && full.account.is_some());
    }
}
