//! Every error case, its AWS error type and message, plus sign → verify round trips.

use apigw_sigv4::canonical::{self, sha256_hex};
use apigw_sigv4::{
    parse, presign, sign, verify_request, Payload, Request, SecretKey, SigV4Error, SigningParams,
};
use http::HeaderMap;
use time::{Duration, OffsetDateTime};

const AKID: &str = "AKIAAPIGWTEST0000001";
const SECRET: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I";
const MISMATCH: &str = "The request signature we calculated does not match the signature you \
                        provided. Check your AWS Secret Access Key and signing method. Consult \
                        the service documentation for details.";

fn now() -> OffsetDateTime {
    apigw_sigv4::canonical::parse_amz_date("20260101T000000Z").unwrap()
}

fn secret() -> SecretKey {
    SecretKey::new(SECRET)
}

fn lookup(akid: &str) -> Option<SecretKey> {
    (akid == AKID).then(secret)
}

fn params(secret: &SecretKey) -> SigningParams<'_> {
    SigningParams {
        access_key_id: AKID,
        secret,
        security_token: None,
        region: "us-east-1",
        service: "apigateway",
        time: now(),
    }
}

/// Signs `method url` with `body` and returns the full header map as the server sees it.
fn signed(method: &str, url: &str, body: &[u8]) -> HeaderMap {
    let s = secret();
    let mut headers = HeaderMap::new();
    headers.insert("host", "localhost:9090".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    sign(method, url, &headers, body, &params(&s))
        .unwrap()
        .apply_to(&mut headers)
        .unwrap();
    headers
}

fn check(headers: &HeaderMap, path: &str, query: &str, body: &[u8]) -> Result<(), SigV4Error> {
    let req = Request::new("POST", path, query, headers, Payload::Bytes(body));
    verify_request(&req, lookup, "apigateway", now()).map(|_| ())
}

#[test]
fn round_trip_sign_then_verify() {
    let body = br#"{"name":"pets"}"#;
    let h = signed("POST", "/restapis/%7Bid%7D/x%20y?b=2&a=%C3%A9+x", body);
    assert_eq!(
        check(&h, "/restapis/%7Bid%7D/x%20y", "b=2&a=%C3%A9+x", body),
        Ok(())
    );
}

#[test]
fn missing_authentication_token() {
    let e = check(&HeaderMap::new(), "/", "", b"").unwrap_err();
    assert_eq!(e, SigV4Error::MissingAuthenticationToken);
    assert_eq!(e.error_type(), "MissingAuthenticationTokenException");
    assert_eq!(e.message(), "Missing Authentication Token");
    assert_eq!(e.status(), http::StatusCode::FORBIDDEN);
    assert_eq!(
        e.json_body(),
        r#"{"message":"Missing Authentication Token"}"#
    );
}

#[test]
fn incomplete_signature_lists_everything_missing() {
    let mut h = HeaderMap::new();
    h.insert("authorization", "Bearer abc".parse().unwrap());
    let e = check(&h, "/", "", b"").unwrap_err();
    assert_eq!(e.error_type(), "IncompleteSignatureException");
    assert_eq!(
        e.message(),
        "Authorization header requires 'Credential' parameter. Authorization header requires \
         'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
         Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=Bearer abc"
    );
}

#[test]
fn incomplete_signature_missing_date_only() {
    let mut h = signed("POST", "/", b"");
    h.remove("x-amz-date");
    let e = check(&h, "/", "", b"").unwrap_err();
    assert_eq!(e.error_type(), "IncompleteSignatureException");
    assert!(e.message().starts_with(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=AWS4-HMAC-SHA256 Credential="
    ));
}

fn with_auth(h: &HeaderMap, f: impl Fn(&str) -> String) -> HeaderMap {
    let mut h = h.clone();
    let auth = f(h["authorization"].to_str().unwrap());
    h.insert("authorization", auth.parse().unwrap());
    h
}

#[test]
fn incomplete_signature_bad_credential() {
    let h = signed("POST", "/", b"");
    let cases = [
        ("aws4_request,", "foo,", "Credential should be scoped with a valid terminator: 'aws4_request', not 'foo'. "),
        ("/us-east-1/", "/", "Credential should have the form '<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request', not 'AKIAAPIGWTEST0000001/20260101/apigateway/aws4_request'."),
        ("/20260101/", "/2026-1-1/", "Credential should be scoped to a date in the format YYYYMMDD, not '2026-1-1'. "),
    ];
    for (from, to, msg) in cases {
        let h = with_auth(&h, |a| a.replacen(from, to, 1));
        let e = check(&h, "/", "", b"").unwrap_err();
        assert_eq!(e.error_type(), "IncompleteSignatureException", "{from}");
        assert_eq!(e.message(), msg);
    }
    // Duplicate parameter.
    let h2 = with_auth(&h, |a| format!("{a}, Signature=00"));
    assert_eq!(
        check(&h2, "/", "", b"").unwrap_err().error_type(),
        "IncompleteSignatureException"
    );
}

#[test]
fn incomplete_signature_bad_date() {
    let mut h = signed("POST", "/", b"");
    h.insert("x-amz-date", "2026-01-01T00:00:00Z".parse().unwrap());
    let e = check(&h, "/", "", b"").unwrap_err();
    assert_eq!(e.error_type(), "IncompleteSignatureException");
    assert_eq!(
        e.message(),
        "Date must be in ISO-8601 'basic format'. Got '2026-01-01T00:00:00Z'. See \
         http://en.wikipedia.org/wiki/ISO_8601"
    );
}

#[test]
fn scope_date_must_match_request_date() {
    let mut h = signed("POST", "/", b"");
    h.insert("x-amz-date", "20260102T000000Z".parse().unwrap());
    let e = check(&h, "/", "", b"").unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert_eq!(
        e.message(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20260101' != '20260102', from '20260102T000000Z'."
    );
}

#[test]
fn unrecognized_client() {
    let h = with_auth(&signed("POST", "/", b""), |a| {
        a.replace(AKID, "AKIAUNKNOWN")
    });
    let e = check(&h, "/", "", b"").unwrap_err();
    assert_eq!(e, SigV4Error::UnrecognizedClient);
    assert_eq!(e.error_type(), "UnrecognizedClientException");
    assert_eq!(
        e.message(),
        "The security token included in the request is invalid."
    );
}

#[test]
fn invalid_signature_on_any_change() {
    let body = br#"{"a":1}"#;
    let h = signed("POST", "/restapis?x=1", body);
    assert_eq!(check(&h, "/restapis", "x=1", body), Ok(()));
    let bad = [
        check(&h, "/restapis/", "x=1", body),
        check(&h, "/restapis", "x=2", body),
        check(&h, "/restapis", "x=1&y=", body),
        {
            let mut h = h.clone();
            h.insert("content-type", "text/plain".parse().unwrap());
            check(&h, "/restapis", "x=1", body)
        },
        check(
            &with_auth(&h, |a| a.replace("Signature=", "Signature=0")),
            "/restapis",
            "x=1",
            body,
        ),
        check(
            &with_auth(&h, |a| a.replace("Signature=", "Signature=zz")),
            "/restapis",
            "x=1",
            body,
        ),
    ];
    for (i, r) in bad.into_iter().enumerate() {
        let e = r.unwrap_err();
        assert_eq!(e, SigV4Error::SignatureDoesNotMatch, "case {i}");
        assert_eq!(e.error_type(), "InvalidSignatureException");
        assert_eq!(e.message(), MISMATCH);
    }
    // Wrong secret.
    let req = Request::new("POST", "/restapis", "x=1", &h, Payload::Bytes(body));
    assert_eq!(
        parse(&req)
            .unwrap()
            .verify(&SecretKey::new("other"), "apigateway", now())
            .unwrap_err(),
        SigV4Error::SignatureDoesNotMatch
    );
}

#[test]
fn body_must_match_signed_content_hash() {
    let h = signed("POST", "/", b"{}");
    assert_eq!(check(&h, "/", "", b"{}"), Ok(()));
    let e = check(&h, "/", "", b"{ }").unwrap_err();
    assert_eq!(e, SigV4Error::PayloadHashMismatch);
    assert_eq!(e.error_type(), "InvalidSignatureException");
    // A caller-computed hash behaves like the body.
    let other = sha256_hex(b"{ }");
    let req = Request::new("POST", "/", "", &h, Payload::Sha256Hex(&other));
    assert_eq!(
        verify_request(&req, lookup, "apigateway", now()).unwrap_err(),
        SigV4Error::PayloadHashMismatch
    );
}

/// Signs by hand with `UNSIGNED-PAYLOAD` (our signer always signs the body hash).
fn unsigned_payload_request() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("host", "localhost".parse().unwrap());
    h.insert("x-amz-date", "20260101T000000Z".parse().unwrap());
    h.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
    let names = "host;x-amz-content-sha256;x-amz-date";
    let cr = canonical::canonical_request(
        "PUT",
        "/x",
        "",
        &[
            ("host".into(), b"localhost".to_vec()),
            ("x-amz-content-sha256".into(), b"UNSIGNED-PAYLOAD".to_vec()),
            ("x-amz-date".into(), b"20260101T000000Z".to_vec()),
        ],
        names,
        "UNSIGNED-PAYLOAD",
    );
    let scope = "20260101/us-east-1/apigateway/aws4_request";
    let sts = canonical::string_to_sign("20260101T000000Z", scope, &cr);
    let key = canonical::signing_key(SECRET, "20260101", "us-east-1", "apigateway");
    let sig = hex::encode(canonical::hmac_sha256(&key, sts.as_bytes()));
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders={names}, Signature={sig}"
    );
    h.insert("authorization", auth.parse().unwrap());
    h
}

