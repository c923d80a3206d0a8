//! Verification with a derived signing key (data-plane nodes never see secrets): it accepts
//! exactly what `verify` with the secret accepts, and refuses keys of any other scope.

use apigw_sigv4::canonical::{parse_amz_date, signing_key};
use apigw_sigv4::{
    parse, presign, sign, ParsedAuth, Payload, Request, SecretKey, SigV4Error, SigningKey,
    SigningParams,
};
use http::HeaderMap;
use time::{Duration, OffsetDateTime};

const AKID: &str = "AKIAAPIGWTEST0000001";
const SECRET: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I";
const DATE: &str = "20260101";
const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";

fn now() -> OffsetDateTime {
    parse_amz_date("20260101T000000Z").unwrap()
}

fn secret() -> SecretKey {
    SecretKey::new(SECRET)
}

fn params(secret: &SecretKey) -> SigningParams<'_> {
    SigningParams {
        access_key_id: AKID,
        secret,
        security_token: None,
        region: REGION,
        service: SERVICE,
        time: now(),
    }
}

/// A `POST /prod/pets` with a JSON body, signed with the secret, parsed as a node would.
fn signed_request(body: &[u8]) -> (HeaderMap, ParsedAuth) {
    let s = secret();
    let mut headers = HeaderMap::new();
    headers.insert("host", "abc.execute-api.localhost:8080".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    sign("POST", "/prod/pets?limit=5", &headers, body, &params(&s))
        .unwrap()
        .apply_to(&mut headers)
        .unwrap();
    let parsed = parse(&Request::new(
        "POST",
        "/prod/pets",
        "limit=5",
        &headers,
        Payload::Bytes(body),
    ))
    .unwrap();
    (headers, parsed)
}

fn key() -> SigningKey {
    SigningKey::derive(&secret(), DATE, REGION, SERVICE)
}

#[test]
fn derived_key_verifies_what_the_secret_signed() {
    let (_, parsed) = signed_request(br#"{"name":"rex"}"#);
    assert_eq!(parsed.verify(&secret(), SERVICE, now()), Ok(()));
    assert_eq!(
        parsed.verify_with_signing_key(key().as_bytes(), SERVICE, now()),
        Ok(())
    );
    // The raw derivation is the same key.
    let raw = signing_key(SECRET, DATE, REGION, SERVICE);
    assert_eq!(&raw, key().as_bytes());
    assert_eq!(parsed.verify_with_signing_key(&raw, SERVICE, now()), Ok(()));
    assert_eq!(
        parsed.verify_with_signing_key(SigningKey::from(raw).as_bytes(), SERVICE, now()),
        Ok(())
    );
}

#[test]
fn keys_of_any_other_scope_or_secret_fail() {
    let (_, parsed) = signed_request(b"{}");
    let other_secret = SecretKey::new("another-secret-another-secret-another-secre");
    let wrong = [
        (
            "another date",
            SigningKey::derive(&secret(), "20251231", REGION, SERVICE),
        ),
        (
            "another region",
            SigningKey::derive(&secret(), DATE, "eu-west-1", SERVICE),
        ),
        (
            "another service",
            SigningKey::derive(&secret(), DATE, REGION, "apigateway"),
        ),
        (
            "another secret",
            SigningKey::derive(&other_secret, DATE, REGION, SERVICE),
        ),
        ("zeros", SigningKey::from([0u8; 32])),
    ];
    for (what, k) in wrong {
        assert_eq!(
            parsed.verify_with_signing_key(k.as_bytes(), SERVICE, now()),
            Err(SigV4Error::SignatureDoesNotMatch),
            "{what}"
        );
    }
}

#[test]
fn tampered_request_fails_with_the_right_key() {
    let body = br#"{"name":"rex"}"#;
    let (headers, _) = signed_request(body);
    let parsed = parse(&Request::new(
        "POST",
        "/prod/pets",
        "limit=6",
        &headers,
        Payload::Bytes(body),
    ))
    .unwrap();
    assert_eq!(
        parsed.verify_with_signing_key(key().as_bytes(), SERVICE, now()),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
    // A body that does not match the signed x-amz-content-sha256.
    let parsed = parse(&Request::new(
        "POST",
        "/prod/pets",
        "limit=5",
        &headers,
        Payload::Bytes(b"{}"),
    ))
    .unwrap();
    assert_eq!(
        parsed.verify_with_signing_key(key().as_bytes(), SERVICE, now()),
        Err(SigV4Error::PayloadHashMismatch)
    );
}

#[test]
fn scope_service_is_checked_first() {
    let (_, parsed) = signed_request(b"{}");
    let e = parsed
        .verify_with_signing_key(key().as_bytes(), "apigateway", now())
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Credential should be scoped to correct service: 'apigateway'. "
    );
    assert_eq!(Err(e), parsed.verify(&secret(), "apigateway", now()));
}

#[test]
fn clock_skew_is_enforced_as_verify_does() {
    let (_, parsed) = signed_request(b"{}");
    let k = key();
    assert_eq!(
        parsed.verify_with_signing_key(k.as_bytes(), SERVICE, now() + Duration::minutes(5)),
        Ok(())
    );
    assert_eq!(
        parsed.verify_with_signing_key(k.as_bytes(), SERVICE, now() - Duration::minutes(5)),
        Ok(())
    );
    let e = parsed
        .verify_with_signing_key(k.as_bytes(), SERVICE, now() + Duration::minutes(30))
        .unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert_eq!(
        e.message(),
        "Signature expired: 20260101T000000Z is now earlier than 20260101T002500Z \
         (20260101T003000Z - 5 min.)"
    );
    let e = parsed
        .verify_with_signing_key(k.as_bytes(), SERVICE, now() - Duration::minutes(20))
        .unwrap_err();
    assert!(
        matches!(&e, SigV4Error::SignatureNotYetCurrent(m) if m.starts_with("Signature not yet current: 20260101T000000Z")),
        "{e:?}"
    );
    // Even a wrong key reports the clock first, as verify does with a wrong secret.
    let wrong = SigningKey::from([7u8; 32]);
    assert!(matches!(
        parsed.verify_with_signing_key(wrong.as_bytes(), SERVICE, now() + Duration::hours(1)),
        Err(SigV4Error::SignatureExpired(_))
    ));
}

#[test]
fn presigned_expiry_is_enforced() {
    let s = secret();
    let url = presign(
        "GET",
        "http://abc.execute-api.localhost:8080/prod/pets?limit=5",
        &HeaderMap::new(),
        300,
        &params(&s),
    )
    .unwrap();
    let q = url.split_once('?').unwrap().1;
    let mut h = HeaderMap::new();
    h.insert("host", "abc.execute-api.localhost:8080".parse().unwrap());
    let parsed = parse(&Request::new(
        "GET",
        "/prod/pets",
        q,
        &h,
        Payload::Bytes(b""),
    ))
    .unwrap();
    let k = key();
    for secs in [0, 299, 300] {
        assert_eq!(
            parsed.verify_with_signing_key(k.as_bytes(), SERVICE, now() + Duration::seconds(secs)),
            Ok(()),
            "+{secs}s"
        );
    }
    let e = parsed
        .verify_with_signing_key(k.as_bytes(), SERVICE, now() + Duration::seconds(301))
        .unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert_eq!(
        e.message(),
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z \
         (20260101T000501Z - 300 sec.)"
    );
}

/// One code path: for any clock, verify(secret) and verify_with_signing_key(derived key)
/// give the same answer.
#[test]
fn same_answers_as_verify_with_the_secret() {
    let (_, parsed) = signed_request(b"{}");
    let s = secret();
    let k = key();
    for minutes in [-60, -6, -5, -1, 0, 1, 5, 6, 60, 24 * 60] {
        let t = now() + Duration::minutes(minutes);
        for service in [SERVICE, "apigateway"] {
            assert_eq!(
                parsed.verify_with_signing_key(k.as_bytes(), service, t),
                parsed.verify(&s, service, t),
                "{minutes} min, {service}"
            );
        }
    }
}

#[test]
fn signing_keys_are_redacted_in_debug() {
    let k = key();
    assert_eq!(format!("{k:?}"), "SigningKey(<redacted>)");
    let hex_key = hex::encode(k.as_bytes());
    assert!(!format!("{:?}", k.clone()).contains(&hex_key));
}
