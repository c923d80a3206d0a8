//! IAM wildcard patterns: `*` matches any run of characters (including `/` and none at all),
//! `?` exactly one character. There is no escape character, as in IAM.

/// A compiled wildcard pattern.
///
/// The common shapes (a literal, `*` alone, `literal*`) get a fast path; anything else runs
/// the classic greedy-star backtracking matcher, which needs no allocation and is linear in
/// practice (worst case `O(pattern × text)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    kind: Kind,
    /// Compare ASCII letters case-insensitively (actions). The stored pattern is then
    /// lowercased at compile time, so only the text side is folded per byte.
    fold_case: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `*`: everything matches.
    Any,
    /// No wildcard at all.
    Exact(Box<str>),
    /// `prefix*` with no other wildcard.
    Prefix(Box<str>),
    /// Anything else.
    Glob(Box<str>),
}

impl Pattern {
    /// A case-sensitive pattern (resources, `StringLike`).
    pub(crate) fn case_sensitive(pattern: &str) -> Pattern {
        Pattern::new(pattern, false)
    }

    /// A pattern matched ignoring ASCII case (actions: `execute-api:invoke` matches
    /// `execute-api:Invoke`).
    pub(crate) fn ascii_case_insensitive(pattern: &str) -> Pattern {
        Pattern::new(pattern, true)
    }

    fn new(pattern: &str, fold_case: bool) -> Pattern {
        let stored: Box<str> = if fold_case {
            pattern.to_ascii_lowercase().into()
        } else {
            pattern.into()
        };
        let kind = if stored.bytes().all(|b| b == b'*') && !stored.is_empty() {
            Kind::Any
        } else if !stored.contains(['*', '?']) {
            Kind::Exact(stored)
        } else if let Some(prefix) = stored.strip_suffix('*') {
            if prefix.contains(['*', '?']) {
                Kind::Glob(stored)
            } else {
                Kind::Prefix(prefix.into())
            }
        } else {
            Kind::Glob(stored)
        };
        Pattern { kind, fold_case }
    }

    /// Whether `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let t = text.as_bytes();
        match &self.kind {
            Kind::Any => true,
            Kind::Exact(p) => eq_bytes(p.as_bytes(), t, self.fold_case),
            Kind::Prefix(p) => {
                t.len() >= p.len() && eq_bytes(p.as_bytes(), &t[..p.len()], self.fold_case)
            }
            Kind::Glob(p) => glob(p.as_bytes(), t, self.fold_case),
        }
    }
}

fn eq_bytes(pattern: &[u8], text: &[u8], fold_case: bool) -> bool {
    if fold_case {
        pattern.len() == text.len()
            && pattern
                .iter()
                .zip(text)
                .all(|(p, t)| *p == t.to_ascii_lowercase())
    } else {
        pattern == text
    }
}

/// Index of the character after the one starting at `i` (UTF-8 aware, so `?` and the
/// star's backtracking always step over whole characters).
fn next_char(text: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < text.len() && (text[j] & 0xC0) == 0x80 {
        j += 1;
    }
    j
}

