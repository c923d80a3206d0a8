//! Recursive-descent parser for Velocity 1.7 as API Gateway uses it,
//! including Velocity's whitespace rules: a directive eats the spaces and
//! the newline that end its line, and `#set` also eats the blanks before it
//! when they follow a directive, reference or comment.

use std::collections::HashMap;

use crate::ast::{BinOp, Expr, Macro, Node, Part, Reference, VarId};
use crate::error::ParseError;
use crate::lexer::{is_ident_char, Cursor, LineIndex};
use crate::limits::Limits;

/// Variable slots every template has, in this order.
pub(crate) const BUILTIN_NAMES: [&str; 6] = [
    "input",
    "context",
    "util",
    "stageVariables",
    "foreach",
    "velocityCount",
];
pub(crate) const VAR_INPUT: VarId = 0;
pub(crate) const VAR_CONTEXT: VarId = 1;
pub(crate) const VAR_UTIL: VarId = 2;
pub(crate) const VAR_STAGE: VarId = 3;
pub(crate) const VAR_FOREACH: VarId = 4;
pub(crate) const VAR_COUNT: VarId = 5;

/// What `parse` produces.
pub(crate) struct Parsed {
    pub(crate) nodes: Vec<Node>,
    pub(crate) names: Vec<Box<str>>,
    pub(crate) macros: Vec<Macro>,
}

/// Which block we are in, deciding which terminators are legal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Top,
    If,
    Other,
}

/// How a block ended.
#[allow(clippy::enum_variant_names)] // `End::End` is the `#end` directive.
enum End {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

type PResult<T> = Result<T, ParseError>;

struct Parser<'f> {
    full: &'f str,
    lines: LineIndex,
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, VarId>,
    macros: Vec<Macro>,
    macro_ids: HashMap<String, usize>,
    depth: usize,
    max_depth: usize,
}

/// Parses a whole template.
pub(crate) fn parse(src: &str, limits: &Limits) -> PResult<Parsed> {
    let lines = LineIndex::new(src);
    if src.len() > limits.max_template_bytes {
        return Err(ParseError {
            line: 1,
            column: 1,
            message: format!(
                "template is {} bytes, the limit is {}",
                src.len(),
                limits.max_template_bytes
            ),
        });
    }
    let mut p = Parser {
        full: src,
        lines,
        names: Vec::new(),
        ids: HashMap::new(),
        macros: Vec::new(),
        macro_ids: HashMap::new(),
        depth: 0,
        max_depth: limits.max_nesting_depth,
    };
    for n in BUILTIN_NAMES {
        p.var(n);
    }
    let mut c = Cursor::new(src, 0);
    let (nodes, _) = p.block(&mut c, Kind::Top)?;
    Ok(Parsed {
        nodes,
        names: p.names,
        macros: p.macros,
    })
}

fn flush(text: &mut String, nodes: &mut Vec<Node>) {
    if !text.is_empty() {
        nodes.push(Node::Text(std::mem::take(text).into_boxed_str()));
    }
}

const DIRECTIVES: [&str; 10] = [
    "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "macro", "define",
];

