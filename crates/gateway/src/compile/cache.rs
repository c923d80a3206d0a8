//! The stage cache settings of one method, decided when the stage is compiled
//! ([`MethodCache`]): whether its responses are cached, for how long, what the key is made
//! of, and how a caller's `Cache-Control: max-age=0` is treated. The request side is
//! [`crate::phases::cache`].
//!
//! The rules (API Gateway's):
//!
//! - nothing is cached unless the stage's `cacheClusterEnabled` is on;
//! - a `GET` method is cached by default, with the settings of its own method setting
//!   (`{path}/GET`) or else the stage's `*/*` one; `caching/ttlInSeconds` 0 turns it off;
//! - any other method (and `ANY`) is cached only when its own method setting says
//!   `caching/enabled` true;
//! - the TTL is `caching/ttlInSeconds` (default 300, at most 3600);
//! - the key is the stage, its cache epoch (FlushStageCache), the request's HTTP method and
//!   path (so the resource path and its path parameters) and the values of the
//!   integration's `cacheKeyParameters` (`method.request.header.X`,
//!   `method.request.querystring.X`, `method.request.multivaluequerystring.X`,
//!   `method.request.path.X`), in their declared order;
//! - a method whose setting has `caching/dataEncrypted` keeps its entries sealed in the
//!   shared store with the stage's data key ([`DataKey`], `StageConfig.cache_data_key`);
//!   its keys are apart from clear ones, so turning the setting on or off never makes a
//!   node read one form as the other. Without a key it is not cached at all (never in
//!   clear when encryption was asked for).

use std::sync::Arc;
use std::time::Duration;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use apigw_proto::config::{self as pb, StageConfig};
use bytes::Bytes;
use rand::RngCore;

use super::mapping::{SourceScope, ValueSource};

/// API Gateway's default cache TTL.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// API Gateway's largest cache TTL.
pub const MAX_TTL: Duration = Duration::from_secs(3600);

/// What a caller's unauthorised `Cache-Control: max-age=0` gets
/// (`unauthorizedCacheControlHeaderStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `FAIL_WITH_403`: the request is refused.
    FailWith403,
    /// `SUCCEED_WITH_RESPONSE_HEADER` (the default): the header is ignored and the
    /// response says so in a `Warning` header.
    SucceedWithResponseHeader,
    /// `SUCCEED_WITHOUT_RESPONSE_HEADER`: the header is ignored silently.
    SucceedWithoutResponseHeader,
}

impl Strategy {
    /// The strategy named by a method setting (the default for anything else).
    pub fn parse(name: &str) -> Strategy {
        match name.trim().to_ascii_uppercase().as_str() {
            "FAIL_WITH_403" => Strategy::FailWith403,
            "SUCCEED_WITHOUT_RESPONSE_HEADER" => Strategy::SucceedWithoutResponseHeader,
            _ => Strategy::SucceedWithResponseHeader,
        }
    }
}

/// The length of a sealed entry's nonce (AES-GCM's 96 bits), in front of it.
const NONCE_LEN: usize = 12;
/// The length of AES-GCM's tag, after the ciphertext.
const TAG_LEN: usize = 16;

/// A stage's cache data key: seals entries of `dataEncrypted` methods with AES-256-GCM
/// before they go to the shared store, and opens them when read back.
pub struct DataKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// The stage's key, when its config carries one (32 bytes; anything else is ignored,
    /// loudly, and the stage's encrypted methods are then not cached).
    pub fn of_stage(stage: &StageConfig) -> Option<Arc<DataKey>> {
        if stage.cache_data_key.is_empty() {
            return None;
        }
        match Aes256Gcm::new_from_slice(&stage.cache_data_key) {
            Ok(cipher) => Some(Arc::new(DataKey { cipher })),
            Err(_) => {
                tracing::warn!(
                    api_id = %stage.api_id,
                    stage = %stage.stage_name,
                    length = stage.cache_data_key.len(),
                    "cache data key is not 32 bytes; encrypted methods are not cached"
                );
                None
            }
        }
    }

    /// A key from raw bytes (tests, benchmarks).
    pub fn from_bytes(key: &[u8; 32]) -> DataKey {
        DataKey {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// `nonce || ciphertext || tag` of `plain`, bound to `aad` (the entry's key): a fresh
    /// random nonce per entry. `None` only past AES-GCM's message limit (64 GiB).
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Option<Bytes> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plain.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, &mut out[NONCE_LEN..])
            .ok()?;
        out.extend_from_slice(&tag);
        Some(out.into())
    }

    /// The plaintext of a [`DataKey::seal`]ed entry; `None` when it does not open (another
    /// key, another entry's `aad`, tampered or truncated).
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Bytes> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut plain = ciphertext.to_vec();
        self.cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(nonce),
                aad,
                &mut plain,
                Tag::from_slice(tag),
            )
            .ok()?;
        Some(plain.into())
    }
}

