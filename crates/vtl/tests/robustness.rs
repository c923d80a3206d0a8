//! Property test over parse + render (the stable-toolchain counterpart of the
//! `cargo fuzz` target in `fuzz/`): arbitrary mixtures of VTL tokens and
//! bytes never panic, and rendering always returns (bounded by the limits).

use proptest::prelude::*;
use vtl::{Limits, Params, RenderInput, RenderOptions, Template};

/// Fragments that exercise the lexer's and parser's edge cases.
const PIECES: &[&str] = &[
    "$",
    "$!",
    "${",
    "}",
    "#",
    "##",
    "#*",
    "*#",
    "#[[",
    "]]#",
    "\\",
    "\\\\",
    "(",
    ")",
    "[",
    "]",
    "{",
    "'",
    "\"",
    ".",
    ",",
    ":",
    "..",
    " ",
    "\t",
    "\n",
    "\r\n",
    "=",
    "==",
    "!",
    "&&",
    "||",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<",
    ">=",
    "a",
    "x1",
    "-y",
    "0",
    "42",
    "2.5",
    "-7",
    "true",
    "null",
    "#set(",
    "#if(",
    "#elseif(",
    "#else",
    "#end",
    "#foreach(",
    " in ",
    "#break",
    "#stop",
    "#macro(",
    "#define(",
    "#{if}",
    "#{end}",
    "$a",
    "$a.b",
    "$a[0]",
    "$input.path('$')",
    "$input.json('$.a')",
    "$input.params()",
    "$input.params('a')",
    "$context.a",
    "$util.escapeJavaScript(",
    "$util.parseJson(",
    "$util.base64Decode(",
    "$util.urlDecode(",
    "$foreach.hasNext",
    "$velocityCount",
    ".size()",
    ".get(0)",
    ".split('a')",
    ".replaceAll('(', 'x')",
    ".substring(5)",
    ".charAt(9)",
    ".put('k', 1)",
    ".add(1)",
    "[1..9]",
    "[1..100000000]",
    "{'k': [1]}",
    "$context.responseOverride.status",
    "é",
    "😀",
];

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(PIECES).prop_map(str::to_string),
            1 => any::<char>().prop_map(|c| c.to_string()),
        ],
        0..60,
    )
    .prop_map(|v| v.concat())
}

fn small_limits() -> Limits {
    Limits {
        max_foreach_iterations: 50,
        max_total_iterations: 500,
        max_nesting_depth: 16,
        max_macro_depth: 4,
        max_output_bytes: 64 * 1024,
        max_collection_len: 1_000,
        ..Limits::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn parse_and_render_never_panic(src in template(), body in prop_oneof![
        Just(String::new()),
        Just(r#"{"a":[1,{"b":"c"}],"x":"{\"k\":1}"}"#.to_string()),
        Just("not json".to_string()),
    ]) {
        let limits = small_limits();
        if let Ok(t) = Template::parse_with_limits(&src, &limits) {
            let input = RenderInput {
                body,
                params: Params {
                    path: [("a".to_string(), "p".to_string())].into(),
                    ..Default::default()
                },
                context: serde_json::json!({"a": "ctx"}),
                ..Default::default()
            };
            let opts = RenderOptions { limits: limits.clone(), ..Default::default() };
            if let Ok(out) = t.render_with(&input, &opts) {
                prop_assert!(out.body.len() <= limits.max_output_bytes);
            }
        }
    }
}
