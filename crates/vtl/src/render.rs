//! The renderer: walks the parsed tree against one request's input. All
//! state lives in a `Renderer` created per call, so a `Template` is
//! immutable and shared across threads.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::doc::Doc as Json;

use crate::apigw;
use crate::ast::{BinOp, Expr, Node, Part, Reference, VarId};
use crate::error::RenderError;
use crate::jsonpath;
use crate::methods::{self, map_get, map_put, Bounds};
use crate::parser::{VAR_CONTEXT, VAR_COUNT, VAR_FOREACH, VAR_INPUT, VAR_STAGE, VAR_UTIL};
use crate::value::{OverrideKind, ParamKind, Value};
use crate::{Dialect, RenderInput, RenderOptions, RenderOutput, Template};

type R<T> = Result<T, RenderError>;

/// What a rendered block asks its caller to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Stop,
}

pub(crate) struct Renderer<'a> {
    tpl: &'a Template,
    input: &'a RenderInput,
    opts: &'a RenderOptions,
    body: &'a OnceCell<Option<Json<'a>>>,
    /// `$context` viewed as a document, built on first use.
    context: &'a OnceCell<Json<'a>>,
    vars: Vec<Value<'a>>,
    out: String,
    result: RenderOutput,
    total_iterations: usize,
    macro_depth: usize,
    params: Option<Value<'a>>,
    regexes: HashMap<String, Rc<regex::Regex>>,
}

pub(crate) fn render<'a>(
    tpl: &'a Template,
    input: &'a RenderInput,
    opts: &'a RenderOptions,
    body: &'a OnceCell<Option<Json<'a>>>,
    context: &'a OnceCell<Json<'a>>,
) -> R<RenderOutput> {
    let mut vars = vec![Value::Null; tpl.names.len()];
    vars[VAR_INPUT as usize] = Value::Input;
    vars[VAR_CONTEXT as usize] = Value::Context;
    vars[VAR_UTIL as usize] = Value::Util;
    vars[VAR_STAGE as usize] = Value::new_map(
        input
            .stage_variables
            .iter()
            .map(|(k, v)| (Value::Str(k.as_str()), Value::Str(v.as_str())))
            .collect(),
    );
    for (name, v) in &input.variables {
        if let Some(i) = tpl.names.iter().position(|n| &**n == name.as_str()) {
            vars[i] = Value::from_owned_json(v.clone());
        }
    }
    let mut r = Renderer {
        tpl,
        input,
        opts,
        body,
        context,
        vars,
        out: String::with_capacity(tpl.source_len + 64),
        result: RenderOutput::default(),
        total_iterations: 0,
        macro_depth: 0,
        params: None,
        regexes: HashMap::new(),
    };
    r.nodes(&tpl.nodes)?;
    let mut result = std::mem::take(&mut r.result);
    result.body = std::mem::take(&mut r.out);
    Ok(result)
}

impl<'a> Renderer<'a> {
    fn pos(&self, at: u32) -> (usize, usize) {
        self.tpl.position(at as usize)
    }

    fn method_err(&self, at: u32, method: &str, message: String) -> RenderError {
        let (line, column) = self.pos(at);
        RenderError::Method {
            line,
            column,
            method: method.to_string(),
            message,
        }
    }

    fn bounds(&self) -> Bounds {
        Bounds {
            max_string: self.opts.limits.max_output_bytes,
            max_collection: self.opts.limits.max_collection_len,
        }
    }

    fn check_out(&self) -> R<()> {
        if self.out.len() > self.opts.limits.max_output_bytes {
            return Err(RenderError::OutputTooLarge(
                self.opts.limits.max_output_bytes,
            ));
        }
        Ok(())
    }

    fn nodes(&mut self, nodes: &'a [Node]) -> R<Flow> {
        for n in nodes {
            let f = self.node(n)?;
            if f != Flow::Normal {
                return Ok(f);
            }
        }
        Ok(Flow::Normal)
    }

