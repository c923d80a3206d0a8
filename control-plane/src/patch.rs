//! `patchOperations`: the update language of every `Update*` call.
//!
//! AWS applies a list of `{op, path, value}` operations to an entity; paths are
//! JSON-pointer-like (`/name`, `/variables/stage`, `/requestParameters/method.request.header.x`,
//! `~1` for `/` inside a segment). Each entity interprets its own paths; this module
//! holds the parsing and the helpers they share so the wording of errors stays the same.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::ApiError;

/// The kind of a patch operation.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Add a value (or an element to a list/map).
    Add,
    /// Remove a value.
    Remove,
    /// Replace a value.
    Replace,
    /// Move from `from` to `path` (rarely used by AWS entities).
    Move,
    /// Copy from `from` to `path` (used by stages for canary settings).
    Copy,
    /// Test a value (accepted by the model; nothing here supports it).
    Test,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
            Op::Move => "move",
            Op::Copy => "copy",
            Op::Test => "test",
        }
    }
}

/// One `PatchOperation`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct PatchOperation {
    /// What to do.
    pub op: Op,
    /// Where (required by every op we support).
    #[serde(default)]
    pub path: Option<String>,
    /// The new value, always a string on the wire.
    #[serde(default)]
    pub value: Option<String>,
    /// Source path for copy/move.
    #[serde(default)]
    pub from: Option<String>,
}

/// The body of every `Update*` call.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchRequest {
    /// Operations applied in order; the update is all or nothing.
    #[serde(default)]
    pub patch_operations: Vec<PatchOperation>,
}

impl PatchOperation {
    /// The raw path, or a 400 when missing.
    pub fn path(&self) -> Result<&str, ApiError> {
        self.path
            .as_deref()
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| ApiError::bad_request("Patch operation path must start with '/'"))
    }

    /// The path split into unescaped segments (`~1` -> `/`, `~0` -> `~`).
    pub fn segments(&self) -> Result<Vec<String>, ApiError> {
        let path = self.path()?;
        Ok(path[1..].split('/').map(unescape_segment).collect())
    }

    /// The value as a string, or a 400 naming the path.
    pub fn value(&self) -> Result<&str, ApiError> {
        self.value.as_deref().ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid null or empty value in patch operation '{}' for path '{}'",
                self.op.name(),
                self.path.as_deref().unwrap_or_default()
            ))
        })
    }

    /// The value parsed as a boolean.
    pub fn bool_value(&self) -> Result<bool, ApiError> {
        match self.value()?.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(ApiError::bad_request(format!(
                "Invalid boolean value '{other}' for path '{}'",
                self.path.as_deref().unwrap_or_default()
            ))),
        }
    }

    /// The value parsed as a 32-bit integer.
    pub fn i32_value(&self) -> Result<i32, ApiError> {
        let v = self.value()?;
        v.trim().parse().map_err(|_| {
            ApiError::bad_request(format!(
                "Invalid integer value '{v}' for path '{}'",
                self.path.as_deref().unwrap_or_default()
            ))
        })
    }

    /// The value parsed as a finite float.
    pub fn f64_value(&self) -> Result<f64, ApiError> {
        let v = self.value()?;
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid number value '{v}' for path '{}'",
                    self.path.as_deref().unwrap_or_default()
                ))
            })
    }

    /// The error for a path the entity does not support with this op.
    pub fn unsupported(&self) -> ApiError {
        ApiError::bad_request(format!(
            "Invalid patch path '{}' specified for op '{}'",
            self.path.as_deref().unwrap_or_default(),
            self.op.name()
        ))
    }

    /// Applies the op to an optional scalar string field.
    pub fn apply_opt_string(&self, field: &mut Option<String>) -> Result<(), ApiError> {
        match self.op {
            Op::Add | Op::Replace => *field = Some(self.value()?.to_string()),
            Op::Remove => *field = None,
            _ => return Err(self.unsupported()),
        }
        Ok(())
    }

    /// Applies the op to a required string field (remove is refused).
    pub fn apply_string(&self, field: &mut String) -> Result<(), ApiError> {
        match self.op {
            Op::Add | Op::Replace => *field = self.value()?.to_string(),
            _ => return Err(self.unsupported()),
        }
        Ok(())
    }

    /// Applies the op to a boolean field (remove resets to false).
    pub fn apply_bool(&self, field: &mut bool) -> Result<(), ApiError> {
        match self.op {
            Op::Add | Op::Replace => *field = self.bool_value()?,
            Op::Remove => *field = false,
            _ => return Err(self.unsupported()),
        }
        Ok(())
    }

    /// Applies the op to one entry of a map field, parsing the value with `parse`.
    pub fn apply_map_entry<V>(
        &self,
        map: &mut BTreeMap<String, V>,
        key: &str,
        parse: impl FnOnce(&Self) -> Result<V, ApiError>,
    ) -> Result<(), ApiError> {
        if key.is_empty() {
            return Err(self.unsupported());
        }
        match self.op {
            Op::Add | Op::Replace => {
                let v = parse(self)?;
                map.insert(key.to_string(), v);
            }
            Op::Remove => {
                if map.remove(key).is_none() {
                    return Err(ApiError::bad_request(format!(
                        "Cannot remove '{key}': it does not exist"
                    )));
                }
            }
            _ => return Err(self.unsupported()),
        }
        Ok(())
    }

    /// Applies the op to a list of strings where the path names the element
    /// (`add /binaryMediaTypes/image~1png`). `replace` with a value renames the element.
    pub fn apply_list_element(
        &self,
        list: &mut Vec<String>,
        element: &str,
    ) -> Result<(), ApiError> {
        match self.op {
            Op::Add => {
                if element.is_empty() {
                    return Err(self.unsupported());
                }
                if !list.iter().any(|e| e == element) {
                    list.push(element.to_string());
                }
            }
            Op::Remove => list.retain(|e| e != element),
            Op::Replace => {
                let new = self.value()?.to_string();
                let present = list.contains(&new);
                match list.iter().position(|e| e == element) {
                    _ if element == new => {}
                    // Renaming onto an element already there leaves one of it.
                    Some(i) if present => {
                        list.remove(i);
                    }
                    Some(i) => list[i] = new,
                    None if !present => list.push(new),
                    None => {}
                }
            }
            _ => return Err(self.unsupported()),
        }
        Ok(())
    }
}

