//! The pieces of the SigV4 canonical request, string to sign and signing key.
//!
//! These are public so the HTTP layer and tests can reason about (and log) exactly what was
//! signed; the verifier and the signer both build on the same functions, so they cannot drift.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The only algorithm we accept and produce.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Payload hash value meaning "the body is not covered by the signature".
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `hex(sha256(""))`, the payload hash of an empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Last element of every credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";

/// RFC 3986 unreserved characters (`A-Za-z0-9-_.~`) stay, everything else is `%XX`-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Same, but `/` also stays: used for the canonical URI.
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// URI-encodes bytes the SigV4 way: unreserved characters kept, everything else as uppercase
/// `%XX` (UTF-8 bytes for non-ASCII).
pub fn uri_encode(bytes: &[u8]) -> String {
    percent_encode(bytes, UNRESERVED).to_string()
}

/// Removes `.`/`..` segments and collapses repeated slashes, exactly like botocore's
/// `remove_dot_segments` (applied to the wire path of every non-S3 request). An empty path is
/// `/`; a trailing slash is kept.
pub fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !out.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", out.join("/"))
}

/// The canonical URI of a non-S3 request.
///
/// `raw_path` is the path *as received on the wire* (already percent-encoded by the client).
/// SDKs sign the wire path encoded a second time ("double encoding": `%7B` becomes `%257B`),
/// after dot-segment removal; this reproduces that.
pub fn canonical_uri(raw_path: &str) -> String {
    percent_encode(normalize_path(raw_path).as_bytes(), UNRESERVED_AND_SLASH).to_string()
}

/// Decodes a query-string component: `+` is a space (as produced by form encoding, e.g.
/// botocore's `params=`), then `%XX` sequences are decoded; invalid `%` sequences stay literal.
fn query_decode(component: &str) -> Vec<u8> {
    let plus_as_space: Vec<u8> = component
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&plus_as_space).collect()
}

/// Splits a raw query string into decoded `(key, value)` pairs, skipping empty segments.
/// A parameter without `=` has an empty value.
pub fn query_pairs(raw_query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw_query
        .split('&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| {
            let (k, v) = seg.split_once('=').unwrap_or((seg, ""));
            (query_decode(k), query_decode(v))
        })
        .collect()
}

/// The canonical query string: each key and value decoded, re-encoded with [`uri_encode`],
/// `key=value` (the `=` is always present), sorted by encoded key then value, joined by `&`.
///
/// With `exclude_signature`, `X-Amz-Signature` is dropped (presigned URLs sign everything but
/// their own signature).
pub fn canonical_query_string(raw_query: &str, exclude_signature: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .into_iter()
        .filter(|(k, _)| !(exclude_signature && k.as_slice() == b"X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
        .collect();
    pairs.sort();
    let parts: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join("&")
}

/// Trims a header value and collapses inner runs of whitespace to one space ("Trimall").
pub fn trim_header_value(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for word in value
        .split(|b| b.is_ascii_whitespace() || *b == 0x0b)
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    out
}

/// The canonical value of one header: all its values (in arrival order) trimmed and joined by
/// `,`. A signed header missing from the request has an empty value.
pub fn canonical_header_value(headers: &HeaderMap, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, v) in headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&trim_header_value(v.as_bytes()));
    }
    out
}

/// Assembles the canonical request from its already-canonical parts. `headers` are
/// `(lowercase name, canonical value)` in signed-header order.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    headers: &[(String, Vec<u8>)],
    signed_headers: &str,
    payload_hash: &str,
) -> Vec<u8> {
    let mut cr = Vec::with_capacity(256);
    cr.extend_from_slice(method.to_ascii_uppercase().as_bytes());
    cr.push(b'\n');
    cr.extend_from_slice(canonical_uri.as_bytes());
    cr.push(b'\n');
    cr.extend_from_slice(canonical_query.as_bytes());
    cr.push(b'\n');
    for (name, value) in headers {
        cr.extend_from_slice(name.as_bytes());
        cr.push(b':');
        cr.extend_from_slice(value);
        cr.push(b'\n');
    }
    cr.push(b'\n');
    cr.extend_from_slice(signed_headers.as_bytes());
    cr.push(b'\n');
    cr.extend_from_slice(payload_hash.as_bytes());
    cr
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request)
    )
}

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(data);
    mac
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac(key, data).finalize().into_bytes().into()
}

/// Derives the signing key: `kDate = HMAC("AWS4"+secret, date)`, `kRegion`, `kService`,
/// `kSigning = HMAC(kService, "aws4_request")`. Valid for one day/region/service, so callers
/// may cache it.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, SCOPE_TERMINATOR.as_bytes())
}

