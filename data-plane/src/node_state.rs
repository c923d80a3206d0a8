//! The node's state file: its last applied config, kept on disk so that a node restarting
//! while the control plane is away serves what it served before (issue 21, "nodes that
//! start alone"; docs/node-state.md).
//!
//! The config client folds every update it applies into one cumulative *full*
//! `ConfigUpdate` ([`Cumulative`]: stages upserted / removed, the account, usage, IAM, v2
//! and domains sections replaced when present, as `apply_update` does) and a writer thread
//! ([`StateWriter`]) writes it to `{dir}/state.bin` after each apply, off the request
//! path, the latest only when applies come in bursts: written to a temporary file in the
//! same directory, fsynced, renamed over the old one (then the directory fsynced), so the
//! file is always one whole state.
//!
//! Format: `apigw_proto::state_frame` (magic, format version, flags, length, SHA-256 of the
//! payload, then the protobuf `ConfigUpdate` with `full = true`), the same framing the
//! control planes use for the copy they publish to Redis for brand-new nodes
//! ([`decode`] reads both). Anything whose framing does not check out is refused whole
//! ([`StateFileError`]).
//!
//! Secrets: API keys are hashes in the stream already; the private keys of custom domains
//! and client certificates are not. With a [`StateKey`] (`DP_STATE_KEY`, base64 of 32
//! bytes) each is sealed with AES-256-GCM (fresh random nonce, the domain name / client
//! certificate id as associated data, so sealed keys cannot be swapped between entries);
//! without one they are left out of the file, and after a restart those domains route
//! plain HTTP but complete no TLS handshake until the control plane answers.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use apigw_proto::config::{DomainConfig, LazyConfigUpdate, StageKey};
use base64::Engine;
use bytes::Bytes;
use prost::Message;

/// The default `--state-dir`.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/apigw/data-plane";
/// The state file's name in the state directory.
pub const FILE_NAME: &str = "state.bin";
use apigw_proto::state_frame::{frame, unframe, FLAG_KEYS_ENCRYPTED, FLAG_KEYS_LEFT_OUT};
pub use apigw_proto::state_frame::{FrameError, FORMAT_VERSION};
/// Prefix of a sealed private key: `apigw-sealed:v1:` + base64(nonce || ciphertext).
const SEALED_PREFIX: &str = "apigw-sealed:v1:";
const NONCE_LEN: usize = 12;

/// Why a state file was refused.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// Reading failed.
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    /// Its framing is wrong: truncated, another magic or version, corrupted.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The payload is not a `ConfigUpdate` (never written by a node).
    #[error("payload does not decode: {0}")]
    Decode(#[from] prost::DecodeError),
}

/// Why `DP_STATE_KEY` is unusable.
#[derive(Debug, thiserror::Error)]
#[error("DP_STATE_KEY must be the base64 of 32 bytes ({0})")]
pub struct StateKeyError(String);

/// The AES-256-GCM key sealing private keys in the state file.
#[derive(Clone)]
pub struct StateKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(..)")
    }
}

