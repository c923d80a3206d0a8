//! The API Gateway layer: `$util` functions and the helpers behind
//! `$input`, with API Gateway's documented behaviour (escapeJavaScript
//! escapes `'` as `\'`, urlEncode is Java's form encoding, ...).

use base64::Engine as _;

/// Java's (commons-lang 2) `StringEscapeUtils.escapeJavaScript`.
pub fn escape_javascript(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let u = *unit;
                    if u > 0xfff {
                        out.push_str(&format!("\\u{u:X}"));
                    } else if u > 0xff {
                        out.push_str(&format!("\\u0{u:X}"));
                    } else {
                        out.push_str(&format!("\\u00{u:02X}"));
                    }
                }
            }
            c => out.push(c),
        }
    }
}

/// Java's `URLEncoder.encode(s, "UTF-8")`: form encoding, space as `+`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Java's `URLDecoder.decode(s, "UTF-8")`; errors on malformed escapes.
pub fn url_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .ok_or("URLDecoder: Incomplete trailing escape (%) pattern")?;
                let h = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("URLDecoder: Illegal hex characters in escape (%) pattern")?;
                out.push(h);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Standard base64 with padding of the UTF-8 bytes.
pub fn base64_encode(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// Decodes standard base64 (padding optional) to text (invalid UTF-8 is replaced).
pub fn base64_decode(s: &str) -> Result<String, String> {
    let cfg = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    let eng = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    eng.decode(s.trim().as_bytes())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("IllegalArgumentException: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn util_functions() {
        let mut s = String::new();
        escape_javascript("it's \"q\" / \\ \n é", &mut s);
        assert_eq!(s, "it\\'s \\\"q\\\" \\/ \\\\ \\n \\u00E9");
        assert_eq!(url_encode("a b&c=d/é*~"), "a+b%26c%3Dd%2F%C3%A9*%7E");
        assert_eq!(url_decode("a+b%26c").as_deref(), Ok("a b&c"));
        assert!(url_decode("%zz").is_err());
        assert_eq!(base64_encode("hello"), "aGVsbG8=");
        assert_eq!(base64_decode("aGVsbG8").as_deref(), Ok("hello"));
        assert!(base64_decode("!!").is_err());
    }
}
