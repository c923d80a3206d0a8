//! Known-answer tests: the AWS SigV4 test suite (as shipped in awslabs/aws-c-auth,
//! `tests/aws-signing-test-suite/v4`), credentials AKIDEXAMPLE, region us-east-1, service
//! "service", 2015-08-30T12:36:00Z.
//!
//! The suite writes request paths unencoded (`/example space/`, `/ሴ`); they are fed to the
//! verifier as the raw path, which our canonicalisation encodes once, giving the suite's
//! canonical URI.

use apigw_sigv4::{
    parse, presign, sign, verify_request, AuthKind, Payload, Request, SecretKey, SigV4Error,
    SigningParams,
};
use http::HeaderMap;
use time::{Duration, OffsetDateTime};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "example.amazonaws.com";
const DATE: &str = "20150830T123600Z";
const PREFIX: &str =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

fn now() -> OffsetDateTime {
    apigw_sigv4::canonical::parse_amz_date(DATE).unwrap()
}

fn lookup(akid: &str) -> Option<SecretKey> {
    (akid == AKID).then(|| SecretKey::new(SECRET))
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    signed_headers: &'static str,
    signature: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "get-vanilla",
        method: "GET",
        path: "/",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Case {
        name: "get-vanilla-query-order-key-case",
        method: "GET",
        path: "/",
        query: "Param2=value2&Param1=value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    },
    Case {
        name: "get-vanilla-query-order-encoded",
        method: "GET",
        path: "/",
        query: "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
    },
    Case {
        name: "get-vanilla-empty-query-key",
        method: "GET",
        path: "/",
        query: "Param1=value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
    },
    Case {
        name: "get-vanilla-query-unreserved",
        method: "GET",
        path: "/",
        query: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    },
    Case {
        name: "get-vanilla-utf8-query",
        method: "GET",
        path: "/",
        query: "\u{1234}=bar",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    },
    Case {
        name: "get-utf8",
        method: "GET",
        path: "/\u{1234}",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    },
    Case {
        name: "get-space",
        method: "GET",
        path: "/example space/",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
    },
    Case {
        name: "get-unreserved",
        method: "GET",
        path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
    },
    Case {
        name: "get-slashes-normalized",
        method: "GET",
        path: "//example//",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
    },
    Case {
        name: "get-slash-dot-slash-normalized",
        method: "GET",
        path: "/./",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Case {
        name: "get-relative-relative-normalized",
        method: "GET",
        path: "/example1/example2/../..",
        query: "",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Case {
        name: "get-header-value-trim",
        method: "GET",
        path: "/",
        query: "",
        headers: &[("my-header1", " value1"), ("my-header2", " \"a   b   c\"")],
        body: b"",
        signed_headers: "host;my-header1;my-header2;x-amz-date",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    },
    Case {
        name: "get-header-key-duplicate",
        method: "GET",
        path: "/",
        query: "",
        headers: &[
            ("my-header1", "value2"),
            ("my-header1", "value2"),
            ("my-header1", "value1"),
        ],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    },
    Case {
        name: "get-header-value-order",
        method: "GET",
        path: "/",
        query: "",
        headers: &[
            ("my-header1", "value4"),
            ("my-header1", "value1"),
            ("my-header1", "value3"),
            ("my-header1", "value2"),
        ],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
    },
    Case {
        name: "get-vanilla-with-session-token",
        method: "GET",
        path: "/",
        query: "",
        headers: &[(
            "x-amz-security-token",
            "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
        )],
        body: b"",
        signed_headers: "host;x-amz-date;x-amz-security-token",
        signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
    },
    Case {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        path: "/",
        query: "",
        headers: &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", "13"),
            (
                "x-amz-content-sha256",
                "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            ),
        ],
        body: b"Param1=value1",
        signed_headers: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
        signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
    },
];

fn headers_for(case: &Case, with_auth: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("host", HOST.parse().unwrap());
    h.insert("x-amz-date", DATE.parse().unwrap());
    for (k, v) in case.headers {
        h.append(*k, v.parse().unwrap());
    }
    if with_auth {
        let auth = format!(
            "{PREFIX}SignedHeaders={}, Signature={}",
            case.signed_headers, case.signature
        );
        h.insert("authorization", auth.parse().unwrap());
    }
    h
}

#[test]
fn verifier_accepts_every_suite_vector() {
    for case in CASES {
        let headers = headers_for(case, true);
        let req = Request::new(
            case.method,
            case.path,
            case.query,
            &headers,
            Payload::Bytes(case.body),
        );
        let parsed = verify_request(&req, lookup, "service", now())
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(parsed.access_key_id(), AKID, "{}", case.name);
        assert_eq!(parsed.scope().region, "us-east-1");
        assert_eq!(parsed.scope().service, "service");
        assert_eq!(parsed.kind(), AuthKind::Header);
    }
}

#[test]
fn verifier_rejects_every_suite_vector_with_one_bit_changed() {
    for case in CASES {
        let mut headers = headers_for(case, true);
        headers.insert("host", "example.amazonaws.co".parse().unwrap());
        let req = Request::new(
            case.method,
            case.path,
            case.query,
            &headers,
            Payload::Bytes(case.body),
        );
        assert_eq!(
            verify_request(&req, lookup, "service", now()).unwrap_err(),
            SigV4Error::SignatureDoesNotMatch,
            "{}",
            case.name
        );
    }
}

#[test]
fn suite_vectors_verify_within_skew_and_expire_after() {
    let case = &CASES[0];
    let headers = headers_for(case, true);
    let req = Request::new("GET", "/", "", &headers, Payload::Bytes(b""));
    let ok = |t| verify_request(&req, lookup, "service", t);
    assert!(ok(now() + Duration::minutes(5)).is_ok());
    assert!(ok(now() - Duration::minutes(5)).is_ok());
    assert_eq!(
        ok(now() + Duration::minutes(30)).unwrap_err().message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T130100Z \
         (20150830T130600Z - 5 min.)"
    );
    assert_eq!(
        ok(now() - Duration::minutes(6)).unwrap_err().message(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z \
         (20150830T123000Z + 5 min.)"
    );
}

fn params(secret: &SecretKey) -> SigningParams<'_> {
    SigningParams {
        access_key_id: AKID,
        secret,
        security_token: None,
        region: "us-east-1",
        service: "service",
        time: now(),
    }
}

#[test]
fn signer_reproduces_post_x_www_form_urlencoded() {
    // This vector signs exactly what our signer adds (x-amz-content-sha256, x-amz-date).
    let secret = SecretKey::new(SECRET);
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    headers.insert("content-length", "13".parse().unwrap());
    let out = sign(
        "POST",
        "https://example.amazonaws.com/",
        &headers,
        b"Param1=value1",
        &params(&secret),
    )
    .unwrap();
    assert_eq!(
        out.authorization,
        format!(
            "{PREFIX}SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, \
             Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"
        )
    );
    assert_eq!(out.x_amz_date, DATE);
    assert_eq!(
        out.x_amz_content_sha256,
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
    );
}

/// Presigned vectors (`query-signed-request.txt`): SignedHeaders=host, X-Amz-Expires=3600.
const PRESIGNED: &[(&str, &str, &str)] = &[
    (
        "/",
        "Param2=value2&Param1=value1",
        "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5",
    ),
    (
        "/\u{1234}",
        "",
        "10eae3f14a260bd3911cc6d008d3c576d143b05b62f09782a7a4b37f52178e44",
    ),
];

#[test]
fn presigned_suite_vectors_verify_and_are_reproduced() {
    let secret = SecretKey::new(SECRET);
    for (path, query, signature) in PRESIGNED {
        let auth = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600";
        let full = if query.is_empty() {
            format!("{auth}&X-Amz-Signature={signature}")
        } else {
            format!("{query}&{auth}&X-Amz-Signature={signature}")
        };
        let mut headers = HeaderMap::new();
        headers.insert("host", HOST.parse().unwrap());
        let req = Request::new("GET", path, &full, &headers, Payload::Bytes(b""));
        let parsed = verify_request(&req, lookup, "service", now())
            .unwrap_or_else(|e| panic!("{path}?{query}: {e}"));
        assert_eq!(
            parsed.kind(),
            AuthKind::Presigned {
                expires_secs: Some(3600)
            }
        );
        // Valid for an hour, not longer.
        assert!(parsed
            .verify(&secret, "service", now() + Duration::seconds(3600))
            .is_ok());
        assert_eq!(
            parsed
                .verify(&secret, "service", now() + Duration::seconds(3601))
                .unwrap_err()
                .message(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
             (20150830T133601Z - 3600 sec.)"
        );

        // Our presigner produces the same signature.
        let url = if query.is_empty() {
            format!("https://{HOST}{path}")
        } else {
            format!("https://{HOST}{path}?{query}")
        };
        if path.is_ascii() {
            let signed = presign("GET", &url, &HeaderMap::new(), 3600, &params(&secret)).unwrap();
            assert!(
                signed.ends_with(&format!("&X-Amz-Signature={signature}")),
                "{signed}"
            );
            let (p, q) = signed
                .trim_start_matches("https://example.amazonaws.com")
                .split_once('?')
                .unwrap();
            let req = Request::new("GET", p, q, &headers, Payload::Bytes(b""));
            assert!(parse(&req)
                .unwrap()
                .verify(&secret, "service", now())
                .is_ok());
        }
    }
}
