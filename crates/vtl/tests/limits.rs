//! Every bound is an error, never a hang or a crash: API Gateway's 1,000
//! `#foreach` iterations and 300 KB templates, and our own bounds on nesting,
//! macro depth, output size and collection size.

use vtl::{Limits, RenderError, RenderInput, RenderOptions, Template};

fn render_err(src: &str, limits: Limits) -> RenderError {
    let t = Template::parse_with_limits(src, &limits).expect("parses");
    let opts = RenderOptions {
        limits,
        ..Default::default()
    };
    t.render_with(&RenderInput::default(), &opts)
        .expect_err("must hit a limit")
}

#[test]
fn foreach_allows_1000_iterations_and_rejects_1001() {
    let ok = Template::parse("#foreach($i in [1..1000])#end$velocityCount").expect("parse");
    assert!(ok.render(&RenderInput::default()).is_ok());
    let t = Template::parse("\n  #foreach($i in [1..1001])x#end").expect("parse");
    let err = t
        .render(&RenderInput::default())
        .expect_err("over the limit");
    assert_eq!(
        err,
        RenderError::ForeachLimit {
            line: 2,
            column: 3,
            limit: 1000
        }
    );
    assert_eq!(err.to_string(), "2:3: #foreach exceeded 1000 iterations");
}

#[test]
fn growing_a_list_while_iterating_it_stops_at_the_limit() {
    let err = render_err(
        "#set($l = [1])#foreach($i in $l)#set($x = $l.add($i))#end",
        Limits::default(),
    );
    assert!(
        matches!(err, RenderError::ForeachLimit { limit: 1000, .. }),
        "{err:?}"
    );
}

#[test]
fn nested_loops_are_bounded_in_total() {
    let limits = Limits {
        max_total_iterations: 5_000,
        ..Limits::default()
    };
    let err = render_err(
        "#foreach($a in [1..1000])#foreach($b in [1..1000])#end#end",
        limits,
    );
    assert_eq!(err, RenderError::TotalIterations(5_000));
}

#[test]
fn template_size_is_limited_to_300_kb() {
    let at_limit = "a".repeat(300 * 1024);
    assert!(Template::parse(&at_limit).is_ok());
    let over = "a".repeat(300 * 1024 + 1);
    let err = Template::parse(&over).expect_err("too large");
    assert_eq!((err.line, err.column), (1, 1));
    assert!(err.message.contains("307201 bytes"), "{err}");
}

#[test]
fn nesting_depth_is_limited_at_parse_time() {
    let deep = "#if(true)".repeat(200) + &"#end".repeat(200);
    let err = Template::parse(&deep).expect_err("too deep");
    assert!(err.message.contains("nesting deeper than 64"), "{err}");
    let parens = "#set($x = ".to_string() + &"(".repeat(500) + "1" + &")".repeat(500) + ")";
    assert!(Template::parse(&parens).is_err());
}

#[test]
fn recursive_macros_hit_the_depth_limit() {
    let err = render_err("#macro(r $n)#r($n)#end#r(1)", Limits::default());
    assert!(
        matches!(err, RenderError::MacroDepth { limit: 16, .. }),
        "{err:?}"
    );
}

#[test]
fn output_size_is_bounded() {
    let limits = Limits {
        max_output_bytes: 10_000,
        ..Limits::default()
    };
    let err = render_err(
        "#foreach($i in [1..1000])0123456789ABCDEF#end",
        limits.clone(),
    );
    assert_eq!(err, RenderError::OutputTooLarge(10_000));
    // Doubling a string grows past the bound without being written out.
    let err = render_err(
        "#set($s = 'xxxxxxxxxx')#foreach($i in [1..40])#set($s = \"$s$s\")#end",
        limits,
    );
    assert_eq!(err, RenderError::OutputTooLarge(10_000));
}

#[test]
fn collections_are_bounded() {
    let err = render_err("#set($r = [1..100000000])", Limits::default());
    assert_eq!(err, RenderError::CollectionTooLarge(100_000));
}

#[test]
fn method_failures_are_errors_with_a_position() {
    let t = Template::parse("ok\n$util.base64Decode('!!')").expect("parse");
    let err = t.render(&RenderInput::default()).expect_err("bad base64");
    assert_eq!(err.position(), Some((2, 1)));
    let t = Template::parse("$input.json('$.a')").expect("parse");
    let input = RenderInput {
        body: "{not json".into(),
        ..Default::default()
    };
    assert!(t.render(&input).is_err());
}

#[test]
fn parse_errors_name_line_and_column() {
    let err = Template::parse("line one\n  #if($a\nx").expect_err("unclosed");
    assert_eq!((err.line, err.column), (3, 1), "{err}");
    assert!(err.message.contains("')' closing #if"), "{err}");
    let err = Template::parse("a\nb\n#end").expect_err("stray end");
    assert_eq!((err.line, err.column), (3, 1), "{err}");
    assert!(err.to_string().starts_with("3:1: "), "{err}");
}

#[test]
fn self_referencing_define_hits_the_depth_limit() {
    let err = render_err("#define($a)x$a#end$a", Limits::default());
    assert!(
        matches!(err, RenderError::MacroDepth { limit: 16, .. }),
        "{err:?}"
    );
}

#[test]
fn collections_containing_themselves_print_like_java() {
    let t = Template::parse(
        "#set($l = [])#set($x = $l.add($l))#set($x = $l.add(1))$l #set($m = {})#set($m.k = $m)$m",
    )
    .expect("parse");
    let out = t.render(&RenderInput::default()).expect("render");
    assert_eq!(out.body, "[(this Collection), 1]{k=(this Map)}");
}

#[test]
fn shared_collections_cannot_blow_up_printing_or_comparing() {
    // 2^40 leaves by sharing: printing is cut at the output bound...
    let err = render_err(
        "#set($l = [1])#foreach($i in [1..40])#set($l = [$l, $l])#end$l",
        Limits::default(),
    );
    assert_eq!(err, RenderError::OutputTooLarge(10 * 1024 * 1024));
    // ...and comparing two such values stops after a bounded number of steps.
    let t = Template::parse(
        "#set($a = [1])#set($b = [1])#foreach($i in [1..40])#set($a = [$a, $a])#set($b = [$b, $b])#end#if($a == $b)eq#{else}ne#end #if($a == 'x')eq#{else}ne#end",
    )
    .expect("parse");
    let out = t.render(&RenderInput::default()).expect("render");
    assert_eq!(out.body, "ne ne");
}
