//! The rules of the resource tree (CreateResource, UpdateResource, and every resource an
//! import writes): what a path part may be, and what may stand beside or below it.

use crate::error::{ApiError, ApiResult};

/// What kind of segment a path part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// A literal segment.
    Literal,
    /// `{name}`.
    Param,
    /// `{name+}`.
    Greedy,
}

/// Validates a `pathPart` as AWS does and says what kind it is.
pub fn classify_path_part(part: &str) -> ApiResult<PartKind> {
    let bad = || {
        ApiError::bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning \
             and the end and an optional plus sign before the closing brace.",
        )
    };
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        if let Some(name) = inner.strip_suffix('+') {
            return if name_ok(name) {
                Ok(PartKind::Greedy)
            } else {
                Err(bad())
            };
        }
        return if name_ok(inner) {
            Ok(PartKind::Param)
        } else {
            Err(bad())
        };
    }
    let literal_ok = !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '~' | '@'));
    if literal_ok {
        Ok(PartKind::Literal)
    } else {
        Err(bad())
    }
}

/// The path of `part` under the resource at `parent`.
pub fn child_path(parent: &str, part: &str) -> String {
    if parent == "/" {
        format!("/{part}")
    } else {
        format!("{parent}/{part}")
    }
}

/// Checks that `part` may stand under a parent whose own part is `parent_part` (`None`
/// for `/`) beside `siblings` (the parent's other children): no child under a greedy
/// segment, one variable segment per level, no duplicate sibling (AWS's
/// ConflictException).
pub fn child<'a>(
    parent_part: Option<&str>,
    part: &str,
    siblings: impl IntoIterator<Item = &'a str>,
) -> ApiResult<PartKind> {
    let kind = classify_path_part(part)?;
    if let Some(parent_part) = parent_part {
        if classify_path_part(parent_part)? == PartKind::Greedy {
            return Err(ApiError::bad_request(format!(
                "Cannot create a child of a resource with a greedy path variable: {parent_part}"
            )));
        }
    }
    for sib in siblings {
        if sib == part {
            return Err(ApiError::conflict(format!(
                "Another resource with the same parent already has this name: {part}"
            )));
        }
        if kind != PartKind::Literal && classify_path_part(sib)? != PartKind::Literal {
            return Err(ApiError::bad_request(format!(
                "A sibling ({sib}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts() {
        assert_eq!(classify_path_part("pets").unwrap(), PartKind::Literal);
        assert_eq!(classify_path_part("{id}").unwrap(), PartKind::Param);
        assert_eq!(classify_path_part("{proxy+}").unwrap(), PartKind::Greedy);
        for bad in ["", "a/b", "{}", "{a", "a}", "{a+b}", "sp ace", "{+}", "é"] {
            assert!(classify_path_part(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn child_paths() {
        assert_eq!(child_path("/", "pets"), "/pets");
        assert_eq!(child_path("/pets", "{id}"), "/pets/{id}");
    }

    #[test]
    fn siblings() {
        assert!(child(None, "pets", ["{id}", "toys"]).is_ok());
        assert!(child(None, "{id}", ["pets", "toys"]).is_ok());
        assert!(matches!(
            child(None, "pets", ["pets"]),
            Err(ApiError::Conflict(_))
        ));
        assert!(child(None, "{name}", ["{id}"]).is_err());
        assert!(child(Some("{proxy+}"), "x", []).is_err());
    }
}
