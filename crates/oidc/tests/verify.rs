//! End-to-end tests of `Verifier`: a real identity provider on 127.0.0.1 serving a discovery
//! document and a key set that tests swap at runtime, and tokens signed with real RS256 and
//! ES256 keys generated here.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apigw_oidc::{Claims, Issuer, IssuerError, JwtError, Verifier, VerifierConfig};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Keys

/// A signing key and its public JWK.
#[derive(Clone)]
struct Key {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RSA key generation is slow in debug builds: a few keys, made once per test binary.
fn rsa_private(index: usize) -> &'static rsa::RsaPrivateKey {
    static KEYS: OnceLock<Vec<rsa::RsaPrivateKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..2)
            .map(|_| rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA keygen"))
            .collect()
    });
    &keys[index]
}

/// RS256 key number `index` (0 or 1) under `kid`.
fn rsa_key(index: usize, kid: &str) -> Key {
    let private = rsa_private(index);
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
fn ec_key(kid: &str) -> Key {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    assert_eq!(point.len(), 65);
    Key {
        kid: kid.to_string(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({
            "kty": "EC", "kid": kid, "use": "sig", "crv": "P-256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        }),
    }
}

fn jwks(keys: &[&Key]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(key: &Key, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

/// A token with a hand-made header and signature.
fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

// ---------------------------------------------------------------------------------------------
// Identity provider

/// An OIDC provider on 127.0.0.1: `{issuer}/.well-known/openid-configuration` and
/// `{issuer}/jwks`, counting fetches.
struct Idp {
    issuer: String,
    jwks: Arc<Mutex<Value>>,
    jwks_fetches: Arc<AtomicUsize>,
    discovery_fetches: Arc<AtomicUsize>,
    /// How long the key set response takes.
    jwks_delay: Arc<Mutex<Duration>>,
    /// Answer the key set with 500.
    failing: Arc<AtomicBool>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Idp {
    async fn start(keys: Value) -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let issuer = format!("http://{addr}/pool-1");
        let jwks = Arc::new(Mutex::new(keys));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let discovery_fetches = Arc::new(AtomicUsize::new(0));
        let jwks_delay = Arc::new(Mutex::new(Duration::ZERO));
        let failing = Arc::new(AtomicBool::new(false));
        let shared = (
            issuer.clone(),
            jwks.clone(),
            jwks_fetches.clone(),
            discovery_fetches.clone(),
            jwks_delay.clone(),
            failing.clone(),
        );
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (issuer, jwks, jwks_fetches, discovery_fetches, delay, failing) =
                    shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (issuer, jwks, jwks_fetches, discovery_fetches, delay, failing) = (
                            issuer.clone(),
                            jwks.clone(),
                            jwks_fetches.clone(),
                            discovery_fetches.clone(),
                            delay.clone(),
                            failing.clone(),
                        );
                        async move {
                            let path = req.uri().path().to_string();
                            let (status, body) =
                                if path == "/pool-1/.well-known/openid-configuration" {
                                    discovery_fetches.fetch_add(1, Ordering::SeqCst);
                                    let doc = json!({
                                        "issuer": issuer,
                                        "jwks_uri": format!("{issuer}/jwks"),
                                    });
                                    (200, doc.to_string())
                                } else if path == "/pool-1/jwks" {
                                    jwks_fetches.fetch_add(1, Ordering::SeqCst);
                                    let pause = *delay.lock().unwrap();
                                    if !pause.is_zero() {
                                        tokio::time::sleep(pause).await;
                                    }
                                    if failing.load(Ordering::SeqCst) {
                                        (500, "oops".to_string())
                                    } else {
                                        (200, jwks.lock().unwrap().to_string())
                                    }
                                } else {
                                    (404, String::new())
                                };
                            let response = hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Idp {
            issuer,
            jwks,
            jwks_fetches,
            discovery_fetches,
            jwks_delay,
            failing,
            server,
        }
    }

    fn issuers(&self) -> Vec<Issuer> {
        vec![Issuer::from_provider_arn(&self.issuer, &HashMap::new()).unwrap()]
    }

    fn set_keys(&self, keys: Value) {
        *self.jwks.lock().unwrap() = keys;
    }

    fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    fn discoveries(&self) -> usize {
        self.discovery_fetches.load(Ordering::SeqCst)
    }

    /// Claims valid for ten minutes from this issuer.
    fn claims(&self) -> Value {
        let now = unix_now();
        json!({
            "iss": self.issuer, "sub": "user-1", "iat": now, "exp": now + 600,
            "token_use": "access", "client_id": "client-a", "scope": "openid pets/read",
        })
    }
}

fn verifier(min_refresh_interval: Duration) -> Verifier {
    Verifier::new(VerifierConfig {
        min_refresh_interval,
        ..VerifierConfig::default()
    })
}

async fn verify(v: &Verifier, idp: &Idp, token: &str) -> Result<Claims, JwtError> {
    v.verify(token, &idp.issuers(), SystemTime::now()).await
}

// ---------------------------------------------------------------------------------------------
// Valid tokens

#[tokio::test]
async fn valid_rs256_token() {
    let key = rsa_key(0, "rsa-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(Duration::from_secs(10));
    let claims = verify(&v, &idp, &sign(&key, &idp.claims())).await.unwrap();
    assert_eq!(claims.subject(), Some("user-1"));
    assert_eq!(claims.issuer(), Some(idp.issuer.as_str()));
    assert_eq!((idp.discoveries(), idp.fetches()), (1, 1));

    // Cached: no more fetches.
    for _ in 0..5 {
        verify(&v, &idp, &sign(&key, &idp.claims())).await.unwrap();
    }
    assert_eq!((idp.discoveries(), idp.fetches()), (1, 1));
}

#[tokio::test]
async fn valid_es256_token() {
    let key = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(Duration::from_secs(10));
    let claims = verify(&v, &idp, &sign(&key, &idp.claims())).await.unwrap();
    assert_eq!(claims.get_str("client_id"), Some("client-a"));
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn mixed_key_set_and_bearer_prefix() {
    let rsa = rsa_key(0, "rsa-1");
    let ec = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&rsa, &ec])).await;
    let v = verifier(Duration::from_secs(10));
    for token in [sign(&rsa, &idp.claims()), sign(&ec, &idp.claims())] {
        for value in [
            token.clone(),
            format!("Bearer {token}"),
            format!("bearer {token}"),
            format!("BEARER {token}"),
            format!("  Bearer   {token}  "),
        ] {
            verify(&v, &idp, &value).await.unwrap();
        }
        // Another scheme is not stripped.
        assert!(matches!(
            verify(&v, &idp, &format!("Basic {token}")).await,
            Err(JwtError::Malformed(_))
        ));
    }
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn issuer_with_trailing_slash_and_several_issuers() {
    let key = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let other = ec_key("other");
    let idp2 = Idp::start(jwks(&[&other])).await;
    let v = verifier(Duration::from_secs(10));
    let both = vec![
        Issuer::from_provider_arn(&format!("{}/", idp2.issuer), &HashMap::new()).unwrap(),
        Issuer::from_provider_arn(&idp.issuer, &HashMap::new()).unwrap(),
    ];
    // `iss` with a trailing slash, configured without; and the reverse.
    let mut claims = idp.claims();
    claims["iss"] = json!(format!("{}/", idp.issuer));
    v.verify(&sign(&key, &claims), &both, SystemTime::now())
        .await
        .unwrap();
    v.verify(&sign(&other, &idp2.claims()), &both, SystemTime::now())
        .await
        .unwrap();
    assert_eq!((idp.fetches(), idp2.fetches()), (1, 1));
    // A key of the other issuer does not verify this issuer's tokens.
    let mut forged = idp.claims();
    forged["iss"] = json!(idp.issuer);
    assert_eq!(
        v.verify(&sign(&other, &forged), &both, SystemTime::now())
            .await
            .unwrap_err(),
        JwtError::UnknownKey("other".into())
    );
}

// ---------------------------------------------------------------------------------------------
// Rejected tokens

#[tokio::test]
async fn expired_and_not_yet_valid() {
    let key = rsa_key(0, "rsa-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(Duration::from_secs(10)); // leeway 60 s
    let now = unix_now();

    let mut c = idp.claims();
    c["exp"] = json!(now - 120);
    assert_eq!(
        verify(&v, &idp, &sign(&key, &c)).await.unwrap_err(),
        JwtError::Expired
    );
    // Within the leeway.
    c["exp"] = json!(now - 30);
    verify(&v, &idp, &sign(&key, &c)).await.unwrap();
    // `now` is the caller's: the same token an hour earlier is fine.
    c["exp"] = json!(now - 120);
    v.verify(
        &sign(&key, &c),
        &idp.issuers(),
        SystemTime::now() - Duration::from_secs(3600),
    )
    .await
    .unwrap();

    let mut c = idp.claims();
    c["nbf"] = json!(now + 300);
    assert_eq!(
        verify(&v, &idp, &sign(&key, &c)).await.unwrap_err(),
        JwtError::NotYetValid
    );
    c["nbf"] = json!(now + 30);
    verify(&v, &idp, &sign(&key, &c)).await.unwrap();

    // exp is required.
    let mut c = idp.claims();
    c.as_object_mut().unwrap().remove("exp");
    assert!(matches!(
        verify(&v, &idp, &sign(&key, &c)).await,
        Err(JwtError::Malformed(_))
    ));
}

#[tokio::test]
async fn wrong_issuer() {
    let key = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(Duration::from_secs(10));
    let mut c = idp.claims();
    c["iss"] = json!("https://evil.example.com/pool-1");
    assert_eq!(
        verify(&v, &idp, &sign(&key, &c)).await.unwrap_err(),
        JwtError::WrongIssuer("https://evil.example.com/pool-1".into())
    );
    c["iss"] = json!(format!("{}x", idp.issuer));
    assert!(matches!(
        verify(&v, &idp, &sign(&key, &c)).await,
        Err(JwtError::WrongIssuer(_))
    ));
    c.as_object_mut().unwrap().remove("iss");
    assert!(matches!(
        verify(&v, &idp, &sign(&key, &c)).await,
        Err(JwtError::WrongIssuer(_))
    ));
    // No issuer accepted at all.
    assert!(matches!(
        v.verify(&sign(&key, &idp.claims()), &[], SystemTime::now())
            .await,
        Err(JwtError::WrongIssuer(_))
    ));
    // Nothing was fetched for any of them.
    assert_eq!((idp.discoveries(), idp.fetches()), (0, 0));
}

#[tokio::test]
async fn bad_signatures() {
    let good_rsa = rsa_key(0, "rsa-1");
    let evil_rsa = rsa_key(1, "rsa-1");
    let good_ec = ec_key("ec-1");
    let evil_ec = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&good_rsa, &good_ec])).await;
    let v = verifier(Duration::from_secs(10));

    for evil in [&evil_rsa, &evil_ec] {
        assert_eq!(
            verify(&v, &idp, &sign(evil, &idp.claims()))
                .await
                .unwrap_err(),
            JwtError::BadSignature
        );
    }

    // A genuine token with its payload changed.
    let token = sign(&good_rsa, &idp.claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = idp.claims();
    claims["sub"] = json!("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        verify(&v, &idp, &tampered).await.unwrap_err(),
        JwtError::BadSignature
    );
    // Garbage and empty signatures.
    for sig in ["", "!!!", "AAAA"] {
        let t = format!("{}.{}.{sig}", parts[0], parts[1]);
        assert_eq!(
            verify(&v, &idp, &t).await.unwrap_err(),
            JwtError::BadSignature
        );
    }

    // An ES256 token naming the RSA key's kid (and the reverse): rejected, not a panic.
    let cross = Key {
        kid: "rsa-1".into(),
        ..evil_ec.clone()
    };
    assert_eq!(
        verify(&v, &idp, &sign(&cross, &idp.claims()))
            .await
            .unwrap_err(),
        JwtError::BadSignature
    );
    let cross = Key {
        kid: "ec-1".into(),
        ..evil_rsa.clone()
    };
    assert_eq!(
        verify(&v, &idp, &sign(&cross, &idp.claims()))
            .await
            .unwrap_err(),
        JwtError::BadSignature
    );
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn none_and_hmac_and_other_algorithms_rejected() {
    let key = rsa_key(0, "rsa-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(Duration::from_secs(10));
    let claims = idp.claims();

    let none = raw_token(&json!({"alg": "none", "kid": "rsa-1"}), &claims, b"");
    assert_eq!(
        verify(&v, &idp, &none).await.unwrap_err(),
        JwtError::UnsupportedAlgorithm("none".into())
    );
    let none_no_sig = none.trim_end_matches('.').to_string() + ".";
    assert!(matches!(
        verify(&v, &idp, &none_no_sig).await,
        Err(JwtError::UnsupportedAlgorithm(_))
    ));

    // HS256 keyed with the RSA public modulus: the classic key-confusion forgery.
    let n = key.jwk["n"].as_str().unwrap().as_bytes().to_vec();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let hs = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&n)).unwrap();
    assert_eq!(
        verify(&v, &idp, &hs).await.unwrap_err(),
        JwtError::UnsupportedAlgorithm("HS256".into())
    );

    for alg in ["RS512", "PS256", "ES384", "EdDSA", "rs256"] {
        let t = raw_token(&json!({"alg": alg, "kid": "rsa-1"}), &claims, b"sig");
        assert_eq!(
            verify(&v, &idp, &t).await.unwrap_err(),
            JwtError::UnsupportedAlgorithm(alg.into())
        );
    }
    assert_eq!((idp.discoveries(), idp.fetches()), (0, 0));
}

#[tokio::test]
async fn malformed_tokens() {
    let key = rsa_key(0, "rsa-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(Duration::from_secs(10));
    let no_kid = {
        let header = Header::new(Algorithm::RS256);
        jsonwebtoken::encode(&header, &idp.claims(), &key.encoding).unwrap()
    };
    for t in ["", "Bearer ", "abc", "a.b.c", "a.b", &no_kid] {
        assert!(
            matches!(verify(&v, &idp, t).await, Err(JwtError::Malformed(_))),
            "{t:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Refreshing keys

/// Waits out the refresh interval after the last fetch.
async fn after(interval: Duration) {
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
}

#[tokio::test]
async fn unknown_kid_refetches_once_then_stays_unknown() {
    let interval = Duration::from_secs(2);
    let key = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(interval);
    verify(&v, &idp, &sign(&key, &idp.claims())).await.unwrap();
    assert_eq!(idp.fetches(), 1);

    // Right after a fetch, an unknown kid costs nothing.
    let bogus = Key {
        kid: "bogus".into(),
        ..key.clone()
    };
    let token = sign(&bogus, &idp.claims());
    assert_eq!(
        verify(&v, &idp, &token).await.unwrap_err(),
        JwtError::UnknownKey("bogus".into())
    );
    assert_eq!(idp.fetches(), 1);

    // Once the interval has passed: exactly one refetch, and the kid is still unknown.
    after(interval).await;
    assert_eq!(
        verify(&v, &idp, &token).await.unwrap_err(),
        JwtError::UnknownKey("bogus".into())
    );
    assert_eq!(idp.fetches(), 2);
    for _ in 0..5 {
        assert_eq!(
            verify(&v, &idp, &token).await.unwrap_err(),
            JwtError::UnknownKey("bogus".into())
        );
    }
    assert_eq!(idp.fetches(), 2);
    // The discovery document was fetched once for all of it.
    assert_eq!(idp.discoveries(), 1);
    // Valid tokens still verify from the cache.
    verify(&v, &idp, &sign(&key, &idp.claims())).await.unwrap();
    assert_eq!(idp.fetches(), 2);
}

#[tokio::test]
async fn flood_of_unknown_kids_costs_at_most_one_fetch() {
    let interval = Duration::from_secs(2);
    let key = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&key])).await;
    // A slow key set, so the flood piles up behind the one fetch.
    *idp.jwks_delay.lock().unwrap() = Duration::from_millis(200);
    let v = Arc::new(verifier(interval));
    verify(&v, &idp, &sign(&key, &idp.claims())).await.unwrap();
    assert_eq!(idp.fetches(), 1);
    after(interval).await;

    let issuers = Arc::new(idp.issuers());
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let bogus = Key {
                kid: format!("bogus-{i}"),
                ..key.clone()
            };
            let token = sign(&bogus, &idp.claims());
            let (v, issuers) = (v.clone(), issuers.clone());
            tokio::spawn(async move { v.verify(&token, &issuers, SystemTime::now()).await })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Err(JwtError::UnknownKey(_))));
    }
    assert_eq!(idp.fetches(), 2, "50 unknown kids, one refetch");
    assert_eq!(idp.discoveries(), 1);
}

#[tokio::test]
async fn concurrent_first_use_fetches_once() {
    let key = rsa_key(0, "rsa-1");
    let idp = Idp::start(jwks(&[&key])).await;
    *idp.jwks_delay.lock().unwrap() = Duration::from_millis(200);
    let v = Arc::new(verifier(Duration::from_secs(10)));
    let issuers = Arc::new(idp.issuers());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let token = sign(&key, &idp.claims());
            let (v, issuers) = (v.clone(), issuers.clone());
            tokio::spawn(async move { v.verify(&token, &issuers, SystemTime::now()).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!((idp.discoveries(), idp.fetches()), (1, 1));
}

#[tokio::test]
async fn rotated_key_is_accepted_within_the_interval() {
    let interval = Duration::from_millis(200);
    let old = rsa_key(0, "key-2024");
    let new = ec_key("key-2025");
    let idp = Idp::start(jwks(&[&old])).await;
    let v = verifier(interval);
    verify(&v, &idp, &sign(&old, &idp.claims())).await.unwrap();

    // The provider rotates: the old key is gone, the new one signs.
    idp.set_keys(jwks(&[&new]));
    let token = sign(&new, &idp.claims());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(10);
    let accepted_after = loop {
        match verify(&v, &idp, &token).await {
            Ok(claims) => {
                assert_eq!(claims.subject(), Some("user-1"));
                break started.elapsed();
            }
            Err(JwtError::UnknownKey(kid)) => assert_eq!(kid, "key-2025"),
            Err(e) => panic!("unexpected {e}"),
        }
        assert!(Instant::now() < deadline, "rotated key never accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        accepted_after <= interval + Duration::from_secs(2),
        "{accepted_after:?}"
    );
    // Polling every 20 ms cost one fetch per interval at most.
    let fetches = idp.fetches();
    assert!(fetches >= 2, "{fetches}");
    let bound = 2 + (accepted_after.as_millis() / interval.as_millis()) as usize;
    assert!(fetches <= bound, "{fetches} fetches in {accepted_after:?}");
    // The withdrawn key no longer verifies (its kid is unknown now).
    assert_eq!(
        verify(&v, &idp, &sign(&old, &idp.claims()))
            .await
            .unwrap_err(),
        JwtError::UnknownKey("key-2024".into())
    );
}

#[tokio::test]
async fn old_key_set_is_refetched_after_max_key_age() {
    let old = ec_key("old");
    let new = ec_key("new");
    let idp = Idp::start(jwks(&[&old, &new])).await;
    let v = Verifier::new(VerifierConfig {
        min_refresh_interval: Duration::from_millis(100),
        max_key_age: Duration::from_secs(1),
        ..VerifierConfig::default()
    });
    verify(&v, &idp, &sign(&old, &idp.claims())).await.unwrap();
    // The provider withdraws `old`; tokens signed with it verify until the set is too old.
    idp.set_keys(jwks(&[&new]));
    verify(&v, &idp, &sign(&old, &idp.claims())).await.unwrap();
    assert_eq!(idp.fetches(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        verify(&v, &idp, &sign(&old, &idp.claims()))
            .await
            .unwrap_err(),
        JwtError::UnknownKey("old".into())
    );
    assert_eq!(idp.fetches(), 2);
    verify(&v, &idp, &sign(&new, &idp.claims())).await.unwrap();
    assert_eq!(idp.fetches(), 2);

    // When the provider is down, an old set stays in use.
    idp.failing.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    verify(&v, &idp, &sign(&new, &idp.claims())).await.unwrap();
    assert_eq!(idp.fetches(), 3);
}

// ---------------------------------------------------------------------------------------------
// Fetch failures

#[tokio::test]
async fn unreachable_or_broken_provider_is_fetch_failed() {
    let interval = Duration::from_secs(1);
    let key = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(interval);
    let token = sign(&key, &idp.claims());

    // Key set answers 500.
    idp.failing.store(true, Ordering::SeqCst);
    let err = verify(&v, &idp, &token).await.unwrap_err();
    assert!(err.is_authorizer_failure(), "{err}");
    assert!(err.to_string().contains("500"), "{err}");
    // Within the interval the failure is remembered, not retried.
    let again = verify(&v, &idp, &token).await.unwrap_err();
    assert_eq!(again, err);
    assert_eq!(idp.fetches(), 1);

    // Key set not JSON.
    idp.failing.store(false, Ordering::SeqCst);
    idp.set_keys(json!("not a key set"));
    after(interval).await;
    assert!(matches!(
        verify(&v, &idp, &token).await,
        Err(JwtError::FetchFailed(_))
    ));
    // Fixed: verifies after the interval.
    idp.set_keys(jwks(&[&key]));
    after(interval).await;
    verify(&v, &idp, &token).await.unwrap();
    // A failed key set fetch means rediscovery.
    assert_eq!(idp.discoveries(), 3);

    // Nothing listening.
    let closed = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let issuer = format!("http://{closed}/nowhere");
    let mut c = idp.claims();
    c["iss"] = json!(issuer);
    let err = v
        .verify(
            &sign(&key, &c),
            &[Issuer::from_provider_arn(&issuer, &HashMap::new()).unwrap()],
            SystemTime::now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, JwtError::FetchFailed(_)), "{err}");

    // A provider that never answers: the fetch timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", silent.local_addr().unwrap());
    let v = Verifier::new(VerifierConfig {
        fetch_timeout: Duration::from_millis(300),
        ..VerifierConfig::default()
    });
    let mut c = idp.claims();
    c["iss"] = json!(issuer);
    let started = Instant::now();
    let err = v
        .verify(
            &sign(&key, &c),
            &[Issuer::from_provider_arn(&issuer, &HashMap::new()).unwrap()],
            SystemTime::now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, JwtError::FetchFailed(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(silent);
}

// ---------------------------------------------------------------------------------------------
// Claims checks on verified tokens

#[tokio::test]
async fn client_id_and_scopes_of_verified_tokens() {
    let key = ec_key("ec-1");
    let idp = Idp::start(jwks(&[&key])).await;
    let v = verifier(Duration::from_secs(10));
    let client = regex::Regex::new("^client-a$").unwrap();
    let other = regex::Regex::new("^client-b$").unwrap();

    // Access token: client_id.
    let access = verify(&v, &idp, &sign(&key, &idp.claims())).await.unwrap();
    assert!(access.client_matches(Some(&client)));
    assert!(!access.client_matches(Some(&other)));
    assert!(access.client_matches(None));
    assert!(access.has_any_scope(&[]));
    assert!(access.has_any_scope(&["pets/write".into(), "pets/read".into()]));
    assert!(!access.has_any_scope(&["pets/write".into()]));

    // ID token: aud.
    let mut c = idp.claims();
    let obj = c.as_object_mut().unwrap();
    obj.insert("token_use".into(), json!("id"));
    obj.insert("aud".into(), json!("client-b"));
    obj.insert("email".into(), json!("a@example.com"));
    obj.remove("scope");
    obj.insert("scp".into(), json!(["admin", "pets/write"]));
    let id = verify(&v, &idp, &sign(&key, &c)).await.unwrap();
    assert!(id.client_matches(Some(&other)));
    assert!(!id.client_matches(Some(&client)), "client_id is not aud");
    assert!(id.has_any_scope(&["pets/write".into()]));
    assert!(!id.has_any_scope(&["pets/read".into()]));

    // aud as an array.
    c["aud"] = json!(["x", "client-a"]);
    let id = verify(&v, &idp, &sign(&key, &c)).await.unwrap();
    assert!(id.client_matches(Some(&client)));

    let strings: HashMap<String, String> = id.as_strings().into_iter().collect();
    assert_eq!(strings["email"], "a@example.com");
    assert_eq!(strings["aud"], r#"["x","client-a"]"#);
    assert_eq!(strings["exp"], c["exp"].to_string());
}

// ---------------------------------------------------------------------------------------------
// Issuers from providerARNs

#[test]
fn provider_arns() {
    let none = HashMap::new();
    let url = |entry: &str| Issuer::from_provider_arn(entry, &none).map(|i| i.url().to_string());

    assert_eq!(
        url("https://idp.example.com/realms/a").unwrap(),
        "https://idp.example.com/realms/a"
    );
    assert_eq!(
        url("https://idp.example.com/").unwrap(),
        "https://idp.example.com"
    );
    assert_eq!(
        url(" http://127.0.0.1:9000/p ").unwrap(),
        "http://127.0.0.1:9000/p"
    );
    assert!(url("http://127.1.2.3/p").is_ok());
    assert!(url("http://localhost:8080").is_ok());
    assert!(url("http://[::1]:8080/x").is_ok());
    assert!(matches!(
        url("http://idp.example.com/p"),
        Err(IssuerError::InsecureHttp(_))
    ));
    assert!(matches!(
        url("http://10.0.0.5/p"),
        Err(IssuerError::InsecureHttp(_))
    ));
    assert!(matches!(
        url("http://localhost.evil.com/p"),
        Err(IssuerError::InsecureHttp(_))
    ));

    // Cognito, as AWS.
    let arn = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123";
    assert_eq!(
        url(arn).unwrap(),
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
    );
    assert_eq!(
        url("arn:aws-cn:cognito-idp:cn-north-1:123456789012:userpool/cn-north-1_X").unwrap(),
        "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_X"
    );
    // Overridden (a local stand-in for the pool).
    let overrides = HashMap::from([(arn.to_string(), "http://127.0.0.1:4000/pool/".to_string())]);
    let issuer = Issuer::from_provider_arn(arn, &overrides).unwrap();
    assert_eq!(issuer.url(), "http://127.0.0.1:4000/pool");
    // Overrides are held to the same rules.
    let bad = HashMap::from([(arn.to_string(), "http://idp.example.com".to_string())]);
    assert!(matches!(
        Issuer::from_provider_arn(arn, &bad),
        Err(IssuerError::InsecureHttp(_))
    ));
    // An override for another ARN does not apply.
    let elsewhere = HashMap::from([("arn:other".to_string(), "http://127.0.0.1:1".to_string())]);
    assert_eq!(
        Issuer::from_provider_arn(arn, &elsewhere).unwrap().url(),
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
    );

    // Junk.
    for junk in [
        "",
        "   ",
        "cognito",
        "idp.example.com",
        "ftp://idp.example.com",
        "arn:aws:iam::123456789012:role/x",
        "arn:aws:cognito-idp:us-east-1:123456789012:identitypool/x",
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/",
        "arn:aws:cognito-idp::123456789012:userpool/p",
        "arn:aws:cognito-idp:us-east-1::userpool/p",
        "arn:aws:cognito-idp:us-east-1:12345x:userpool/p",
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/a/b",
        "arn:evil:cognito-idp:us-east-1:123456789012:userpool/p",
        "arn:aws:cognito-idp",
        "https://",
        "https://idp.example.com/?x=1",
        "https://user:pw@idp.example.com/",
    ] {
        let err = url(junk).unwrap_err();
        assert!(!err.to_string().is_empty());
    }
    // The messages say what was expected.
    let msg = url("arn:aws:cognito-idp:us-east-1:1:userpool/")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("userpool/POOL_ID"), "{msg}");
    let msg = url("http://idp.example.com").unwrap_err().to_string();
    assert!(msg.contains("https://"), "{msg}");
    let msg = url("junk").unwrap_err().to_string();
    assert!(msg.contains("issuer URL"), "{msg}");
}

// ---------------------------------------------------------------------------------------------

#[test]
fn verify_future_is_send() {
    fn assert_send<F: Future + Send>(_: F) {}
    let v = Verifier::new(VerifierConfig::default());
    let issuers: Vec<Issuer> = Vec::new();
    assert_send(v.verify("t", &issuers, SystemTime::now()));
}