#[test]
fn unsigned_payload_and_declared_hash() {
    let h = unsigned_payload_request();
    for body in [&b""[..], b"anything"] {
        let req = Request::new("PUT", "/x", "", &h, Payload::Bytes(body));
        let parsed = verify_request(&req, lookup, "apigateway", now()).unwrap();
        assert_eq!(parsed.payload_hash(), "UNSIGNED-PAYLOAD");
    }

    // Declared: the header is required and used as-is; the caller checks the body later.
    let h3 = signed("POST", "/", b"{}");
    let req3 = Request::new("POST", "/", "", &h3, Payload::Declared);
    let parsed = verify_request(&req3, lookup, "apigateway", now()).unwrap();
    assert_eq!(parsed.payload_hash(), sha256_hex(b"{}"));
    let mut h4 = h3.clone();
    h4.remove("x-amz-content-sha256");
    let e = parse(&Request::new("POST", "/", "", &h4, Payload::Declared)).unwrap_err();
    assert_eq!(e.error_type(), "IncompleteSignatureException");
    // Streaming (chunk-signed) payloads are not supported.
    let mut h5 = h3.clone();
    h5.insert(
        "x-amz-content-sha256",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".parse().unwrap(),
    );
    let e = parse(&Request::new("POST", "/", "", &h5, Payload::Declared)).unwrap_err();
    assert_eq!(e.error_type(), "IncompleteSignatureException");
}

