//! Conformance with Amazon API Gateway's documented behaviour: the developer
//! guide's mapping-template examples, the `$input` / `$util` / `$context`
//! reference, and the templates of the project's seed stories. These are the
//! cases where API Gateway, not plain Velocity, is the reference, so they are
//! rendered in the default (API Gateway) dialect.
//!
//! Sources (AWS developer guide):
//! - "Example data models and mapping templates for API Gateway" / "Additional
//!   mapping template example" (the photo album API, example-photos.html).
//! - "Examples using variables for mapping template transformations"
//!   (api-gateway-mapping-variable-examples.html): `$context` and `$input.params()`.
//! - "Variables for data transformations" (api-gateway-mapping-template-reference.html):
//!   `$input.json`, `$input.path`, `$input.params(x)` search order, `$util.*`.
//! - "Override your API's request and response parameters and status codes"
//!   (apigateway-override-request-response-parameters.html).

use std::collections::BTreeMap;

use serde_json::{json, Value};
use vtl::{Params, RenderInput, RenderOutput, Template};

fn render(template: &str, input: &RenderInput) -> RenderOutput {
    Template::parse(template)
        .unwrap_or_else(|e| panic!("template does not parse: {e}"))
        .render(input)
        .unwrap_or_else(|e| panic!("render failed: {e}"))
}

fn body(b: &str) -> RenderInput {
    RenderInput {
        body: b.to_string(),
        ..Default::default()
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The photo album input of the developer guide's example.
const PHOTOS_INPUT: &str = r#"{
  "photos": {
    "page": 1,
    "pages": "1234",
    "perpage": 100,
    "total": "123398",
    "photo": [
      {
        "id": "12345678901",
        "owner": "23456789@A12",
        "photographer_first_name" : "Saanvi",
        "photographer_last_name" : "Sarkar",
        "secret": "abc123d456",
        "server": "1234",
        "farm": 1,
        "title": "Sample photo 1",
        "ispublic": true,
        "isfriend": false,
        "isfamily": false
      },
      {
        "id": "23456789012",
        "owner": "34567890@B23",
        "photographer_first_name" : "Richard",
        "photographer_last_name" : "Roe",
        "secret": "bcd234e567",
        "server": "2345",
        "farm": 2,
        "title": "Sample photo 2",
        "ispublic": true,
        "isfriend": false,
        "isfamily": false
      }
    ]
  }
}"#;

/// The guide's mapping template that reshapes the photos.
const PHOTOS_TEMPLATE: &str = r#"#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name",
      "title": "$elem.title",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end

#end
  ]
}"#;

#[test]
fn photos_example_transforms_as_documented() {
    let out = render(PHOTOS_TEMPLATE, &body(PHOTOS_INPUT));
    // Byte for byte, with Velocity's rules (checked against Velocity 1.7):
    // `#set`, `#foreach` and `#end` lines leave nothing behind, and the `#end`
    // closing the inline `#if` eats its newline.
    let expected = r#"{
  "photos": [
    {
      "id": "12345678901",
      "photographedBy": "Saanvi Sarkar",
      "title": "Sample photo 1",
      "ispublic": true,
      "isfriend": false,
      "isfamily": false
    },
    {
      "id": "23456789012",
      "photographedBy": "Richard Roe",
      "title": "Sample photo 2",
      "ispublic": true,
      "isfriend": false,
      "isfamily": false
    }
  ]
}"#;
    assert_eq!(out.body, expected);
    // And the documented output data, as JSON.
    let got: Value = serde_json::from_str(&out.body).expect("output is JSON");
    assert_eq!(
        got,
        json!({"photos": [
            {"id": "12345678901", "photographedBy": "Saanvi Sarkar", "title": "Sample photo 1",
             "ispublic": true, "isfriend": false, "isfamily": false},
            {"id": "23456789012", "photographedBy": "Richard Roe", "title": "Sample photo 2",
             "ispublic": true, "isfriend": false, "isfamily": false}
        ]})
    );
}

