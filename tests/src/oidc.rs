//! A test OIDC issuer on 127.0.0.1: `/.well-known/openid-configuration` and a JWKS the test
//! can swap (key rotation), counting key-set fetches, and the RS256 / ES256 keys it signs
//! tokens with (generated here, never stored).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};

/// A signing key and its public JWK.
#[derive(Clone)]
pub struct Key {
    /// Its `kid`.
    pub kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RSA key generation is slow: one key per test binary, reused under any `kid`.
fn rsa_private() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation")
    })
}

impl Key {
    /// An RS256 key under `kid`.
    pub fn rsa(kid: &str) -> Key {
        let private = rsa_private();
        let der = private.to_pkcs1_der().expect("PKCS#1 DER");
        Key {
            kid: kid.to_string(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            jwk: json!({
                "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": b64(&private.n().to_bytes_be()),
                "e": b64(&private.e().to_bytes_be()),
            }),
        }
    }

    /// A fresh ES256 key under `kid`.
    pub fn ec(kid: &str) -> Key {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("P-256 key generation");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("P-256 key");
        let point = pair.public_key().as_ref();
        Key {
            kid: kid.to_string(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
                "x": b64(&point[1..33]), "y": b64(&point[33..65]),
            }),
        }
    }

    /// A token with `claims`, signed by this key.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing a token")
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A running issuer.
pub struct Issuer {
    /// Its URL (`iss` of its tokens, a `providerARNs` entry).
    pub url: String,
    keys: Arc<Mutex<Vec<Key>>>,
    fetches: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Issuer {
    /// Starts an issuer publishing `keys`.
    pub async fn start(keys: Vec<Key>) -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the issuer");
        let addr = listener.local_addr().expect("issuer address");
        let url = format!("http://{addr}/pool");
        let keys = Arc::new(Mutex::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let discovery = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
        let (published, counted) = (Arc::clone(&keys), Arc::clone(&fetches));
        let app = Router::new()
            .route(
                "/pool/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route(
                "/pool/jwks",
                get(move || async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let keys = published.lock().map(|k| k.clone()).unwrap_or_default();
                    Json(json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}))
                }),
            );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Issuer {
            url,
            keys,
            fetches,
            server,
        }
    }

    /// Publishes `keys` instead (a rotation).
    pub fn publish(&self, keys: Vec<Key>) {
        if let Ok(mut published) = self.keys.lock() {
            *published = keys;
        }
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