#[test]
fn clock_skew() {
    let h = signed("POST", "/", b"");
    let req = Request::new("POST", "/", "", &h, Payload::Bytes(b""));
    let parsed = parse(&req).unwrap();
    let s = secret();
    assert!(parsed
        .verify(&s, "apigateway", now() + Duration::minutes(5))
        .is_ok());
    let e = parsed
        .verify(&s, "apigateway", now() + Duration::minutes(30))
        .unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert_eq!(
        e.message(),
        "Signature expired: 20260101T000000Z is now earlier than 20260101T002500Z \
         (20260101T003000Z - 5 min.)"
    );
    let e = parsed
        .verify(&s, "apigateway", now() - Duration::minutes(20))
        .unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert!(e
        .message()
        .starts_with("Signature not yet current: 20260101T000000Z"));
}

#[test]
fn wrong_service_and_region() {
    let h = signed("POST", "/", b"");
    let parsed = parse(&Request::new("POST", "/", "", &h, Payload::Bytes(b""))).unwrap();
    let e = parsed.verify(&secret(), "execute-api", now()).unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert_eq!(
        e.message(),
        "Credential should be scoped to correct service: 'execute-api'. "
    );
    assert!(parsed.check_region("us-east-1").is_ok());
    let e = parsed.check_region("eu-west-1").unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert_eq!(
        parsed.scope().to_string(),
        "20260101/us-east-1/apigateway/aws4_request"
    );
}

#[test]
fn host_must_be_signed() {
    let h = with_auth(&signed("POST", "/", b""), |a| {
        a.replace("content-type;host;", "content-type;")
    });
    let e = check(&h, "/", "", b"").unwrap_err();
    assert_eq!(e, SigV4Error::HostNotSigned);
    assert_eq!(e.error_type(), "InvalidSignatureException");
}

#[test]
fn date_header_instead_of_x_amz_date() {
    // A client may sign `Date` instead of `X-Amz-Date`; the string to sign still uses the
    // ISO basic form.
    let s = secret();
    let mut h = HeaderMap::new();
    h.insert("host", "localhost".parse().unwrap());
    h.insert("date", "Thu, 01 Jan 2026 00:00:00 GMT".parse().unwrap());
    let out = sign("GET", "/", &h, b"", &params(&s)).unwrap();
    // Our signer adds X-Amz-Date; drop it and re-sign with only Date by hand.
    let parsed_with_both = {
        let mut h2 = h.clone();
        out.apply_to(&mut h2).unwrap();
        h2.remove("x-amz-date");
        let auth = h2["authorization"]
            .to_str()
            .unwrap()
            .replace(";x-amz-date", "");
        h2.insert("authorization", auth.parse().unwrap());
        h2
    };
    let req = Request::new("GET", "/", "", &parsed_with_both, Payload::Bytes(b""));
    let parsed = parse(&req).unwrap();
    assert_eq!(parsed.timestamp(), now());
    assert!(parsed.string_to_sign().contains("\n20260101T000000Z\n"));
}

