//! GetModelTemplate's generator: a model's JSON Schema in, a Velocity mapping template out
//! that rebuilds a JSON body of that shape from `$input`, in the layout AWS generates
//! (`#set($inputRoot = ...)`, one `"name" : value` line per property, `#foreach` for arrays).

use serde_json::Value;

/// Generates the template for `schema`; `resolve` maps a `$ref` to its schema.
pub fn generate(schema: &Value, resolve: &dyn Fn(&str) -> Option<Value>) -> String {
    let mut out = String::from("#set($inputRoot = $input.path('$'))\n");
    let schema = deref(schema, resolve, 0);
    value(&mut out, &schema, "$inputRoot", 0, resolve, 0);
    out.push('\n');
    out
}

/// Follows `$ref`s (bounded, so cyclic models end).
fn deref(schema: &Value, resolve: &dyn Fn(&str) -> Option<Value>, depth: usize) -> Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) if depth < 8 => match resolve(r) {
            Some(target) => deref(&target, resolve, depth + 1),
            None => schema.clone(),
        },
        _ => schema.clone(),
    }
}

fn type_of(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ if schema.get("properties").is_some() => "object",
        _ if schema.get("items").is_some() => "array",
        _ => "string",
    }
}

fn value(
    out: &mut String,
    schema: &Value,
    reference: &str,
    indent: usize,
    resolve: &dyn Fn(&str) -> Option<Value>,
    depth: usize,
) {
    let pad = "  ".repeat(indent);
    match type_of(schema) {
        "object" if depth < 8 => {
            out.push_str("{\n");
            let props = schema.get("properties").and_then(Value::as_object);
            let count = props.map_or(0, |p| p.len());
            for (i, (name, prop)) in props.into_iter().flatten().enumerate() {
                let prop = deref(prop, resolve, 0);
                out.push_str(&format!("{pad}  \"{name}\" : "));
                value(
                    out,
                    &prop,
                    &format!("{reference}.{name}"),
                    indent + 1,
                    resolve,
                    depth + 1,
                );
                if i + 1 < count {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&format!("{pad}}}"));
        }
        "array" if depth < 8 => {
            let var = format!("$elem{depth}");
            out.push_str("[\n");
            out.push_str(&format!("#foreach({var} in {reference})\n{pad}  "));
            let items = schema
                .get("items")
                .map(|i| deref(i, resolve, 0))
                .unwrap_or(Value::Null);
            value(out, &items, &var, indent + 1, resolve, depth + 1);
            out.push_str("#if($foreach.hasNext),#end\n#end\n");
            out.push_str(&format!("{pad}]"));
        }
        "integer" | "number" | "boolean" => out.push_str(reference),
        _ => out.push_str(&format!("\"{reference}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compare_data_template_has_one_line_per_property() {
        let schema = json!({
            "type": "object",
            "properties": {
                "age": {"type": "integer"},
                "name": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}}
            }
        });
        let t = generate(&schema, &|_| None);
        assert!(
            t.starts_with("#set($inputRoot = $input.path('$'))\n{\n"),
            "{t}"
        );
        assert!(t.contains("  \"age\" : $inputRoot.age,\n"), "{t}");
        assert!(t.contains("  \"name\" : \"$inputRoot.name\",\n"), "{t}");
        assert!(t.contains("#foreach($elem1 in $inputRoot.tags)"), "{t}");
        assert!(vtl::Template::parse(&t).is_ok(), "{t}");
    }

    #[test]
    fn references_are_followed_and_cycles_end() {
        let schema = json!({"$ref": "x"});
        let cyclic = json!({"type": "object", "properties": {"me": {"$ref": "x"}}});
        let t = generate(&schema, &|_| Some(cyclic.clone()));
        assert!(t.contains("\"me\""), "{t}");
    }
}