/// Formats a time as the ISO 8601 basic form SigV4 uses: `20150830T123600Z` (UTC).
pub fn format_amz_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn build_time(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<OffsetDateTime> {
    let month = Month::try_from(u8::try_from(mo).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(s).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Parses `YYYYMMDDTHHMMSSZ` (the `X-Amz-Date` format).
pub fn parse_amz_date(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !s.is_ascii() {
        return None;
    }
    build_time(
        digits(&s[0..4])?,
        digits(&s[4..6])?,
        digits(&s[6..8])?,
        digits(&s[9..11])?,
        digits(&s[11..13])?,
        digits(&s[13..15])?,
    )
}

/// Parses an HTTP `Date` header: IMF-fixdate (`Sun, 30 Aug 2015 12:36:00 GMT`), also with a
/// `+0000`/`-0000` zone as Python's `formatdate` writes it, or the ISO basic form.
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Some(t) = parse_amz_date(s) {
        return Some(t);
    }
    let mut parts: Vec<&str> = s.split_whitespace().collect();
    if parts.first().is_some_and(|p| p.ends_with(',')) {
        parts.remove(0);
    }
    let [day, month, year, hms, zone] = parts.as_slice() else {
        return None;
    };
    if !matches!(*zone, "GMT" | "UTC" | "UT" | "Z" | "+0000" | "-0000") {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? + 1;
    let mut hms = hms.split(':');
    let (h, mi, sec) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    build_time(
        digits(year)?,
        u32::try_from(mo).ok()?,
        digits(day)?,
        digits(h)?,
        digits(mi)?,
        digits(sec)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_path_matches_botocore() {
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/./"), "/");
        assert_eq!(normalize_path("/example1/example2/../.."), "/");
        assert_eq!(normalize_path("/example/.."), "/");
        assert_eq!(normalize_path("/a/./b/../c"), "/a/c");
        assert_eq!(normalize_path("/a/b/"), "/a/b/");
        assert_eq!(normalize_path("/../a"), "/a");
        // Encoded dots are not dot segments.
        assert_eq!(normalize_path("/a/%2E%2E/b"), "/a/%2E%2E/b");
    }

    #[test]
    fn canonical_uri_double_encodes() {
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(
            canonical_uri("/restapis/%7Bid%7D"),
            "/restapis/%257Bid%257D"
        );
        assert_eq!(canonical_uri("/a%20b/~x"), "/a%2520b/~x");
        assert_eq!(canonical_uri("/a%2Fb"), "/a%252Fb");
        // Raw (not yet encoded) characters are encoded once.
        assert_eq!(canonical_uri("/example space/"), "/example%20space/");
        assert_eq!(canonical_uri("/\u{1234}"), "/%E1%88%B4");
        assert_eq!(canonical_uri("/{proxy+}"), "/%7Bproxy%2B%7D");
        assert_eq!(
            canonical_uri("/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        );
    }

    #[test]
    fn canonical_query_sorting_and_encoding() {
        assert_eq!(canonical_query_string("", false), "");
        assert_eq!(
            canonical_query_string("Param2=value2&Param1=value1", false),
            "Param1=value1&Param2=value2"
        );
        // Sorted by encoded key (uppercase before lowercase), then by value.
        assert_eq!(
            canonical_query_string("b=2&a=1&A=0&a=0", false),
            "A=0&a=0&a=1&b=2"
        );
        // `=` always present, empty segments ignored.
        assert_eq!(canonical_query_string("flag&&x=", false), "flag=&x=");
        // Values re-encoded canonically whatever the client sent.
        assert_eq!(canonical_query_string("a=%7e%2f", false), "a=~%2F");
        assert_eq!(canonical_query_string("a=b c", false), "a=b%20c");
        assert_eq!(canonical_query_string("a=b+c", false), "a=b%20c");
        assert_eq!(canonical_query_string("a=b%2Bc", false), "a=b%2Bc");
        assert_eq!(
            canonical_query_string("\u{1234}=bar", false),
            "%E1%88%B4=bar"
        );
        assert_eq!(canonical_query_string("a=%zz", false), "a=%25zz");
        assert_eq!(
            canonical_query_string("a=!*'()", false),
            "a=%21%2A%27%28%29"
        );
    }

    #[test]
    fn canonical_query_excludes_signature_only_when_presigned() {
        let q = "X-Amz-Date=1&X-Amz-Signature=abc&a=1";
        assert_eq!(canonical_query_string(q, true), "X-Amz-Date=1&a=1");
        assert_eq!(
            canonical_query_string(q, false),
            "X-Amz-Date=1&X-Amz-Signature=abc&a=1"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        assert_eq!(trim_header_value(b"  a   b \t c  "), b"a b c");
        assert_eq!(trim_header_value(b"\"a   b   c\""), b"\"a b c\"");
        assert_eq!(trim_header_value(b""), b"");
        let mut h = HeaderMap::new();
        h.append("my-header1", "value4".parse().unwrap());
        h.append("my-header1", " value1 ".parse().unwrap());
        h.append("my-header1", "value3".parse().unwrap());
        assert_eq!(
            canonical_header_value(&h, "my-header1"),
            b"value4,value1,value3"
        );
        assert_eq!(canonical_header_value(&h, "absent"), b"");
    }

    #[test]
    fn signing_key_matches_aws_example() {
        // From the AWS SigV4 documentation / test suite.
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "service",
        );
        assert_eq!(
            hex::encode(key),
            "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"
        );
    }

    #[test]
    fn get_vanilla_string_to_sign() {
        let cr = canonical_request(
            "GET",
            "/",
            "",
            &[
                ("host".into(), b"example.amazonaws.com".to_vec()),
                ("x-amz-date".into(), b"20150830T123600Z".to_vec()),
            ],
            "host;x-amz-date",
            EMPTY_SHA256,
        );
        let sts = string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            &cr,
        );
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }

    #[test]
    fn dates_parse_and_format() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert!(parse_amz_date("20150830T123600").is_none());
        assert!(parse_amz_date("2015-08-30T12:36:00Z").is_none());
        assert!(parse_amz_date("20151330T123600Z").is_none());
        assert!(parse_amz_date("2015083XT123600Z").is_none());
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(t));
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 -0000"), Some(t));
        assert_eq!(parse_http_date("20150830T123600Z"), Some(t));
        assert!(parse_http_date("Sun, 30 Aug 2015 12:36:00 +0200").is_none());
        assert!(parse_http_date("yesterday").is_none());
    }
}
