//! JWT verification for `COGNITO_USER_POOLS` and `JWT` authorizers.
//!
//! [`Issuer::from_provider_arn`] turns an authorizer's `providerARNs` entry (a Cognito user
//! pool ARN or an issuer URL) into an [`Issuer`]. [`Verifier::verify`] checks a bearer token
//! against a list of issuers: the issuer is picked by the token's `iss`, the key by its `kid`
//! in that issuer's key set (found through `{issuer}/.well-known/openid-configuration` →
//! `jwks_uri`, fetched on first use and cached), the signature must be RS256 or ES256, and
//! `exp` (required) and `nbf` (when present) must hold at the given time, give or take the
//! configured leeway. [`Claims`] then answers the authorizer's client-id and scope checks and
//! gives the claims as API Gateway exposes them (`$context.authorizer.claims.*`).
//!
//! Key sets are refetched when a token names an unknown `kid` (a key rotation), at most once
//! per issuer per [`VerifierConfig::min_refresh_interval`], by one caller while concurrent ones
//! wait for its result; and when a cached set is older than [`VerifierConfig::max_key_age`].
//! Verifying a token with a cached key takes no lock across an await.
//!
//! Mapping errors to responses: every [`JwtError`] is the client's fault (401 Unauthorized)
//! except [`JwtError::FetchFailed`], the authorizer's own failure (500); see
//! [`JwtError::is_authorizer_failure`].

mod claims;
mod issuer;
mod jwks;
mod token;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use jsonwebtoken::Algorithm;
use serde_json::Value;

pub use claims::Claims;
pub use issuer::{Issuer, IssuerError};

use jwks::{CachedKey, HttpClient, KeySet, Lookup};

/// Why a token was not accepted.
///
/// All of these mean 401 Unauthorized for the caller except [`JwtError::FetchFailed`], which
/// means the authorizer could not do its job (500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a well-formed JWT: segments, base64url, JSON, a header without `alg` or `kid`, an
    /// `exp` missing or not a number, an `nbf` not a number.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// An `alg` other than RS256 and ES256 (`none`, HS256, ...).
    #[error("unsupported token algorithm {0:?} (only RS256 and ES256 are accepted)")]
    UnsupportedAlgorithm(String),
    /// The `kid` is not in the issuer's key set, even after the allowed refresh.
    #[error("no key {0:?} in the issuer's key set")]
    UnknownKey(String),
    /// The signature does not verify with the key named by `kid` (or that key is for another
    /// algorithm than the token's).
    #[error("invalid token signature")]
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is missing or is none of the authorizer's issuers. Holds the token's `iss`.
    #[error("token issuer {0:?} is not accepted by this authorizer")]
    WrongIssuer(String),
    /// The issuer's discovery document or key set could not be fetched or was unusable: the
    /// authorizer's failure, not the client's (500, not 401).
    #[error("could not get the issuer's signing keys: {0}")]
    FetchFailed(String),
}

impl JwtError {
    /// True for [`JwtError::FetchFailed`] (respond 500, authorizer failure); false for the
    /// rest (respond 401 Unauthorized).
    pub fn is_authorizer_failure(&self) -> bool {
        matches!(self, JwtError::FetchFailed(_))
    }
}

/// How a [`Verifier`] caches keys and checks times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// The least time between two key set fetches for one issuer when tokens name unknown
    /// keys: a flood of made-up `kid`s costs at most one fetch per interval, and a rotated key
    /// is accepted within one interval. Default 10 s.
    pub min_refresh_interval: Duration,
    /// Clock skew allowed on `exp` and `nbf` (a token is accepted until `exp + leeway` and
    /// from `nbf - leeway`). Default 60 s, the usual default of JWT libraries (jsonwebtoken's
    /// own, for one): small next to token lifetimes (Cognito's are 5 min to 1 day) yet enough
    /// for an issuer whose clock is not tightly synced.
    pub leeway: Duration,
    /// The time limit of one discovery or key set fetch (connect, response and body).
    /// Default 5 s.
    pub fetch_timeout: Duration,
    /// How long a fetched key set is used before the next token for that issuer refetches it
    /// (so keys the issuer withdrew stop verifying). If that refetch fails, the old set stays
    /// in use. Default 1 h.
    pub max_key_age: Duration,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        VerifierConfig {
            min_refresh_interval: Duration::from_secs(10),
            leeway: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(5),
            max_key_age: Duration::from_secs(3600),
        }
    }
}

