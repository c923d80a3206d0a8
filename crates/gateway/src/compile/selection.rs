//! Integration-response selection: `selectionPattern` regexes compiled once, matched per
//! response against the backend status code (HTTP), the mock's status, or a function's
//! error message (AWS).
//!
//! API Gateway evaluates patterns with Java's `String.matches`, i.e. anchored at both ends;
//! we compile `^(?:pattern)$` so `2\d{2}` means "exactly a 2xx code", not "contains".
//! `fancy-regex` rather than `regex`: Java patterns may use lookaround and backreferences,
//! which `fancy-regex` supports (it hands plain patterns to `regex`, so they cost the same).

use fancy_regex::Regex;

/// Picks an integration response by matching a selection key against the patterns.
#[derive(Debug, Clone, Default)]
pub struct ResponseSelector {
    /// (pattern, index into the integration's responses), in declaration order.
    patterns: Vec<(Regex, usize)>,
    /// The response with an empty `selectionPattern`, used when no pattern matches.
    default: Option<usize>,
}

impl ResponseSelector {
    /// Compiles the selection patterns; entry `i` of `patterns` belongs to response `i`.
    /// An empty pattern marks the default response (the first one wins).
    pub fn compile<'a, I>(patterns: I) -> Result<Self, fancy_regex::Error>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut selector = ResponseSelector::default();
        for (index, pattern) in patterns.into_iter().enumerate() {
            if pattern.is_empty() {
                selector.default.get_or_insert(index);
            } else {
                let regex = Regex::new(&format!("^(?:{pattern})$"))?;
                selector.patterns.push((regex, index));
            }
        }
        selector.patterns.shrink_to_fit();
        Ok(selector)
    }

    /// The index of the default response (empty `selectionPattern`), if any.
    pub fn default_index(&self) -> Option<usize> {
        self.default
    }

    /// Returns the index of the selected response: the first pattern that fully matches
    /// `key`, else the default one, else `None` (a configuration error at request time).
    pub fn select(&self, key: &str) -> Option<usize> {
        self.patterns
            .iter()
            // A match that exceeds the backtracking limit counts as no match.
            .find(|(regex, _)| regex.is_match(key).unwrap_or(false))
            .map(|(_, index)| *index)
            .or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_anchored_full_match() {
        let s = ResponseSelector::compile(["", r"4\d{2}", "500"]).unwrap();
        assert_eq!(s.select("404"), Some(1));
        assert_eq!(s.select("500"), Some(2));
        assert_eq!(
            s.select("5000"),
            Some(0),
            "no partial match, falls to default"
        );
        assert_eq!(s.select("200"), Some(0));
    }

    #[test]
    fn first_matching_pattern_wins_and_no_default_means_none() {
        let s = ResponseSelector::compile([r"2\d{2}", "20.", "5.*"]).unwrap();
        assert_eq!(s.select("201"), Some(0));
        assert_eq!(s.select("503"), Some(2));
        assert_eq!(s.select("302"), None);
    }

    #[test]
    fn alternation_is_grouped_before_anchoring() {
        let s = ResponseSelector::compile(["400|404"]).unwrap();
        assert_eq!(s.select("404"), Some(0));
        assert_eq!(s.select("4004"), None);
    }

    #[test]
    fn java_lookaround_and_backreferences_work() {
        let s = ResponseSelector::compile([r"(?!2)\d{3}", r"(\w+) \1.*"]).unwrap();
        assert_eq!(s.select("404"), Some(0));
        assert_eq!(s.select("200"), None);
        assert_eq!(s.select("bad bad input"), Some(1));
        assert_eq!(s.select("bad input"), None);
    }

    #[test]
    fn bad_regex_is_rejected() {
        assert!(ResponseSelector::compile(["(unclosed"]).is_err());
    }
}
