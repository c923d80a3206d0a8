//! A Velocity (VTL) mapping-template engine that renders Amazon API Gateway
//! templates the way API Gateway does.
//!
//! API Gateway reshapes requests and responses with Apache Velocity 1.7
//! templates plus its own variables (`$input`, `$context`, `$util`,
//! `$stageVariables`). This crate parses a template once (at deploy time,
//! where a parse error names line and column) into an immutable
//! [`Template`] that is `Send + Sync`, and renders it many times:
//!
//! ```
//! use vtl::{Template, RenderInput};
//! let t = Template::parse(r#"{"age" : $input.json('$.personData.age')}"#).unwrap();
//! let input = RenderInput { body: r#"{"personData":{"age":42}}"#.into(), ..Default::default() };
//! assert_eq!(t.render(&input).unwrap().body, r#"{"age" : 42}"#);
//! ```
//!
//! Rendering is bounded ([`Limits`]): loops, nesting, macro depth, output
//! and collection sizes all have limits, and exceeding one is an error.

mod apigw;
mod ast;
mod doc;
mod error;
mod jsonpath;
mod lexer;
mod limits;
mod methods;
mod parser;
mod render;
mod value;

use std::cell::OnceCell;
use std::collections::BTreeMap;

pub use apigw::{base64_decode, base64_encode, escape_javascript, url_decode, url_encode};
pub use error::{ParseError, RenderError};
pub use limits::Limits;

/// A parsed template: parse once, render many times, share via `Arc`.
#[derive(Debug)]
pub struct Template {
    nodes: Vec<ast::Node>,
    names: Vec<Box<str>>,
    macros: Vec<ast::Macro>,
    lines: lexer::LineIndex,
    source: Box<str>,
    source_len: usize,
}

/// Request parameters visible through `$input.params()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// Path parameters (`{id}` in the resource path).
    pub path: BTreeMap<String, String>,
    /// Query-string parameters.
    pub querystring: BTreeMap<String, String>,
    /// Request headers (looked up case-insensitively as a fallback).
    pub header: BTreeMap<String, String>,
}

/// Everything a render can see for one request or response.
#[derive(Debug, Clone, Default)]
pub struct RenderInput {
    /// Raw payload; parsed as JSON lazily, at most once per render, and
    /// only if the template uses `$input.json`/`$input.path`.
    pub body: String,
    /// `$input.params()`.
    pub params: Params,
    /// `$context` (an object with SPEC 5.9's fields: requestId, identity, ...).
    pub context: serde_json::Value,
    /// `$stageVariables`.
    pub stage_variables: BTreeMap<String, String>,
    /// Extra top-level variables (`$name`), for tooling and tests.
    pub variables: serde_json::Map<String, serde_json::Value>,
}

/// Which engine's behaviour to follow where API Gateway and Velocity differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    /// Amazon API Gateway: null and undefined references render as nothing.
    #[default]
    ApiGateway,
    /// Plain Apache Velocity 1.7: a null reference renders as its source text.
    Velocity,
}

/// Rendering options: dialect and limits.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Behaviour where the two engines differ.
    pub dialect: Dialect,
    /// Bounds enforced while rendering.
    pub limits: Limits,
}

/// The result of a render: the body and what the template wrote into
/// `$context.responseOverride` / `$context.requestOverride`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOutput {
    /// The rendered text.
    pub body: String,
    /// `$context.responseOverride.status`, when set to a valid status.
    pub response_override_status: Option<u16>,
    /// `$context.responseOverride.header.X`.
    pub response_override_headers: BTreeMap<String, String>,
    /// `$context.requestOverride.header.X`.
    pub request_override_headers: BTreeMap<String, String>,
    /// `$context.requestOverride.querystring.X`.
    pub request_override_querystring: BTreeMap<String, String>,
    /// `$context.requestOverride.path.X`.
    pub request_override_path: BTreeMap<String, String>,
}

impl Template {
    /// Parses with API Gateway's limits. Call at save/deploy time.
    pub fn parse(src: &str) -> Result<Template, ParseError> {
        Self::parse_with_limits(src, &Limits::default())
    }

    /// Parses with explicit limits (template size, nesting depth).
    pub fn parse_with_limits(src: &str, limits: &Limits) -> Result<Template, ParseError> {
        let parsed = parser::parse(src, limits)?;
        Ok(Template {
            nodes: parsed.nodes,
            names: parsed.names,
            macros: parsed.macros,
            lines: lexer::LineIndex::new(src),
            source: src.into(),
            source_len: src.len(),
        })
    }

    /// The text the template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders as API Gateway does, with API Gateway's limits.
    pub fn render(&self, input: &RenderInput) -> Result<RenderOutput, RenderError> {
        self.render_with(input, &RenderOptions::default())
    }

    /// Renders with explicit dialect and limits.
    pub fn render_with(
        &self,
        input: &RenderInput,
        opts: &RenderOptions,
    ) -> Result<RenderOutput, RenderError> {
        let body = OnceCell::new();
        let context = OnceCell::new();
        render::render(self, input, opts, &body, &context)
    }

    /// 1-based line and column of a byte offset in the source.
    fn position(&self, offset: usize) -> (usize, usize) {
        self.lines.position(&self.source, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn template_is_send_sync() {
        assert_send_sync::<Template>();
    }
}
