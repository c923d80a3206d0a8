//! Mapping templates, parsed once when a stage is compiled (never per request): request
//! templates keyed by content type, response templates chosen by `Accept`, and the
//! per-method facts a render needs (`$context.resourceId`, path parameter names, stage
//! variables).

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::{Arc, Mutex, Weak};

use http::header::HeaderValue;

use super::DEFAULT_CONTENT_TYPE;

/// A parsed template, shared by every request of the stage. `None` stands for an empty
/// template, which API Gateway treats as "pass the body through".
pub type MappingTemplate = Option<Arc<CompiledTemplate>>;

/// `$context` fields a render can see, in [`Needs::context`] bit order.
pub const CONTEXT_FIELDS: [&str; 17] = [
    "requestId",
    "extendedRequestId",
    "apiId",
    "stage",
    "deploymentId",
    "resourcePath",
    "resourceId",
    "httpMethod",
    "path",
    "protocol",
    "domainName",
    "requestTime",
    "requestTimeEpoch",
    "identity",
    "authorizer",
    "isCanaryRequest",
    "domainPrefix",
];

/// What of the request a template may read, found from its text at compile time so that
/// a request builds only that (building every `$context` field costs more than most
/// renders). Conservative: a name that appears anywhere in the text counts as used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// Bit `i` set: [`CONTEXT_FIELDS`]`[i]` is used.
    pub context: u32,
    /// `$stageVariables` is used (`$input.params` is [`ParamNeeds`]).
    pub stage_variables: bool,
}

impl Needs {
    /// Everything (for callers that cannot tell).
    pub const ALL: Needs = Needs {
        context: u32::MAX,
        stage_variables: true,
    };

    /// What `source` may read.
    pub fn of(source: &str) -> Needs {
        // `$context` used as a whole (passed, printed, iterated) needs every field.
        let whole = source.match_indices("context").any(|(at, _)| {
            let rest = &source[at + "context".len()..];
            !rest.starts_with('.')
                || [
                    "keySet", "entrySet", "values", "size", "toString", "isEmpty", "get(",
                ]
                .iter()
                .any(|m| rest[1..].starts_with(m))
        });
        let context = if whole {
            u32::MAX
        } else {
            CONTEXT_FIELDS
                .iter()
                .enumerate()
                .filter(|(_, name)| source.contains(*name))
                .fold(0, |bits, (i, _)| bits | (1 << i))
        };
        Needs {
            context,
            stage_variables: source.contains("stageVariables"),
        }
    }

    /// Both sets together.
    pub fn union(self, other: Needs) -> Needs {
        Needs {
            context: self.context | other.context,
            stage_variables: self.stage_variables || other.stage_variables,
        }
    }

    /// Whether `self` includes everything `other` asks for.
    pub fn covers(self, other: Needs) -> bool {
        self.union(other) == self
    }
}

/// Which request parameters a template may read through `$input.params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamNeeds {
    /// None.
    None,
    /// Only these names, each through `$input.params('name')` with a literal name (the
    /// common case): a render then copies just those parameters, not every header.
    Named(Box<[Box<str>]>),
    /// Any (`$input.params()`, a computed name, anything the text does not say plainly).
    All,
}

impl ParamNeeds {
    /// What `source` may read. Conservative: every `params` in the text that is not
    /// `params('literal')` or `params("literal")` (no `$`, `#` or escapes) means all.
    pub fn of(source: &str) -> ParamNeeds {
        let mut names: Vec<Box<str>> = Vec::new();
        for (at, _) in source.match_indices("arams") {
            if !source[..at].ends_with(['p', 'P']) {
                continue;
            }
            match literal_argument(&source[at + "arams".len()..]) {
                Some(name) => {
                    if !names.iter().any(|n| **n == *name) {
                        names.push(name.into());
                    }
                }
                None => return ParamNeeds::All,
            }
        }
        if names.is_empty() {
            ParamNeeds::None
        } else {
            ParamNeeds::Named(names.into())
        }
    }
}

/// `('name')` or `("name")` at the start of `rest`: the name.
fn literal_argument(rest: &str) -> Option<&str> {
    let rest = rest.strip_prefix('(')?.trim_start();
    let quote = rest.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    let name = &body[..end];
    let closed = body[end + 1..].trim_start().starts_with(')');
    (closed && !name.contains(['$', '#', '\\'])).then_some(name)
}

