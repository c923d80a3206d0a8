//! The node's deployed state: every compiled stage, keyed by API and stage name, behind an
//! `ArcSwap` so requests read it lock-free and a new version replaces it in one store.
//!
//! [`apply_update`] builds the next state from the current one and a `ConfigUpdate`
//! (full replace or delta); it is pure, so the config client can run it off the request
//! threads and simply not store it when compilation fails. A node reads its updates as
//! `LazyConfigUpdate`s (the same wire bytes, each stage left encoded) and builds the state
//! with [`apply_lazy_update_counted`], which decodes, compiles and drops one stage at a
//! time: the peak is the encoded update, one decoded stage and the compiled state, not the
//! whole update decoded (7× its encoding; docs/scale.md "Node memory").

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use apigw_proto::config::{
    AccountSettings, ConfigUpdate, DomainConfig, IamConfig, LazyConfigUpdate, StageConfig,
    StageKey, UsageConfig, V2Stages,
};
use arc_swap::ArcSwap;
use prost::Message;

use crate::backend_client::ClientIdentity;
use crate::compile::domain::{compile_domains, CompiledDomains};
use crate::compile::http_api::compile_http_stage;
use crate::compile::usage::{compile_usage, CompiledUsage};
use crate::compile::websocket::{compile_all, WsStage, WsStages};
use crate::compile::{compile_stage, CompileError, CompiledStage};
use crate::phases::authorize::iam::IamKeys;

/// Looked up twice per request with names from the request: foldhash is several times
/// cheaper than SipHash here and still randomly seeded.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The deployed HTTP API stages, by API id then stage name.
pub type HttpStages = FastMap<Box<str>, FastMap<Box<str>, Arc<CompiledStage>>>;

/// A compiled REST stage with the digest of the `StageConfig` it was compiled from, so a
/// full update (a reconnect, another control-plane replica, a node that bootstrapped from
/// a state file or Redis) recompiles only the stages whose config differs.
#[derive(Debug, Clone)]
struct Deployed {
    compiled: Arc<CompiledStage>,
    source: [u8; 32],
}

/// SHA-256 of a stage's config as encoded: equal digests, equal compiled stages. A node
/// takes it over the bytes it received; a decoded config is encoded again first, to the
/// same bytes (prost encodes fields in number order, and the config's maps are
/// `BTreeMap`s), so both forms of one config have one digest.
fn source_digest(encoded: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(encoded).into()
}

/// A stage as an update carries it: decoded (`ConfigUpdate`) or encoded
/// (`LazyConfigUpdate`, as a node receives it).
trait UpsertedStage {
    /// Its API id and stage name; `at` (its place in the update) names it when even
    /// those do not decode.
    fn key(&self, at: usize) -> Result<StageKey, CompileError>;
    /// [`source_digest`] of its config.
    fn digest(&self) -> [u8; 32];
    /// Compiles it (decoding it first when encoded; the decoded form is dropped before
    /// this returns).
    fn compile(&self, key: &StageKey) -> Result<CompiledStage, CompileError>;
}

impl UpsertedStage for StageConfig {
    fn key(&self, _at: usize) -> Result<StageKey, CompileError> {
        Ok(StageKey {
            api_id: self.api_id.clone(),
            stage_name: self.stage_name.clone(),
        })
    }

    fn digest(&self) -> [u8; 32] {
        source_digest(&self.encode_to_vec())
    }

    fn compile(&self, _key: &StageKey) -> Result<CompiledStage, CompileError> {
        compile_stage(self)
    }
}

fn undecodable(api_id: &str, stage: &str, at: String, error: prost::DecodeError) -> CompileError {
    CompileError {
        api_id: api_id.to_string(),
        stage: stage.to_string(),
        at,
        kind: Box::new(error.into()),
    }
}

