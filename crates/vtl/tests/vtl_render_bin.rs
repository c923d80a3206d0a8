//! `vtl-render` as a process: JSON case on stdin, output on stdout (exit 0),
//! `line:column: message` on stderr and exit 2 for a template error.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(stdin: &str, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vtl-render"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vtl-render");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn renders_a_case() {
    let case = serde_json::json!({
        "template": "{\"age\" : $input.json('$.personData.age'), \"type\": \"$input.params('type')\", \"id\": \"$input.params('id')\", \"h\": \"$input.params('X-H')\", \"s\": \"$context.stage/$stageVariables.v\"}",
        "body": "{\"personData\":{\"age\":42}}",
        "params": {"path": {"id": "7"}, "querystring": {"type": "dog"}, "header": {"X-H": "hv"}},
        "context": {"stage": "prod"},
        "stageVariables": {"v": "sv"}
    });
    let out = run(&case.to_string(), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"age\" : 42, \"type\": \"dog\", \"id\": \"7\", \"h\": \"hv\", \"s\": \"prod/sv\"}"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn json_mode_returns_overrides() {
    let case = serde_json::json!({
        "template": "#set($context.responseOverride.status = 201)#set($context.responseOverride.header.X-A = 'b')done"
    });
    let out = run(&case.to_string(), &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["body"], "done");
    assert_eq!(v["responseOverrideStatus"], 201);
    assert_eq!(v["responseOverrideHeaders"]["X-A"], "b");
}

#[test]
fn template_error_is_line_column_on_stderr_exit_2() {
    let case = serde_json::json!({"template": "ok\n  #if($a)\nno end"});
    let out = run(&case.to_string(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("2:3: "), "{err}");
    assert!(err.contains("#if without matching #end"), "{err}");
}

#[test]
fn render_error_exits_2_with_position() {
    let case = serde_json::json!({"template": "#foreach($i in [1..2000])#end"});
    let out = run(&case.to_string(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("1:1: #foreach exceeded 1000"), "{err}");
}

#[test]
fn bad_input_exits_1() {
    let out = run("not json", &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = run("{\"body\": \"x\"}", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("template"));
}