#[test]
fn photos_input_model_template_with_escape_javascript() {
    // The guide's integration-request template for the photos input model:
    // strings go through `$util.escapeJavaScript`.
    let template = r#"#set($inputRoot = $input.path('$'))
{
  "photos": {
    "page": $inputRoot.photos.page,
    "pages": "$inputRoot.photos.pages",
    "perpage": $inputRoot.photos.perpage,
    "total": "$inputRoot.photos.total",
    "photo": [
#foreach($elem in $inputRoot.photos.photo)
      {
        "id": "$elem.id",
        "owner": "$elem.owner",
        "photographer_first_name": "$util.escapeJavaScript($elem.photographer_first_name)",
        "title": "$util.escapeJavaScript($elem.title)",
        "farm": $elem.farm,
        "ispublic": $elem.ispublic
      }#if($foreach.hasNext),#end
#end
    ]
  }
}"#;
    let input = PHOTOS_INPUT.replace("Sample photo 1", "Bob's \\\"best\\\" photo");
    let out = render(template, &body(&input));
    assert!(
        out.body.contains(r#""title": "Bob\'s \"best\" photo","#),
        "escapeJavaScript escapes ' as \\' and \" as \\\": {}",
        out.body
    );
    // Apart from the documented `\'` (invalid in JSON), the output is JSON.
    let got: Value = serde_json::from_str(&out.body.replace("\\'", "'")).expect("JSON");
    assert_eq!(got["photos"]["perpage"], json!(100));
    assert_eq!(got["photos"]["pages"], json!("1234"));
    assert_eq!(got["photos"]["photo"][1]["farm"], json!(2));
    assert_eq!(
        got["photos"]["photo"][0]["title"],
        json!("Bob's \"best\" photo")
    );
}

#[test]
fn all_params_example_produces_json() {
    // "Example 2: Pass all request parameters" of the variable examples page.
    let template = r#"#set($allParams = $input.params())
{
  "params" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    "$type" : {
      #foreach($paramName in $params.keySet())
      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}"#;
    let input = RenderInput {
        params: Params {
            path: map(&[("id", "42")]),
            querystring: map(&[("q", "a \"b\""), ("page", "2")]),
            header: map(&[("Accept", "application/json")]),
        },
        ..Default::default()
    };
    let out = render(template, &input);
    let got: Value = serde_json::from_str(&out.body).expect("output is JSON");
    assert_eq!(
        got,
        json!({"params": {
            "path": {"id": "42"},
            "querystring": {"page": "2", "q": "a \"b\""},
            "header": {"Accept": "application/json"}
        }})
    );
    // Types come in the documented order: path, querystring, header.
    let p = out.body.find("\"path\"").expect("path");
    let q = out.body.find("\"querystring\"").expect("querystring");
    let h = out.body.find("\"header\"").expect("header");
    assert!(p < q && q < h, "{}", out.body);
}

#[test]
fn context_variables_example() {
    // "Example 1: Pass multiple $context variables to the integration endpoint".
    let template = r#"{
    "stage" : "$context.stage",
    "request_id" : "$context.requestId",
    "api_id" : "$context.apiId",
    "resource_path" : "$context.resourcePath",
    "http_method" : "$context.httpMethod",
    "source_ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "api_key" : "$context.identity.apiKey"
}"#;
    let input = RenderInput {
        context: json!({
            "stage": "prod", "requestId": "abcdefg-000-000-0000-abcdefg", "apiId": "abcd1234",
            "resourcePath": "/", "httpMethod": "GET",
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "curl/7.84.0", "apiKey": "MyTestKey"}
        }),
        ..Default::default()
    };
    let got: Value = serde_json::from_str(&render(template, &input).body).expect("JSON");
    assert_eq!(
        got,
        json!({"stage": "prod", "request_id": "abcdefg-000-000-0000-abcdefg", "api_id": "abcd1234",
               "resource_path": "/", "http_method": "GET", "source_ip": "192.0.2.1",
               "user-agent": "curl/7.84.0", "api_key": "MyTestKey"})
    );
}

