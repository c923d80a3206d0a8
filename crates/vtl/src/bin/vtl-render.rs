//! `vtl-render`: renders one JSON case from stdin, for tooling and
//! conformance suites.
//!
//! Input: `{"template": "...", "body": "...", "params": {"path": {},
//! "querystring": {}, "header": {}}, "context": {...}, "stageVariables":
//! {...}}`, plus optional `"dialect": "velocity"` and `"variables": {...}`.
//! Prints the output on stdout (exit 0). With `--json`, prints the body and
//! the overrides as a JSON object. With `--time=N`, renders N times after one
//! parse and prints `{"renders": N, "ns_per_render": ...}` instead (used by
//! `benches/airspeed_compare.py`). On a template error prints
//! `line:column: message` on stderr and exits 2; bad input exits 1.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::ExitCode;

use serde_json::Value;
use vtl::{Dialect, Params, RenderInput, RenderOptions, Template};

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(o)) = v {
        for (k, v) in o {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(k.clone(), s);
        }
    }
    out
}

fn main() -> ExitCode {
    let json_out = std::env::args().any(|a| a == "--json");
    let time_n: Option<u32> =
        std::env::args().find_map(|a| a.strip_prefix("--time=").and_then(|n| n.parse().ok()));
    let mut raw = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut raw) {
        eprintln!("vtl-render: reading stdin: {e}");
        return ExitCode::from(1);
    }
    let case: Value = match serde_json::from_str(&raw) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("vtl-render: input is not JSON: {e}");
            return ExitCode::from(1);
        }
    };
    let Some(src) = case.get("template").and_then(Value::as_str) else {
        eprintln!("vtl-render: missing \"template\"");
        return ExitCode::from(1);
    };
    let template = match Template::parse(src) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let params = case.get("params");
    let input = RenderInput {
        body: case
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        params: Params {
            path: string_map(params.and_then(|p| p.get("path"))),
            querystring: string_map(params.and_then(|p| p.get("querystring"))),
            header: string_map(params.and_then(|p| p.get("header"))),
        },
        context: case
            .get("context")
            .cloned()
            .unwrap_or(Value::Object(Default::default())),
        stage_variables: string_map(case.get("stageVariables")),
        variables: case
            .get("variables")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    };
    let opts = RenderOptions {
        dialect: if case.get("dialect").and_then(Value::as_str) == Some("velocity") {
            Dialect::Velocity
        } else {
            Dialect::ApiGateway
        },
        ..Default::default()
    };
    if let Some(n) = time_n.filter(|n| *n > 0) {
        let start = std::time::Instant::now();
        for _ in 0..n {
            if let Err(e) = template.render_with(&input, &opts) {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
        let ns = start.elapsed().as_nanos() / u128::from(n);
        println!("{{\"renders\": {n}, \"ns_per_render\": {ns}}}");
        return ExitCode::SUCCESS;
    }
    match template.render_with(&input, &opts) {
        Ok(out) => {
            let text = if json_out {
                serde_json::json!({
                    "body": out.body,
                    "responseOverrideStatus": out.response_override_status,
                    "responseOverrideHeaders": out.response_override_headers,
                    "requestOverrideHeaders": out.request_override_headers,
                    "requestOverrideQuerystring": out.request_override_querystring,
                    "requestOverridePath": out.request_override_path,
                })
                .to_string()
            } else {
                out.body
            };
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            match e.position() {
                Some(_) => eprintln!("{e}"),
                None => eprintln!("1:1: {e}"),
            }
            ExitCode::from(2)
        }
    }
}
