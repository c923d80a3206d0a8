//! The deployed state and how it is loaded and diffed.
//!
//! A load costs work proportional to what changed since the state it starts from, not to
//! what is deployed (issue 22): every state remembers where it was read
//! ([`ReadPoint`]: the database snapshot and row counts), and the next load reads
//!
//! - the stage rows written by transactions that snapshot did not see (migration 0023's
//!   `change_xid` marker, `store::deployed::CHANGED_SINCE`), keeping every other stage's
//!   entry as it was; all stage keys only when the row count says some were deleted;
//! - a section (usage plans and API keys, AWS_IAM keys, v2 stages, domains) only when one
//!   of its tables has such a row or a different row count ([`USAGE`], [`IAM`], [`V2`],
//!   [`DOMAINS`]), whole as before;
//! - the account settings (one row) every time.
//!
//! Exact whatever the commit order of concurrent writers: a transaction is visible in the
//! previous snapshot (its rows were read then) or not (its rows are read now, or by the
//! load after it commits). A sequence value compared with the last one seen would not be:
//! it is taken before commit, and a transaction that took a smaller one can commit later.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use apigw_proto::config as pb;
use prost::Message;
use sqlx::PgPool;

use crate::store;
use crate::store::deployed::Watched;
use crate::wire::{CanarySettings, Stage, ThrottleSettings};

/// (api id, stage name).
pub type StageKey = (String, String);

/// One deployed stage, with a fingerprint that changes whenever its config does.
#[derive(Debug, Clone)]
pub struct StageEntry {
    /// The transaction that last wrote the stage's row: every input of its config is the
    /// row, the immutable deployment snapshots it names and the master key, so a config
    /// changes only with a new writer.
    pub fingerprint: i64,
    /// What is sent to nodes.
    pub config: Arc<pb::StageConfig>,
}

/// Every stage, by key.
pub type Stages = BTreeMap<StageKey, StageEntry>;

/// Everything nodes need, at one version. Immutable once published.
#[derive(Debug, Clone, Default)]
pub struct DeployedState {
    /// Monotonic per control-plane replica; follows the `config_version` sequence.
    pub version: u64,
    /// Every stage (shared with the previous state when no stage changed).
    pub stages: Arc<Stages>,
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
    /// Where it was read (`None` for the empty state): the next load reads what changed
    /// since.
    pub read_at: Option<Arc<ReadPoint>>,
}

/// Where a [`DeployedState`] was read: what the next load needs to read only what
/// changed since.
#[derive(Debug, Clone, Default)]
pub struct ReadPoint {
    /// The database snapshot it was read in (`pg_current_snapshot()` as text).
    snapshot: String,
    /// Stages whose row names a deployment snapshot that was not there (the state leaves
    /// them out, as before); every load reads them again.
    unresolved: BTreeSet<StageKey>,
    /// Rows of each table of [`watched`] then, in its order: a deletion leaves no marker,
    /// but a smaller count.
    table_rows: Vec<i64>,
}

