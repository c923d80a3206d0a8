//! The `apigatewayv2` operations' descriptions, read from the service model their handlers
//! check request bodies against: `tests/data/apigatewayv2-operations.json`, extracted from
//! the model by `tests/data/extract_v2_operations.py` (each served operation's query
//! parameters, request and response shapes, and those shapes). The v2 handlers take and
//! give JSON documents in the model's wire shape rather than Rust types, so their
//! signatures say little; the model says what they are. Shapes become components named
//! `V2{Shape}` (the v1 API has its own `Model`, `Stage`, `Deployment`).

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::OperationDoc;

const MODEL: &str = include_str!("../../../tests/data/apigatewayv2-operations.json");

fn model() -> &'static Value {
    static MODEL_JSON: OnceLock<Value> = OnceLock::new();
    MODEL_JSON.get_or_init(|| serde_json::from_str(MODEL).unwrap_or(Value::Null))
}

/// The model's entry for `name` (method, uri, status, query, input, output), if the model
/// has that operation and the extraction kept it.
pub fn operation(name: &str) -> Option<&'static Value> {
    model()["operations"].get(name)
}

/// `name`'s description from the model, its shapes added to `schemas`; `None` for an
/// operation the model does not have (our extensions describe themselves).
pub(super) fn describe(name: &str, schemas: &mut Map<String, Value>) -> Option<OperationDoc> {
    let op = operation(name)?;
    let shapes = &model()["shapes"];
    let query = op["query"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|q| json!({"name": q, "in": "query", "required": false, "schema": {"type": "string"}}))
        .collect();
    let body = op["input"].as_str().map(|shape| {
        json!({
            "required": true,
            "content": {"application/json": {"schema": schema(shape, shapes, schemas)}},
        })
    });
    let response = if op["rawOutput"] == json!(true) {
        // The body is a document of the type asked for (ExportApi), not a JSON object.
        Some(json!({"*/*": {"schema": {"type": "string", "format": "binary"}}}))
    } else {
        op["output"]
            .as_str()
            .map(|shape| json!({"application/json": {"schema": schema(shape, shapes, schemas)}}))
    };
    Some(OperationDoc {
        query,
        body,
        response,
    })
}

/// The schema of the model shape `name`: a `$ref` to `V2{name}` for a structure (added
/// to `schemas` with what it names), inline for everything else.
fn schema(name: &str, shapes: &Value, schemas: &mut Map<String, Value>) -> Value {
    let s = &shapes[name];
    let mut out = match s["type"].as_str().unwrap_or("string") {
        "structure" => {
            let component = format!("V2{name}");
            if !schemas.contains_key(&component) {
                // Inserted first, so a shape that names itself ends.
                schemas.insert(component.clone(), json!({}));
                let mut properties = Map::new();
                let mut required = Vec::new();
                for (wire, member) in s["members"].as_object().into_iter().flatten() {
                    let mut p = schema(
                        member["shape"].as_str().unwrap_or_default(),
                        shapes,
                        schemas,
                    );
                    if let (Some(doc), false) = (member["doc"].as_str(), p.get("$ref").is_some()) {
                        p["description"] = json!(doc);
                    }
                    properties.insert(wire.clone(), p);
                    if member["required"] == json!(true) {
                        required.push(json!(wire));
                    }
                }
                let mut object = json!({"type": "object", "properties": properties});
                if !required.is_empty() {
                    object["required"] = Value::Array(required);
                }
                if let Some(doc) = s["doc"].as_str() {
                    object["description"] = json!(doc);
                }
                schemas.insert(component.clone(), object);
            }
            return json!({ "$ref": format!("#/components/schemas/{component}") });
        }
        "list" => json!({
            "type": "array",
            "items": schema(s["member"].as_str().unwrap_or_default(), shapes, schemas),
        }),
        "map" => json!({
            "type": "object",
            "additionalProperties": schema(s["value"].as_str().unwrap_or_default(), shapes, schemas),
        }),
        "integer" | "long" => json!({"type": "integer"}),
        "double" | "float" => json!({"type": "number"}),
        "boolean" => json!({"type": "boolean"}),
        "timestamp" => json!({"type": "string", "format": "date-time"}),
        "blob" => json!({"type": "string", "format": "byte"}),
        _ => json!({"type": "string"}),
    };
    let bounds = match out["type"].as_str() {
        Some("string") => Some(("minLength", "maxLength")),
        Some("array") => Some(("minItems", "maxItems")),
        Some("integer" | "number") => Some(("minimum", "maximum")),
        _ => None,
    };
    if let Some((min_key, max_key)) = bounds {
        if let Some(min) = s.get("min") {
            out[min_key] = min.clone();
        }
        if let Some(max) = s.get("max") {
            out[max_key] = max.clone();
        }
    }
    if let Some(values) = s.get("enum") {
        out["enum"] = values.clone();
    }
    out
}