impl StateKey {
    /// The key from its base64 text (standard alphabet, padded or not).
    pub fn from_base64(text: &str) -> Result<Self, StateKeyError> {
        let text = text.trim();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|e| StateKeyError(e.to_string()))?;
        let raw: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| StateKeyError(format!("{} bytes", raw.len())))?;
        Ok(StateKey {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw)),
        })
    }

    fn seal(&self, plain: &str, aad: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encrypting an in-memory buffer with a valid key and nonce does not fail.
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut raw = Vec::with_capacity(NONCE_LEN + ct.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ct);
        format!(
            "{SEALED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    fn open(&self, sealed: &str, aad: &str) -> Option<String> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed.strip_prefix(SEALED_PREFIX)?)
            .ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

fn domain_aad(name: &str) -> String {
    format!("domain:{name}")
}

fn client_cert_aad(id: &str) -> String {
    format!("client-certificate:{id}")
}

/// The cumulative state: every applied update folded into one full `ConfigUpdate`.
///
/// The stages are kept encoded (each `StageConfig` message's bytes, as the node received
/// them: it reads updates as `LazyConfigUpdate`s), never decoded: the writer only ever
/// writes them out again, and a decoded stage takes several times its encoded size
/// (47 KiB against 6.7 KiB for the scale generator's API, more than the compiled stage the
/// node serves: issue 22, docs/scale.md). Each is copied out of the received message: a
/// stage as received is a slice of the whole message's buffer (of the stream's, even),
/// which it would keep alive.
#[derive(Debug, Default)]
pub struct Cumulative {
    /// Everything but the stages (`upsert_stages` stays empty).
    update: LazyConfigUpdate,
    /// The stages by (api, stage), encoded, in the order they were first upserted (but
    /// for removals).
    stages: Vec<(StageId, Bytes)>,
    /// (api, stage) → index in `stages`.
    index: HashMap<StageId, usize>,
}

/// (api id, stage name).
type StageId = (String, String);

impl Cumulative {
    /// The state after `update` (applied to nothing when it is a delta). A decoded
    /// `ConfigUpdate` (tests) has its stages encoded first.
    pub fn new(update: impl Into<LazyConfigUpdate>) -> Self {
        let mut state = Cumulative::default();
        state.merge(update);
        state
    }

    /// Folds `update` in: a full update replaces everything; a delta removes then upserts
    /// stages and replaces each section it carries (as `apply_update` does).
    pub fn merge(&mut self, update: impl Into<LazyConfigUpdate>) {
        let LazyConfigUpdate {
            version,
            nonce: _,
            full,
            upsert_stages,
            remove_stages,
            account,
            usage,
            iam,
            v2,
            domains,
        } = update.into();
        if full {
            self.update = LazyConfigUpdate::default();
            self.stages.clear();
            self.index.clear();
        }
        self.update.version = version;
        self.update.full = true;
        for key in remove_stages {
            if let Some(at) = self.index.remove(&(key.api_id, key.stage_name)) {
                self.stages.swap_remove(at);
                if let Some((moved, _)) = self.stages.get(at) {
                    self.index.insert(moved.clone(), at);
                }
            }
        }
        for stage in upsert_stages {
            // An applied update's stages all decoded; `StageConfig` starts with
            // `StageKey`'s two fields.
            let Ok(key) = StageKey::decode(&stage[..]) else {
                tracing::warn!("state file: an applied stage does not decode; left out");
                continue;
            };
            let key = (key.api_id, key.stage_name);
            let encoded = Bytes::copy_from_slice(&stage);
            drop(stage);
            match self.index.get(&key) {
                Some(&at) => self.stages[at].1 = encoded,
                None => {
                    self.index.insert(key.clone(), self.stages.len());
                    self.stages.push((key, encoded));
                }
            }
        }
        if account.is_some() {
            self.update.account = account;
        }
        if usage.is_some() {
            self.update.usage = usage;
        }
        if iam.is_some() {
            self.update.iam = iam;
        }
        if v2.is_some() {
            self.update.v2 = v2;
        }
        if domains.is_some() {
            self.update.domains = domains;
        }
    }

    /// The version of the last update folded in.
    pub fn version(&self) -> u64 {
        self.update.version
    }

    /// The state as one full update (its stages shared, not copied).
    pub fn to_update(&self) -> LazyConfigUpdate {
        let mut update = self.update.clone();
        update.upsert_stages = self.stages.iter().map(|(_, b)| b.clone()).collect();
        update
    }

    /// The state file's bytes: private keys sealed under `key`, or left out without one.
    pub fn encode(&mut self, key: Option<&StateKey>) -> Vec<u8> {
        // Only the domains section is copied (to seal or strip its keys), then put back.
        let domains = self.update.domains.take();
        self.update.domains = domains.as_ref().map(|d| protect(d, key));
        let mut payload = self.update.encode_to_vec();
        self.update.domains = domains;
        // The stages after the other fields, as `upsert_stages` (field 4) would encode
        // them: protobuf fields may come in any order, a repeated one's in its order.
        for (_, stage) in &self.stages {
            prost::encoding::encode_key(
                UPSERT_STAGES_FIELD,
                prost::encoding::WireType::LengthDelimited,
                &mut payload,
            );
            prost::encoding::encode_varint(stage.len() as u64, &mut payload);
            payload.extend_from_slice(stage);
        }
        let flags = if key.is_some() {
            FLAG_KEYS_ENCRYPTED
        } else {
            FLAG_KEYS_LEFT_OUT
        };
        frame(&payload, flags)
    }
}

/// `ConfigUpdate.upsert_stages`' field number (`config.proto`).
const UPSERT_STAGES_FIELD: u32 = 4;

/// `domains` with every private key sealed under `key`, or emptied without one.
fn protect(domains: &DomainConfig, key: Option<&StateKey>) -> DomainConfig {
    let mut out = domains.clone();
    for d in &mut out.domains {
        d.private_key_pem = match key {
            Some(key) => key.seal(&d.private_key_pem, &domain_aad(&d.domain_name)),
            None => String::new(),
        };
    }
    for c in &mut out.client_certificates {
        c.private_key_pem = match key {
            Some(key) => key.seal(&c.private_key_pem, &client_cert_aad(&c.id)),
            None => String::new(),
        };
    }
    out
}

/// What [`decode`] could not restore of the private keys.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Custom domains whose private key is not in the file (no key when written) or does
    /// not open under the key given: they route but have no TLS until the control plane
    /// answers.
    pub domains_without_key: usize,
    /// Client certificates left out for the same reasons.
    pub client_certificates_without_key: usize,
    /// Sealed keys that did not open (another `DP_STATE_KEY`, or none given).
    pub unopened: usize,
}

/// The full update in `bytes`, its sealed private keys opened with `key`. Its stages stay
/// encoded, slices of `bytes` (not copied): they are decoded one at a time as they are
/// compiled.
pub fn decode(
    bytes: Bytes,
    key: Option<&StateKey>,
) -> Result<(LazyConfigUpdate, Restored), StateFileError> {
    let (_, payload) = unframe(&bytes)?;
    let payload = bytes.slice_ref(payload);
    let mut update = LazyConfigUpdate::decode(payload)?;
    update.full = true;
    let mut restored = Restored::default();
    if let Some(domains) = &mut update.domains {
        for d in &mut domains.domains {
            d.private_key_pem = open(
                &d.private_key_pem,
                &domain_aad(&d.domain_name),
                key,
                &mut restored,
            );
            if d.private_key_pem.is_empty() {
                restored.domains_without_key += 1;
            }
        }
        domains.client_certificates.retain_mut(|c| {
            c.private_key_pem = open(
                &c.private_key_pem,
                &client_cert_aad(&c.id),
                key,
                &mut restored,
            );
            let kept = !c.private_key_pem.is_empty();
            if !kept {
                restored.client_certificates_without_key += 1;
            }
            kept
        });
    }
    Ok((update, restored))
}

/// A stored private key in clear: opened when sealed (empty when it does not open).
fn open(stored: &str, aad: &str, key: Option<&StateKey>, restored: &mut Restored) -> String {
    if stored.is_empty() {
        return String::new();
    }
    if !stored.starts_with(SEALED_PREFIX) {
        // Never written by this format (keys are sealed or left out): do not trust it.
        restored.unopened += 1;
        return String::new();
    }
    match key.and_then(|k| k.open(stored, aad)) {
        Some(plain) => plain,
        None => {
            restored.unopened += 1;
            String::new()
        }
    }
}

/// The state file in `dir`.
pub fn file_path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Reads and checks `dir`'s state file. `Ok(None)`: there is none.
pub fn load(
    dir: &Path,
    key: Option<&StateKey>,
) -> Result<Option<(LazyConfigUpdate, Restored)>, StateFileError> {
    let bytes = match std::fs::read(file_path(dir)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    decode(bytes.into(), key).map(Some)
}

/// Writes `bytes` as `dir`'s state file: a temporary file in `dir`, fsynced, renamed over
/// the old one, then the directory fsynced (the rename itself made durable).
pub fn write_atomically(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(
        ".{FILE_NAME}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, file_path(dir))?;
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

enum Msg {
    /// The state restored from the file: the base of the next deltas, not written again.
    Seed(LazyConfigUpdate),
    /// An update the node applied.
    Applied(LazyConfigUpdate),
}

/// Hands applied updates to the writer thread.
#[derive(Debug, Clone)]
pub struct StateWriter {
    tx: std::sync::mpsc::Sender<Msg>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg(..)")
    }
}

impl StateWriter {
    /// Starts the thread writing `dir`'s state file; it ends when every `StateWriter` is
    /// dropped.
    pub fn start(dir: PathBuf, key: Option<StateKey>) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<Msg>();
        std::thread::Builder::new()
            .name("apigw-state-writer".into())
            .spawn(move || {
                let mut state = Cumulative::default();
                let mut failing = false;
                while let Ok(first) = rx.recv() {
                    let mut dirty = false;
                    let mut fold = |msg: Msg| match msg {
                        Msg::Seed(update) => state.merge(update),
                        Msg::Applied(update) => {
                            state.merge(update);
                            dirty = true;
                        }
                    };
                    fold(first);
                    // A burst of applies: fold them all, write the latest once.
                    while let Ok(more) = rx.try_recv() {
                        fold(more);
                    }
                    if !dirty {
                        continue;
                    }
                    let bytes = state.encode(key.as_ref());
                    match write_atomically(&dir, &bytes) {
                        Ok(()) => {
                            if failing {
                                tracing::info!(file = %file_path(&dir).display(), "state file written again");
                            }
                            failing = false;
                            tracing::debug!(file = %file_path(&dir).display(), version = state.version(), bytes = bytes.len(), "state file written");
                        }
                        Err(error) => {
                            if !failing {
                                tracing::warn!(file = %file_path(&dir).display(), %error, "cannot write the state file; a restart without the control plane will serve an older state or none");
                            }
                            failing = true;
                        }
                    }
                }
            })?;
        Ok(StateWriter { tx })
    }

    /// The base the next deltas apply to (the state restored at start).
    pub fn seed(&self, update: LazyConfigUpdate) {
        let _ = self.tx.send(Msg::Seed(update));
    }

    /// `update` was applied: fold it in and write the state.
    pub fn applied(&self, update: LazyConfigUpdate) {
        let _ = self.tx.send(Msg::Applied(update));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_proto::config::{
        AccountSettings, ClientCertificateConfig, ConfigUpdate, CustomDomain, IamConfig,
        StageConfig, UsageConfig, V2Stages,
    };

    /// [`decode`] of a copy of `bytes`.
    fn dec(
        bytes: &[u8],
        key: Option<&StateKey>,
    ) -> Result<(LazyConfigUpdate, Restored), StateFileError> {
        decode(Bytes::copy_from_slice(bytes), key)
    }

    fn stage(api: &str, name: &str, deployment: &str) -> StageConfig {
        StageConfig {
            api_id: api.into(),
            stage_name: name.into(),
            deployment_id: deployment.into(),
            deployment: Some(apigw_proto::config::DeploymentSnapshot {
                api_id: api.into(),
                deployment_id: deployment.into(),
                format_version: 1,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn stages(state: &Cumulative) -> Vec<(String, String, String)> {
        let mut out: Vec<_> = state
            .to_update()
            .decode_stages()
            .unwrap()
            .upsert_stages
            .iter()
            .map(|s| {
                (
                    s.api_id.clone(),
                    s.stage_name.clone(),
                    s.deployment_id.clone(),
                )
            })
            .collect();
        out.sort();
        out
    }

    fn t(a: &str, s: &str, d: &str) -> (String, String, String) {
        (a.into(), s.into(), d.into())
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYBODY\n-----END PRIVATE KEY-----\n";

    fn with_domains() -> ConfigUpdate {
        ConfigUpdate {
            version: 3,
            full: true,
            upsert_stages: vec![stage("a", "prod", "d1")],
            domains: Some(DomainConfig {
                domains: vec![CustomDomain {
                    domain_name: "api.example.com".into(),
                    certificate_chain_pem: "CERT".into(),
                    private_key_pem: PEM.into(),
                    ..Default::default()
                }],
                client_certificates: vec![ClientCertificateConfig {
                    id: "cc1".into(),
                    certificate_pem: "CERT".into(),
                    private_key_pem: PEM.into(),
                }],
            }),
            ..Default::default()
        }
    }

    #[test]
    fn deltas_fold_into_one_full_update() {
        let mut state = Cumulative::new(ConfigUpdate {
            version: 1,
            full: true,
            upsert_stages: vec![
                stage("a", "prod", "d1"),
                stage("a", "dev", "d1"),
                stage("b", "prod", "d2"),
            ],
            account: Some(AccountSettings {
                throttle_rate_limit: 10.0,
                throttle_burst_limit: 5,
            }),
            usage: Some(UsageConfig::default()),
            iam: Some(IamConfig::default()),
            ..Default::default()
        });
        // A delta: one stage removed, one replaced, one added; only v2 replaced.
        state.merge(ConfigUpdate {
            version: 2,
            nonce: "n".into(),
            full: false,
            upsert_stages: vec![stage("b", "prod", "d3"), stage("c", "prod", "d4")],
            remove_stages: vec![
                StageKey {
                    api_id: "a".into(),
                    stage_name: "prod".into(),
                },
                StageKey {
                    api_id: "zz".into(),
                    stage_name: "none".into(),
                },
            ],
            v2: Some(V2Stages::default()),
            ..Default::default()
        });
        let u = state.to_update();
        assert!(u.full && u.remove_stages.is_empty() && u.nonce.is_empty());
        assert_eq!(u.version, 2);
        assert_eq!(
            stages(&state),
            vec![
                t("a", "dev", "d1"),
                t("b", "prod", "d3"),
                t("c", "prod", "d4")
            ]
        );
        assert_eq!(u.account.map(|a| a.throttle_burst_limit), Some(5));
        assert!(u.usage.is_some() && u.iam.is_some() && u.v2.is_some());
        assert!(u.domains.is_none());
        // Removing after swap_remove moved an entry still finds it by key.
        state.merge(ConfigUpdate {
            version: 3,
            remove_stages: vec![StageKey {
                api_id: "c".into(),
                stage_name: "prod".into(),
            }],
            upsert_stages: vec![stage("a", "dev", "d5")],
            ..Default::default()
        });
        assert_eq!(
            stages(&state),
            vec![t("a", "dev", "d5"), t("b", "prod", "d3")]
        );
        // The stages are kept encoded and written after the other fields: the file reads
        // back as the whole state.
        let (read, _) = dec(&state.encode(None), None).unwrap();
        assert_eq!(read, state.to_update());
        assert_eq!(read.upsert_stages.len(), 2);
        assert!(read.usage.is_some() && read.v2.is_some());
        // A full update replaces everything, sections it lacks included.
        state.merge(ConfigUpdate {
            version: 9,
            full: true,
            upsert_stages: vec![stage("x", "prod", "d9")],
            ..Default::default()
        });
        assert_eq!(stages(&state), vec![t("x", "prod", "d9")]);
        let u = state.to_update();
        assert_eq!(u.version, 9);
        assert!(u.account.is_none() && u.usage.is_none() && u.iam.is_none() && u.v2.is_none());
    }

    #[test]
    fn merged_state_applies_like_the_updates() {
        // The folded update compiles to the same stages as applying the updates in turn.
        use apigw_gateway::state::{apply_lazy_update, apply_update, GatewayState};
        let updates = [
            ConfigUpdate {
                version: 1,
                full: true,
                upsert_stages: vec![stage("a", "prod", "d1"), stage("b", "prod", "d1")],
                ..Default::default()
            },
            ConfigUpdate {
                version: 2,
                upsert_stages: vec![stage("c", "prod", "d2")],
                remove_stages: vec![StageKey {
                    api_id: "a".into(),
                    stage_name: "prod".into(),
                }],
                ..Default::default()
            },
        ];
        let mut live = GatewayState::default();
        let mut state = Cumulative::default();
        for u in &updates {
            live = apply_update(&live, u).unwrap();
            state.merge(u.clone());
        }
        // The node restores the fold with its stages encoded, as it reads them.
        let restored = apply_lazy_update(&GatewayState::default(), &state.to_update()).unwrap();
        assert_eq!(restored.version, live.version);
        assert_eq!(restored.stage_count(), live.stage_count());
    }

    #[test]
    fn file_round_trips_with_sealed_keys() {
        let key = StateKey::from_base64(KEY).unwrap();
        let mut state = Cumulative::new(with_domains());
        let bytes = state.encode(Some(&key));
        // The keys are in no clear form in the file; the state in memory is untouched.
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("TOPSECRETKEYBODY"), "private key in clear");
        assert!(text.contains(SEALED_PREFIX));
        assert_eq!(state.to_update(), with_domains().into());
        let (update, restored) = dec(&bytes, Some(&key)).unwrap();
        assert_eq!(update, with_domains().into());
        assert_eq!(restored, Restored::default());
        // Another key: the keys do not open; the rest is restored, the client certificate
        // (unusable without its key) left out.
        let other =
            StateKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([7u8; 32]))
                .unwrap();
        let (update, restored) = dec(&bytes, Some(&other)).unwrap();
        let domains = update.domains.unwrap();
        assert!(domains.domains[0].private_key_pem.is_empty());
        assert!(domains.client_certificates.is_empty());
        assert_eq!(update.upsert_stages.len(), 1);
        assert_eq!(
            restored,
            Restored {
                domains_without_key: 1,
                client_certificates_without_key: 1,
                unopened: 2
            }
        );
        // Without the key nothing opens either.
        let (none, _) = dec(&bytes, None).unwrap();
        assert!(none.domains.as_ref().unwrap().domains[0]
            .private_key_pem
            .is_empty());
        // A sealed key moved to another domain does not open (the name is bound to it).
        let sealed = key.seal(PEM, &domain_aad("api.example.com"));
        assert_eq!(
            key.open(&sealed, &domain_aad("api.example.com")).as_deref(),
            Some(PEM)
        );
        assert!(key.open(&sealed, &domain_aad("evil.example.com")).is_none());
    }

    #[test]
    fn without_a_key_private_keys_are_left_out() {
        let mut state = Cumulative::new(with_domains());
        let bytes = state.encode(None);
        assert!(!String::from_utf8_lossy(&bytes).contains("TOPSECRETKEYBODY"));
        let (update, restored) = dec(&bytes, None).unwrap();
        let domains = update.domains.unwrap();
        assert_eq!(domains.domains[0].domain_name, "api.example.com");
        assert!(domains.domains[0].private_key_pem.is_empty());
        assert!(domains.client_certificates.is_empty());
        assert_eq!(restored.domains_without_key, 1);
        assert_eq!(restored.unopened, 0);
    }

    #[test]
    fn corrupt_truncated_and_foreign_files_are_refused() {
        let mut state = Cumulative::new(with_domains());
        let bytes = state.encode(None);
        assert!(dec(&bytes, None).is_ok());
        // A flipped payload byte.
        let mut flipped = bytes.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x55;
        assert!(matches!(
            dec(&flipped, None),
            Err(StateFileError::Frame(FrameError::Checksum))
        ));
        // A flipped checksum byte.
        let mut flipped = bytes.clone();
        flipped[30] ^= 1;
        assert!(matches!(
            dec(&flipped, None),
            Err(StateFileError::Frame(FrameError::Checksum))
        ));
        // Truncated payload, truncated header, empty.
        assert!(matches!(
            dec(&bytes[..bytes.len() - 1], None),
            Err(StateFileError::Frame(FrameError::Truncated { .. }))
        ));
        assert!(matches!(
            dec(&bytes[..20], None),
            Err(StateFileError::Frame(FrameError::Truncated { .. }))
        ));
        assert!(matches!(
            dec(&[], None),
            Err(StateFileError::Frame(FrameError::Truncated { .. }))
        ));
        // Trailing garbage.
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            dec(&longer, None),
            Err(StateFileError::Frame(FrameError::Trailing { extra: 1 }))
        ));
        // Another version, another magic.
        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&2u32.to_le_bytes());
        let err = dec(&newer, None).unwrap_err();
        assert!(matches!(
            err,
            StateFileError::Frame(FrameError::Version {
                found: 2,
                supported: 1
            })
        ));
        assert!(err.to_string().contains("format version 2"));
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert!(matches!(
            dec(&magic, None),
            Err(StateFileError::Frame(FrameError::Magic))
        ));
        // A checksummed payload that is no ConfigUpdate.
        let junk = frame(&[0xff, 0xff, 0xff], FLAG_KEYS_LEFT_OUT);
        assert!(matches!(dec(&junk, None), Err(StateFileError::Decode(_))));
    }

    #[test]
    fn state_keys_must_be_32_bytes_of_base64() {
        assert!(StateKey::from_base64(KEY).is_ok());
        assert!(StateKey::from_base64(KEY.trim_end_matches('=')).is_ok());
        assert!(StateKey::from_base64("c2hvcnQ=").is_err());
        assert!(StateKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn writes_are_atomic_and_loadable() {
        let dir = std::env::temp_dir().join(format!("apigw-state-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(load(&dir, None).unwrap().is_none());
        let mut state = Cumulative::new(with_domains());
        write_atomically(&dir, &state.encode(None)).unwrap();
        state.merge(ConfigUpdate {
            version: 4,
            upsert_stages: vec![stage("b", "prod", "d2")],
            ..Default::default()
        });
        write_atomically(&dir, &state.encode(None)).unwrap();
        let (update, _) = load(&dir, None).unwrap().unwrap();
        assert_eq!(update.version, 4);
        assert_eq!(update.upsert_stages.len(), 2);
        // Only the state file is left (no temporary files).
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![FILE_NAME.to_string()]);
        // The writer thread: a burst ends with the latest state on disk.
        let writer = StateWriter::start(dir.clone(), None).unwrap();
        writer.seed(update);
        for v in 5..=20 {
            writer.applied(
                ConfigUpdate {
                    version: v,
                    upsert_stages: vec![stage("c", &format!("s{v}"), "d")],
                    ..Default::default()
                }
                .into(),
            );
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Ok(Some((u, _))) = load(&dir, None) {
                if u.version == 20 {
                    assert_eq!(u.upsert_stages.len(), 2 + 16);
                    break;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the writer did not write v20"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        drop(writer);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
