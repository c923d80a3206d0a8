//! Fetching an issuer's discovery document and key set, and decoding the key set.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::issuer::{check_url, Issuer};

/// The largest discovery document or key set accepted.
const MAX_BODY: usize = 1 << 20;

pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// A pooled client for `https://` (webpki roots) and plain `http://` URLs.
pub(crate) fn http_client(connect_timeout: Duration) -> HttpClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let connector = HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(2)
        .build(connector)
}

/// A decoded public key and the one algorithm it verifies.
pub(crate) struct CachedKey {
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// An issuer's usable keys (RSA keys for RS256, P-256 keys for ES256), by `kid`, decoded once.
pub(crate) struct KeySet {
    keys: HashMap<String, Vec<Arc<CachedKey>>>,
    pub(crate) fetched_at: Instant,
}

/// What a key set holds for a token's `kid` and `alg`.
pub(crate) enum Lookup {
    Found(Arc<CachedKey>),
    /// Keys with that `kid` exist, but none for the token's algorithm.
    WrongAlgorithm,
    Missing,
}

impl KeySet {
    pub(crate) fn lookup(&self, kid: &str, alg: Algorithm) -> Lookup {
        match self.keys.get(kid) {
            None => Lookup::Missing,
            Some(keys) => match keys.iter().find(|k| k.alg == alg) {
                Some(k) => Lookup::Found(k.clone()),
                None => Lookup::WrongAlgorithm,
            },
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.values().map(Vec::len).sum()
    }
}

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

/// The `jwks_uri` of `issuer`'s discovery document.
pub(crate) async fn discover(
    http: &HttpClient,
    issuer: &Issuer,
    timeout: Duration,
) -> Result<String, String> {
    let url = issuer.discovery_url();
    let body = get(http, &url, timeout).await?;
    let doc: Discovery = serde_json::from_slice(&body)
        .map_err(|e| format!("discovery document {url}: not JSON with a jwks_uri: {e}"))?;
    check_url(&doc.jwks_uri)
        .map_err(|e| format!("discovery document {url}: unusable jwks_uri: {e}"))?;
    // An https issuer's keys come over https too (plain http is for loopback test issuers).
    if issuer.is_https()
        && !doc
            .jwks_uri
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    {
        return Err(format!(
            "discovery document {url}: jwks_uri {:?} is not https",
            doc.jwks_uri
        ));
    }
    Ok(doc.jwks_uri)
}

/// The key set at `jwks_uri`.
pub(crate) async fn fetch_keys(
    http: &HttpClient,
    jwks_uri: &str,
    timeout: Duration,
) -> Result<KeySet, String> {
    let body = get(http, jwks_uri, timeout).await?;
    parse_key_set(&body).map_err(|e| format!("key set {jwks_uri}: {e}"))
}

/// Decodes a JWKS document, keeping the keys usable for RS256 or ES256 signatures and skipping
/// the rest (encryption keys, other key types and curves, keys without `kid`, keys this crate
/// cannot parse).
pub(crate) fn parse_key_set(body: &[u8]) -> Result<KeySet, String> {
    let raw: RawKeySet =
        serde_json::from_slice(body).map_err(|e| format!("not a JSON key set: {e}"))?;
    let mut keys: HashMap<String, Vec<Arc<CachedKey>>> = HashMap::new();
    for value in raw.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        ) {
            continue;
        }
        let alg = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            _ => continue,
        };
        let declared_ok = match jwk.common.key_algorithm {
            None => true,
            Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
            Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
            Some(_) => false,
        };
        if !declared_ok {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        keys.entry(kid)
            .or_default()
            .push(Arc::new(CachedKey { alg, key }));
    }
    Ok(KeySet {
        keys,
        fetched_at: Instant::now(),
    })
}

/// GETs `url` (a 2xx response of at most [`MAX_BODY`] bytes) within `timeout`.
async fn get(http: &HttpClient, url: &str, timeout: Duration) -> Result<Bytes, String> {
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::new())
        .map_err(|e| format!("GET {url}: {e}"))?;
    let fetch = async {
        let response = http
            .request(request)
            .await
            .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| format!("GET {url}: reading the body: {e}"))
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| format!("GET {url}: no response within {timeout:?}"))?
}

/// An error and its sources, `: `-separated (hyper's errors say little at the top).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    #[test]
    fn keeps_signature_keys_and_skips_the_rest() {
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "r-enc", "use": "enc", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "r-ps", "alg": "PS256", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "n": RSA_N, "e": "AQAB"},
            {"kty": "EC", "kid": "e384", "crv": "P-384", "x": "AA", "y": "AA"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "weird", "kid": "w"},
            "not even an object"
        ]});
        let set = parse_key_set(body.to_string().as_bytes()).unwrap();
        assert_eq!(set.len(), 1);
        assert!(matches!(
            set.lookup("r1", Algorithm::RS256),
            Lookup::Found(_)
        ));
        assert!(matches!(
            set.lookup("r1", Algorithm::ES256),
            Lookup::WrongAlgorithm
        ));
        assert!(matches!(
            set.lookup("hmac", Algorithm::RS256),
            Lookup::Missing
        ));
    }

    #[test]
    fn rejects_non_key_sets() {
        assert!(parse_key_set(b"{}").is_err());
        assert!(parse_key_set(b"<html>").is_err());
        assert!(parse_key_set(br#"{"keys": []}"#).is_ok());
    }
}