/// A parsed template and what it reads; derefs to the [`vtl::Template`].
#[derive(Debug)]
pub struct CompiledTemplate {
    template: vtl::Template,
    /// What a render must be given.
    pub needs: Needs,
    /// Which parameters `$input.params` may be asked for.
    pub params: ParamNeeds,
}

impl CompiledTemplate {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Self, vtl::ParseError> {
        Ok(CompiledTemplate {
            template: vtl::Template::parse(source)?,
            needs: Needs::of(source),
            params: ParamNeeds::of(source),
        })
    }

    /// The parsed `source`, shared with every other method and stage of the process whose
    /// template has the same text while one of them holds it (see [`Interned`]): a
    /// compiled template is determined by its text alone and never changes.
    pub fn shared(source: &str) -> Result<Arc<Self>, vtl::ParseError> {
        Interned::get(source)
    }
}

/// The templates compiled stages hold, by text, so that identical texts are parsed and
/// kept once per process. APIs are commonly stamped out of one OpenAPI skeleton or
/// generator, and many methods of one API carry the same template (a MOCK's
/// `{"statusCode": 200}`): a node holding thousands of such APIs kept thousands of copies,
/// over half of a compiled stage's memory (issue 22, docs/scale.md). Compile time only:
/// requests never look here.
///
/// The table holds weak references keyed by the text's hash (the text itself is compared
/// through the template, not stored twice); entries whose template is gone are swept when
/// the table has doubled since the last sweep.
#[derive(Default)]
struct Interned {
    by_hash: HashMap<u64, Weak<CompiledTemplate>>,
    sweep_at: usize,
}

/// Entries below which the table is never swept.
const INTERNED_SWEEP_MIN: usize = 1024;

static INTERNED: Mutex<Option<Interned>> = Mutex::new(None);

impl Interned {
    fn get(source: &str) -> Result<Arc<CompiledTemplate>, vtl::ParseError> {
        let hash = {
            let mut hasher = std::hash::DefaultHasher::new();
            source.hash(&mut hasher);
            hasher.finish()
        };
        let mut guard = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
        let table = guard.get_or_insert_with(Interned::default);
        if let Some(found) = table.by_hash.get(&hash).and_then(Weak::upgrade) {
            if found.source() == source {
                return Ok(found);
            }
        }
        // Parsed under the lock: stages compile one at a time anyway (off the request
        // threads), and two threads parsing the same text would keep two copies.
        let parsed = Arc::new(CompiledTemplate::parse(source)?);
        // A live entry of another text with the same hash (never seen in practice) stays.
        let live_collision = table
            .by_hash
            .get(&hash)
            .is_some_and(|w| w.strong_count() > 0);
        if !live_collision {
            table.by_hash.insert(hash, Arc::downgrade(&parsed));
            if table.by_hash.len() >= table.sweep_at.max(INTERNED_SWEEP_MIN) {
                table.by_hash.retain(|_, w| w.strong_count() > 0);
                table.by_hash.shrink_to_fit();
                table.sweep_at = table.by_hash.len() * 2;
            }
        }
        Ok(parsed)
    }
}

impl Deref for CompiledTemplate {
    type Target = vtl::Template;

    fn deref(&self) -> &vtl::Template {
        &self.template
    }
}

/// A template that failed to parse, with the content type it was written for.
#[derive(Debug, thiserror::Error)]
#[error("mapping template for {content_type:?}: {source}")]
pub struct TemplateError {
    /// The content type the template is keyed by.
    pub content_type: String,
    /// Where and why parsing failed (line and column).
    pub source: vtl::ParseError,
}

/// Parses one template; blank text means passthrough.
pub fn parse(content_type: &str, text: &str) -> Result<MappingTemplate, TemplateError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    CompiledTemplate::shared(text)
        .map(Some)
        .map_err(|source| TemplateError {
            content_type: content_type.to_owned(),
            source,
        })
}

/// What a render needs to know about the method and stage that does not vary per request.
#[derive(Debug, Default)]
pub struct TemplateScope {
    /// `$context.resourceId`.
    pub resource_id: Box<str>,
    /// The resource's path parameter names, in capture order (`$input.params().path`).
    pub param_names: Vec<Box<str>>,
    /// `$stageVariables` (shared by all methods of the stage).
    pub stage_variables: Arc<BTreeMap<String, String>>,
    /// `$context.deploymentId`.
    pub deployment_id: Box<str>,
}

