//! Differential test against Apache Velocity 1.7.
//!
//! `ci.sh` renders every template of a corpus directory with the Java
//! reference (`conformance/velocity/VtlRef.java`) into an output directory,
//! then runs this test with `VTL_DIFF_CORPUS=<templates dir>` and
//! `VTL_DIFF_OUT=<reference output dir>`. Each template is rendered here in
//! the Velocity dialect with the same variables (`conformance/fixture.json`)
//! and must produce byte-identical output; a template Velocity rejects must
//! also fail here. Without the variables set the test does nothing, so
//! `cargo test` passes on machines without Java.

use std::fs;
use std::path::Path;

use vtl::{Dialect, RenderInput, RenderOptions, Template};

#[test]
fn differential_against_velocity() {
    let (Ok(corpus), Ok(out)) = (
        std::env::var("VTL_DIFF_CORPUS"),
        std::env::var("VTL_DIFF_OUT"),
    ) else {
        eprintln!("VTL_DIFF_CORPUS/VTL_DIFF_OUT not set: skipping the differential run");
        return;
    };
    let fixture =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/fixture.json"))
            .expect("fixture");
    let vars: serde_json::Value = serde_json::from_str(&fixture).expect("fixture is JSON");
    let input = RenderInput {
        variables: vars.as_object().cloned().unwrap_or_default(),
        ..Default::default()
    };
    let opts = RenderOptions {
        dialect: Dialect::Velocity,
        ..Default::default()
    };
    let mut files: Vec<_> = fs::read_dir(&corpus)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "vm"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let (mut same_output, mut both_failed) = (0usize, 0usize);
    for f in &files {
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let src = fs::read_to_string(f).expect("template");
        let ours = Template::parse(&src)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                t.render_with(&input, &opts)
                    .map(|o| o.body)
                    .map_err(|e| e.to_string())
            });
        let expected_out = fs::read_to_string(Path::new(&out).join(format!("{stem}.out")));
        let expected_err = fs::read_to_string(Path::new(&out).join(format!("{stem}.err")));
        match (expected_out, expected_err, &ours) {
            (Ok(exp), _, Ok(got)) if &exp == got => same_output += 1,
            (Err(_), Ok(_), Err(_)) => both_failed += 1,
            (exp, err, got) => failures.push(format!(
                "--- {stem}\ntemplate: {src:?}\nvelocity: {:?}\nours:     {got:?}",
                exp.ok().or(err.ok())
            )),
        }
    }
    eprintln!(
        "differential: {} templates: {same_output} identical outputs, {both_failed} rejected by both, {} mismatches",
        files.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