/// Greedy matcher with one backtrack point (the last `*` seen): on a mismatch the last star
/// absorbs one more character and matching resumes after it. Earlier stars never need to
/// be revisited, which is what keeps this allocation-free.
fn glob(p: &[u8], t: &[u8], fold_case: bool) -> bool {
    let (mut pi, mut ti) = (0, 0);
    // (pattern index just after the last `*`, text index that star currently ends at)
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if let Some(&pc) = p.get(pi) {
            match pc {
                b'*' => {
                    pi += 1;
                    star = Some((pi, ti));
                    continue;
                }
                b'?' => {
                    pi += 1;
                    ti = next_char(t, ti);
                    continue;
                }
                _ => {
                    let tc = if fold_case {
                        t[ti].to_ascii_lowercase()
                    } else {
                        t[ti]
                    };
                    if pc == tc {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                let nt = next_char(t, st);
                star = Some((sp, nt));
                pi = sp;
                ti = nt;
            }
            _ => return false,
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(p: &str, t: &str) -> bool {
        Pattern::case_sensitive(p).matches(t)
    }

    fn ci(p: &str, t: &str) -> bool {
        Pattern::ascii_case_insensitive(p).matches(t)
    }

    #[test]
    fn fast_paths_are_chosen() {
        assert_eq!(Pattern::case_sensitive("*").kind, Kind::Any);
        assert_eq!(Pattern::case_sensitive("**").kind, Kind::Any);
        assert!(matches!(
            Pattern::case_sensitive("abc").kind,
            Kind::Exact(_)
        ));
        assert!(matches!(
            Pattern::case_sensitive("abc*").kind,
            Kind::Prefix(_)
        ));
        assert!(matches!(Pattern::case_sensitive("a*c").kind, Kind::Glob(_)));
        assert!(matches!(
            Pattern::case_sensitive("a?c*").kind,
            Kind::Glob(_)
        ));
        assert!(matches!(Pattern::case_sensitive("").kind, Kind::Exact(_)));
    }

    #[test]
    fn literal() {
        assert!(cs("abc", "abc"));
        assert!(!cs("abc", "abcd"));
        assert!(!cs("abc", "ab"));
        assert!(!cs("abc", "ABC"));
        assert!(cs("", ""));
        assert!(!cs("", "a"));
    }

    #[test]
    fn star() {
        assert!(cs("*", ""));
        assert!(cs("*", "anything/at/all"));
        assert!(cs("a*", "a"));
        assert!(cs("a*", "abc"));
        assert!(!cs("a*", "ba"));
        assert!(cs("*c", "abc"));
        assert!(!cs("*c", "abd"));
        assert!(cs("a*c", "ac"));
        assert!(cs("a*c", "abbbc"));
        assert!(!cs("a*c", "abbbd"));
        assert!(cs("a*b*c", "a-b-c"));
        assert!(cs("a*b*c", "abc"));
        assert!(!cs("a*b*c", "acb"));
        assert!(cs("*a*", "bab"));
        assert!(cs("a**b", "ab"));
        // Backtracking: the first candidate for the text after `*` is a false start.
        assert!(cs("*aab", "aaaab"));
        assert!(cs("*ab*ab", "abxabab"));
        assert!(!cs("*ab*ab", "abxab_"));
    }

    #[test]
    fn star_spans_slashes() {
        let p = "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/pets/*";
        assert!(cs(
            p,
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets/12"
        ));
        assert!(cs(
            p,
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets/12/toys/3"
        ));
        assert!(cs(
            p,
            "arn:aws:execute-api:us-east-1:123456789012:abc/a/b/GET/pets/"
        ));
        assert!(!cs(
            p,
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/pets/12"
        ));
        assert!(!cs(
            p,
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets"
        ));
        assert!(cs("abc/*", "abc/prod/GET/"));
    }

    #[test]
    fn question_mark() {
        assert!(cs("a?c", "abc"));
        assert!(cs("a?c", "a/c"));
        assert!(!cs("a?c", "ac"));
        assert!(!cs("a?c", "abbc"));
        assert!(cs("???", "abc"));
        assert!(!cs("???", "ab"));
        assert!(cs("pets/?", "pets/1"));
        assert!(!cs("pets/?", "pets/12"));
        assert!(cs("*?", "x"));
        assert!(!cs("*?", ""));
        assert!(cs("a*?c", "abc"));
        assert!(!cs("a*?c", "ac"));
    }

    #[test]
    fn question_mark_is_one_character_not_one_byte() {
        assert!(cs("caf?", "café"));
        assert!(!cs("caf??", "café"));
        assert!(cs("*é", "café"));
        assert!(cs("?", "€"));
        assert!(!cs("??", "€"));
        assert!(cs("*?", "€"));
        assert!(!cs("*??", "€"));
    }

    #[test]
    fn case_insensitive_actions() {
        assert!(ci("execute-api:Invoke", "execute-api:Invoke"));
        assert!(ci("execute-api:Invoke", "EXECUTE-API:invoke"));
        assert!(ci("Execute-API:*", "execute-api:Invoke"));
        assert!(ci("execute-api:Inv?ke", "execute-api:INVOKE"));
        assert!(ci("*:invoke", "execute-api:Invoke"));
        assert!(!ci("execute-api:Invoke", "execute-api:ManageConnections"));
        assert!(!ci("s3:*", "execute-api:Invoke"));
        // ...but resources stay case-sensitive.
        assert!(!cs("abc/prod/get/*", "abc/prod/GET/pets"));
    }
}