impl UpsertedStage for bytes::Bytes {
    fn key(&self, at: usize) -> Result<StageKey, CompileError> {
        // `StageKey` has `StageConfig`'s first two fields at their numbers: decoding it
        // reads those two strings and skips the rest (checking the wire format only).
        StageKey::decode(&self[..])
            .map_err(|e| undecodable("?", "?", format!("upsert_stages[{at}]"), e))
    }

    fn digest(&self) -> [u8; 32] {
        source_digest(self)
    }

    fn compile(&self, key: &StageKey) -> Result<CompiledStage, CompileError> {
        let config = StageConfig::decode(&self[..]).map_err(|e| {
            undecodable(&key.api_id, &key.stage_name, "stage config".to_string(), e)
        })?;
        compile_stage(&config)
    }
}

/// The sections of an update besides its upserted stages, borrowed from either form.
struct Sections<'a> {
    version: u64,
    full: bool,
    remove_stages: &'a [StageKey],
    account: Option<&'a AccountSettings>,
    usage: Option<&'a UsageConfig>,
    iam: Option<&'a IamConfig>,
    v2: Option<&'a V2Stages>,
    domains: Option<&'a DomainConfig>,
}

/// The [`Sections`] of an update of either form (`ConfigUpdate`, `LazyConfigUpdate`: the
/// same fields, but for how the upserted stages are held).
macro_rules! sections_of {
    ($update:expr) => {{
        let update = $update;
        Sections {
            version: update.version,
            full: update.full,
            remove_stages: &update.remove_stages,
            account: update.account.as_ref(),
            usage: update.usage.as_ref(),
            iam: update.iam.as_ref(),
            v2: update.v2.as_ref(),
            domains: update.domains.as_ref(),
        }
    }};
}

/// One immutable version of everything the node serves.
#[derive(Debug, Clone, Default)]
pub struct GatewayState {
    /// The config version this state was built from (0 = nothing applied yet).
    pub version: u64,
    apis: FastMap<Box<str>, FastMap<Box<str>, Deployed>>,
    /// Account-level settings (throttling defaults), once received.
    pub account: Option<AccountSettings>,
    /// API keys (by hash) and usage plans.
    pub usage: Arc<CompiledUsage>,
    /// Access keys' signing keys (`AWS_IAM` methods).
    pub iam: Arc<IamKeys>,
    /// The deployed WebSocket stages.
    pub ws: Arc<WsStages>,
    /// The deployed HTTP API stages (`protocolType: HTTP`), compiled into the same model
    /// as REST stages; replaced whole whenever `ConfigUpdate.v2` is present.
    pub http: Arc<HttpStages>,
    /// Custom domain names: host table, base path mappings, TLS configurations.
    pub domains: Arc<CompiledDomains>,
    /// The gateway's client certificates towards backends, by id.
    pub client_identities: Arc<FastMap<Box<str>, Arc<ClientIdentity>>>,
}

impl GatewayState {
    /// The compiled stage for an invoke URL's API id and stage name.
    pub fn stage(&self, api_id: &str, stage: &str) -> Option<&Arc<CompiledStage>> {
        match self.apis.get(api_id) {
            Some(stages) => stages.get(stage).map(|d| &d.compiled),
            None => self.http_stage(api_id, stage),
        }
    }

    /// The HTTP API stage for an API id and stage name (`$default` included).
    pub fn http_stage(&self, api_id: &str, stage: &str) -> Option<&Arc<CompiledStage>> {
        self.http.get(api_id)?.get(stage)
    }

    /// For an HTTP API, the stage an invoke URL names, else its `$default` stage (whose
    /// URLs have no stage segment; `true` with it): one lookup of the API for both.
    /// `Some(None)` for an HTTP API with neither, `None` for an id no HTTP API has.
    pub fn http_stage_or_default(
        &self,
        api_id: &str,
        stage: &str,
    ) -> Option<Option<(&Arc<CompiledStage>, bool)>> {
        let stages = self.http.get(api_id)?;
        Some(match stages.get(stage) {
            Some(found) => Some((found, false)),
            None => stages.get("$default").map(|default| (default, true)),
        })
    }