/// The stage's variables in the ordered form renders take.
pub fn stage_variables(variables: &BTreeMap<String, String>) -> Arc<BTreeMap<String, String>> {
    Arc::new(
        variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// An integration response's templates by content type.
#[derive(Debug, Default)]
pub struct ResponseTemplates {
    /// (lowercase content type, header value, template), sorted by content type.
    entries: Box<[(Box<str>, HeaderValue, MappingTemplate)]>,
}

/// The response template chosen for a request.
#[derive(Debug, Clone, Copy)]
pub struct ChosenResponse<'a> {
    /// The method response's `Content-Type`.
    pub content_type: &'a HeaderValue,
    /// The template; `None` passes the integration's body through.
    pub template: Option<&'a Arc<CompiledTemplate>>,
}

impl ResponseTemplates {
    /// Parses an integration response's `responseTemplates`.
    pub fn compile(templates: &BTreeMap<String, String>) -> Result<Self, TemplateError> {
        let mut entries = templates
            .iter()
            .map(|(ct, text)| {
                let value = HeaderValue::from_str(ct.trim())
                    .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
                Ok((
                    ct.trim().to_ascii_lowercase().into_boxed_str(),
                    value,
                    parse(ct, text)?,
                ))
            })
            .collect::<Result<Vec<_>, TemplateError>>()?;
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(ResponseTemplates {
            // Boxed, not a `Vec`: collecting `Result`s reserves room for four.
            entries: entries.into_boxed_slice(),
        })
    }

    /// Whether no response template is defined (the body passes through).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Chooses as API Gateway does: the first media type of `Accept` that has a
    /// template, else `application/json`, else the first template by content type.
    pub fn choose(&self, accept: Option<&str>) -> Option<ChosenResponse<'_>> {
        let find = |wanted: &str| {
            self.entries
                .iter()
                .find(|(ct, _, _)| ct.eq_ignore_ascii_case(wanted))
        };
        let by_accept = accept.and_then(|accept| {
            accept
                .split(',')
                .map(|item| item.split(';').next().unwrap_or(item).trim())
                .find_map(find)
        });
        let (_, content_type, template) = by_accept
            .or_else(|| find(DEFAULT_CONTENT_TYPE))
            .or_else(|| self.entries.first())?;
        Some(ChosenResponse {
            content_type,
            template: template.as_ref(),
        })
    }
}

/// Builds the one-expression template that evaluates a response-parameter JSONPath
/// (`integration.response.body.a.b` → `$input.json('$.a.b')`).
pub fn json_path_template(path: &str) -> Result<Arc<vtl::Template>, vtl::ParseError> {
    let escaped = path.replace('\'', "''");
    vtl::Template::parse(&format!("$input.json('$.{escaped}')")).map(Arc::new)
}

/// A JSONPath into an integration's body (`integration.response.body.PATH`), evaluated
/// with the template engine's JSONPath so both follow the same rules.
#[derive(Debug, Clone)]
pub struct BodyPath {
    path: Box<str>,
    template: Arc<vtl::Template>,
}

impl PartialEq for BodyPath {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl Eq for BodyPath {}

impl BodyPath {
    /// Compiles `PATH` (what follows `integration.response.body.`).
    pub fn compile(path: &str) -> Result<Self, vtl::ParseError> {
        Ok(BodyPath {
            path: path.into(),
            template: json_path_template(path)?,
        })
    }