/// Whether two shared sections hold the same value (the same allocation, as a load that
/// did not read a section again shares it, or equal content).
fn same<T: PartialEq>(a: &Arc<T>, b: &Arc<T>) -> bool {
    Arc::ptr_eq(a, b) || a == b
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

    /// [`Self::full_update`] encoded, byte for byte, with `domains` in place of the
    /// state's own, without cloning every stage's config into a message first (at 10,000
    /// generated APIs that clone is ~6 million allocations, ~470 MB): prost writes a
    /// message's fields in field-number order, so the fields before `upsert_stages` (4),
    /// the stages, and the fields after it are written one after the other.
    pub fn encode_full_update(&self, nonce: String, domains: &pb::DomainConfig) -> Vec<u8> {
        const UPSERT_STAGES: u32 = 4;
        let head = pb::ConfigUpdate {
            version: self.version,
            nonce,
            full: true,
            ..Default::default()
        };
        let tail = pb::ConfigUpdate {
            account: Some(self.account),
            usage: Some((*self.usage).clone()),
            iam: Some((*self.iam).clone()),
            v2: Some((*self.v2).clone()),
            domains: Some(domains.clone()),
            ..Default::default()
        };
        let tail = tail.encode_to_vec();
        let stages: usize = self
            .stages
            .values()
            .map(|e| prost::encoding::message::encoded_len(UPSERT_STAGES, &*e.config))
            .sum();
        let mut buf = head.encode_to_vec();
        buf.reserve_exact(stages + tail.len());
        for e in self.stages.values() {
            prost::encoding::message::encode(UPSERT_STAGES, &*e.config, &mut buf);
        }
        buf.extend_from_slice(&tail);
        buf
    }

    /// The message that takes a node from `prev` to `self`; `None` when nothing differs.
    pub fn delta_from(&self, prev: &DeployedState, nonce: String) -> Option<pb::ConfigUpdate> {
        let (upsert, remove) = self.stage_changes(prev);
        let account_changed = self.account != prev.account;
        let usage_changed = !same(&self.usage, &prev.usage);
        let iam_changed = !same(&self.iam, &prev.iam);
        let v2_changed = !same(&self.v2, &prev.v2);
        let domains_changed = !same(&self.domains, &prev.domains);
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

    /// Whether two states hold the same config (versions and read points aside).
    pub fn same_content(&self, other: &DeployedState) -> bool {
        self.account == other.account
            && same(&self.usage, &other.usage)
            && same(&self.iam, &other.iam)
            && same(&self.v2, &other.v2)
            && same(&self.domains, &other.domains)
            && (Arc::ptr_eq(&self.stages, &other.stages)
                || (self.stages.len() == other.stages.len()
                    && self
                        .stages
                        .iter()
                        .zip(other.stages.iter())
                        .all(|((k, e), (ok, o))| k == ok && e.fingerprint == o.fingerprint)))
    }

    /// The stages to send a node that has `prev`'s (new or changed ones, in key order) and
    /// the keys it must drop: one walk of both sorted maps, no lookups (this runs once per
    /// connected node and change).
    fn stage_changes(&self, prev: &DeployedState) -> (Vec<pb::StageConfig>, Vec<pb::StageKey>) {
        let (mut upsert, mut remove) = (Vec::new(), Vec::new());
        if Arc::ptr_eq(&self.stages, &prev.stages) {
            return (upsert, remove);
        }
        let dropped = |(api_id, stage_name): &StageKey| pb::StageKey {
            api_id: api_id.clone(),
            stage_name: stage_name.clone(),
        };
        let mut old = prev.stages.iter().peekable();
        for (key, entry) in self.stages.iter() {
            while let Some((gone, _)) = old.next_if(|(k, _)| *k < key) {
                remove.push(dropped(gone));
            }
            match old.next_if(|(k, _)| *k == key) {
                Some((_, was)) if was.fingerprint == entry.fingerprint => {}
                _ => upsert.push((*entry.config).clone()),
            }
        }
        remove.extend(old.map(|(gone, _)| dropped(gone)));
        (upsert, remove)
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

/// The tables of the usage section: API keys, usage plans, and which key is in which plan.
pub const USAGE: &[Watched] = &[
    Watched::table("api_keys"),
    Watched::table("usage_plans"),
    Watched::table("usage_plan_keys"),
];
/// The tables of the AWS_IAM section: access keys, and their users (for the user ARN).
pub const IAM: &[Watched] = &[
    Watched::table("access_keys"),
    Watched::table("console_users"),
];
/// The rows of the v2 section: the stages and deployments (frozen definitions) of v2 APIs.
pub const V2: &[Watched] = &[Watched {
    table: "v2_items",
    rows: "kind IN ('stage', 'deployment')",
}];
/// The tables of the domains section: custom domains, their certificates, their REST and
/// v2 mappings, and client certificates.
pub const DOMAINS: &[Watched] = &[
    Watched::table("domain_names"),
    Watched::table("certificates"),
    Watched::table("base_path_mappings"),
    Watched::table("api_mappings"),
    Watched::table("client_certificates"),
];

/// [`USAGE`], [`IAM`], [`V2`] and [`DOMAINS`], in this order: the tables whose changes a
/// load checks ([`ReadPoint::table_rows`] follows this order).
fn watched() -> Vec<Watched> {
    [USAGE, IAM, V2, DOMAINS].concat()
}

/// What loads have read so far (counters, for tests and logs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Loads that succeeded.
    pub loads: u64,
    /// Stage rows read with their documents.
    pub stage_rows: u64,
    /// Reads of every stage key (a load whose row count showed deleted stages).
    pub stage_key_scans: u64,
    /// Reads of the usage section (all API keys and usage plans).
    pub usage_reads: u64,
    /// Reads of the AWS_IAM section.
    pub iam_reads: u64,
    /// Reads of the v2 section.
    pub v2_reads: u64,
    /// Reads of the domains section.
    pub domain_reads: u64,
}

/// Loads [`DeployedState`]s, each from the previous one and what changed since.
#[derive(Debug)]
pub struct Loader {
    db: PgPool,
    /// Unseals access-key secrets to derive the nodes' signing keys.
    vault: Arc<crate::keys::KeyVault>,
    /// The region signing keys are derived for (the control plane's).
    region: String,
    stats: LoadStats,
}

/// Whether a section whose tables are `range` of [`watched`] changed since `prev` (always
/// when there is no previous read).
fn section_changed(
    prev: Option<&ReadPoint>,
    now: &[(i64, bool)],
    mut range: std::ops::Range<usize>,
) -> bool {
    let Some(prev) = prev else { return true };
    range.any(|i| {
        now.get(i)
            .is_none_or(|(n, changed)| *changed || prev.table_rows.get(i) != Some(n))
    })
}

/// The oldest transaction running when a snapshot (`xmin:xmax:xip,...`) was taken.
fn snapshot_xmin(snapshot: &str) -> Option<u64> {
    snapshot.split(':').next()?.parse().ok()
}

impl Loader {
    /// A loader over `db`.
    pub fn new(db: PgPool, vault: Arc<crate::keys::KeyVault>, region: String) -> Self {
        Self {
            db,
            vault,
            region,
            stats: LoadStats::default(),
        }
    }

    /// What the loads so far have read.
    pub fn stats(&self) -> LoadStats {
        self.stats
    }

    /// Reads the current state: what changed since `prev` was read (everything when it
    /// was not), the rest shared with `prev`, whose version it advances from.
    pub async fn load(&mut self, prev: &DeployedState) -> Result<DeployedState, LoadError> {
        let mut tx = self.db.begin().await?;
        store::deployed::consistent_read(&mut tx).await?;
        let snapshot = store::deployed::snapshot(&mut tx).await?;
        // A snapshot's oldest running transaction never goes back in one database: if it
        // did, this is another one (restored from a backup, created anew) whose
        // transaction ids say nothing about the previous read, which is then ignored.
        let since = prev
            .read_at
            .as_deref()
            .filter(|p| snapshot_xmin(&snapshot) >= snapshot_xmin(&p.snapshot));
        let (seq, called) = store::config::version(&mut *tx).await?;
        let account = store::account::load(&mut tx).await?;

        // The sections, each read whole when one of its tables changed.
        let watched = watched();
        let tables = store::deployed::table_changes(
            &mut tx,
            since.map_or(snapshot.as_str(), |p| p.snapshot.as_str()),
            &watched,
        )
        .await?;
        let (u, i, v) = (USAGE.len(), IAM.len(), V2.len());
        let changed = |range| section_changed(since, &tables, range);
        let usage = if changed(0..u) {
            Some(load_usage(&mut tx).await?)
        } else {
            None
        };
        let iam_day = super::iam::today();
        let access_keys = if changed(u..u + i) || prev.iam_day != iam_day {
            Some(store::access_keys::all_enabled(&mut tx).await?)
        } else {
            None
        };
        let v2 = if changed(u + i..u + i + v) {
            Some(crate::v2::distribute::load(&mut tx, &self.region).await?)
        } else {
            None
        };
        let domains = if changed(u + i + v..watched.len()) {
            Some(load_domains(&mut tx, &self.vault).await?)
        } else {
            None
        };

        // The stages: those written since, and those left out last time.
        let stage_rows = store::deployed::stage_count(&mut tx).await?;
        let rows = match since {
            None => store::deployed::stages(&mut tx).await?,
            Some(p) => {
                let (apis, names): (Vec<String>, Vec<String>) =
                    p.unresolved.iter().cloned().unzip();
                store::deployed::stages_changed(&mut tx, &p.snapshot, &apis, &names).await?
            }
        };
        let snapshots = self.snapshots(&mut tx, &rows).await?;
        let mut stages: Option<Stages> = since.is_none().then(BTreeMap::new);
        let mut unresolved = BTreeSet::new();
        for row in &rows {
            let key = (row.api_id.clone(), row.stage_name.clone());
            let entry = self.entry(row, &snapshots);
            let map = stages.get_or_insert_with(|| (*prev.stages).clone());
            match entry {
                Some(entry) => {
                    map.insert(key, entry);
                }
                None => {
                    // A deployment it names is missing (a canary's, deleted meanwhile):
                    // left out, read again by every load until it resolves or goes.
                    map.remove(&key);
                    unresolved.insert(key);
                }
            }
        }
        // Every stage row now is in the map or unresolved (a row the previous read saw
        // unchanged, or one read above); the map may still hold deleted ones, which the
        // count shows.
        let held = stages.as_ref().map_or(prev.stages.len(), BTreeMap::len) + unresolved.len();
        if usize::try_from(stage_rows).ok() != Some(held) {
            let keys: HashSet<StageKey> = store::deployed::stage_keys(&mut tx)
                .await?
                .into_iter()
                .collect();
            stages
                .get_or_insert_with(|| (*prev.stages).clone())
                .retain(|k, _| keys.contains(k));
            self.stats.stage_key_scans += 1;
        }
        tx.commit().await?;

        self.stats.loads += 1;
        self.stats.stage_rows += rows.len() as u64;
        self.stats.usage_reads += u64::from(usage.is_some());
        self.stats.iam_reads += u64::from(access_keys.is_some());
        self.stats.v2_reads += u64::from(v2.is_some());
        self.stats.domain_reads += u64::from(domains.is_some());

        let usage = match usage {
            Some(u) if *prev.usage != u => Arc::new(u),
            _ => prev.usage.clone(),
        };
        let iam = match access_keys {
            Some(keys) => {
                let iam = super::iam::config(&keys, &self.vault, &self.region, &iam_day);
                if *prev.iam == iam {
                    prev.iam.clone()
                } else {
                    Arc::new(iam)
                }
            }
            None => prev.iam.clone(),
        };
        let v2 = match v2 {
            Some(v2) if *prev.v2 != v2 => Arc::new(v2),
            _ => prev.v2.clone(),
        };
        let domains = match domains {
            Some(d) if *prev.domains != d => Arc::new(d),
            _ => prev.domains.clone(),
        };
        let read_at = ReadPoint {
            snapshot,
            unresolved,
            table_rows: tables.iter().map(|(n, _)| *n).collect(),
        };
        let mut next = DeployedState {
            version: prev.version,
            v2,
            domains,
            usage,
            iam,
            iam_day,
            stages: stages.map_or_else(|| prev.stages.clone(), Arc::new),
            account: pb::AccountSettings {
                throttle_rate_limit: account.throttle_settings.rate_limit,
                throttle_burst_limit: account.throttle_settings.burst_limit,
            },
            read_at: Some(Arc::new(read_at)),
        };
        let seq = if called { seq.max(0) as u64 } else { 0 };
        if prev.version == 0 || !next.same_content(prev) {
            next.version = seq.max(prev.version + 1);
        }
        Ok(next)
    }

    /// The decoded snapshots of the deployments `rows` serve (and their canaries'), read
    /// once per load: a stage's config holds its own copy.
    async fn snapshots(
        &self,
        conn: &mut sqlx::PgConnection,
        rows: &[store::deployed::StageRow],
    ) -> Result<HashMap<(String, String), Arc<pb::DeploymentSnapshot>>, LoadError> {
        let wanted: BTreeSet<(String, String)> = rows
            .iter()
            .flat_map(|r| {
                let canary = r.doc.canary_settings.as_ref();
                std::iter::once(r.deployment_id.clone())
                    .chain(canary.map(|c| c.deployment_id.clone()))
                    .map(|id| (r.api_id.clone(), id))
            })
            .collect();
        let mut out = HashMap::new();
        if wanted.is_empty() {
            return Ok(out);
        }
        let (apis, ids): (Vec<String>, Vec<String>) = wanted.into_iter().unzip();
        for (api_id, deployment_id, bytes) in store::deployed::snapshots(conn, &apis, &ids).await? {
            let snap = pb::DeploymentSnapshot::decode(bytes.as_slice()).map_err(|source| {
                LoadError::Snapshot {
                    api_id: api_id.clone(),
                    deployment_id: deployment_id.clone(),
                    source,
                }
            })?;
            out.insert((api_id, deployment_id), Arc::new(snap));
        }
        Ok(out)
    }

    /// A stage's entry from its row; `None` when a snapshot it needs is missing.
    fn entry(
        &self,
        row: &store::deployed::StageRow,
        snapshots: &HashMap<(String, String), Arc<pb::DeploymentSnapshot>>,
    ) -> Option<StageEntry> {
        let api_id = &row.api_id;
        let snapshot = snapshots.get(&(api_id.clone(), row.deployment_id.clone()))?;
        let canary = match &row.doc.canary_settings {
            Some(c) => Some((
                c,
                snapshots.get(&(api_id.clone(), c.deployment_id.clone()))?,
            )),
            None => None,
        };
        let mut config = stage_config(
            api_id,
            &row.stage_name,
            &row.doc,
            row.last_updated,
            Epochs {
                authorizer: row.authorizer_epoch,
                cache: row.cache_epoch,
                cache_salt: row.cache_key_salt.as_u64_pair().0,
            },
            snapshot,
        );
        config.canary = canary.map(|(c, snap)| canary_config(c, snap));
        if seals_cache_data(&row.doc) {
            config.cache_data_key = self
                .vault
                .stage_cache_key(
                    api_id,
                    &row.stage_name,
                    row.cache_key_salt.as_bytes(),
                    row.cache_epoch,
                )
                .to_vec();
        }
        Some(StageEntry {
            fingerprint: row.change_xid,
            config: Arc::new(config),
        })
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

    fn entry(api: &str, stage: &str, fp: i64) -> (StageKey, StageEntry) {
        (
            (api.into(), stage.into()),
            StageEntry {
                fingerprint: fp,
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
            stages: Arc::new([entry("a", "prod", 1), entry("a", "dev", 1)].into()),
            account: Default::default(),
            ..Default::default()
        };
        assert!(a.delta_from(&a, "n".into()).is_none());
        let b = DeployedState {
            version: 2,
            stages: Arc::new([entry("a", "prod", 2), entry("b", "prod", 1)].into()),
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

    #[test]
    fn the_full_update_encodes_the_same_without_the_clone() {
        let mut state = DeployedState {
            version: 7,
            stages: Arc::new([entry("a", "prod", 1), entry("b", "dev", 2)].into()),
            account: pb::AccountSettings {
                throttle_rate_limit: 10.0,
                throttle_burst_limit: 5,
            },
            usage: Arc::new(pb::UsageConfig {
                usage_plans: vec![pb::UsagePlanConfig {
                    id: "p".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let domains = pb::DomainConfig {
            client_certificates: vec![pb::ClientCertificateConfig {
                id: "c".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        state.domains = Arc::new(domains.clone());
        assert_eq!(
            state.encode_full_update("n".into(), &domains),
            state.full_update("n".into()).encode_to_vec()
        );
        let empty = DeployedState::default();
        assert_eq!(
            empty.encode_full_update(String::new(), &pb::DomainConfig::default()),
            empty.full_update(String::new()).encode_to_vec()
        );
    }
}