#[test]
fn input_json_and_path_reference() {
    // `$input.json(x)` is JSON text; `$input.path(x)` is an object.
    let b = r#"{"petstore":{"pets":[{"id":1,"type":"dog","price":249.99},{"id":2,"type":"cat","price":124.99}]},"name":"x"}"#;
    let input = body(b);
    assert_eq!(
        render("$input.json('$.petstore.pets[0]')", &input).body,
        r#"{"id":1,"type":"dog","price":249.99}"#
    );
    assert_eq!(render("$input.json('$.name')", &input).body, r#""x""#);
    assert_eq!(render("$input.path('$.name')", &input).body, "x");
    assert_eq!(
        render("$input.path('$.petstore.pets').size()", &input).body,
        "2"
    );
    assert_eq!(
        render("$input.json('$.petstore.pets[*].type')", &input).body,
        r#"["dog","cat"]"#
    );
    assert_eq!(render("$input.json('$..id')", &input).body, "[1,2]");
    assert_eq!(
        render(
            "$input.json('$.petstore.pets[?(@.price > 200)].id')",
            &input
        )
        .body,
        "[1]"
    );
    assert_eq!(
        render("$input.json('$.petstore[''pets''][1].type')", &input).body,
        r#""cat""#
    );
    assert_eq!(
        render(
            "#foreach($p in $input.path('$.petstore.pets'))$p.type#if($foreach.hasNext),#end#end",
            &input
        )
        .body,
        "dog,cat"
    );
    // The reference's `{"name": "$input.params('name')", "body": $input.json('$')}`.
    let input = RenderInput {
        body: r#"{"a":1}"#.into(),
        params: Params {
            querystring: map(&[("name", "me")]),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        render(
            "{\n  \"name\" : \"$input.params('name')\",\n  \"body\" : $input.json('$')\n}",
            &input
        )
        .body,
        "{\n  \"name\" : \"me\",\n  \"body\" : {\"a\":1}\n}"
    );
}

#[test]
fn params_search_path_then_querystring_then_header() {
    let input = RenderInput {
        params: Params {
            path: map(&[("id", "from-path")]),
            querystring: map(&[("id", "from-query"), ("q", "query")]),
            header: map(&[("id", "from-header"), ("X-Only", "header")]),
        },
        ..Default::default()
    };
    assert_eq!(render("$input.params('id')", &input).body, "from-path");
    assert_eq!(render("$input.params('q')", &input).body, "query");
    assert_eq!(render("$input.params('X-Only')", &input).body, "header");
    assert_eq!(render("[$input.params('missing')]", &input).body, "[]");
    assert_eq!(
        render("$input.params().querystring.get('q')", &input).body,
        "query"
    );
    // Velocity identifiers may contain `-`, so this is a property lookup.
    assert_eq!(
        render("$input.params().header.X-Only", &input).body,
        "header"
    );
    assert_eq!(
        render("$input.params().header.get('X-Only')", &input).body,
        "header"
    );
}

#[test]
fn util_functions_reference() {
    let input = RenderInput::default();
    assert_eq!(
        render(r#"$util.escapeJavaScript("it's a ""test""")"#, &input).body,
        r#"it\'s a \"test\""#
    );
    assert_eq!(
        render("$util.urlEncode('a b&c=d/é')", &input).body,
        "a+b%26c%3Dd%2F%C3%A9"
    );
    assert_eq!(render("$util.urlDecode('a+b%26c')", &input).body, "a b&c");
    assert_eq!(
        render("$util.base64Encode('hello')", &input).body,
        "aGVsbG8="
    );
    assert_eq!(
        render("$util.base64Decode('aGVsbG8=')", &input).body,
        "hello"
    );
    // The reference's parseJson example: a JSON string inside the payload.
    let input = body(r#"{"errorMessage" : "{\"key1\":\"var1\",\"key2\":{\"arr\":[1,2,3]}}"}"#);
    let template = "#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))\n{\n   \"errorMessageObjKey2ArrVal\" : $errorMessageObj.key2.arr[0]\n}";
    assert_eq!(
        render(template, &input).body,
        "{\n   \"errorMessageObjKey2ArrVal\" : 1\n}"
    );
}

#[test]
fn seed_templates() {
    // seeds/003: `{"age" : $input.json('$.personData.age')}`.
    let out = render(
        "{\n    \"age\" : $input.json('$.personData.age')\n}",
        &body(r#"{"personData": {"name": "Jo", "age": 33}}"#),
    );
    assert_eq!(out.body, "{\n    \"age\" : 33\n}");
    // seeds/003: `"your-age": $input.json('$')` echoes the whole body.
    let out = render(
        "{\n    \"your-age\": $input.json('$')\n}",
        &body(r#"{"age" : 33}"#),
    );
    assert_eq!(out.body, "{\n    \"your-age\": {\"age\":33}\n}");
    // seeds/003: `{"type": "$input.params('type')"}` from the query string.
    let input = RenderInput {
        params: Params {
            querystring: map(&[("type", "dog")]),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        render("{\n    \"type\": \"$input.params('type')\"\n}", &input).body,
        "{\n    \"type\": \"dog\"\n}"
    );
    // seeds/000: gateway responses `{"message":$context.error.messageString}`
    // (messageString is the quoted message).
    let input = RenderInput {
        context: json!({"error": {"message": "Missing Authentication Token",
                                   "messageString": "\"Missing Authentication Token\"",
                                   "responseType": "MISSING_AUTHENTICATION_TOKEN"}}),
        ..Default::default()
    };
    assert_eq!(
        render("{\"message\":$context.error.messageString}", &input).body,
        "{\"message\":\"Missing Authentication Token\"}"
    );
    assert_eq!(
        render("{\"message\": \"$context.error.message\", \"type\": \"$context.error.responseType\"}", &input).body,
        "{\"message\": \"Missing Authentication Token\", \"type\": \"MISSING_AUTHENTICATION_TOKEN\"}"
    );
}

#[test]
fn stage_variables() {
    let input = RenderInput {
        stage_variables: map(&[("backend", "v2.example.com")]),
        ..Default::default()
    };
    assert_eq!(
        render(
            "https://$stageVariables.backend/x ${stageVariables.backend}",
            &input
        )
        .body,
        "https://v2.example.com/x v2.example.com"
    );
}

#[test]
fn undefined_references_render_empty_in_api_gateway() {
    // API Gateway differs from Velocity here: `$context.nope` in a template
    // renders as an empty string, not as its source text (the reference
    // page's examples with absent values render `""`).
    let input = RenderInput::default();
    assert_eq!(
        render("[$context.nope][$nope][$input.path('$.x')]", &input).body,
        "[][][]"
    );
    // In the Velocity dialect the source text stays.
    let t = Template::parse("[$nope]").expect("parse");
    let out = t
        .render_with(
            &input,
            &vtl::RenderOptions {
                dialect: vtl::Dialect::Velocity,
                ..Default::default()
            },
        )
        .expect("render");
    assert_eq!(out.body, "[$nope]");
}

#[test]
fn response_override_is_returned_to_the_caller() {
    // The override guide's example: status and a header set by the template.
    let template = "#set($inputRoot = $input.path('$'))\n$input.json(\"$\")\n#set($context.responseOverride.header.Test-Header = \"hello\")\n#set($context.responseOverride.status = 400)\n";
    let out = render(template, &body(r#"{"a":1}"#));
    assert_eq!(out.body, "{\"a\":1}\n");
    assert_eq!(out.response_override_status, Some(400));
    assert_eq!(
        out.response_override_headers,
        map(&[("Test-Header", "hello")])
    );
    // Read back within the same template.
    let out = render(
        "#set($context.responseOverride.status = 418)$context.responseOverride.status",
        &RenderInput::default(),
    );
    assert_eq!(out.body, "418");
    // A status that is not a number is ignored.
    let out = render(
        "#set($context.responseOverride.status = 'abc')",
        &RenderInput::default(),
    );
    assert_eq!(out.response_override_status, None);
}

#[test]
fn request_override_is_returned_to_the_caller() {
    let template = r#"#set($context.requestOverride.header.header1 = "header1Value")
#set($context.requestOverride.querystring.q = $input.params('q').toUpperCase())
#set($context.requestOverride.path.id = "7")
$context.requestOverride.header.header1"#;
    let input = RenderInput {
        params: Params {
            querystring: map(&[("q", "abc")]),
            ..Default::default()
        },
        ..Default::default()
    };
    let out = render(template, &input);
    assert_eq!(out.body, "header1Value");
    assert_eq!(
        out.request_override_headers,
        map(&[("header1", "header1Value")])
    );
    assert_eq!(out.request_override_querystring, map(&[("q", "ABC")]));
    assert_eq!(out.request_override_path, map(&[("id", "7")]));
    assert_eq!(out.response_override_status, None);
}

/// Renders in the Velocity dialect with some of the differential fixture's
/// variables (`$name`, `$n`, `$list`, `$map`). Expected strings below are
/// Apache Velocity 1.7's output for the same template and variables (the
/// same templates are in `conformance/corpus/`, which `ci.sh` compares
/// against Velocity itself).
fn velocity(template: &str) -> String {
    let vars = json!({
        "name": "World",
        "n": 5,
        "list": ["a", "b", "c"],
        "map": {"k": "v", "num": 42, "inner": {"deep": "yes"}}
    });
    let input = RenderInput {
        variables: vars.as_object().cloned().unwrap_or_default(),
        ..Default::default()
    };
    let opts = vtl::RenderOptions {
        dialect: vtl::Dialect::Velocity,
        ..Default::default()
    };
    Template::parse(template)
        .unwrap_or_else(|e| panic!("template does not parse: {e}"))
        .render_with(&input, &opts)
        .unwrap_or_else(|e| panic!("render failed: {e}"))
        .body
}

#[test]
fn hyphen_is_an_identifier_character() {
    // Velocity 1.7's IDENTIFIER is `(letter | _) (letter | digit | - | _)*`,
    // so `$s-` is one (undefined) reference, rendered as its source text.
    assert_eq!(velocity("#set($s = \"x\")$s-$s"), "$s-x");
    assert_eq!(velocity("#set($s = \"x\")\"$s-$s\""), "\"$s-x\"");
    // Braces end the name; so do `$!{...}`; `$!s-` is quiet and undefined.
    assert_eq!(velocity("#set($s = \"x\")${s}-$s"), "x-x");
    assert_eq!(velocity("#set($s = \"x\")$!{s}-$!s|$!s-$!s"), "x-x|x");
    assert_eq!(
        velocity("#set($s = \"x\")$s-|$s--x|$s-1|$s-.x|${s-x}"),
        "$s-|$s--x|$s-1|$s-.x|${s-x}"
    );
    // Properties and method names take hyphens too; `)` and `]` end a
    // reference, so a hyphen after them is text.
    assert_eq!(
        velocity("#set($s = \"x\")$s.foo-bar|$s.foo-bar()|$s.length()-$s|$name.length()-"),
        "$s.foo-bar|$s.foo-bar()|1-x|5-"
    );
    assert_eq!(
        velocity("$map.k-x|$map.k|$map.inner.deep-x|$list[0]-x|$list.get(0)-$list[1]"),
        "$map.k-x|v|$map.inner.deep-x|a-x|a-b"
    );
    // Interpolated strings lex the same way; single-quoted strings are literal.
    assert_eq!(
        velocity(
            "#set($s = \"x\")#set($t = \"$s-$s\")$t|#set($t = \"${s}-$s\")$t|#set($t = '$s-$s')$t"
        ),
        "$s-x|x-x|$s-$s"
    );
    assert_eq!(
        velocity("$name.replace('-', '_')|$name.concat('-a-b')"),
        "World|World-a-b"
    );
    // A hyphenated name is an ordinary variable and map key.
    assert_eq!(
        velocity("#set($a-b = 2)$a-b|#set($q = {\"a-b\": 1})$q.a-b|$q.get(\"a-b\")"),
        "2|1|1"
    );
    // `._x` is not a property: Velocity's DOT needs a letter after the dot
    // (a root name may start with `_`).
    assert_eq!(
        velocity("#set($_a = 1)$_a ${_a} $_a._b $name._x $name.-x"),
        "1 1 1._b World._x World.-x"
    );
}

#[test]
fn hyphen_is_an_identifier_character_inside_directives() {
    // Inside #set/#if/#foreach and call arguments `$n-1` is the undefined
    // reference `$n-1`, not `$n` minus one; subtraction needs blanks.
    assert_eq!(velocity("#set($m = 1)#set($m = $n-1)$m"), "1");
    assert_eq!(velocity("#set($m = $n - 1)$m"), "4");
    assert_eq!(velocity("#set($m = $map.num-1)[$m]"), "[$m]");
    assert_eq!(velocity("#set($m = $map.num - 1)[$m]"), "[41]");
    assert_eq!(velocity("#if($n-1)t#{else}f#end"), "f");
    assert_eq!(velocity("#if($n-1 == 4)yes#{else}no#end"), "no");
    assert_eq!(velocity("#if($name-x)t#{else}f#end"), "f");
    assert_eq!(
        velocity("#set($l = [$n-1, $n])$l|#set($o = {\"a\": $n-1})$o"),
        "[null, 5]|{a=null}"
    );
    assert_eq!(velocity("#foreach($i in [0..$n-1])$i#end|"), "|");
    assert_eq!(
        velocity("#set($a-b = 2)#set($m = $a-b * 3)$m|#if($a-b == 2)t#end"),
        "6|t"
    );
    assert_eq!(
        velocity("#set($map.a-b = 3)$map"),
        "{k=v, num=42, inner={deep=yes}, a-b=3}"
    );
    // Loop variables, #define names and macro parameters.
    assert_eq!(velocity("#foreach($i-x in [1,2])$i-x#end"), "12");
    assert_eq!(velocity("#define($blk-x)B#end$blk-x"), "B");
    assert_eq!(velocity("#macro(hy $a-b)[$a-b]#end#hy(\"q\")"), "[q]");
    // A null argument for an `int` parameter finds no method, so the
    // reference renders as its source text (no error).
    assert_eq!(velocity("$name.substring($n-1)"), "$name.substring($n-1)");
}

#[test]
fn hyphens_in_api_gateway_templates() {
    let input = RenderInput {
        body: r#"{"a-b":"hy","pets":[{"pet-id":7}]}"#.into(),
        params: Params {
            header: map(&[("X-Request-Id", "r1")]),
            ..Default::default()
        },
        context: json!({"requestId": "abc", "stage": "prod"}),
        ..Default::default()
    };
    // JSONPath arguments are single-quoted strings: not lexed as references.
    assert_eq!(
        render(
            "[$input.path('$.a-b')][$input.json('$.a-b')][$input.json(\"$['a-b']\")][$input.path('$.pets[0].pet-id')]",
            &input
        )
        .body,
        r#"[hy]["hy"]["hy"][7]"#
    );
    assert_eq!(
        render(
            "\"$input.params('X-Request-Id')\" $input.params().header.X-Request-Id",
            &input
        )
        .body,
        "\"r1\" r1"
    );
    // `$context.requestId-x` asks for the property `requestId-x` (undefined,
    // so empty in API Gateway); braces separate the name from the hyphen.
    assert_eq!(
        render(
            "[$context.request-id][$context.requestId-x][${context.requestId}-x][$context.stage-$context.requestId]",
            &input
        )
        .body,
        "[][][abc-x][abc]"
    );
    let out = render(
        "#set($context.responseOverride.header.Content-Type = \"text/plain\")#set($id = $input.path('$.pets[0].pet-id'))$id-$id",
        &input,
    );
    assert_eq!(out.body, "7");
    assert_eq!(
        out.response_override_headers
            .get("Content-Type")
            .map(String::as_str),
        Some("text/plain")
    );
}

#[test]
fn set_with_a_null_value_leaves_the_target_unchanged() {
    // Velocity 1.7 (directive.set.null.allowed = false): a #set whose value
    // is null does nothing, so an unset target stays undefined...
    assert_eq!(velocity("[$v]#set($v = $undefined)[$v]"), "[$v][$v]");
    // ...and a set one keeps its value, whatever made the value null.
    assert_eq!(
        velocity(concat!(
            "#set($v = \"old\")#set($v = $undefined)[$v]",
            "#set($v = $map.nope)[$v]#set($v = $map.get(\"nope\"))[$v]",
            "#set($v = $name.nope())[$v]#set($v = $undefined.foo)[$v]",
            "#set($v = $undefined + 1)[$v]#set($v = $!undefined)[$v]",
            "#set($v = \"new\")[$v]"
        )),
        "[old][old][old][old][old][old][old][new]"
    );
    // Not null: a string mentioning it, a list holding it, an empty map.
    assert_eq!(
        velocity("#set($v = \"old\")#set($v = \"$undefined\")[$v]#set($w = [$undefined])$w#set($e = {})$e"),
        "[$undefined][null]{}"
    );
    // A property target keeps its value too; truthiness keeps the old value.
    assert_eq!(velocity("#set($map.k = $undefined)$map.k"), "v");
    assert_eq!(
        velocity("#set($t = 1)#set($t = $nope)#if($t)t#{else}f#end"),
        "t"
    );
    // In a loop the previous iteration's value survives; a macro parameter
    // keeps its argument.
    assert_eq!(
        velocity("#foreach($i in [1,2])#set($v = $nope)[$v]#set($v = $i)#end"),
        "[$v][1]"
    );
    assert_eq!(
        velocity("#macro(nullrhs $p)#set($p = $nope)[$p]#end#nullrhs(\"a\")"),
        "[a]"
    );
    // API Gateway: a missing JSONPath value does not clear a variable.
    let input = body(r#"{"a":1}"#);
    assert_eq!(
        render(
            "#set($v = 'default')#set($v = $input.path('$.missing'))[$v]#set($v = $input.path('$.a'))[$v]",
            &input
        )
        .body,
        "[default][1]"
    );
    assert_eq!(
        render("#set($u = $input.path('$.missing'))[$u]", &input).body,
        "[]"
    );
}

#[test]
fn int_parameters_take_only_integers() {
    // Java has no `substring(Object)`: for a null, float or string argument
    // Velocity finds no method and prints the reference, without an error.
    assert_eq!(
        velocity(concat!(
            "$name.substring($nope)|$name.substring(1, $nope)|$name.substring(1.0)|",
            "$name.substring(\"1\")|$name.charAt($nope)|$name.indexOf(\"o\", $nope)|",
            "$name.split(\",\", $nope)|$list.get($nope)|$list.get(1.0)|$list.subList(0, $nope)"
        )),
        concat!(
            "$name.substring($nope)|$name.substring(1, $nope)|$name.substring(1.0)|",
            "$name.substring(\"1\")|$name.charAt($nope)|$name.indexOf(\"o\", $nope)|",
            "$name.split(\",\", $nope)|$list.get($nope)|$list.get(1.0)|$list.subList(0, $nope)"
        )
    );
    assert_eq!(
        velocity("#set($x = $list.get($nope))[$x]|$list.add($nope, \"z\")$list|$list.set($nope, \"z\")$list|$list.remove($nope)"),
        "[$x]|$list.add($nope, \"z\")[a, b, c]|$list.set($nope, \"z\")[a, b, c]|false"
    );
    // Integers still work.
    assert_eq!(
        velocity("$name.substring(1)|$name.substring(1, 3)|$list.get(2)|$name.charAt(0)"),
        "orld|or|c|W"
    );
}