/// Verifies JWTs against issuers, caching each issuer's keys. `Send + Sync`: share one
/// (in an `Arc`) between all authorizers.
pub struct Verifier {
    config: VerifierConfig,
    http: HttpClient,
    /// Per issuer URL. Entries are made only for issuers that callers pass in (never for a
    /// token's unverified `iss` alone), so the map is bounded by the configured issuers.
    issuers: RwLock<HashMap<String, Arc<IssuerState>>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers = match self.issuers.read() {
            Ok(map) => map.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        };
        f.debug_struct("Verifier")
            .field("config", &self.config)
            .field("issuers", &issuers)
            .finish_non_exhaustive()
    }
}

/// One issuer's cache.
#[derive(Default)]
struct IssuerState {
    /// The current key set, read without locking.
    keys: ArcSwapOption<KeySet>,
    /// Held by the one caller fetching; others wait and then use its result.
    refresh: tokio::sync::Mutex<RefreshState>,
}

#[derive(Default)]
struct RefreshState {
    /// When the last fetch started (success or not).
    last_attempt: Option<Instant>,
    /// Why the last fetch failed, if it did.
    last_error: Option<String>,
    /// From the discovery document; forgotten when a key set fetch fails.
    jwks_uri: Option<String>,
}

impl Verifier {
    /// A verifier with empty caches. Fetches use a pooled HTTP client (https with the webpki
    /// roots; plain http for the loopback issuers that [`Issuer`] allows).
    pub fn new(config: VerifierConfig) -> Self {
        let http = jwks::http_client(config.fetch_timeout);
        Verifier {
            config,
            http,
            issuers: RwLock::new(HashMap::new()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verifies `token` (raw header value; a leading "Bearer " (case-insensitive) is stripped)
    /// as issued by one of `issuers`, at time `now`.
    ///
    /// The issuer is the one whose URL equals the token's unverified `iss` (trailing slashes
    /// ignored); the key, the one with the header's `kid` in that issuer's key set; then the
    /// RS256/ES256 signature is checked, and then `exp` and `nbf` against `now` with the leeway.
    pub async fn verify(
        &self,
        token: &str,
        issuers: &[Issuer],
        now: SystemTime,
    ) -> Result<Claims, JwtError> {
        let token = token::strip_bearer(token);
        let parts = token::split(token)?;
        let alg = match parts.alg.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            other => return Err(JwtError::UnsupportedAlgorithm(other.to_string())),
        };
        let iss = match parts.claims.get("iss") {
            Some(Value::String(iss)) => iss.as_str(),
            Some(other) => return Err(JwtError::WrongIssuer(other.to_string())),
            None => return Err(JwtError::WrongIssuer(String::new())),
        };
        let Some(issuer) = issuers.iter().find(|i| i.matches_iss(iss)) else {
            return Err(JwtError::WrongIssuer(iss.to_string()));
        };
        let Some(kid) = parts.kid.as_deref() else {
            return Err(JwtError::Malformed("header: no kid".to_string()));
        };
        let key = self.key_for(issuer, kid, alg).await?;
        let valid = jsonwebtoken::crypto::verify(
            parts.signature,
            parts.signing_input.as_bytes(),
            &key.key,
            alg,
        );
        if !matches!(valid, Ok(true)) {
            return Err(JwtError::BadSignature);
        }
        check_times(&parts.claims, now, self.config.leeway)?;
        Ok(Claims(parts.claims))
    }

    fn state(&self, issuer: &Issuer) -> Arc<IssuerState> {
        let read = match self.issuers.read() {
            Ok(map) => map.get(issuer.url()).cloned(),
            Err(poisoned) => poisoned.into_inner().get(issuer.url()).cloned(),
        };
        if let Some(state) = read {
            return state;
        }
        let mut map = match self.issuers.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(issuer.url().to_string()).or_default().clone()
    }

    /// The key for `kid` and `alg`: from the cached set, else after a refresh when one is due.
    async fn key_for(
        &self,
        issuer: &Issuer,
        kid: &str,
        alg: Algorithm,
    ) -> Result<Arc<CachedKey>, JwtError> {
        let state = self.state(issuer);
        let (found, stale) = lookup(&state, kid, alg, self.config.max_key_age);
        if stale {
            // Refetch an old set, by one caller; the others go on with the old set meanwhile.
            if let Ok(mut refresh) = state.refresh.try_lock() {
                if self.due(&refresh) {
                    // On failure the old set stays; a missing key below then reports it.
                    let _ = self.refresh(issuer, &state, &mut refresh).await;
                }
                drop(refresh);
                return self.found_or_refresh(issuer, &state, kid, alg).await;
            }
        }
        match found {
            Some(Lookup::Found(key)) => Ok(key),
            Some(Lookup::WrongAlgorithm) => Err(JwtError::BadSignature),
            Some(Lookup::Missing) | None => self.found_or_refresh(issuer, &state, kid, alg).await,
        }
    }

    /// The key from the current set, else from a refreshed one when a refresh is due; else
    /// [`JwtError::UnknownKey`] (or [`JwtError::FetchFailed`] when there is no set at all).
    async fn found_or_refresh(
        &self,
        issuer: &Issuer,
        state: &IssuerState,
        kid: &str,
        alg: Algorithm,
    ) -> Result<Arc<CachedKey>, JwtError> {
        let mut refresh = state.refresh.lock().await;
        // Another caller may have refreshed while this one waited.
        match lookup(state, kid, alg, Duration::MAX).0 {
            Some(Lookup::Found(key)) => return Ok(key),
            Some(Lookup::WrongAlgorithm) => return Err(JwtError::BadSignature),
            Some(Lookup::Missing) | None => {}
        }
        if !self.due(&refresh) {
            return Err(not_found(state, &refresh, kid));
        }
        self.refresh(issuer, state, &mut refresh)
            .await
            .map_err(JwtError::FetchFailed)?;
        drop(refresh);
        match lookup(state, kid, alg, Duration::MAX).0 {
            Some(Lookup::Found(key)) => Ok(key),
            Some(Lookup::WrongAlgorithm) => Err(JwtError::BadSignature),
            Some(Lookup::Missing) | None => Err(JwtError::UnknownKey(kid.to_string())),
        }
    }

    fn due(&self, refresh: &RefreshState) -> bool {
        refresh
            .last_attempt
            .is_none_or(|t| t.elapsed() >= self.config.min_refresh_interval)
    }

    /// Fetches the key set (and the discovery document first if its `jwks_uri` is not known)
    /// and installs it. The caller holds `state.refresh`.
    async fn refresh(
        &self,
        issuer: &Issuer,
        state: &IssuerState,
        refresh: &mut RefreshState,
    ) -> Result<(), String> {
        refresh.last_attempt = Some(Instant::now());
        let timeout = self.config.fetch_timeout;
        let jwks_uri = match refresh.jwks_uri.clone() {
            Some(uri) => Ok(uri),
            None => jwks::discover(&self.http, issuer, timeout).await,
        };
        let result = match jwks_uri {
            Ok(uri) => {
                let keys = jwks::fetch_keys(&self.http, &uri, timeout).await;
                // Rediscover next time if the key set could not be had.
                refresh.jwks_uri = keys.is_ok().then_some(uri);
                keys
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(keys) => {
                state.keys.store(Some(Arc::new(keys)));
                refresh.last_error = None;
                Ok(())
            }
            Err(e) => {
                refresh.last_error = Some(e.clone());
                Err(e)
            }
        }
    }
}

/// What the cached set holds for `kid`/`alg` (`None`: no set yet), and whether the set is
/// older than `max_age`. Takes no lock and holds nothing across an await.
fn lookup(
    state: &IssuerState,
    kid: &str,
    alg: Algorithm,
    max_age: Duration,
) -> (Option<Lookup>, bool) {
    let keys = state.keys.load();
    match keys.as_ref() {
        None => (None, false),
        Some(set) => (
            Some(set.lookup(kid, alg)),
            set.fetched_at.elapsed() > max_age,
        ),
    }
}

/// The error for a key not found when no refresh is due: with a key set, the key is unknown;
/// without one, the last fetch failed.
fn not_found(state: &IssuerState, refresh: &RefreshState, kid: &str) -> JwtError {
    if state.keys.load().is_some() {
        JwtError::UnknownKey(kid.to_string())
    } else {
        JwtError::FetchFailed(
            refresh
                .last_error
                .clone()
                .unwrap_or_else(|| "the key set has not been fetched".to_string()),
        )
    }
}

/// `exp` (required) and `nbf` (if present) against `now`, give or take `leeway`.
fn check_times(
    claims: &serde_json::Map<String, Value>,
    now: SystemTime,
    leeway: Duration,
) -> Result<(), JwtError> {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let leeway = leeway.as_secs_f64();
    let exp = match claims.get("exp") {
        Some(v) => v
            .as_f64()
            .ok_or_else(|| JwtError::Malformed("exp is not a number".to_string()))?,
        None => return Err(JwtError::Malformed("no exp claim".to_string())),
    };
    if now >= exp + leeway {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_f64()
            .ok_or_else(|| JwtError::Malformed("nbf is not a number".to_string()))?;
        if now + leeway < nbf {
            return Err(JwtError::NotYetValid);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn map(v: Value) -> serde_json::Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn times() {
        let l = Duration::from_secs(60);
        let c = map(json!({"exp": 1000, "nbf": 500}));
        assert_eq!(check_times(&c, at(900), l), Ok(()));
        assert_eq!(check_times(&c, at(1059), l), Ok(()));
        assert_eq!(check_times(&c, at(1060), l), Err(JwtError::Expired));
        assert_eq!(check_times(&c, at(440), l), Ok(()));
        assert_eq!(check_times(&c, at(439), l), Err(JwtError::NotYetValid));
        assert_eq!(
            check_times(&c, at(1000), Duration::ZERO),
            Err(JwtError::Expired)
        );
        assert!(matches!(
            check_times(&map(json!({"nbf": 1})), at(2), l),
            Err(JwtError::Malformed(_))
        ));
        assert!(matches!(
            check_times(&map(json!({"exp": "soon"})), at(2), l),
            Err(JwtError::Malformed(_))
        ));
        assert!(matches!(
            check_times(&map(json!({"exp": 10, "nbf": "x"})), at(2), l),
            Err(JwtError::Malformed(_))
        ));
        assert_eq!(
            check_times(&map(json!({"exp": 1000.5})), at(1000), Duration::ZERO),
            Ok(())
        );
    }

    #[test]
    fn verifier_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Verifier>();
        assert_send_sync::<Issuer>();
        assert_send_sync::<Claims>();
    }

    #[test]
    fn only_fetch_failures_are_authorizer_failures() {
        assert!(JwtError::FetchFailed("x".into()).is_authorizer_failure());
        assert!(!JwtError::Expired.is_authorizer_failure());
        assert!(!JwtError::UnknownKey("k".into()).is_authorizer_failure());
    }
}
