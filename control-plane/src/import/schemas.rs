//! Schemas → models: every `components/schemas` (`definitions`) entry becomes a model of
//! the same name, an inline request or response schema a model with a generated name, and
//! each `$ref` between schemas becomes API Gateway's model URL
//! (`https://apigateway.amazonaws.com/restapis/{id}/models/{name}`), as
//! [`crate::export`] writes it back as a local reference. A `$ref` to anything but a whole
//! schema of the document is refused.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::source::{invalid, join, object};
use super::{ImportError, ImportedModel};
use crate::api::rules::model::model_url;
use crate::export::Dialect;
use crate::wire::MODEL_URL_PREFIX;

/// The JSON Schema draft API Gateway's models are written in.
const DRAFT_04: &str = "http://json-schema.org/draft-04/schema#";

/// The document's schemas and the models made of them.
pub struct Schemas<'a> {
    api_id: &'a str,
    dialect: Dialect,
    /// Names of the document's own schemas (each a model).
    names: BTreeSet<String>,
    /// Every model name taken (the document's and the generated ones).
    taken: BTreeSet<String>,
    /// The models, in document order, then the inline ones.
    pub models: Vec<ImportedModel>,
}

impl<'a> Schemas<'a> {
    /// The `$ref` prefix of a whole schema in this dialect.
    fn prefix(&self) -> &'static str {
        match self.dialect {
            Dialect::Oas30 => "#/components/schemas/",
            Dialect::Swagger => "#/definitions/",
        }
    }

    /// Where the schemas are, as a location.
    fn location(&self) -> &'static str {
        match self.dialect {
            Dialect::Oas30 => "components.schemas",
            Dialect::Swagger => "definitions",
        }
    }

    /// Reads the document's schemas into models.
    pub fn read(doc: &Value, dialect: Dialect, api_id: &'a str) -> Result<Self, ImportError> {
        let mut s = Self {
            api_id,
            dialect,
            names: BTreeSet::new(),
            taken: BTreeSet::new(),
            models: Vec::new(),
        };
        let at = s.location();
        let found = match dialect {
            Dialect::Oas30 => doc.get("components").and_then(|c| c.get("schemas")),
            Dialect::Swagger => doc.get("definitions"),
        };
        let Some(found) = found else {
            return Ok(s);
        };
        let found = object(found, at)?;
        s.names = found.keys().cloned().collect();
        s.taken = s.names.clone();
        for (name, schema) in found {
            let at = join(at, name);
            let schema = s.model_schema(schema, &at)?;
            s.models.push(ImportedModel {
                at,
                name: name.clone(),
                content_type: "application/json".into(),
                schema,
            });
        }
        Ok(s)
    }

    /// The model describing `schema` (of a request or response body of `content_type`):
    /// the named schema a lone `$ref` points at, `None` for a missing or empty schema,
    /// else a new model named after `suggested`.
    pub fn model_for(
        &mut self,
        schema: Option<&Value>,
        at: &str,
        suggested: &str,
        content_type: &str,
    ) -> Result<Option<String>, ImportError> {
        let Some(schema) = schema.filter(|s| !s.is_null()) else {
            return Ok(None);
        };
        let o = object(schema, at)?;
        if o.is_empty() {
            return Ok(None);
        }
        if let Some(r) = o.get("$ref") {
            // Members beside a `$ref` are ignored, as OpenAPI says.
            let at = join(at, "$ref");
            let r = r
                .as_str()
                .ok_or_else(|| invalid(&at, "a $ref must be a string"))?;
            return self.schema_name(r, &at).map(Some);
        }
        let name = self.fresh_name(suggested);
        let text = self.model_schema(schema, at)?;
        self.models.push(ImportedModel {
            at: at.to_string(),
            name: name.clone(),
            content_type: content_type.to_string(),
            schema: text,
        });
        Ok(Some(name))
    }

    /// The document schema a `$ref` names (its local form or API Gateway's model URL).
    fn schema_name(&self, r: &str, at: &str) -> Result<String, ImportError> {
        let name = if let Some(name) = r.strip_prefix(self.prefix()) {
            Some(unescape(name))
        } else if let Some(rest) = r.strip_prefix(MODEL_URL_PREFIX) {
            rest.split_once("/models/")
                .map(|(_, name)| name.split('#').next().unwrap_or_default().to_string())
        } else {
            None
        };
        match name {
            Some(name) if self.names.contains(&name) => Ok(name),
            Some(name) if name.contains('/') => Err(invalid(
                at,
                format!(
                    "unsupported $ref '{r}': only whole schemas ({}{{name}}) can be referenced",
                    self.prefix()
                ),
            )),
            _ => Err(invalid(
                at,
                format!(
                    "unknown $ref '{r}': it names no schema of {}",
                    self.location()
                ),
            )),
        }
    }

    /// `schema` as a model's schema text: `$ref`s made model URLs, `$schema` draft-04.
    fn model_schema(&self, schema: &Value, at: &str) -> Result<String, ImportError> {
        let mut v = schema.clone();
        let o = v.as_object_mut().ok_or_else(|| {
            invalid(
                at,
                format!(
                    "a schema must be an object, found {}",
                    super::source::kind(schema)
                ),
            )
        })?;
        if !o.contains_key("$schema") {
            let mut with = Map::new();
            with.insert("$schema".into(), Value::String(DRAFT_04.into()));
            with.extend(std::mem::take(o));
            *o = with;
        }
        self.rewrite_refs(&mut v, at)?;
        serde_json::to_string(&v).map_err(|e| invalid(at, e.to_string()))
    }

    fn rewrite_refs(&self, v: &mut Value, at: &str) -> Result<(), ImportError> {
        match v {
            Value::Object(o) => {
                for (k, child) in o.iter_mut() {
                    let at = join(at, k);
                    match (k.as_str(), &*child) {
                        ("$ref", Value::String(r)) => {
                            let name = self.schema_name(r, &at)?;
                            *child = Value::String(model_url(self.api_id, &name));
                        }
                        _ => self.rewrite_refs(child, &at)?,
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    self.rewrite_refs(child, &join(at, &i.to_string()))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// An alphanumeric model name from `suggested`, unique among the models.
    fn fresh_name(&mut self, suggested: &str) -> String {
        let mut base: String = suggested
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut cs = w.chars();
                cs.next()
                    .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                    .unwrap_or_default()
            })
            .collect();
        if base.is_empty() {
            base = "Model".into();
        }
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// A JSON pointer token's text (`~1` is `/`, `~0` is `~`).
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn models(s: &Schemas<'_>) -> Vec<(String, Value)> {
        s.models
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    serde_json::from_str(&m.schema).expect("JSON"),
                )
            })
            .collect()
    }

    #[test]
    fn component_refs_become_model_urls() {
        let doc = json!({"components": {"schemas": {
            "Pet": {"type": "object"},
            "Pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}});
        let s = Schemas::read(&doc, Dialect::Oas30, "abc").unwrap();
        let m = models(&s);
        assert_eq!(m[1].0, "Pets");
        assert_eq!(
            m[1].1,
            json!({"$schema": DRAFT_04, "type": "array",
                   "items": {"$ref": "https://apigateway.amazonaws.com/restapis/abc/models/Pet"}})
        );
    }

    #[test]
    fn unknown_and_partial_refs_are_refused() {
        let doc = json!({"definitions": {"Pets": {"items": {"$ref": "#/definitions/Nope"}}}});
        let err = Schemas::read(&doc, Dialect::Swagger, "abc")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("definitions.Pets.items.$ref: unknown $ref '#/definitions/Nope'"),
            "{err}"
        );
        let doc = json!({"definitions": {"A": {}, "B": {"$ref": "#/definitions/A/properties/x"}}});
        let err = Schemas::read(&doc, Dialect::Swagger, "abc")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("only whole schemas"), "{err}");
        let doc = json!({"components": {"schemas": {"A": {"$ref": "#/definitions/A"}}}});
        assert!(Schemas::read(&doc, Dialect::Oas30, "abc").is_err());
    }

    #[test]
    fn inline_schemas_get_fresh_names() {
        let doc = json!({"components": {"schemas": {"AddPetRequest": {}}}});
        let mut s = Schemas::read(&doc, Dialect::Oas30, "abc").unwrap();
        let inline = json!({"type": "object"});
        let name = s
            .model_for(Some(&inline), "x", "addPet request", "application/json")
            .unwrap();
        assert_eq!(name.as_deref(), Some("AddPetRequest2"));
        let r = json!({"$ref": "#/components/schemas/AddPetRequest"});
        assert_eq!(
            s.model_for(Some(&r), "x", "y", "application/json").unwrap(),
            Some("AddPetRequest".into())
        );
        assert_eq!(
            s.model_for(Some(&json!({})), "x", "y", "application/json")
                .unwrap(),
            None
        );
    }
}