impl<'f> Parser<'f> {
    fn var(&mut self, name: &str) -> VarId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as VarId;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn err_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = self.lines.position(self.full, offset);
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }

    fn err(&self, c: &Cursor, message: impl Into<String>) -> ParseError {
        self.err_at(c.abs(), message)
    }

    fn enter(&mut self, c: &Cursor) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.err(c, format!("nesting deeper than {}", self.max_depth)));
        }
        Ok(())
    }

    fn expect(&self, c: &mut Cursor, b: u8, what: &str) -> PResult<()> {
        c.skip_ws();
        if c.peek() == Some(b) {
            c.pos += 1;
            Ok(())
        } else {
            Err(self.err(c, format!("expected {what}")))
        }
    }

    /// Reads a `#name` or `#{name}` directive word at `c.pos` (which is at `#`)
    /// without consuming; returns the word and the length of the whole token.
    fn directive_word<'c>(c: &Cursor<'c>) -> Option<(&'c str, usize)> {
        let b = c.bytes();
        let mut p = c.pos + 1;
        let braced = b.get(p) == Some(&b'{');
        if braced {
            p += 1;
        }
        let start = p;
        if !matches!(b.get(p), Some(x) if x.is_ascii_alphabetic() || *x == b'_') {
            return None;
        }
        while matches!(b.get(p), Some(x) if x.is_ascii_alphanumeric() || *x == b'_') {
            p += 1;
        }
        let word = &c.src[start..p];
        if braced {
            if b.get(p) != Some(&b'}') {
                return None;
            }
            p += 1;
        }
        Some((word, p - c.pos))
    }

    /// Is a `#set(` directive at the cursor?
    fn is_set(c: &Cursor) -> bool {
        match Self::directive_word(c) {
            Some(("set", len)) => {
                let mut p = c.pos + len;
                while c.bytes().get(p) == Some(&b' ') {
                    p += 1;
                }
                c.bytes().get(p) == Some(&b'(')
            }
            _ => false,
        }
    }

    fn is_directive_or_macro(&self, word: &str) -> bool {
        DIRECTIVES.contains(&word) || self.macro_ids.contains_key(word)
    }

    fn block(&mut self, c: &mut Cursor<'_>, kind: Kind) -> PResult<(Vec<Node>, End)> {
        self.enter(c)?;
        let r = self.block_inner(c, kind);
        self.depth -= 1;
        r
    }

    fn block_inner(&mut self, c: &mut Cursor<'_>, kind: Kind) -> PResult<(Vec<Node>, End)> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        // Velocity eats the blanks before `#set` when they follow a
        // reference on the same line, or when nothing but blanks precede.
        let mut after_ref = false;
        loop {
            let Some(b) = c.peek() else {
                flush(&mut text, &mut nodes);
                return Ok((nodes, End::Eof));
            };
            match b {
                b'$' => {
                    let save = c.pos;
                    if let Some(r) = self.reference(c)? {
                        flush(&mut text, &mut nodes);
                        // Velocity's lexer stays in reference mode after an
                        // unbraced `[index]` or before a `}`.
                        after_ref = (!r.raw.ends_with('}') && r.raw.ends_with(']'))
                            || (!r.raw.starts_with("${")
                                && !r.raw.starts_with("$!{")
                                && c.peek() == Some(b'}'));
                        let modifier_end =
                            !r.raw.ends_with('}') && (r.raw.ends_with(')') || r.raw.ends_with(']'));
                        nodes.push(Node::Ref(Box::new(r)));
                        if modifier_end {
                            Self::word_after_modifier(c, &mut text);
                        }
                        continue;
                    } else {
                        self.lone_dollar(c, save, &mut text)?;
                    }
                }
                b'\\' => {
                    let start = c.pos;
                    let mut k = 0;
                    while c.peek() == Some(b'\\') {
                        k += 1;
                        c.pos += 1;
                    }
                    match c.peek() {
                        Some(b'$') => {
                            let save = c.pos;
                            if let Some(r) = self.reference(c)? {
                                flush(&mut text, &mut nodes);
                                nodes.push(Node::EscapedRef {
                                    slashes: k,
                                    reference: Box::new(r),
                                });
                            } else {
                                c.pos = save;
                                text.push_str(&c.src[start..save]);
                            }
                        }
                        Some(b'#') => match Self::directive_word(c) {
                            Some((word, len)) if self.is_directive_or_macro(word) => {
                                // Velocity 1.7 keeps every backslash of an
                                // even run before `#set` (and still runs it),
                                // but halves the run before other directives.
                                let keep = if word == "set" && k % 2 == 0 {
                                    k
                                } else {
                                    k / 2
                                };
                                for _ in 0..keep {
                                    text.push('\\');
                                }
                                if k % 2 == 1 {
                                    text.push_str(&c.src[c.pos..c.pos + len]);
                                    c.pos += len;
                                    Self::skip_blanks_before_set(c);
                                }
                            }
                            _ => text.push_str(&c.src[start..c.pos]),
                        },
                        _ => {
                            // A backslash run is a token of its own, so blanks
                            // after it belong to a following `#set`, which eats them.
                            text.push_str(&c.src[start..c.pos]);
                            Self::skip_blanks_before_set(c);
                        }
                    }
                }
                b'#' => {
                    let before = nodes.len();
                    // Only blanks (after an optional `}`) may separate the
                    // reference from the `#set` for the blanks to be eaten.
                    let only_blanks = text
                        .strip_prefix('}')
                        .unwrap_or(&text)
                        .bytes()
                        .all(|x| x == b' ' || x == b'\t');
                    if after_ref && only_blanks && Self::is_set(c) {
                        let trimmed = text.trim_end_matches([' ', '\t']).len();
                        text.truncate(trimmed);
                    }
                    if let Some(end) = self.hash(c, kind, &mut nodes, &mut text)? {
                        flush(&mut text, &mut nodes);
                        return Ok((nodes, end));
                    }
                    if nodes.len() != before {
                        after_ref = false;
                    }
                    continue;
                }
                _ => {
                    let bytes = c.bytes();
                    let start = c.pos;
                    let mut p = start + 1;
                    while p < bytes.len() && !matches!(bytes[p], b'$' | b'#' | b'\\') {
                        p += 1;
                    }
                    text.push_str(&c.src[start..p]);
                    c.pos = p;
                }
            }
        }
    }

    /// Velocity 1.7 stays in reference mode after a reference ending in a
    /// call `)` or an index `]`: a word glued to it is text, any `.word`
    /// after that word is swallowed, and blanks then belong to a `#set`.
    fn word_after_modifier(c: &mut Cursor<'_>, text: &mut String) {
        if !matches!(c.peek(), Some(x) if x.is_ascii_alphabetic() || x == b'_') {
            return;
        }
        if let Some(word) = c.ident() {
            text.push_str(word);
        }
        loop {
            match c.peek() {
                // Velocity's `DOT` token is `.` plus a letter: `$a._b` is `$a`
                // followed by the text `._b` (a root may start with `_`).
                Some(b'.') if matches!(c.peek_at(1), Some(x) if x.is_ascii_alphabetic()) => {
                    c.pos += 1;
                    let _ = c.ident();
                    if c.peek() == Some(b'(') && !Self::skip_balanced(c, b'(', b')') {
                        break;
                    }
                }
                Some(b'[') => {
                    if !Self::skip_balanced(c, b'[', b']') {
                        break;
                    }
                }
                _ => break,
            }
        }
        Self::skip_blanks_before_set(c);
    }

    /// Skips a bracketed group (quotes respected) starting at the cursor;
    /// leaves the cursor alone and returns false when it is not closed.
    fn skip_balanced(c: &mut Cursor<'_>, open: u8, close: u8) -> bool {
        let b = c.bytes();
        let mut p = c.pos;
        let mut depth = 0usize;
        let mut quote: Option<u8> = None;
        while let Some(&x) = b.get(p) {
            p += 1;
            match quote {
                Some(q) if x == q => quote = None,
                Some(_) => {}
                None if x == b'\'' || x == b'"' => quote = Some(x),
                None if x == open => depth += 1,
                None if x == close => {
                    depth -= 1;
                    if depth == 0 {
                        c.pos = p;
                        return true;
                    }
                }
                None => {}
            }
        }
        false
    }

    /// Skips blanks at the cursor when a `#set(` follows them: Velocity's
    /// `#set` token includes its leading blanks when it starts a token.
    fn skip_blanks_before_set(c: &mut Cursor<'_>) {
        let b = c.bytes();
        let mut p = c.pos;
        while matches!(b.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        if p > c.pos && b.get(p) == Some(&b'#') {
            let probe = Cursor {
                src: c.src,
                pos: p,
                base: c.base,
            };
            if Self::is_set(&probe) {
                c.pos = p;
            }
        }
    }

    /// A `$` (or `$!`) at `at` that does not start a reference. Velocity's
    /// lexer keeps it pending as a prefix of the next token, so it is text
    /// before ordinary text but vanishes before a directive, a block comment
    /// or an escape, and is a lexical error at the end of the template.
    fn lone_dollar(&mut self, c: &mut Cursor<'_>, at: usize, text: &mut String) -> PResult<()> {
        let b = c.bytes();
        let mut after = at + 1;
        if b.get(after) == Some(&b'!') {
            after += 1;
        }
        let keep = |c: &mut Cursor<'_>, text: &mut String| {
            c.pos = at + 1;
            text.push('$');
        };
        match b.get(after) {
            None if c.base == 0 => Err(self.err_at(after, "lexical error: '$' at end of template")),
            Some(b'\\') => {
                c.pos = after;
                Ok(())
            }
            Some(b'{') => {
                text.push_str(&c.src[at..=after]);
                c.pos = after + 1;
                Self::skip_blanks_before_set(c);
                Ok(())
            }
            Some(b'#') if c.src[after..].starts_with("#[[") => {
                // Velocity 1.7 renders `$#[[x]]#` as `[x`.
                text.push('[');
                c.pos = after;
                Ok(())
            }
            Some(b'#') if b.get(after + 1) == Some(&b'*') => {
                c.pos = after;
                Ok(())
            }
            Some(b'#') => {
                let probe = Cursor {
                    src: c.src,
                    pos: after,
                    base: c.base,
                };
                match Self::directive_word(&probe) {
                    Some(("set" | "if" | "elseif" | "else" | "end", _)) => {
                        c.pos = after;
                        Ok(())
                    }
                    Some(("stop" | "break" | "foreach" | "define" | "macro", len)) => {
                        text.push_str(&c.src[at..after + len]);
                        c.pos = after + len;
                        Ok(())
                    }
                    _ => {
                        keep(c, text);
                        Ok(())
                    }
                }
            }
            Some(b' ' | b'\t') => {
                let mut p = after;
                while matches!(b.get(p), Some(b' ' | b'\t')) {
                    p += 1;
                }
                let probe = Cursor {
                    src: c.src,
                    pos: p,
                    base: c.base,
                };
                if b.get(p) == Some(&b'#') && Self::is_set(&probe) {
                    c.pos = p;
                } else {
                    keep(c, text);
                }
                Ok(())
            }
            _ => {
                keep(c, text);
                Ok(())
            }
        }
    }

    /// Handles everything starting with `#`. Returns a terminator when the
    /// current block ends here.
    fn hash(
        &mut self,
        c: &mut Cursor<'_>,
        kind: Kind,
        nodes: &mut Vec<Node>,
        text: &mut String,
    ) -> PResult<Option<End>> {
        let at = c.abs();
        if c.starts_with("##") {
            flush(text, nodes);
            while let Some(b) = c.peek() {
                c.pos += 1;
                if b == b'\n' {
                    break;
                }
                if b == b'\r' {
                    if c.peek() == Some(b'\n') {
                        c.pos += 1;
                    }
                    break;
                }
            }
            return Ok(None);
        }
        if c.starts_with("#*") {
            flush(text, nodes);
            match c.src[c.pos + 2..].find("*#") {
                Some(i) => c.pos += 2 + i + 2,
                None => return Err(self.err(c, "unterminated comment #*")),
            }
            return Ok(None);
        }
        if c.starts_with("#[[") {
            flush(text, nodes);
            match c.src[c.pos + 3..].find("]]#") {
                Some(i) => {
                    let body = &c.src[c.pos + 3..c.pos + 3 + i];
                    if !body.is_empty() {
                        nodes.push(Node::Text(body.into()));
                    }
                    c.pos += 3 + i + 3;
                }
                None => return Err(self.err(c, "unterminated unparsed block #[[")),
            }
            return Ok(None);
        }
        if c.pos + 1 == c.src.len() && c.base == 0 {
            return Err(self.err(c, "lexical error: '#' at end of template"));
        }
        let Some((word, len)) = Self::directive_word(c) else {
            // A lone `#` is a pending prefix of the next token in Velocity:
            // before blanks and a `#set(` it vanishes with the blanks.
            c.pos += 1;
            let before = c.pos;
            Self::skip_blanks_before_set(c);
            if c.pos == before {
                text.push('#');
            }
            return Ok(None);
        };
        let after = c.pos + len;
        match word {
            "set" => {
                let mut p = after;
                let b = c.bytes();
                while b.get(p) == Some(&b' ') {
                    p += 1;
                }
                if b.get(p) != Some(&b'(') {
                    text.push_str(&c.src[c.pos..after]);
                    c.pos = after;
                    return Ok(None);
                }
                if text.bytes().all(|x| x == b' ' || x == b'\t') {
                    text.clear();
                }
                flush(text, nodes);
                c.pos = p + 1;
                c.skip_ws();
                // Hyphens are identifier characters here as everywhere
                // (`header.Content-Type`).
                let target = match self.reference(c)? {
                    Some(r) => r,
                    None => return Err(self.err(c, "#set expects a reference like $name")),
                };
                self.expect(c, b'=', "'=' in #set")?;
                let value = self.expr(c)?;
                self.expect(c, b')', "')' closing #set")?;
                c.eat_line_end();
                nodes.push(Node::Set {
                    target: Box::new(target),
                    value,
                });
                Ok(None)
            }
            "if" => {
                flush(text, nodes);
                c.pos = after;
                let cond = self.paren_expr(c, "#if")?;
                c.eat_line_end();
                let mut branches = Vec::new();
                let mut cond = cond;
                loop {
                    let (body, end) = self.block(c, Kind::If)?;
                    branches.push((cond, body));
                    match end {
                        End::End => {
                            nodes.push(Node::If {
                                branches,
                                otherwise: None,
                            });
                            return Ok(None);
                        }
                        End::ElseIf(e) => cond = e,
                        End::Else => {
                            let (body, end) = self.block(c, Kind::Other)?;
                            if !matches!(end, End::End) {
                                return Err(self.err_at(at, "#if without matching #end"));
                            }
                            nodes.push(Node::If {
                                branches,
                                otherwise: Some(body),
                            });
                            return Ok(None);
                        }
                        End::Eof => return Err(self.err_at(at, "#if without matching #end")),
                    }
                }
            }
            "elseif" | "else" | "end" => {
                if kind == Kind::Top || (kind == Kind::Other && word != "end") {
                    return Err(self.err(c, format!("#{word} without matching #if")));
                }
                c.pos = after;
                match word {
                    "end" => {
                        c.eat_line_end();
                        Ok(Some(End::End))
                    }
                    "else" => {
                        c.eat_line_end();
                        Ok(Some(End::Else))
                    }
                    _ => {
                        let e = self.paren_expr(c, "#elseif")?;
                        c.eat_line_end();
                        Ok(Some(End::ElseIf(e)))
                    }
                }
            }
            "foreach" => {
                flush(text, nodes);
                c.pos = after;
                c.skip_blank();
                self.expect(c, b'(', "'(' after #foreach")?;
                c.skip_ws();
                let var = match self.reference(c)? {
                    Some(r) if r.parts.is_empty() => r.root,
                    _ => return Err(self.err(c, "#foreach expects a loop variable like $item")),
                };
                c.skip_ws();
                if !c.starts_with("in") || matches!(c.peek_at(2), Some(x) if is_ident_char(x)) {
                    return Err(self.err(c, "expected 'in' in #foreach"));
                }
                c.pos += 2;
                let iter = self.expr(c)?;
                self.expect(c, b')', "')' closing #foreach")?;
                c.eat_line_end();
                let (body, end) = self.block(c, Kind::Other)?;
                if !matches!(end, End::End) {
                    return Err(self.err_at(at, "#foreach without matching #end"));
                }
                nodes.push(Node::Foreach {
                    var,
                    iter,
                    body,
                    at: at as u32,
                });
                Ok(None)
            }
            "break" | "stop" => {
                flush(text, nodes);
                c.pos = after;
                c.eat_line_end();
                nodes.push(if word == "break" {
                    Node::Break
                } else {
                    Node::Stop
                });
                Ok(None)
            }
            "define" => {
                flush(text, nodes);
                c.pos = after;
                c.skip_blank();
                self.expect(c, b'(', "'(' after #define")?;
                c.skip_ws();
                let var = match self.reference(c)? {
                    Some(r) if r.parts.is_empty() => r.root,
                    _ => return Err(self.err(c, "#define expects a reference like $block")),
                };
                self.expect(c, b')', "')' closing #define")?;
                c.eat_line_end();
                let (body, end) = self.block(c, Kind::Other)?;
                if !matches!(end, End::End) {
                    return Err(self.err_at(at, "#define without matching #end"));
                }
                nodes.push(Node::Define { var, body });
                Ok(None)
            }
            "macro" => {
                flush(text, nodes);
                c.pos = after;
                c.skip_blank();
                self.expect(c, b'(', "'(' after #macro")?;
                c.skip_ws();
                let name = match c.word() {
                    Some(n) => n.to_string(),
                    None => return Err(self.err(c, "#macro expects a name")),
                };
                let mut params = Vec::new();
                loop {
                    c.skip_ws();
                    match c.peek() {
                        Some(b',') => c.pos += 1,
                        Some(b')') => {
                            c.pos += 1;
                            break;
                        }
                        Some(b'$') => {
                            c.pos += 1;
                            match c.ident() {
                                Some(n) => {
                                    let id = self.var(n);
                                    params.push(id);
                                }
                                None => return Err(self.err(c, "bad macro parameter")),
                            }
                        }
                        _ => return Err(self.err(c, "expected a $parameter or ')' in #macro")),
                    }
                }
                c.eat_line_end();
                let index = self.macros.len();
                self.macros.push(Macro {
                    params,
                    body: Vec::new(),
                });
                self.macro_ids.insert(name, index);
                let (body, end) = self.block(c, Kind::Other)?;
                if !matches!(end, End::End) {
                    return Err(self.err_at(at, "#macro without matching #end"));
                }
                self.macros[index].body = body;
                Ok(None)
            }
            _ => {
                let Some(&index) = self.macro_ids.get(word) else {
                    text.push_str(&c.src[c.pos..after]);
                    c.pos = after;
                    Self::skip_blanks_before_set(c);
                    return Ok(None);
                };
                let mut p = after;
                while matches!(c.bytes().get(p), Some(b' ' | b'\t')) {
                    p += 1;
                }
                if c.bytes().get(p) != Some(&b'(') {
                    text.push_str(&c.src[c.pos..after]);
                    c.pos = after;
                    return Ok(None);
                }
                flush(text, nodes);
                c.pos = p + 1;
                let mut args = Vec::new();
                loop {
                    c.skip_ws();
                    match c.peek() {
                        Some(b',') => c.pos += 1,
                        Some(b')') => {
                            c.pos += 1;
                            break;
                        }
                        None => return Err(self.err(c, "unterminated macro call")),
                        _ => args.push(self.unary(c)?),
                    }
                }
                c.eat_line_end();
                nodes.push(Node::MacroCall {
                    index,
                    args,
                    at: at as u32,
                });
                Ok(None)
            }
        }
    }

    fn paren_expr(&mut self, c: &mut Cursor<'_>, what: &str) -> PResult<Expr> {
        c.skip_blank();
        if c.peek() != Some(b'(') {
            return Err(self.err(c, format!("expected '(' after {what}")));
        }
        c.pos += 1;
        let e = self.expr(c)?;
        self.expect(c, b')', &format!("')' closing {what}"))?;
        Ok(e)
    }

    /// Parses `$name...` at `c.pos`. Returns `None` (cursor unspecified) when
    /// the text there is not a reference, so the caller emits it literally.
    ///
    /// Identifiers are lexed the same way in text, in strings and inside
    /// directives: Velocity 1.7's `IDENTIFIER` token allows `-` after the
    /// first character, so `$n-1` in `#set($m = $n-1)` is the (usually
    /// undefined) reference `$n-1`, not a subtraction; `$n - 1` subtracts.
    fn reference(&mut self, c: &mut Cursor<'_>) -> PResult<Option<Reference>> {
        let start = c.pos;
        if c.peek() != Some(b'$') {
            return Ok(None);
        }
        c.pos += 1;
        let quiet = c.peek() == Some(b'!');
        if quiet {
            c.pos += 1;
        }
        let braced = c.peek() == Some(b'{');
        if braced {
            c.pos += 1;
        }
        let Some(root) = c.ident() else {
            return Ok(None);
        };
        let root = self.var(root);
        let mut parts = Vec::new();
        loop {
            match c.peek() {
                // Velocity's `DOT` token is `.` plus a letter: `$a._b` is `$a`
                // followed by the text `._b` (a root may start with `_`).
                Some(b'.') if matches!(c.peek_at(1), Some(x) if x.is_ascii_alphabetic()) => {
                    c.pos += 1;
                    let Some(name) = c.ident() else {
                        break;
                    };
                    if c.peek() == Some(b'(') {
                        c.pos += 1;
                        let args = self.args(c, b')')?;
                        parts.push(Part::Method(name.into(), args));
                    } else {
                        parts.push(Part::Prop(name.into()));
                    }
                }
                Some(b'[') => {
                    c.pos += 1;
                    let idx = self.expr(c).and_then(|e| {
                        c.skip_ws();
                        if c.peek() == Some(b']') {
                            c.pos += 1;
                            Ok(e)
                        } else {
                            Err(self.err(c, "expected ']'"))
                        }
                    });
                    // Velocity commits to an index as soon as `[` follows a
                    // reference, in text as in directives: `$list[` alone is
                    // a parse error, not literal text.
                    parts.push(Part::Index(idx?));
                }
                _ => break,
            }
        }
        if braced {
            if c.peek() != Some(b'}') {
                return Err(self.err(c, "expected '}' closing ${...}"));
            }
            c.pos += 1;
        }
        Ok(Some(Reference {
            root,
            parts,
            quiet,
            raw: c.src[start..c.pos].into(),
            at: (c.base + start) as u32,
        }))
    }

    fn args(&mut self, c: &mut Cursor<'_>, close: u8) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        c.skip_ws();
        if c.peek() == Some(close) {
            c.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.expr(c)?);
            c.skip_ws();
            match c.peek() {
                Some(b',') => c.pos += 1,
                Some(x) if x == close => {
                    c.pos += 1;
                    return Ok(args);
                }
                _ => return Err(self.err(c, format!("expected ',' or '{}'", close as char))),
            }
        }
    }

    /// Is the word `kw` (an operator keyword) at the cursor?
    fn keyword(c: &Cursor, kw: &str) -> bool {
        c.starts_with(kw) && !matches!(c.peek_at(kw.len()), Some(x) if is_ident_char(x))
    }

    pub(crate) fn expr(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        self.enter(c)?;
        let r = self.or(c);
        self.depth -= 1;
        r
    }

    fn or(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        let mut l = self.and(c)?;
        loop {
            c.skip_ws();
            if c.starts_with("||") || Self::keyword(c, "or") {
                c.pos += 2;
            } else {
                return Ok(l);
            }
            let r = self.and(c)?;
            l = Expr::Bin(BinOp::Or, Box::new(l), Box::new(r));
        }
    }

    fn and(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        let mut l = self.equality(c)?;
        loop {
            c.skip_ws();
            if c.starts_with("&&") {
                c.pos += 2;
            } else if Self::keyword(c, "and") {
                c.pos += 3;
            } else {
                return Ok(l);
            }
            let r = self.equality(c)?;
            l = Expr::Bin(BinOp::And, Box::new(l), Box::new(r));
        }
    }

    fn equality(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        let mut l = self.relational(c)?;
        loop {
            c.skip_ws();
            let op = if c.starts_with("==") {
                c.pos += 2;
                BinOp::Eq
            } else if c.starts_with("!=") {
                c.pos += 2;
                BinOp::Ne
            } else if Self::keyword(c, "eq") {
                c.pos += 2;
                BinOp::Eq
            } else if Self::keyword(c, "ne") {
                c.pos += 2;
                BinOp::Ne
            } else {
                return Ok(l);
            };
            let r = self.relational(c)?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn relational(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        let mut l = self.additive(c)?;
        loop {
            c.skip_ws();
            let (op, n) = if c.starts_with("<=") {
                (BinOp::Le, 2)
            } else if c.starts_with(">=") {
                (BinOp::Ge, 2)
            } else if c.starts_with("<") {
                (BinOp::Lt, 1)
            } else if c.starts_with(">") {
                (BinOp::Gt, 1)
            } else if Self::keyword(c, "lt") {
                (BinOp::Lt, 2)
            } else if Self::keyword(c, "le") {
                (BinOp::Le, 2)
            } else if Self::keyword(c, "gt") {
                (BinOp::Gt, 2)
            } else if Self::keyword(c, "ge") {
                (BinOp::Ge, 2)
            } else {
                return Ok(l);
            };
            c.pos += n;
            let r = self.additive(c)?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn additive(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        let mut l = self.multiplicative(c)?;
        loop {
            c.skip_ws();
            let op = match c.peek() {
                Some(b'+') => BinOp::Add,
                Some(b'-') => BinOp::Sub,
                _ => return Ok(l),
            };
            c.pos += 1;
            let r = self.multiplicative(c)?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn multiplicative(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        let mut l = self.unary(c)?;
        loop {
            c.skip_ws();
            let op = match c.peek() {
                Some(b'*') => BinOp::Mul,
                Some(b'/') => BinOp::Div,
                Some(b'%') => BinOp::Mod,
                _ => return Ok(l),
            };
            c.pos += 1;
            let r = self.unary(c)?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        c.skip_ws();
        if c.peek() == Some(b'!') && c.peek_at(1) != Some(b'=') {
            c.pos += 1;
            self.enter(c)?;
            let e = self.unary(c);
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e?)));
        }
        if Self::keyword(c, "not") {
            c.pos += 3;
            self.enter(c)?;
            let e = self.unary(c);
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e?)));
        }
        self.primary(c)
    }

    fn primary(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        c.skip_ws();
        match c.peek() {
            Some(b'$') => match self.reference(c)? {
                Some(r) => Ok(Expr::Ref(Box::new(r))),
                None => Err(self.err(c, "malformed reference")),
            },
            Some(b'"') => self.string(c, b'"'),
            Some(b'\'') => self.string(c, b'\''),
            Some(b'0'..=b'9') => self.number(c),
            Some(b'-') if matches!(c.peek_at(1), Some(b'0'..=b'9')) => self.number(c),
            Some(b'(') => {
                c.pos += 1;
                let e = self.expr(c)?;
                self.expect(c, b')', "')'")?;
                Ok(e)
            }
            Some(b'[') => {
                c.pos += 1;
                c.skip_ws();
                if c.peek() == Some(b']') {
                    c.pos += 1;
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expr(c)?;
                c.skip_ws();
                if c.starts_with("..") {
                    c.pos += 2;
                    let last = self.expr(c)?;
                    self.expect(c, b']', "']' closing range")?;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                loop {
                    c.skip_ws();
                    match c.peek() {
                        Some(b',') => {
                            c.pos += 1;
                            items.push(self.expr(c)?);
                        }
                        Some(b']') => {
                            c.pos += 1;
                            return Ok(Expr::List(items));
                        }
                        _ => return Err(self.err(c, "expected ',' or ']' in list")),
                    }
                }
            }
            Some(b'{') => {
                c.pos += 1;
                c.skip_ws();
                let mut entries = Vec::new();
                if c.peek() == Some(b'}') {
                    c.pos += 1;
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let k = self.expr(c)?;
                    self.expect(c, b':', "':' in map")?;
                    let v = self.expr(c)?;
                    entries.push((k, v));
                    c.skip_ws();
                    match c.peek() {
                        Some(b',') => c.pos += 1,
                        Some(b'}') => {
                            c.pos += 1;
                            return Ok(Expr::Map(entries));
                        }
                        _ => return Err(self.err(c, "expected ',' or '}' in map")),
                    }
                }
            }
            _ if Self::keyword(c, "true") => {
                c.pos += 4;
                Ok(Expr::Bool(true))
            }
            _ if Self::keyword(c, "false") => {
                c.pos += 5;
                Ok(Expr::Bool(false))
            }
            None => Err(self.err(c, "unexpected end of template in expression")),
            _ => Err(self.err(c, "expected a value (reference, literal, list or map)")),
        }
    }

    fn number(&mut self, c: &mut Cursor<'_>) -> PResult<Expr> {
        let start = c.pos;
        let b = c.bytes();
        let mut p = start;
        if b.get(p) == Some(&b'-') {
            p += 1;
        }
        while matches!(b.get(p), Some(b'0'..=b'9')) {
            p += 1;
        }
        let mut float = false;
        if b.get(p) == Some(&b'.') && matches!(b.get(p + 1), Some(b'0'..=b'9')) {
            float = true;
            p += 1;
            while matches!(b.get(p), Some(b'0'..=b'9')) {
                p += 1;
            }
        }
        if matches!(b.get(p), Some(b'e' | b'E')) {
            let mut q = p + 1;
            if matches!(b.get(q), Some(b'+' | b'-')) {
                q += 1;
            }
            if matches!(b.get(q), Some(b'0'..=b'9')) {
                float = true;
                p = q;
                while matches!(b.get(p), Some(b'0'..=b'9')) {
                    p += 1;
                }
            }
        }
        let s = &c.src[start..p];
        c.pos = p;
        if float {
            s.parse::<f64>()
                .map(Expr::Float)
                .map_err(|_| self.err_at(c.base + start, "bad number"))
        } else {
            match s.parse::<i64>() {
                Ok(v) => Ok(Expr::Int(v)),
                Err(_) => s
                    .parse::<f64>()
                    .map(Expr::Float)
                    .map_err(|_| self.err_at(c.base + start, "bad number")),
            }
        }
    }

    fn string(&mut self, c: &mut Cursor<'_>, quote: u8) -> PResult<Expr> {
        let open = c.pos;
        c.pos += 1;
        let content_start = c.pos;
        let b = c.bytes();
        let mut out = String::new();
        let mut seg = c.pos;
        loop {
            match b.get(c.pos) {
                None => return Err(self.err_at(c.base + open, "unterminated string literal")),
                Some(&x) if x == quote => {
                    if b.get(c.pos + 1) == Some(&quote) {
                        out.push_str(&c.src[seg..=c.pos]);
                        c.pos += 2;
                        seg = c.pos;
                    } else {
                        out.push_str(&c.src[seg..c.pos]);
                        c.pos += 1;
                        break;
                    }
                }
                Some(_) => c.pos += 1,
            }
        }
        if quote == b'"' && (out.contains('$') || out.contains('#')) {
            let mut sub = Cursor::new(&out, c.base + content_start);
            let (nodes, end) = self.block(&mut sub, Kind::Top)?;
            debug_assert!(matches!(end, End::Eof));
            return Ok(Expr::Interp(nodes));
        }
        Ok(Expr::Str(out.into_boxed_str()))
    }
}
