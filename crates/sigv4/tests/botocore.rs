//! Cross-check against botocore (the AWS CLI's signer): botocore signs, we verify; we sign,
//! and our Authorization must equal botocore's. Skipped with a note when python3 + botocore
//! are not available.

use std::io::Write;
use std::process::{Command, Stdio};

use apigw_sigv4::{
    canonical::sha256_hex, parse, sign, AuthKind, Payload, Request, SecretKey, SigningParams,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use time::OffsetDateTime;

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TS: &str = "20260101T000000Z";
const BASE: &str = "http://localhost:9090";

fn now() -> OffsetDateTime {
    apigw_sigv4::canonical::parse_amz_date(TS).unwrap()
}

/// Runs tests/botocore/sign.py on `cases`; `None` when python3/botocore is unavailable.
fn botocore(cases: &[Value]) -> Option<Vec<Value>> {
    let available = Command::new("python3")
        .args(["-c", "import botocore"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !available {
        eprintln!("NOTE: python3 with botocore not available; skipping botocore cross-check");
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore/sign.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sign.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// `http://host/path?query` → (path, query), split by hand so raw `{` etc. survive.
fn split(url: &str) -> (String, String) {
    let rest = url.strip_prefix(BASE).unwrap();
    match rest.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (rest.to_owned(), String::new()),
    }
}

fn header_map(pairs: &Value) -> HeaderMap {
    let mut h = HeaderMap::new();
    for pair in pairs.as_array().unwrap() {
        let (k, v) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

struct Case {
    method: &'static str,
    /// Path and query as sent on the wire.
    target: &'static str,
    /// botocore `params=` (form-encoded onto the URL by botocore, `+` for spaces).
    params: &'static [(&'static str, &'static str)],
    body: &'static str,
}

const CASES: &[Case] = &[
    Case { method: "GET", target: "/restapis", params: &[], body: "" },
    Case { method: "GET", target: "/restapis?limit=25&position=abc", params: &[], body: "" },
    Case {
        method: "GET",
        target: "/restapis/a1b2c3/resources?embed=methods&q=a%20b&u=%E2%82%AC%C3%A9&r=%21%27%28%29%2A%2B%26%3D%2F%3A",
        params: &[],
        body: "",
    },
    Case { method: "GET", target: "/restapis/x?flag&empty=&dup=2&dup=1&Dup=0", params: &[], body: "" },
    Case { method: "GET", target: "/restapis/%7Bid%7D/resources/%7Bproxy%2B%7D", params: &[], body: "" },
    Case { method: "GET", target: "/restapis/{id}/resources/{proxy+}", params: &[], body: "" },
    Case { method: "GET", target: "/~user/a%20b/caf%C3%A9/%E2%82%AC/a%2Fb", params: &[], body: "" },
    Case { method: "GET", target: "/a//b/./c/../d/", params: &[], body: "" },
    Case {
        method: "GET",
        target: "/restapis",
        params: &[("name", "my api"), ("tag", "a+b&c=d"), ("u", "žluť ~"), ("s", "*'()!")],
        body: "",
    },
    Case {
        method: "POST",
        target: "/restapis",
        params: &[],
        body: r#"{"name":"pets","description":"Ünïcödé ☃","endpointConfiguration":{"types":["REGIONAL"]}}"#,
    },
    Case {
        method: "PATCH",
        target: "/restapis/a1b2c3/stages/prod",
        params: &[],
        body: r#"{"patchOperations":[{"op":"replace","path":"/*/*/throttling/rateLimit","value":"100"}]}"#,
    },
    Case { method: "PUT", target: "/restapis/a1b2c3?mode=overwrite&failonwarnings=true", params: &[], body: "openapi: 3.0.1\n" },
    Case { method: "DELETE", target: "/restapis/a1b2c3/resources/r1", params: &[], body: "" },
];

fn base_headers(case: &Case) -> Vec<(&'static str, String)> {
    let mut h = vec![("Host", "localhost:9090".to_owned())];
    if !case.body.is_empty() {
        h.push(("Content-Type", "application/json".to_owned()));
    }
    h.push(("X-Custom", "  spaced   value ".to_owned()));
    h
}

fn request_json(case: &Case, headers: &[(&str, String)], extra: Value) -> Value {
    let mut v = json!({
        "method": case.method,
        "url": format!("{BASE}{}", case.target),
        "params": case.params.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "headers": headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "body": case.body,
        "timestamp": TS,
        "region": "us-east-1",
        "service": "apigateway",
        "access_key": AKID,
        "secret_key": SECRET,
    });
    for (k, val) in extra.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

fn verify(method: &str, url: &str, headers: &HeaderMap, body: &[u8]) -> apigw_sigv4::ParsedAuth {
    let (path, query) = split(url);
    let req = Request::new(method, &path, &query, headers, Payload::Bytes(body));
    let parsed = parse(&req).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    parsed
        .verify(&SecretKey::new(SECRET), "apigateway", now())
        .unwrap_or_else(|e| {
            panic!(
                "{method} {url}: {e}\ncanonical request:\n{}",
                parsed.canonical_request()
            )
        });
    parsed
}

#[test]
fn botocore_signed_requests_verify_and_our_signer_matches() {
    // Per case: (a) plain, as the AWS CLI sends apigateway calls; (b) with
    // x-amz-content-sha256 (which our signer always adds) for signature equality;
    // (c) presigned; (d) with a session token; (e) with a Date header instead of X-Amz-Date.
    let mut inputs = Vec::new();
    for case in CASES {
        let base = base_headers(case);
        let mut with_hash = base.clone();
        with_hash.push(("X-Amz-Content-SHA256", sha256_hex(case.body.as_bytes())));
        inputs.push(request_json(case, &base, json!({})));
        inputs.push(request_json(case, &with_hash, json!({})));
        inputs.push(request_json(
            case,
            &[],
            json!({ "presign_expires": 900, "body": "" }),
        ));
        inputs.push(request_json(
            case,
            &base,
            json!({ "token": "FwoGZXIvYXdzEJr//token+/=" }),
        ));
        let mut dated = base.clone();
        dated.push(("Date", "Thu, 01 Jan 2026 00:00:00 GMT".to_owned()));
        inputs.push(request_json(case, &dated, json!({})));
    }
    let Some(outputs) = botocore(&inputs) else {
        return;
    };
    assert_eq!(outputs.len(), CASES.len() * 5);

    let secret = SecretKey::new(SECRET);
    for (i, case) in CASES.iter().enumerate() {
        let out = &outputs[i * 5..i * 5 + 5];
        let body = case.body.as_bytes();

        // (a) plain header signing.
        let headers = header_map(&out[0]["headers"]);
        let url = out[0]["url"].as_str().unwrap();
        let parsed = verify(case.method, url, &headers, body);
        assert_eq!(parsed.access_key_id(), AKID);
        assert_eq!(parsed.scope().service, "apigateway");
        assert_eq!(parsed.kind(), AuthKind::Header);
        // A different body must not verify (the body hash is in the signature).
        if !body.is_empty() {
            let (path, query) = split(url);
            let req = Request::new(case.method, &path, &query, &headers, Payload::Bytes(b"{}"));
            assert!(parse(&req)
                .unwrap()
                .verify(&secret, "apigateway", now())
                .is_err());
        }

        // (b) with x-amz-content-sha256: verify, and our signer must produce the same header.
        let headers = header_map(&out[1]["headers"]);
        let url = out[1]["url"].as_str().unwrap();
        verify(case.method, url, &headers, body);
        let mut input = HeaderMap::new();
        for (k, v) in base_headers(case) {
            input.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(&v).unwrap(),
            );
        }
        let params = SigningParams {
            access_key_id: AKID,
            secret: &secret,
            security_token: None,
            region: "us-east-1",
            service: "apigateway",
            time: now(),
        };
        let ours = sign(case.method, url, &input, body, &params).unwrap();
        assert_eq!(
            ours.authorization,
            headers["authorization"].to_str().unwrap(),
            "{} {url}\nour canonical request:\n{}",
            case.method,
            ours.canonical_request
        );

        // (c) presigned URL.
        let url = out[2]["url"].as_str().unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "localhost:9090".parse().unwrap());
        let parsed = verify(case.method, url, &h, b"");
        assert_eq!(
            parsed.kind(),
            AuthKind::Presigned {
                expires_secs: Some(900)
            }
        );

        // (d) session token, signed as x-amz-security-token.
        let headers = header_map(&out[3]["headers"]);
        let parsed = verify(case.method, out[3]["url"].as_str().unwrap(), &headers, body);
        assert_eq!(parsed.security_token(), Some("FwoGZXIvYXdzEJr//token+/="));

        // (e) Date header instead of X-Amz-Date.
        let headers = header_map(&out[4]["headers"]);
        assert!(!headers.contains_key("x-amz-date"));
        let parsed = verify(case.method, out[4]["url"].as_str().unwrap(), &headers, body);
        assert_eq!(parsed.timestamp(), now());
    }
}