    /// The REST stage for an invoke URL's API id and stage name.
    pub fn rest_stage(&self, api_id: &str, stage: &str) -> Option<&Arc<CompiledStage>> {
        self.apis.get(api_id)?.get(stage).map(|d| &d.compiled)
    }

    /// Whether `api_id` is a deployed HTTP API.
    pub fn is_http_api(&self, api_id: &str) -> bool {
        self.http.contains_key(api_id)
    }

    /// The WebSocket stage for an API id and stage name.
    pub fn ws_stage(&self, api_id: &str, stage: &str) -> Option<&Arc<WsStage>> {
        self.ws.get(api_id)?.get(stage)
    }

    /// Every compiled stage.
    pub fn stages(&self) -> impl Iterator<Item = &Arc<CompiledStage>> {
        self.apis
            .values()
            .flat_map(FastMap::values)
            .map(|d| &d.compiled)
            .chain(self.http.values().flat_map(FastMap::values))
    }

    /// How many stages are deployed (for logs).
    pub fn stage_count(&self) -> usize {
        self.apis.values().map(FastMap::len).sum::<usize>()
            + self.http.values().map(FastMap::len).sum::<usize>()
    }
}

/// What building one state took: the stages compiled for it. A delta compiles only the
/// REST stages it upserts (the others keep their compiled form), a full update only the
/// REST stages whose config differs from the current state's; WebSocket and HTTP API
/// stages are compiled all together whenever the update carries `v2`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// REST, HTTP API and WebSocket stages compiled (a canary is part of its stage).
    pub stages_compiled: usize,
    /// REST stages an update carried whose compiled form was kept (same config).
    pub stages_reused: usize,
}

/// Builds the state that results from applying `update` to `current`. Stages that are not
/// touched by a delta keep their compiled form (shared `Arc`s, no recompilation), and so
/// do the stages of an update (full or delta) whose config is the one they were compiled
/// from.
pub fn apply_update(
    current: &GatewayState,
    update: &ConfigUpdate,
) -> Result<GatewayState, CompileError> {
    apply_update_counted(current, update).map(|(next, _)| next)
}

/// [`apply_update`], also saying how many stages it compiled.
pub fn apply_update_counted(
    current: &GatewayState,
    update: &ConfigUpdate,
) -> Result<(GatewayState, ApplyStats), CompileError> {
    apply(current, sections_of!(update), &update.upsert_stages)
}

/// [`apply_update`] for an update whose stages are still encoded: each is decoded,
/// compiled and dropped in turn (or, when its digest is the one the current state's stage
/// was compiled from, not decoded at all). A stage that does not decode fails the update
/// as a stage that does not compile does.
pub fn apply_lazy_update(
    current: &GatewayState,
    update: &LazyConfigUpdate,
) -> Result<GatewayState, CompileError> {
    apply_lazy_update_counted(current, update).map(|(next, _)| next)
}

/// [`apply_lazy_update`], also saying how many stages it compiled.
pub fn apply_lazy_update_counted(
    current: &GatewayState,
    update: &LazyConfigUpdate,
) -> Result<(GatewayState, ApplyStats), CompileError> {
    apply(current, sections_of!(update), &update.upsert_stages)
}

