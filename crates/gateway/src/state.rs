//! The node's deployed state: every compiled stage, keyed by API and stage name, behind an
//! `ArcSwap` so requests read it lock-free and a new version replaces it in one store.
//!
//! [`apply_update`] builds the next state from the current one and a `ConfigUpdate`
//! (full replace or delta); it is pure, so the config client can run it off the request
//! threads and simply not store it when compilation fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use apigw_proto::config::{AccountSettings, ConfigUpdate};
use arc_swap::ArcSwap;

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

/// One immutable version of everything the node serves.
#[derive(Debug, Clone, Default)]
pub struct GatewayState {
    /// The config version this state was built from (0 = nothing applied yet).
    pub version: u64,
    apis: FastMap<Box<str>, FastMap<Box<str>, Arc<CompiledStage>>>,
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
            Some(stages) => stages.get(stage),
            None => self.http_stage(api_id, stage),
        }
    }

    /// The HTTP API stage for an API id and stage name (`$default` included).
    pub fn http_stage(&self, api_id: &str, stage: &str) -> Option<&Arc<CompiledStage>> {
        self.http.get(api_id)?.get(stage)
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
            .chain(self.http.values().flat_map(FastMap::values))
    }

    /// How many stages are deployed (for logs).
    pub fn stage_count(&self) -> usize {
        self.apis.values().map(FastMap::len).sum::<usize>()
            + self.http.values().map(FastMap::len).sum::<usize>()
    }
}

/// Builds the state that results from applying `update` to `current`. Stages that are not
/// touched by a delta keep their compiled form (shared `Arc`s, no recompilation).
pub fn apply_update(
    current: &GatewayState,
    update: &ConfigUpdate,
) -> Result<GatewayState, CompileError> {
    let mut next = if update.full {
        GatewayState::default()
    } else {
        current.clone()
    };
    next.version = update.version;
    for key in &update.remove_stages {
        if let Some(stages) = next.apis.get_mut(key.api_id.as_str()) {
            stages.remove(key.stage_name.as_str());
            if stages.is_empty() {
                next.apis.remove(key.api_id.as_str());
            }
        }
    }
    for stage in &update.upsert_stages {
        let compiled = Arc::new(compile_stage(stage)?);
        next.apis
            .entry(stage.api_id.as_str().into())
            .or_default()
            .insert(stage.stage_name.as_str().into(), compiled);
    }
    if let Some(account) = &update.account {
        next.account = Some(*account);
    }
    match &update.usage {
        Some(usage) => next.usage = Arc::new(compile_usage(usage)),
        None if update.full => next.usage = Arc::default(),
        None => {}
    }
    match &update.v2 {
        Some(v2) => {
            next.ws = Arc::new(compile_all(v2)?);
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
    match &update.iam {
        Some(iam) => next.iam = Arc::new(IamKeys::compile(iam)),
        None if update.full => next.iam = Arc::default(),
        None => {}
    }
    match &update.domains {
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
    Ok(next)
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
        self.current.store(Arc::new(state));
        self.ready.store(true, Ordering::Release);
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
