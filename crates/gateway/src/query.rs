//! The one query-string parser, with API Gateway's rules, used by every phase that reads
//! the query (request-parameter mappings, `$input.params()`, the AWS_PROXY event,
//! required-parameter validation, gateway-response headers):
//!
//! - pairs are split on `&`; empty pairs are skipped; a pair without `=` has an empty value;
//! - keys and values are decoded alike: `+` is a space, then `%XX` bytes are decoded
//!   (invalid UTF-8 is replaced, never an error), so `%2B` is a literal `+`;
//! - a single value (`queryStringParameters`, `$input.params('q')`,
//!   `method.request.querystring.q`) is the **last** one; the multi-value forms
//!   (`multiValueQueryStringParameters`, `method.request.multivaluequerystring.q`) are all of
//!   them, in order.
//!
//! Nothing is allocated for pairs that need no decoding.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// Decodes one key or value of a query string (`+` → space, then `%XX`).
pub fn decode(raw: &str) -> Cow<'_, str> {
    let has_plus = raw.contains('+');
    if !has_plus && !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let spaced = if has_plus {
        Cow::Owned(raw.replace('+', " "))
    } else {
        Cow::Borrowed(raw)
    };
    Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// The decoded `(key, value)` pairs of a raw query string, in order.
pub fn pairs(raw: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    raw.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

/// The value of `name`: the last one when it repeats.
pub fn last<'a>(raw: &'a str, name: &str) -> Option<Cow<'a, str>> {
    pairs(raw).filter(|(k, _)| k == name).last().map(|(_, v)| v)
}

/// Every value of `name`, in order.
pub fn all<'a>(raw: &'a str, name: &'a str) -> impl Iterator<Item = Cow<'a, str>> + 'a {
    pairs(raw).filter(move |(k, _)| k == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_value_wins_and_plus_is_a_space() {
        let raw = "q=a+b&q=c&x=1%2B1&sp%20ace+d=v+w";
        assert_eq!(last(raw, "q").as_deref(), Some("c"));
        assert_eq!(all(raw, "q").collect::<Vec<_>>(), ["a b", "c"]);
        assert_eq!(last(raw, "x").as_deref(), Some("1+1"));
        assert_eq!(last(raw, "sp ace d").as_deref(), Some("v w"));
        assert_eq!(last(raw, "missing"), None);
    }

    #[test]
    fn empty_pairs_and_bare_keys() {
        let raw = "&&a&b=&=v&c=%ZZ%E2%82%AC";
        let got: Vec<(String, String)> = pairs(raw)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(
            got,
            [
                ("a".into(), "".into()),
                ("b".into(), "".into()),
                ("".into(), "v".into()),
                ("c".into(), "%ZZ€".into()),
            ]
        );
    }

    #[test]
    fn undecoded_pairs_are_borrowed() {
        let (k, v) = pairs("key=value").next().unwrap();
        assert!(matches!(k, Cow::Borrowed("key")));
        assert!(matches!(v, Cow::Borrowed("value")));
    }
}