/// A cached method's settings.
#[derive(Debug)]
pub struct MethodCache {
    /// How long an entry lives.
    pub ttl: Duration,
    /// The fixed part of every key of this method: API, stage, cache epoch, resource
    /// path, length-prefixed.
    pub key_prefix: Box<[u8]>,
    /// `{api}:{stage}`: the stage's namespace in the shared store (its memory bound).
    pub stage_tag: Arc<str>,
    /// The `cacheKeyParameters`, compiled, in declared order.
    pub key_parameters: Vec<ValueSource>,
    /// `requireAuthorizationForCacheControl`: `max-age=0` needs the
    /// `execute-api:InvalidateCache` permission.
    pub require_authorization: bool,
    /// What an unauthorised `max-age=0` gets.
    pub strategy: Strategy,
    /// `dataEncrypted`: the stage's data key, entries are sealed with in the shared store
    /// (`None`: kept in clear).
    pub sealed: Option<Arc<DataKey>>,
}

/// Appends one length-prefixed part to a key.
pub fn push_part(key: &mut Vec<u8>, part: &[u8]) {
    key.extend_from_slice(&(part.len() as u32).to_le_bytes());
    key.extend_from_slice(part);
}

/// The cache settings of a method, `None` when its responses are not cached. `data_key`:
/// the stage's ([`DataKey::of_stage`]).
pub fn method_cache(
    stage: &StageConfig,
    resource_path: &str,
    http_method: &str,
    integration: Option<&pb::Integration>,
    scope: &SourceScope<'_>,
    data_key: Option<&Arc<DataKey>>,
) -> Option<Arc<MethodCache>> {
    if !stage.cache_cluster_enabled {
        return None;
    }
    let own_key = format!("{}/{}", resource_path.trim_start_matches('/'), http_method);
    let own = stage.method_settings.get(&own_key);
    let setting = own.or_else(|| stage.method_settings.get("*/*"));
    let enabled = if http_method.eq_ignore_ascii_case("GET") {
        true
    } else {
        own.is_some_and(|s| s.caching_enabled)
    };
    let ttl = match setting {
        Some(s) => Duration::from_secs(u64::try_from(s.cache_ttl_in_seconds).unwrap_or(0)),
        None => DEFAULT_TTL,
    };
    if !enabled || ttl.is_zero() {
        return None;
    }
    let sealed = match setting.is_some_and(|s| s.cache_data_encrypted) {
        false => None,
        true => match data_key {
            Some(key) => Some(Arc::clone(key)),
            None => {
                tracing::warn!(
                    api_id = %stage.api_id,
                    stage = %stage.stage_name,
                    method = %own_key,
                    "caching/dataEncrypted without the stage's data key: not cached"
                );
                return None;
            }
        },
    };
    let mut key_prefix = Vec::new();
    push_part(&mut key_prefix, stage.api_id.as_bytes());
    push_part(&mut key_prefix, stage.stage_name.as_bytes());
    push_part(&mut key_prefix, &stage.cache_epoch.to_le_bytes());
    push_part(&mut key_prefix, resource_path.as_bytes());
    if sealed.is_some() {
        // Sealed entries live under other keys than clear ones.
        push_part(&mut key_prefix, b"sealed");
    }
    let key_parameters = integration
        .map(|i| i.cache_key_parameters.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|name| {
            let name = name.trim();
            if !name.starts_with("method.request.") {
                tracing::warn!(
                    parameter = name,
                    "cacheKeyParameters: not a method.request parameter, ignored"
                );
                return None;
            }
            match ValueSource::parse(name, scope) {
                Ok(source) => Some(source),
                Err(error) => {
                    tracing::warn!(parameter = name, %error, "cacheKeyParameters: ignored");
                    None
                }
            }
        })
        .collect();
    Some(Arc::new(MethodCache {
        ttl: ttl.min(MAX_TTL),
        key_prefix: key_prefix.into_boxed_slice(),
        stage_tag: format!("{}:{}", stage.api_id, stage.stage_name).into(),
        key_parameters,
        require_authorization: setting.is_none_or(|s| s.require_authorization_for_cache_control),
        strategy: setting.map_or(Strategy::SucceedWithResponseHeader, |s| {
            Strategy::parse(&s.unauthorized_cache_control_header_strategy)
        }),
        sealed,
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn scope<'a>(vars: &'a BTreeMap<String, String>, names: &'a [Box<str>]) -> SourceScope<'a> {
        SourceScope {
            param_names: names,
            stage_variables: vars,
            api_id: "a",
            stage: "s",
            resource_path: "/p",
            resource_id: "r",
            deployment_id: "d",
        }
    }

    fn setting(enabled: bool, ttl: i32) -> pb::MethodSetting {
        pb::MethodSetting {
            caching_enabled: enabled,
            cache_ttl_in_seconds: ttl,
            require_authorization_for_cache_control: true,
            ..Default::default()
        }
    }

    #[test]
    fn get_is_cached_by_default_others_only_when_enabled() {
        let vars = BTreeMap::new();
        let scope = scope(&vars, &[]);
        let mut stage = StageConfig {
            api_id: "a".into(),
            stage_name: "s".into(),
            cache_cluster_enabled: false,
            ..Default::default()
        };
        assert!(method_cache(&stage, "/p", "GET", None, &scope, None).is_none());
        stage.cache_cluster_enabled = true;
        let get = method_cache(&stage, "/p", "GET", None, &scope, None).unwrap();
        assert_eq!(get.ttl, DEFAULT_TTL);
        assert_eq!(get.strategy, Strategy::SucceedWithResponseHeader);
        assert!(method_cache(&stage, "/p", "POST", None, &scope, None).is_none());
        stage
            .method_settings
            .insert("*/*".into(), setting(true, 10));
        assert_eq!(
            method_cache(&stage, "/p", "GET", None, &scope, None)
                .unwrap()
                .ttl,
            Duration::from_secs(10)
        );
        assert!(
            method_cache(&stage, "/p", "POST", None, &scope, None).is_none(),
            "*/* does not turn on other methods"
        );
        stage
            .method_settings
            .insert("p/POST".into(), setting(true, 5000));
        assert_eq!(
            method_cache(&stage, "/p", "POST", None, &scope, None)
                .unwrap()
                .ttl,
            MAX_TTL
        );
        stage
            .method_settings
            .insert("p/GET".into(), setting(false, 0));
        assert!(method_cache(&stage, "/p", "GET", None, &scope, None).is_none());
    }

    #[test]
    fn data_keys_seal_and_open_only_their_own_entries() {
        let key = DataKey::from_bytes(&[7; 32]);
        let plain = b"status, headers and body";
        let sealed = key.seal(b"entry-1", plain).unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + plain.len() + TAG_LEN);
        assert!(
            !sealed.windows(plain.len()).any(|w| w == plain),
            "not in clear"
        );
        assert_eq!(key.open(b"entry-1", &sealed).unwrap().as_ref(), plain);
        assert_ne!(
            key.seal(b"entry-1", plain).unwrap(),
            sealed,
            "a fresh nonce per entry"
        );
        assert!(key.open(b"entry-2", &sealed).is_none(), "bound to its key");
        assert!(DataKey::from_bytes(&[8; 32])
            .open(b"entry-1", &sealed)
            .is_none());
        let mut tampered = sealed.to_vec();
        tampered[NONCE_LEN] ^= 1;
        assert!(key.open(b"entry-1", &tampered).is_none());
        assert!(key
            .open(b"entry-1", &sealed[..NONCE_LEN + TAG_LEN - 1])
            .is_none());
        let empty = key.seal(b"e", b"").unwrap();
        assert_eq!(key.open(b"e", &empty).unwrap().len(), 0);
    }

    #[test]
    fn encrypted_methods_need_the_stage_key_and_use_keys_of_their_own() {
        let vars = BTreeMap::new();
        let scope = scope(&vars, &[]);
        let mut stage = StageConfig {
            api_id: "a".into(),
            stage_name: "s".into(),
            cache_cluster_enabled: true,
            ..Default::default()
        };
        let clear = method_cache(&stage, "/p", "GET", None, &scope, None).unwrap();
        assert!(clear.sealed.is_none());
        stage.method_settings.insert(
            "*/*".into(),
            pb::MethodSetting {
                cache_data_encrypted: true,
                ..setting(false, 300)
            },
        );
        assert!(DataKey::of_stage(&stage).is_none());
        assert!(
            method_cache(&stage, "/p", "GET", None, &scope, None).is_none(),
            "never cached in clear when encryption is asked for"
        );
        stage.cache_data_key = vec![1; 31];
        assert!(DataKey::of_stage(&stage).is_none(), "not an AES-256 key");
        stage.cache_data_key = vec![1; 32];
        let key = DataKey::of_stage(&stage);
        let sealed = method_cache(&stage, "/p", "GET", None, &scope, key.as_ref()).unwrap();
        assert!(sealed.sealed.is_some());
        assert_ne!(sealed.key_prefix, clear.key_prefix);
    }

    #[test]
    fn key_parameters_compile_and_epochs_differ() {
        let vars = BTreeMap::new();
        let names: Vec<Box<str>> = vec!["id".into()];
        let scope = scope(&vars, &names);
        let mut stage = StageConfig {
            api_id: "a".into(),
            stage_name: "s".into(),
            cache_cluster_enabled: true,
            ..Default::default()
        };
        let integration = pb::Integration {
            cache_key_parameters: vec![
                "method.request.querystring.q".into(),
                "method.request.header.X-Tenant".into(),
                "integration.request.header.nope".into(),
            ],
            ..Default::default()
        };
        let one = method_cache(&stage, "/p", "GET", Some(&integration), &scope, None).unwrap();
        assert_eq!(one.key_parameters.len(), 2);
        stage.cache_epoch = 1;
        let two = method_cache(&stage, "/p", "GET", Some(&integration), &scope, None).unwrap();
        assert_ne!(one.key_prefix, two.key_prefix);
    }
}