    fn node(&mut self, n: &'a Node) -> R<Flow> {
        match n {
            Node::Text(t) => {
                self.out.push_str(t);
                self.check_out()?;
            }
            Node::Ref(r) => {
                let v = self.reference(r)?;
                self.write_ref(r, &v)?;
            }
            Node::EscapedRef { slashes, reference } => {
                let v = self.reference(reference)?;
                if v.is_null() {
                    for _ in 0..*slashes {
                        self.out.push('\\');
                    }
                    self.out.push_str(&reference.raw);
                } else {
                    for _ in 0..slashes / 2 {
                        self.out.push('\\');
                    }
                    if slashes % 2 == 1 {
                        self.out.push_str(&reference.raw);
                    } else {
                        self.write_value(&v, reference.at)?;
                    }
                }
                self.check_out()?;
            }
            Node::Set { target, value } => {
                let v = self.expr(value)?;
                if !v.is_null() {
                    self.assign(target, v)?;
                }
            }
            Node::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    if self.truth(cond)? {
                        return self.nodes(body);
                    }
                }
                if let Some(body) = otherwise {
                    return self.nodes(body);
                }
            }
            Node::Foreach {
                var,
                iter,
                body,
                at,
            } => return self.foreach(*var, iter, body, *at),
            Node::Break => return Ok(Flow::Break),
            Node::Stop => return Ok(Flow::Stop),
            Node::Define { var, body } => self.vars[*var as usize] = Value::Block(body),
            Node::MacroCall { index, args, at } => return self.call_macro(*index, args, *at),
        }
        Ok(Flow::Normal)
    }

    fn write_ref(&mut self, r: &'a Reference, v: &Value<'a>) -> R<()> {
        if v.is_null() {
            if !r.quiet && self.opts.dialect == Dialect::Velocity {
                self.out.push_str(&r.raw);
            }
        } else {
            self.write_value(v, r.at)?;
        }
        self.check_out()
    }

    fn write_value(&mut self, v: &Value<'a>, at: u32) -> R<()> {
        match v {
            Value::Block(body) => {
                // A `#define` block may reference itself: bound it like macros.
                if self.macro_depth >= self.opts.limits.max_macro_depth {
                    let (line, column) = self.pos(at);
                    return Err(RenderError::MacroDepth {
                        line,
                        column,
                        limit: self.opts.limits.max_macro_depth,
                    });
                }
                self.macro_depth += 1;
                let flow = self.nodes(body);
                self.macro_depth -= 1;
                if flow? == Flow::Stop {
                    return Ok(());
                }
            }
            Value::Context => {
                let doc = self.context_doc();
                if doc.as_object().is_some() {
                    crate::value::write_json_java(doc, &mut self.out);
                }
            }
            v => v.write_java_bounded(&mut self.out, self.opts.limits.max_output_bytes),
        }
        self.check_out()
    }

    /// Renders nodes into a fresh string (interpolated string literals).
    fn interpolate(&mut self, nodes: &'a [Node]) -> R<Value<'a>> {
        let saved = std::mem::take(&mut self.out);
        let r = self.nodes(nodes);
        let s = std::mem::replace(&mut self.out, saved);
        r?;
        Ok(Value::string(s))
    }

    fn foreach(&mut self, var: VarId, iter: &'a Expr, body: &'a [Node], at: u32) -> R<Flow> {
        let coll = self.expr(iter)?;
        let len = match &coll {
            Value::List(l) => l.borrow().len(),
            Value::Json(Json::Array(a)) => a.len(),
            Value::Json(Json::Object(o)) => o.len(),
            Value::Map(m) => m.borrow().len(),
            _ => 0,
        };
        if len == 0 {
            return Ok(Flow::Normal);
        }
        let saved_var = self.vars[var as usize].clone();
        let saved_loop = self.vars[VAR_FOREACH as usize].clone();
        let saved_count = self.vars[VAR_COUNT as usize].clone();
        let mut obj_iter = match &coll {
            Value::Json(Json::Object(o)) => Some(o.values()),
            _ => None,
        };
        let mut flow = Flow::Normal;
        let mut i = 0;
        loop {
            let item = match &coll {
                Value::List(l) => match l.borrow().get(i) {
                    Some(v) => v.clone(),
                    None => break,
                },
                Value::Json(Json::Array(a)) => match a.get(i) {
                    Some(v) => Value::from_json(v),
                    None => break,
                },
                Value::Map(m) => match m.borrow().get(i) {
                    Some((_, v)) => v.clone(),
                    None => break,
                },
                _ => match obj_iter.as_mut().and_then(|it| it.next()) {
                    Some(v) => Value::from_json(v),
                    None => break,
                },
            };
            if i >= self.opts.limits.max_foreach_iterations {
                let (line, column) = self.pos(at);
                return Err(RenderError::ForeachLimit {
                    line,
                    column,
                    limit: self.opts.limits.max_foreach_iterations,
                });
            }
            self.total_iterations += 1;
            if self.total_iterations > self.opts.limits.max_total_iterations {
                return Err(RenderError::TotalIterations(
                    self.opts.limits.max_total_iterations,
                ));
            }
            let cur_len = match &coll {
                Value::List(l) => l.borrow().len(),
                Value::Map(m) => m.borrow().len(),
                _ => len,
            };
            self.vars[var as usize] = item;
            self.vars[VAR_FOREACH as usize] = Value::Loop(i, i + 1 < cur_len);
            self.vars[VAR_COUNT as usize] = Value::Int(i as i64 + 1);
            match self.nodes(body)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
            i += 1;
        }
        self.vars[var as usize] = saved_var;
        self.vars[VAR_FOREACH as usize] = saved_loop;
        self.vars[VAR_COUNT as usize] = saved_count;
        Ok(flow)
    }

    fn call_macro(&mut self, index: usize, args: &'a [Expr], at: u32) -> R<Flow> {
        let Some(m) = self.tpl.macros.get(index) else {
            return Ok(Flow::Normal);
        };
        if self.macro_depth >= self.opts.limits.max_macro_depth {
            let (line, column) = self.pos(at);
            return Err(RenderError::MacroDepth {
                line,
                column,
                limit: self.opts.limits.max_macro_depth,
            });
        }
        let mut saved = Vec::with_capacity(m.params.len());
        let mut values = Vec::with_capacity(m.params.len());
        for (i, _) in m.params.iter().enumerate() {
            values.push(match args.get(i) {
                Some(e) => self.expr(e)?,
                None => Value::Null,
            });
        }
        for (p, v) in m.params.iter().zip(values) {
            saved.push(std::mem::replace(&mut self.vars[*p as usize], v));
        }
        self.macro_depth += 1;
        let r = self.nodes(&m.body);
        self.macro_depth -= 1;
        for (p, v) in m.params.iter().zip(saved) {
            self.vars[*p as usize] = v;
        }
        match r? {
            Flow::Stop => Ok(Flow::Stop),
            _ => Ok(Flow::Normal),
        }
    }

    fn assign(&mut self, target: &'a Reference, v: Value<'a>) -> R<()> {
        let Some((last, init)) = target.parts.split_last() else {
            self.vars[target.root as usize] = v;
            return Ok(());
        };
        let parent = self.chain(self.vars[target.root as usize].clone(), init, target.at)?;
        let key = match last {
            Part::Prop(name) => Value::Str(name),
            Part::Index(e) => self.expr(e)?,
            Part::Method(..) => return Ok(()),
        };
        match &parent {
            Value::Map(m) => {
                map_put(m, key, v, &self.bounds())
                    .map_err(|e| self.method_err(target.at, "put", e))?;
            }
            Value::List(l) => {
                if let Value::Int(i) = key {
                    let len = l.borrow().len();
                    if i < 0 || i as usize >= len {
                        return Err(self.method_err(target.at, "set", format!("IndexOutOfBoundsException: Index {i} out of bounds for length {len}")));
                    }
                    l.borrow_mut()[i as usize] = v;
                }
            }
            Value::ResponseOverride if key.as_str() == Some("status") => {
                let status = match &v {
                    Value::Int(i) => u16::try_from(*i).ok(),
                    Value::Float(f) => u16::try_from(*f as i64).ok(),
                    other => other.to_java_string().trim().parse().ok(),
                };
                if status.is_some() {
                    self.result.response_override_status = status;
                }
            }
            Value::ResponseOverride => {}
            Value::Overrides(kind) => {
                let k = key.to_java_string();
                let val = v.to_java_string();
                let map = match kind {
                    OverrideKind::ResponseHeader => &mut self.result.response_override_headers,
                    OverrideKind::RequestHeader => &mut self.result.request_override_headers,
                    OverrideKind::RequestQuery => &mut self.result.request_override_querystring,
                    OverrideKind::RequestPath => &mut self.result.request_override_path,
                };
                map.insert(k, val);
            }
            _ => {}
        }
        Ok(())
    }

    fn reference(&mut self, r: &'a Reference) -> R<Value<'a>> {
        let root = self.vars[r.root as usize].clone();
        self.chain(root, &r.parts, r.at)
    }

    fn chain(&mut self, mut v: Value<'a>, parts: &'a [Part], at: u32) -> R<Value<'a>> {
        for part in parts {
            if v.is_null() {
                return Ok(Value::Null);
            }
            v = match part {
                Part::Prop(name) => self.prop(&v, name),
                Part::Index(e) => {
                    let k = self.expr(e)?;
                    self.index(&v, &k, at)?
                }
                Part::Method(name, args) => {
                    let mut argv: [Value<'a>; 3] = [Value::Null, Value::Null, Value::Null];
                    if args.len() <= 3 {
                        for (slot, e) in argv.iter_mut().zip(args.iter()) {
                            *slot = self.expr(e)?;
                        }
                        self.call(&v, name, &argv[..args.len()], at)?
                    } else {
                        let mut many = Vec::with_capacity(args.len());
                        for e in args {
                            many.push(self.expr(e)?);
                        }
                        self.call(&v, name, &many, at)?
                    }
                }
            };
        }
        Ok(v)
    }

    fn index(&mut self, v: &Value<'a>, k: &Value<'a>, at: u32) -> R<Value<'a>> {
        match (v, k) {
            (Value::List(_) | Value::Json(Json::Array(_)), Value::Int(_)) => {
                self.call(v, "get", std::slice::from_ref(k), at)
            }
            (Value::Map(_) | Value::Json(Json::Object(_)), _) => Ok(map_get(v, k)),
            _ => match k.as_str() {
                Some(name) => Ok(self.prop(v, name)),
                None => Ok(Value::Null),
            },
        }
    }

    /// Bean-property lookup: `$a.b` is `a.get("b")`, `a.getB()` or `a.isB()`.
    fn prop(&mut self, v: &Value<'a>, name: &str) -> Value<'a> {
        match v {
            Value::Map(_) | Value::Json(Json::Object(_)) => methods::map_get_str(v, name),
            Value::Entry(e) => match name {
                "key" => e.0.clone(),
                "value" => e.1.clone(),
                _ => Value::Null,
            },
            Value::Loop(i, has_next) => match name {
                "index" => Value::Int(*i as i64),
                "count" => Value::Int(*i as i64 + 1),
                "hasNext" => Value::Bool(*has_next),
                "first" => Value::Bool(*i == 0),
                "last" => Value::Bool(!*has_next),
                _ => Value::Null,
            },
            Value::Input => match name {
                "body" => self.body_value(),
                "params" => self.all_params(),
                _ => Value::Null,
            },
            Value::Context => match name {
                "responseOverride" => Value::ResponseOverride,
                "requestOverride" => Value::RequestOverride,
                _ => match self.context_doc().as_object().and_then(|o| o.get(name)) {
                    Some(j) => Value::from_json(j),
                    None => Value::Null,
                },
            },
            Value::ResponseOverride => match name {
                "status" => self
                    .result
                    .response_override_status
                    .map(|s| Value::Int(s as i64))
                    .unwrap_or(Value::Null),
                "header" => Value::Overrides(OverrideKind::ResponseHeader),
                _ => Value::Null,
            },
            Value::RequestOverride => match name {
                "header" => Value::Overrides(OverrideKind::RequestHeader),
                "querystring" => Value::Overrides(OverrideKind::RequestQuery),
                "path" => Value::Overrides(OverrideKind::RequestPath),
                _ => Value::Null,
            },
            Value::Overrides(kind) => {
                let map = match kind {
                    OverrideKind::ResponseHeader => &self.result.response_override_headers,
                    OverrideKind::RequestHeader => &self.result.request_override_headers,
                    OverrideKind::RequestQuery => &self.result.request_override_querystring,
                    OverrideKind::RequestPath => &self.result.request_override_path,
                };
                map.get(name)
                    .map(|s| Value::string(s.clone()))
                    .unwrap_or(Value::Null)
            }
            Value::Str(_) | Value::String(_) | Value::List(_) | Value::Json(_) => match name {
                "empty" => self.call(v, "isEmpty", &[], 0).unwrap_or(Value::Null),
                "class" => Value::Null,
                _ => Value::Null,
            },
            _ => Value::Null,
        }
    }

    fn body_value(&self) -> Value<'a> {
        if self.input.body.is_empty() {
            Value::Str("{}")
        } else {
            Value::Str(&self.input.body)
        }
    }

    /// `$context` as a document (a view of the caller's JSON, built once).
    fn context_doc(&self) -> &'a Json<'a> {
        let input = self.input;
        self.context
            .get_or_init(|| Json::from_serde(&input.context))
    }

    fn body_json(&self, at: u32, method: &str) -> R<&'a Json<'a>> {
        let body = self.body;
        let input = self.input;
        let parsed = body.get_or_init(|| {
            if input.body.trim().is_empty() {
                Some(Json::Object(Default::default()))
            } else {
                Json::parse(&input.body).ok()
            }
        });
        parsed
            .as_ref()
            .ok_or_else(|| self.method_err(at, method, "the body is not valid JSON".into()))
    }

    fn all_params(&mut self) -> Value<'a> {
        if let Some(p) = &self.params {
            return p.clone();
        }
        let input = self.input;
        let mk = |m: &'a std::collections::BTreeMap<String, String>| {
            Value::new_map(
                m.iter()
                    .map(|(k, v)| (Value::Str(k.as_str()), Value::Str(v.as_str())))
                    .collect(),
            )
        };
        let v = Value::new_map(vec![
            (Value::Str("path"), mk(&input.params.path)),
            (Value::Str("querystring"), mk(&input.params.querystring)),
            (Value::Str("header"), mk(&input.params.header)),
        ]);
        self.params = Some(v.clone());
        v
    }

    fn param(&self, kind: ParamKind, name: &str) -> Option<&'a str> {
        let p = &self.input.params;
        let m = match kind {
            ParamKind::Path => &p.path,
            ParamKind::Query => &p.querystring,
            ParamKind::Header => &p.header,
        };
        if let Some(v) = m.get(name) {
            return Some(v.as_str());
        }
        if kind == ParamKind::Header {
            return m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str());
        }
        None
    }

    fn regex(&mut self, pattern: &str) -> Result<Rc<regex::Regex>, String> {
        if let Some(r) = self.regexes.get(pattern) {
            return Ok(r.clone());
        }
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .build()
            .map_err(|e| format!("PatternSyntaxException: {e}"))?;
        let re = Rc::new(re);
        if self.regexes.len() < 64 {
            self.regexes.insert(pattern.to_string(), re.clone());
        }
        Ok(re)
    }

    fn call(&mut self, v: &Value<'a>, name: &str, args: &[Value<'a>], at: u32) -> R<Value<'a>> {
        let res: Option<Result<Value<'a>, String>> = match v {
            Value::Str(_) | Value::String(_) => {
                let s: Rc<str> = match v {
                    Value::String(s) => s.clone(),
                    _ => Rc::from(""),
                };
                let text: &str = match v {
                    Value::Str(s) => s,
                    _ => &s,
                };
                let bounds = self.bounds();
                let mut rx = |p: &str| self.regex(p);
                methods::string_method(text, name, args, &mut rx, &bounds)
            }
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                methods::number_method(v, name, args)
            }
            Value::List(_) | Value::Json(Json::Array(_)) => {
                methods::list_method(v, name, args, &self.bounds())
            }
            Value::Map(_) | Value::Json(Json::Object(_)) => match (name, args.len()) {
                ("get", 1) | ("containsKey", 1) | ("put", 2) => {
                    methods::map_method(v, name, args, &self.bounds())
                }
                _ => methods::map_method(v, name, args, &self.bounds()),
            },
            Value::Entry(e) => match name {
                "getKey" => Some(Ok(e.0.clone())),
                "getValue" => Some(Ok(e.1.clone())),
                "toString" => Some(Ok(Value::string(v.to_java_string()))),
                _ => None,
            },
            Value::Loop(..) => match name {
                "hasNext" | "getIndex" | "getCount" | "isFirst" | "isLast" | "getHasNext" => {
                    let p = match name {
                        "hasNext" | "getHasNext" => "hasNext",
                        "getIndex" => "index",
                        "getCount" => "count",
                        "isFirst" => "first",
                        _ => "last",
                    };
                    Some(Ok(self.prop(v, p)))
                }
                _ => None,
            },
            Value::Input => return self.input_method(name, args, at),
            Value::Util => return self.util_method(name, args, at),
            Value::Context
            | Value::ResponseOverride
            | Value::RequestOverride
            | Value::Overrides(_) => match (name, args.first()) {
                ("get", Some(k)) => {
                    let k = k.to_java_string();
                    Some(Ok(self.prop(v, &k)))
                }
                _ => None,
            },
            _ => None,
        };
        match res {
            None => Ok(Value::Null),
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(self.method_err(at, name, e)),
        }
    }

    fn input_method(&mut self, name: &str, args: &[Value<'a>], at: u32) -> R<Value<'a>> {
        match (name, args.len()) {
            ("params", 0) | ("getParams", 0) => Ok(self.all_params()),
            ("params", 1) => {
                let key = args[0].to_java_string();
                for kind in [ParamKind::Path, ParamKind::Query, ParamKind::Header] {
                    if let Some(v) = self.param(kind, &key) {
                        return Ok(Value::Str(v));
                    }
                }
                Ok(Value::Str(""))
            }
            ("getBody", 0) => Ok(self.body_value()),
            ("json", 1) | ("path", 1) => {
                let path_s = args[0].to_java_string();
                let path = jsonpath::parse(&path_s).ok_or_else(|| {
                    self.method_err(at, name, format!("invalid JSONPath '{path_s}'"))
                })?;
                let doc = self.body_json(at, name)?;
                let mut found = Vec::new();
                path.eval(doc, &mut found);
                if name == "json" {
                    let mut s = String::new();
                    if path.definite {
                        match found.first() {
                            Some(j) => crate::value::write_json_compact(j, &mut s),
                            None => s.push_str("null"),
                        }
                    } else {
                        let arr = Json::Array(found.into_iter().cloned().collect());
                        crate::value::write_json_compact(&arr, &mut s);
                    }
                    Ok(Value::string(s))
                } else if path.definite {
                    Ok(found
                        .first()
                        .map(|j| Value::from_json(j))
                        .unwrap_or(Value::Null))
                } else {
                    Ok(Value::new_list(
                        found.into_iter().map(Value::from_json).collect(),
                    ))
                }
            }
            _ => Ok(Value::Null),
        }
    }

    fn util_method(&mut self, name: &str, args: &[Value<'a>], at: u32) -> R<Value<'a>> {
        if args.len() != 1 {
            return Ok(Value::Null);
        }
        if args[0].is_null() {
            return Ok(Value::Null);
        }
        let s = match &args[0] {
            Value::Str(s) => std::borrow::Cow::Borrowed(*s),
            other => std::borrow::Cow::Owned(other.to_java_string()),
        };
        let r = match name {
            "escapeJavaScript" => {
                let mut out = String::with_capacity(s.len() + 8);
                apigw::escape_javascript(&s, &mut out);
                Ok(Value::string(out))
            }
            "urlEncode" => Ok(Value::string(apigw::url_encode(&s))),
            "urlDecode" => apigw::url_decode(&s).map(Value::string),
            "base64Encode" => Ok(Value::string(apigw::base64_encode(&s))),
            "base64Decode" => apigw::base64_decode(&s).map(Value::string),
            "parseJson" => serde_json::from_str::<serde_json::Value>(&s)
                .map(Value::from_owned_json)
                .map_err(|e| format!("invalid JSON: {e}")),
            _ => return Ok(Value::Null),
        };
        r.map_err(|e| self.method_err(at, name, e))
    }

    /// Velocity 1.7's condition value: a bare string, number, list, map or
    /// range literal counts as false (its node does not evaluate), any other
    /// expression is false only when null or `false`.
    fn truth(&mut self, e: &'a Expr) -> R<bool> {
        Ok(match e {
            Expr::Str(_) | Expr::Interp(_) | Expr::Int(_) | Expr::Float(_) => false,
            Expr::List(_) | Expr::Map(_) | Expr::Range(..) => false,
            _ => self.expr(e)?.truthy(),
        })
    }

    fn expr(&mut self, e: &'a Expr) -> R<Value<'a>> {
        Ok(match e {
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::Str(s),
            Expr::Interp(nodes) => self.interpolate(nodes)?,
            Expr::Ref(r) => self.reference(r)?,
            Expr::List(items) => {
                if items.len() > self.opts.limits.max_collection_len {
                    return Err(RenderError::CollectionTooLarge(
                        self.opts.limits.max_collection_len,
                    ));
                }
                let mut v = Vec::with_capacity(items.len());
                for i in items {
                    v.push(self.expr(i)?);
                }
                Value::new_list(v)
            }
            Expr::Map(entries) => {
                let mut v: Vec<(Value<'a>, Value<'a>)> = Vec::with_capacity(entries.len());
                for (k, x) in entries {
                    let k = self.expr(k)?;
                    let x = self.expr(x)?;
                    if let Some(slot) = v.iter_mut().find(|(kk, _)| kk.java_eq(&k, false)) {
                        slot.1 = x;
                    } else {
                        v.push((k, x));
                    }
                }
                Value::new_map(v)
            }
            Expr::Range(a, b) => {
                let a = self.expr(a)?;
                let b = self.expr(b)?;
                let to_i = |v: &Value| match v {
                    Value::Int(i) => Some(*i),
                    Value::Float(f) => Some(*f as i64),
                    Value::Str(_) | Value::String(_) => {
                        v.as_str().and_then(|s| s.trim().parse().ok())
                    }
                    _ => None,
                };
                let (Some(a), Some(b)) = (to_i(&a), to_i(&b)) else {
                    return Ok(Value::Null);
                };
                let n = a.abs_diff(b) as usize + 1;
                if n > self.opts.limits.max_collection_len {
                    return Err(RenderError::CollectionTooLarge(
                        self.opts.limits.max_collection_len,
                    ));
                }
                let v: Vec<Value> = if a <= b {
                    (a..=b).map(Value::Int).collect()
                } else {
                    (b..=a).rev().map(Value::Int).collect()
                };
                Value::new_list(v)
            }
            Expr::Not(x) => Value::Bool(!self.truth(x)?),
            Expr::Bin(op, l, r) => match op {
                BinOp::And => Value::Bool(self.truth(l)? && self.truth(r)?),
                BinOp::Or => Value::Bool(self.truth(l)? || self.truth(r)?),
                _ => {
                    let a = self.expr(l)?;
                    let b = self.expr(r)?;
                    self.binary(*op, a, b)?
                }
            },
        })
    }

    fn binary(&mut self, op: BinOp, a: Value<'a>, b: Value<'a>) -> R<Value<'a>> {
        use std::cmp::Ordering;
        Ok(match op {
            BinOp::Eq => Value::Bool(a.java_eq(&b, true)),
            BinOp::Ne => Value::Bool(!a.java_eq(&b, true)),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ord = match (&a, &b) {
                    (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
                    _ => match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) => x.partial_cmp(&y),
                        _ => None,
                    },
                };
                Value::Bool(match ord {
                    None => false,
                    Some(o) => match op {
                        BinOp::Lt => o == Ordering::Less,
                        BinOp::Le => o != Ordering::Greater,
                        BinOp::Gt => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    },
                })
            }
            BinOp::Add if !(a.is_number() && b.is_number()) => {
                if a.as_str().is_some() || b.as_str().is_some() {
                    if a.is_null() || b.is_null() {
                        return Ok(Value::Null);
                    }
                    let mut s = a.to_java_string();
                    b.write_java(&mut s);
                    if s.len() > self.opts.limits.max_output_bytes {
                        return Err(RenderError::OutputTooLarge(
                            self.opts.limits.max_output_bytes,
                        ));
                    }
                    Value::string(s)
                } else {
                    Value::Null
                }
            }
            _ => match (&a, &b) {
                (Value::Int(x), Value::Int(y)) => {
                    let (x, y) = (*x, *y);
                    let r = match op {
                        BinOp::Add => x.checked_add(y),
                        BinOp::Sub => x.checked_sub(y),
                        BinOp::Mul => x.checked_mul(y),
                        BinOp::Div => {
                            if y == 0 {
                                return Ok(Value::Null);
                            }
                            x.checked_div(y)
                        }
                        _ => {
                            if y == 0 {
                                return Ok(Value::Null);
                            }
                            x.checked_rem(y)
                        }
                    };
                    match r {
                        Some(v) => Value::Int(v),
                        None => {
                            let (fx, fy) = (x as f64, y as f64);
                            Value::Float(match op {
                                BinOp::Add => fx + fy,
                                BinOp::Sub => fx - fy,
                                BinOp::Mul => fx * fy,
                                BinOp::Div => fx / fy,
                                _ => 0.0,
                            })
                        }
                    }
                }
                _ => match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => match op {
                        BinOp::Add => Value::Float(x + y),
                        BinOp::Sub => Value::Float(x - y),
                        BinOp::Mul => Value::Float(x * y),
                        BinOp::Div if y == 0.0 => Value::Null,
                        BinOp::Div => Value::Float(x / y),
                        _ if y == 0.0 => Value::Null,
                        _ => Value::Float(x % y),
                    },
                    _ => Value::Null,
                },
            },
        })
    }
}