/// Undoes JSON-pointer escaping of one path segment.
pub fn unescape_segment(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

/// The value parsed as a string (used with [`PatchOperation::apply_map_entry`]).
pub fn string_of(op: &PatchOperation) -> Result<String, ApiError> {
    Ok(op.value()?.to_string())
}

/// The value parsed as a boolean (used with [`PatchOperation::apply_map_entry`]);
/// `add` without a value means `false`, as AWS treats optional parameters.
pub fn bool_of(op: &PatchOperation) -> Result<bool, ApiError> {
    if op.value.is_none() {
        return Ok(false);
    }
    op.bool_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(op: Op, path: &str, value: Option<&str>) -> PatchOperation {
        PatchOperation {
            op,
            path: Some(path.into()),
            value: value.map(Into::into),
            from: None,
        }
    }

    #[test]
    fn segments_unescape() {
        let o = op(
            Op::Replace,
            "/~1pets~1{id}/GET/throttling/rateLimit",
            Some("1"),
        );
        assert_eq!(
            o.segments().unwrap(),
            vec!["/pets/{id}", "GET", "throttling", "rateLimit"]
        );
    }

    #[test]
    fn list_elements() {
        let mut l = vec![];
        op(Op::Add, "/binaryMediaTypes/image~1png", None)
            .apply_list_element(&mut l, "image/png")
            .unwrap();
        assert_eq!(l, vec!["image/png"]);
        op(Op::Remove, "/binaryMediaTypes/image~1png", None)
            .apply_list_element(&mut l, "image/png")
            .unwrap();
        assert!(l.is_empty());
        // AWS's documented rename, then removing the old name (already gone).
        let mut l = vec!["image/jpeg".to_string(), "*/*".to_string()];
        let rename = op(
            Op::Replace,
            "/binaryMediaTypes/image~1jpeg",
            Some("application/octet-stream"),
        );
        rename.apply_list_element(&mut l, "image/jpeg").unwrap();
        assert_eq!(l, vec!["application/octet-stream", "*/*"]);
        op(Op::Remove, "/binaryMediaTypes/image~1jpeg", None)
            .apply_list_element(&mut l, "image/jpeg")
            .unwrap();
        assert_eq!(l, vec!["application/octet-stream", "*/*"]);
        let onto = op(
            Op::Replace,
            "/binaryMediaTypes/*~1*",
            Some("application/octet-stream"),
        );
        onto.apply_list_element(&mut l, "*/*").unwrap();
        assert_eq!(l, vec!["application/octet-stream"]);
    }

    #[test]
    fn bad_values_are_400() {
        let o = op(Op::Replace, "/apiKeyRequired", Some("maybe"));
        assert!(matches!(o.bool_value(), Err(ApiError::BadRequest(_))));
        let o = op(Op::Replace, "/timeoutInMillis", Some("x"));
        assert!(matches!(o.i32_value(), Err(ApiError::BadRequest(_))));
        let o = op(Op::Replace, "/name", None);
        assert!(matches!(o.value(), Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn map_remove_missing_is_400() {
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        let o = op(Op::Remove, "/variables/x", None);
        assert!(o.apply_map_entry(&mut m, "x", string_of).is_err());
    }
}
