//! Fuzzes parse + render: no input may panic, hang or grow without bound.
//! Run: `cargo +nightly fuzz run parse_render -- -max_total_time=60` in
//! `crates/vtl` (see `ci.sh`, which runs it for a bounded time when
//! `cargo-fuzz` is installed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vtl::{Limits, RenderInput, RenderOptions, Template};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_foreach_iterations: 100,
        max_total_iterations: 1_000,
        max_output_bytes: 256 * 1024,
        max_collection_len: 10_000,
        ..Limits::default()
    };
    let Ok(template) = Template::parse_with_limits(src, &limits) else {
        return;
    };
    let input = RenderInput {
        body: r#"{"a":[1,{"b":"c"}],"s":"{\"k\":1}"}"#.to_string(),
        context: serde_json::json!({"stage": "fuzz"}),
        ..Default::default()
    };
    let opts = RenderOptions {
        limits: limits.clone(),
        ..Default::default()
    };
    if let Ok(out) = template.render_with(&input, &opts) {
        assert!(out.body.len() <= limits.max_output_bytes);
    }
});