fn apply<S: UpsertedStage>(
    current: &GatewayState,
    update: Sections<'_>,
    upsert_stages: &[S],
) -> Result<(GatewayState, ApplyStats), CompileError> {
    let mut stats = ApplyStats::default();
    let mut next = if update.full {
        GatewayState::default()
    } else {
        current.clone()
    };
    next.version = update.version;
    for key in update.remove_stages {
        if let Some(stages) = next.apis.get_mut(key.api_id.as_str()) {
            stages.remove(key.stage_name.as_str());
            if stages.is_empty() {
                next.apis.remove(key.api_id.as_str());
            }
        }
    }
    for (at, stage) in upsert_stages.iter().enumerate() {
        let key = stage.key(at)?;
        let source = stage.digest();
        let same = current
            .apis
            .get(key.api_id.as_str())
            .and_then(|stages| stages.get(key.stage_name.as_str()))
            .filter(|d| d.source == source);
        let compiled = match same {
            Some(d) => {
                stats.stages_reused += 1;
                Arc::clone(&d.compiled)
            }
            None => {
                stats.stages_compiled += 1;
                Arc::new(stage.compile(&key)?)
            }
        };
        next.apis
            .entry(key.api_id.into_boxed_str())
            .or_default()
            .insert(
                key.stage_name.into_boxed_str(),
                Deployed { compiled, source },
            );
    }
    if let Some(account) = update.account {
        next.account = Some(*account);
    }
    match update.usage {
        Some(usage) => next.usage = Arc::new(compile_usage(usage)),
        None if update.full => next.usage = Arc::default(),
        None => {}
    }
    match update.v2 {
        Some(v2) => {
            next.ws = Arc::new(compile_all(v2)?);
            stats.stages_compiled += v2.stages.len() + v2.http_stages.len();
            let mut http = HttpStages::default();
            for stage in &v2.http_stages {
                let compiled = Arc::new(compile_http_stage(stage)?);
                http.entry(stage.api_id.as_str().into())
                    .or_default()
                    .insert(stage.stage_name.as_str().into(), compiled);
            }
            next.http = Arc::new(http);
        }
        None if update.full => {
            next.ws = Arc::default();
            next.http = Arc::default();
        }
        None => {}
    }
    match update.iam {
        Some(iam) => next.iam = Arc::new(IamKeys::compile(iam)),
        None if update.full => next.iam = Arc::default(),
        None => {}
    }
    match update.domains {
        Some(domains) => {
            let mut identities = FastMap::default();
            for c in &domains.client_certificates {
                match ClientIdentity::new(&c.id, &c.certificate_pem, &c.private_key_pem) {
                    Ok(identity) => {
                        identities.insert(c.id.as_str().into(), Arc::new(identity));
                    }
                    // A stage naming it then calls without a certificate; say why.
                    Err(error) => {
                        tracing::error!(id = %c.id, %error, "client certificate unusable")
                    }
                }
            }
            next.client_identities = Arc::new(identities);
            next.domains = Arc::new(compile_domains(domains).map_err(|e| CompileError {
                api_id: String::new(),
                stage: String::new(),
                at: "custom domains".to_string(),
                kind: Box::new(e.into()),
            })?)
        }
        None if update.full => {
            next.domains = Arc::default();
            next.client_identities = Arc::default();
        }
        None => {}
    }
    Ok((next, stats))
}

/// The state shared by the server and the config client.
#[derive(Debug, Default)]
pub struct SharedState {
    current: ArcSwap<GatewayState>,
    ready: AtomicBool,
}

impl SharedState {
    /// An empty, not-ready state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current state, for a short read (do not hold across awaits; clone the `Arc`s
    /// you need instead).
    pub fn load(&self) -> arc_swap::Guard<Arc<GatewayState>> {
        self.current.load()
    }

    /// The current state as an owned `Arc` (for the config client's next delta).
    pub fn snapshot(&self) -> Arc<GatewayState> {
        self.current.load_full()
    }

    /// Swaps in a new state atomically and marks the node ready.
    pub fn store(&self, state: GatewayState) {
        drop(self.swap(state));
    }

    /// [`store`](Self::store), handing back the state it replaced (for the caller to free
    /// off the request threads).
    pub fn swap(&self, state: GatewayState) -> Arc<GatewayState> {
        let old = self.current.swap(Arc::new(state));
        self.ready.store(true, Ordering::Release);
        old
    }

    /// Whether a config has been applied (`/readyz`).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_proto::config::{DeploymentSnapshot, StageConfig, StageKey};