#[test]
fn presigned_errors_and_round_trip() {
    let s = secret();
    let mut h = HeaderMap::new();
    h.insert("host", "localhost:9090".parse().unwrap());
    let url = presign(
        "GET",
        "http://localhost:9090/restapis?limit=5",
        &HeaderMap::new(),
        300,
        &params(&s),
    )
    .unwrap();
    let q = url.split_once('?').unwrap().1;
    let run = |q: &str, h: &HeaderMap, t: OffsetDateTime| {
        let req = Request::new("GET", "/restapis", q, h, Payload::Bytes(b""));
        verify_request(&req, lookup, "apigateway", t).map(|_| ())
    };
    assert_eq!(run(q, &h, now()), Ok(()));
    assert_eq!(run(q, &h, now() + Duration::seconds(300)), Ok(()));
    let e = run(q, &h, now() + Duration::seconds(301)).unwrap_err();
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert!(e
        .message()
        .starts_with("Signature expired: 20260101T000000Z"));
    // Tampered.
    assert_eq!(
        run(&q.replace("limit=5", "limit=6"), &h, now()).unwrap_err(),
        SigV4Error::SignatureDoesNotMatch
    );
    // Missing parameter.
    let e = run(&q.replace("X-Amz-SignedHeaders", "X-Amz-Nope"), &h, now()).unwrap_err();
    assert_eq!(e.error_type(), "IncompleteSignatureException");
    assert!(e
        .message()
        .starts_with("AWS query-string parameters must include"));
    // Expires too large / not a number.
    for bad in [
        "X-Amz-Expires=604801",
        "X-Amz-Expires=soon",
        "X-Amz-Expires=-1",
    ] {
        let e = run(&q.replace("X-Amz-Expires=300", bad), &h, now()).unwrap_err();
        assert_eq!(e.error_type(), "IncompleteSignatureException", "{bad}");
    }
    // Both mechanisms at once.
    let mut h2 = h.clone();
    h2.insert("authorization", "AWS4-HMAC-SHA256 x".parse().unwrap());
    let e = run(q, &h2, now()).unwrap_err();
    assert_eq!(e.error_type(), "IncompleteSignatureException");
    // Unknown key.
    let e = run(&q.replace(AKID, "AKIAOTHER"), &h, now()).unwrap_err();
    assert_eq!(e, SigV4Error::UnrecognizedClient);
}

#[test]
fn http2_authority_stands_in_for_host() {
    let s = secret();
    let out = sign(
        "GET",
        "https://api.example.com/x",
        &HeaderMap::new(),
        b"",
        &params(&s),
    )
    .unwrap();
    let mut req = http::Request::builder()
        .method("GET")
        .uri("https://api.example.com/x")
        .body(())
        .unwrap();
    out.apply_to(req.headers_mut()).unwrap();
    let r = Request::from_http(&req, Payload::Bytes(b""));
    assert_eq!(
        verify_request(&r, lookup, "apigateway", now()).map(|_| ()),
        Ok(())
    );
}

#[test]
fn secrets_are_redacted_in_debug() {
    let s = secret();
    assert_eq!(format!("{s:?}"), "SecretKey(<redacted>)");
    let p = params(&s);
    assert!(!format!("{p:?}").contains(SECRET));
}

#[test]
fn security_token_is_signed_and_exposed() {
    let s = secret();
    let mut p = params(&s);
    p.security_token = Some("session-token");
    let mut h = HeaderMap::new();
    h.insert("host", "localhost".parse().unwrap());
    let out = sign("GET", "/", &h, b"", &p).unwrap();
    assert!(out.signed_headers.contains("x-amz-security-token"));
    out.apply_to(&mut h).unwrap();
    let req = Request::new("GET", "/", "", &h, Payload::Bytes(b""));
    let parsed = verify_request(&req, lookup, "apigateway", now()).unwrap();
    assert_eq!(parsed.security_token(), Some("session-token"));
    h.insert("x-amz-security-token", "forged".parse().unwrap());
    let req = Request::new("GET", "/", "", &h, Payload::Bytes(b""));
    assert_eq!(
        verify_request(&req, lookup, "apigateway", now()).unwrap_err(),
        SigV4Error::SignatureDoesNotMatch
    );
}