    /// The value at the path: strings as their text, other JSON as JSON; `None` when the
    /// body is not JSON or the path selects nothing.
    pub fn evaluate(&self, body: &str) -> Option<String> {
        let out = self
            .template
            .render(&vtl::RenderInput {
                body: body.to_owned(),
                ..Default::default()
            })
            .ok()?
            .body;
        match serde_json::from_str::<serde_json::Value>(&out).ok()? {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some(text),
            _ => Some(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates(pairs: &[(&str, &str)]) -> ResponseTemplates {
        let map = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ResponseTemplates::compile(&map).unwrap()
    }

    fn chosen(t: &ResponseTemplates, accept: Option<&str>) -> Option<String> {
        t.choose(accept)
            .map(|c| c.content_type.to_str().unwrap().to_owned())
    }

    #[test]
    fn response_template_by_accept_then_json_then_first() {
        let t = templates(&[
            ("text/plain", "t"),
            ("application/xml", "x"),
            ("application/json", "j"),
        ]);
        assert_eq!(
            chosen(&t, Some("text/plain")).as_deref(),
            Some("text/plain")
        );
        assert_eq!(
            chosen(&t, Some("image/png, application/xml;q=0.9")).as_deref(),
            Some("application/xml")
        );
        assert_eq!(
            chosen(&t, Some("image/png")).as_deref(),
            Some("application/json")
        );
        assert_eq!(chosen(&t, None).as_deref(), Some("application/json"));
        let no_json = templates(&[("text/plain", "t"), ("application/xml", "x")]);
        assert_eq!(chosen(&no_json, None).as_deref(), Some("application/xml"));
        assert!(templates(&[]).choose(Some("text/plain")).is_none());
    }

    #[test]
    fn blank_template_passes_through_and_bad_template_names_position() {
        assert!(parse("application/json", "  \n").unwrap().is_none());
        assert!(parse("application/json", "{\"a\": 1}").unwrap().is_some());
        let err = parse("application/json", "{\n  #if($x\n}").unwrap_err();
        assert_eq!(err.content_type, "application/json");
        assert_eq!((err.source.line, err.source.column), (3, 1), "{err}");
    }

    #[test]
    fn identical_texts_share_one_template() {
        let text = "{\"shared\": \"$context.stage\"}";
        let a = parse("application/json", text).unwrap().unwrap();
        let b = parse("text/plain", text).unwrap().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = parse("application/json", "{\"other\": 1}")
            .unwrap()
            .unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(b.source(), text);
    }

    #[test]
    fn json_path_template_quotes_safely() {
        let t = json_path_template("a['b c']").unwrap();
        let out = t
            .render(&vtl::RenderInput {
                body: r#"{"a":{"b c":5}}"#.into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(out.body, "5");
        // A quote cannot end the string literal and inject template code.
        let injected = BodyPath::compile("a') $input.body #set($x = '").unwrap();
        assert_eq!(injected.evaluate(r#"{"a":1}"#), None);
    }

    #[test]
    fn needs_are_found_in_the_text() {
        let n = Needs::of(r#"{"r": "$context.resourcePath", "q": "$input.params('q')"}"#);
        assert_eq!(n.context, 1 << 5);
        assert!(!n.stage_variables);
        let n = Needs::of("$context.identity.sourceIp $stageVariables.x");
        // "stage" is found inside "stageVariables": conservative, never missing.
        assert_eq!(n.context, (1 << 13) | (1 << 3));
        assert!(n.stage_variables);
        assert_eq!(
            ParamNeeds::of("$context.identity.sourceIp $stageVariables.x"),
            ParamNeeds::None
        );
        assert_eq!(Needs::of("#set($c = $context)$c").context, u32::MAX);
        assert_eq!(Needs::of("$context.keySet()").context, u32::MAX);
        assert_eq!(Needs::of("$input.json('$')"), Needs::default());
        assert!(Needs::ALL.covers(Needs::of("$context.stage")));
        assert!(!Needs::default().covers(Needs::of("$context.stage")));
    }

    #[test]
    fn literal_parameter_names_are_found() {
        let named = |names: &[&str]| {
            ParamNeeds::Named(names.iter().map(|n| Box::<str>::from(*n)).collect())
        };
        assert_eq!(ParamNeeds::of("$input.json('$')"), ParamNeeds::None);
        assert_eq!(
            ParamNeeds::of(
                r#"{"q": "$input.params('q')", "t": "$input.params( "type" )", "q2": "$input.params('q')"}"#
            ),
            named(&["q", "type"])
        );
        for all in [
            "$input.params()",
            "$input.params().header.get('x')",
            "$input.params($name)",
            "$input.params(\"$x\")",
            "$input.params('a''b')",
            "$input.getParams()",
            "#set($params = 1)$params",
            "params: $input.params('q')",
        ] {
            assert_eq!(ParamNeeds::of(all), ParamNeeds::All, "{all}");
        }
        assert_eq!(ParamNeeds::of("$input.getParams()"), ParamNeeds::All);
    }

    #[test]
    fn body_path_yields_text_or_json() {
        let body = r#"{"a":{"name":"x","list":[1,2]}}"#;
        let p = |path| BodyPath::compile(path).unwrap().evaluate(body);
        assert_eq!(p("a.name").as_deref(), Some("x"));
        assert_eq!(p("a.list").as_deref(), Some("[1,2]"));
        assert_eq!(p("a.missing"), None);
        assert_eq!(BodyPath::compile("a").unwrap().evaluate("not json"), None);
    }
}