    fn stage(api: &str, name: &str, format_version: u32) -> StageConfig {
        StageConfig {
            api_id: api.into(),
            stage_name: name.into(),
            deployment: Some(DeploymentSnapshot {
                format_version,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn update(
        version: u64,
        full: bool,
        upsert: Vec<StageConfig>,
        remove: Vec<(&str, &str)>,
    ) -> ConfigUpdate {
        ConfigUpdate {
            version,
            full,
            upsert_stages: upsert,
            remove_stages: remove
                .into_iter()
                .map(|(a, s)| StageKey {
                    api_id: a.into(),
                    stage_name: s.into(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn full_replaces_and_delta_patches() {
        let s1 = apply_update(
            &GatewayState::default(),
            &update(
                1,
                true,
                vec![stage("a", "prod", 1), stage("b", "dev", 1)],
                vec![],
            ),
        )
        .unwrap();
        assert_eq!((s1.version, s1.stage_count()), (1, 2));
        let s2 = apply_update(
            &s1,
            &update(2, false, vec![stage("a", "test", 1)], vec![("b", "dev")]),
        )
        .unwrap();
        assert_eq!(s2.stage_count(), 2);
        assert!(s2.stage("a", "test").is_some() && s2.stage("b", "dev").is_none());
        assert!(
            Arc::ptr_eq(
                s1.stage("a", "prod").unwrap(),
                s2.stage("a", "prod").unwrap()
            ),
            "untouched stage reused"
        );
        let s3 = apply_update(&s2, &update(3, true, vec![stage("c", "x", 1)], vec![])).unwrap();
        assert_eq!(s3.stage_count(), 1);
    }

    #[test]
    fn a_delta_compiles_only_the_stages_it_names() {
        let many: Vec<StageConfig> = (0..500)
            .map(|i| stage(&format!("api{i}"), "prod", 1))
            .collect();
        let (s1, full) =
            apply_update_counted(&GatewayState::default(), &update(1, true, many, vec![])).unwrap();
        assert_eq!(full.stages_compiled, 500);
        let mut changed = stage("api7", "prod", 1);
        changed.variables.insert("mark".into(), "1".into());
        let (s2, delta) =
            apply_update_counted(&s1, &update(2, false, vec![changed], vec![])).unwrap();
        assert_eq!(delta.stages_compiled, 1, "one stage changed, one compiled");
        assert_eq!(s2.stage_count(), 500);
        assert!(!Arc::ptr_eq(
            s1.stage("api7", "prod").unwrap(),
            s2.stage("api7", "prod").unwrap()
        ));
        for i in (0..500).filter(|i| *i != 7) {
            let api = format!("api{i}");
            assert!(
                Arc::ptr_eq(
                    s1.stage(&api, "prod").unwrap(),
                    s2.stage(&api, "prod").unwrap()
                ),
                "{api} reused"
            );
        }
        // A delta that only removes, or carries nothing but usage, compiles no stage.
        let (_, removal) =
            apply_update_counted(&s2, &update(3, false, vec![], vec![("api1", "prod")])).unwrap();
        assert_eq!(removal.stages_compiled, 0);
    }

    #[test]
    fn a_full_update_recompiles_only_what_differs() {
        let many = |changed: Option<usize>| -> Vec<StageConfig> {
            (0..50)
                .map(|i| {
                    let mut s = stage(&format!("api{i}"), "prod", 1);
                    if Some(i) == changed {
                        s.variables.insert("mark".into(), "2".into());
                    }
                    s
                })
                .collect()
        };
        let (s1, _) = apply_update_counted(
            &GatewayState::default(),
            &update(1, true, many(None), vec![]),
        )
        .unwrap();
        // The same stages again in a full update (a reconnect): nothing compiled.
        let (s2, again) = apply_update_counted(&s1, &update(2, true, many(None), vec![])).unwrap();
        assert_eq!((again.stages_compiled, again.stages_reused), (0, 50));
        assert!(Arc::ptr_eq(
            s1.stage("api3", "prod").unwrap(),
            s2.stage("api3", "prod").unwrap()
        ));
        // One stage's config differs: that one is compiled; a stage the full update lacks
        // is gone.
        let mut fewer = many(Some(3));
        fewer.pop();
        let (s3, changed) = apply_update_counted(&s2, &update(3, true, fewer, vec![])).unwrap();
        assert_eq!((changed.stages_compiled, changed.stages_reused), (1, 48));
        assert!(!Arc::ptr_eq(
            s2.stage("api3", "prod").unwrap(),
            s3.stage("api3", "prod").unwrap()
        ));
        assert!(s3.stage("api49", "prod").is_none());
        assert_eq!(s3.stage_count(), 49);
    }

    #[test]
    fn a_stage_with_maps_is_reused_when_it_arrives_decoded_again() {
        use prost::Message;
        // Stage variables and method settings are maps: the same config, sent again in a
        // full update and decoded again, must still be recognised (a `HashMap` would
        // re-encode in another order and the stage be compiled again).
        let mut config = stage("maps", "prod", 1);
        for i in 0..20 {
            config.variables.insert(format!("v{i}"), format!("{i}"));
        }
        let bytes = config.encode_to_vec();
        let received = || StageConfig::decode(bytes.as_slice()).expect("decodes");
        let (s1, _) = apply_update_counted(
            &GatewayState::default(),
            &update(1, true, vec![received()], vec![]),
        )
        .unwrap();
        for version in 2..6 {
            let (_, again) =
                apply_update_counted(&s1, &update(version, true, vec![received()], vec![]))
                    .unwrap();
            assert_eq!((again.stages_compiled, again.stages_reused), (0, 1));
        }
    }

    #[test]
    fn a_bad_stage_rejects_the_whole_update() {
        let s1 = apply_update(
            &GatewayState::default(),
            &update(1, true, vec![stage("a", "prod", 1)], vec![]),
        )
        .unwrap();
        let err = apply_update(
            &s1,
            &update(2, false, vec![stage("a", "prod", 999)], vec![]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("format_version 999"));
    }

    /// Stages with maps (variables), so that their digests depend on the encoding's order.
    fn mapped(n: usize, changed: Option<usize>) -> Vec<StageConfig> {
        (0..n)
            .map(|i| {
                let mut s = stage(&format!("api{i}"), "prod", 1);
                s.deployment_id = format!("d{i}");
                for v in 0..5 {
                    s.variables.insert(format!("v{v}"), format!("{i}-{v}"));
                }
                if Some(i) == changed {
                    s.variables.insert("mark".into(), "2".into());
                }
                s
            })
            .collect()
    }

    fn lazy(update: &ConfigUpdate) -> LazyConfigUpdate {
        LazyConfigUpdate::from(update.clone())
    }

    #[test]
    fn a_lazy_update_compiles_to_the_decoded_updates_state() {
        let full = update(1, true, mapped(40, None), vec![]);
        let (decoded, d_stats) = apply_update_counted(&GatewayState::default(), &full).unwrap();
        let (lazily, l_stats) =
            apply_lazy_update_counted(&GatewayState::default(), &lazy(&full)).unwrap();
        assert_eq!(d_stats, l_stats);
        assert_eq!(l_stats.stages_compiled, 40);
        assert_eq!(lazily.version, 1);
        // The same stages, under the same keys, from the same configs (same digests).
        let digests = |state: &GatewayState| {
            let mut all: Vec<(String, String, String, [u8; 32])> = state
                .apis
                .iter()
                .flat_map(|(api, stages)| {
                    stages.iter().map(move |(name, d)| {
                        assert_eq!(
                            (&*d.compiled.api_id, &*d.compiled.stage_name),
                            (&**api, &**name)
                        );
                        (
                            api.to_string(),
                            name.to_string(),
                            d.compiled.deployment_id.to_string(),
                            d.source,
                        )
                    })
                })
                .collect();
            all.sort();
            all
        };
        assert_eq!(digests(&decoded), digests(&lazily));
        assert_eq!(digests(&lazily).len(), 40);
        // So each form's later full update reuses the other's stages: a node that
        // bootstrapped from either finds nothing to compile in the same state again.
        let again = update(2, true, mapped(40, None), vec![]);
        let (_, reuse) = apply_update_counted(&lazily, &again).unwrap();
        assert_eq!((reuse.stages_compiled, reuse.stages_reused), (0, 40));
        let (s2, reuse) = apply_lazy_update_counted(&decoded, &lazy(&again)).unwrap();
        assert_eq!((reuse.stages_compiled, reuse.stages_reused), (0, 40));
        assert!(Arc::ptr_eq(
            decoded.stage("api5", "prod").unwrap(),
            s2.stage("api5", "prod").unwrap()
        ));
        // A lazy full update with one stage changed compiles that one; a lazy delta
        // patches as a decoded one does.
        let (s3, one) =
            apply_lazy_update_counted(&s2, &lazy(&update(3, true, mapped(40, Some(7)), vec![])))
                .unwrap();
        assert_eq!((one.stages_compiled, one.stages_reused), (1, 39));
        let delta = update(
            4,
            false,
            vec![stage("new", "dev", 1)],
            vec![("api1", "prod")],
        );
        let (s4, d) = apply_lazy_update_counted(&s3, &lazy(&delta)).unwrap();
        let (s4_decoded, _) = apply_update_counted(&s3, &delta).unwrap();
        assert_eq!(d.stages_compiled, 1);
        assert_eq!(digests(&s4), digests(&s4_decoded));
        assert!(s4.stage("new", "dev").is_some() && s4.stage("api1", "prod").is_none());
        assert_eq!(s4.stage_count(), 40);
    }

    #[test]
    fn a_stage_that_does_not_decode_rejects_the_update() {
        let good = lazy(&update(1, true, mapped(3, None), vec![]));
        let s1 = apply_lazy_update(&GatewayState::default(), &good).unwrap();

        // The key decodes but the rest does not: invalid UTF-8 in `deployment_id`, a field
        // the key's decoding skips. The error names the stage.
        let mut config = stage("broken", "prod", 1);
        config.deployment_id = "DEPLOYMENT".into();
        let mut bytes = config.encode_to_vec();
        let at = bytes.windows(10).position(|w| w == b"DEPLOYMENT").unwrap();
        bytes[at] = 0xff;
        let mut bad = good.clone();
        bad.version = 2;
        bad.upsert_stages[1] = bytes.into();
        let err = apply_lazy_update(&s1, &bad).unwrap_err();
        assert!(matches!(
            *err.kind,
            crate::compile::CompileErrorKind::Decode(_)
        ));
        let text = err.to_string();
        assert!(
            text.starts_with("stage broken/prod: stage config: does not decode"),
            "{text}"
        );

        // Not even the key decodes (truncated, then garbage): the error says which one.
        let whole = good.upsert_stages[2].clone();
        for junk in [
            whole.slice(..whole.len() - 3),
            bytes::Bytes::from_static(&[0xff; 4]),
        ] {
            let mut bad = good.clone();
            bad.upsert_stages[2] = junk;
            let err = apply_lazy_update(&s1, &bad).unwrap_err();
            assert!(err.to_string().contains("upsert_stages[2]"), "{err}");
        }
        // A rejected update leaves the current state as it was (the caller keeps it).
        assert_eq!((s1.version, s1.stage_count()), (1, 3));
    }

    #[test]
    fn shared_state_becomes_ready_on_first_store() {
        let shared = SharedState::new();
        assert!(!shared.is_ready());
        shared.store(GatewayState {
            version: 4,
            ..Default::default()
        });
        assert!(shared.is_ready());
        assert_eq!(shared.load().version, 4);
    }
}
