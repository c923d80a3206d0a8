//! The JSONPath subset API Gateway documents for `$input.json` and
//! `$input.path`: `$`, `.name`, `['name']`, `[n]`, `[*]`, `.*`, `..name`,
//! `[a,b]`, `[start:end]` and filters `[?(@.x > 1)]` with `== != < <= > >=`,
//! `&&`, `||` and bare existence tests. Results borrow from the document.

use crate::doc::Doc as Json;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Child(String),
    Index(i64),
    Union(Vec<Seg>),
    Slice(Option<i64>, Option<i64>),
    Wildcard,
    Deep(Box<Seg>),
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Exists(Vec<Seg>),
    Cmp(Operand, &'static str, Operand),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Current(Vec<Seg>),
    Lit(Json<'static>),
}

/// A parsed path. `definite` paths (no wildcard, deep scan, filter, union
/// or slice) yield one value; the others yield a list, as in Jayway JsonPath.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    segs: Vec<Seg>,
    pub(crate) definite: bool,
}

/// Parses a JSONPath expression; `None` if it is malformed.
pub(crate) fn parse(path: &str) -> Option<Path> {
    let p = path.trim();
    let rest = if let Some(r) = p.strip_prefix('$') {
        r
    } else {
        // Jayway accepts `a.b` for `$.a.b`.
        return parse(&format!("$.{p}"));
    };
    let mut s = Scanner {
        b: rest.as_bytes(),
        i: 0,
    };
    let segs = s.segments(false)?;
    if s.i != s.b.len() {
        return None;
    }
    let definite = segs
        .iter()
        .all(|x| matches!(x, Seg::Child(_) | Seg::Index(_)));
    Some(Path { segs, definite })
}

struct Scanner<'b> {
    b: &'b [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn name(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(
                c,
                b'.' | b'[' | b']' | b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|'
            ) {
                break;
            }
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()
            .map(str::to_string)
    }

    fn segments(&mut self, in_filter: bool) -> Option<Vec<Seg>> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.b.get(self.i + 1) == Some(&b'.') => {
                    self.i += 2;
                    let inner = if self.peek() == Some(b'*') {
                        self.i += 1;
                        Seg::Wildcard
                    } else if self.peek() == Some(b'[') {
                        self.bracket()?
                    } else {
                        Seg::Child(self.name()?)
                    };
                    segs.push(Seg::Deep(Box::new(inner)));
                }
                Some(b'.') => {
                    self.i += 1;
                    if self.peek() == Some(b'*') {
                        self.i += 1;
                        segs.push(Seg::Wildcard);
                    } else {
                        segs.push(Seg::Child(self.name()?));
                    }
                }
                Some(b'[') => segs.push(self.bracket()?),
                None => return Some(segs),
                _ if in_filter => return Some(segs),
                _ => return None,
            }
        }
    }

    fn int(&mut self) -> Option<i64> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn quoted(&mut self) -> Option<String> {
        let q = self.peek()?;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            if c == b'\\' {
                out.push(self.peek()?);
                self.i += 1;
            } else if c == q {
                break;
            } else {
                out.push(c);
            }
        }
        String::from_utf8(out).ok()
    }

    fn bracket(&mut self) -> Option<Seg> {
        self.i += 1; // [
        self.ws();
        let seg = match self.peek()? {
            b'*' => {
                self.i += 1;
                Seg::Wildcard
            }
            b'?' => {
                self.i += 1;
                self.ws();
                if self.peek() != Some(b'(') {
                    return None;
                }
                self.i += 1;
                let f = self.filter_or()?;
                self.ws();
                if self.peek() != Some(b')') {
                    return None;
                }
                self.i += 1;
                Seg::Filter(f)
            }
            _ => {
                let mut items = Vec::new();
                loop {
                    self.ws();
                    let item = match self.peek()? {
                        b'\'' | b'"' => Seg::Child(self.quoted()?),
                        b':' => {
                            self.i += 1;
                            self.ws();
                            let end = if matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
                                Some(self.int()?)
                            } else {
                                None
                            };
                            Seg::Slice(None, end)
                        }
                        _ => {
                            let n = self.int()?;
                            self.ws();
                            if self.peek() == Some(b':') {
                                self.i += 1;
                                self.ws();
                                let end = if matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
                                    Some(self.int()?)
                                } else {
                                    None
                                };
                                Seg::Slice(Some(n), end)
                            } else {
                                Seg::Index(n)
                            }
                        }
                    };
                    items.push(item);
                    self.ws();
                    if self.peek() == Some(b',') {
                        self.i += 1;
                        continue;
                    }
                    break;
                }
                if items.len() == 1 {
                    items.pop()?
                } else {
                    Seg::Union(items)
                }
            }
        };
        self.ws();
        if self.peek() != Some(b']') {
            return None;
        }
        self.i += 1;
        Some(seg)
    }

    fn filter_or(&mut self) -> Option<Filter> {
        let mut l = self.filter_and()?;
        loop {
            self.ws();
            if self.b[self.i..].starts_with(b"||") {
                self.i += 2;
                let r = self.filter_and()?;
                l = Filter::Or(Box::new(l), Box::new(r));
            } else {
                return Some(l);
            }
        }
    }

    fn filter_and(&mut self) -> Option<Filter> {
        let mut l = self.filter_atom()?;
        loop {
            self.ws();
            if self.b[self.i..].starts_with(b"&&") {
                self.i += 2;
                let r = self.filter_atom()?;
                l = Filter::And(Box::new(l), Box::new(r));
            } else {
                return Some(l);
            }
        }
    }

    fn filter_atom(&mut self) -> Option<Filter> {
        self.ws();
        if self.peek() == Some(b'!') {
            self.i += 1;
            return Some(Filter::Not(Box::new(self.filter_atom()?)));
        }
        if self.peek() == Some(b'(') {
            self.i += 1;
            let f = self.filter_or()?;
            self.ws();
            if self.peek() != Some(b')') {
                return None;
            }
            self.i += 1;
            return Some(f);
        }
        let left = self.operand()?;
        self.ws();
        let ops: [&'static str; 6] = ["==", "!=", "<=", ">=", "<", ">"];
        for op in ops {
            if self.b[self.i..].starts_with(op.as_bytes()) {
                self.i += op.len();
                self.ws();
                let right = self.operand()?;
                return Some(Filter::Cmp(left, op, right));
            }
        }
        match left {
            Operand::Current(p) => Some(Filter::Exists(p)),
            Operand::Lit(_) => None,
        }
    }

    fn operand(&mut self) -> Option<Operand> {
        self.ws();
        match self.peek()? {
            b'@' => {
                self.i += 1;
                Some(Operand::Current(self.segments(true)?))
            }
            b'\'' | b'"' => Some(Operand::Lit(Json::String(self.quoted()?.into()))),
            _ => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if matches!(c, b' ' | b')' | b'&' | b'|' | b']') {
                        break;
                    }
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                Json::parse(t).ok().map(|d| Operand::Lit(d.into_owned()))
            }
        }
    }
}

impl Path {
    /// Evaluates the path against `root`, appending matches to `out`.
    pub(crate) fn eval<'j>(&self, root: &'j Json<'j>, out: &mut Vec<&'j Json<'j>>) {
        let mut cur = vec![root];
        apply(&self.segs, &mut cur, root);
        out.extend(cur);
    }
}

fn apply<'j>(segs: &[Seg], cur: &mut Vec<&'j Json<'j>>, root: &'j Json<'j>) {
    for seg in segs {
        let mut next = Vec::new();
        for v in cur.iter() {
            step(seg, v, &mut next, root);
        }
        *cur = next;
        if cur.is_empty() {
            return;
        }
    }
}

fn index<'j>(a: &'j [Json<'j>], i: i64) -> Option<&'j Json<'j>> {
    let idx = if i < 0 { a.len() as i64 + i } else { i };
    if idx < 0 {
        None
    } else {
        a.get(idx as usize)
    }
}

fn step<'j>(seg: &Seg, v: &'j Json<'j>, out: &mut Vec<&'j Json<'j>>, root: &'j Json<'j>) {
    match seg {
        Seg::Child(name) => {
            if let Some(x) = v.as_object().and_then(|o| o.get(name)) {
                out.push(x);
            }
        }
        Seg::Index(i) => {
            if let Some(x) = v.as_array().and_then(|a| index(a, *i)) {
                out.push(x);
            }
        }
        Seg::Union(items) => {
            for s in items {
                step(s, v, out, root);
            }
        }
        Seg::Slice(start, end) => {
            if let Some(a) = v.as_array() {
                let len = a.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let s = norm(start.unwrap_or(0));
                let e = norm(end.unwrap_or(len));
                let mut i = s;
                while i < e {
                    out.push(&a[i as usize]);
                    i += 1;
                }
            }
        }
        Seg::Wildcard => match v {
            Json::Array(a) => out.extend(a.iter()),
            Json::Object(o) => out.extend(o.values()),
            _ => {}
        },
        Seg::Deep(inner) => deep(inner, v, out, root),
        Seg::Filter(f) => match v {
            Json::Array(a) => out.extend(a.iter().filter(|x| test(f, x, root))),
            Json::Object(o) => out.extend(o.values().filter(|x| test(f, x, root))),
            _ => {}
        },
    }
}

fn deep<'j>(inner: &Seg, v: &'j Json<'j>, out: &mut Vec<&'j Json<'j>>, root: &'j Json<'j>) {
    step(inner, v, out, root);
    match v {
        Json::Array(a) => a.iter().for_each(|x| deep(inner, x, out, root)),
        Json::Object(o) => o.values().for_each(|x| deep(inner, x, out, root)),
        _ => {}
    }
}

fn resolve<'j>(op: &'j Operand, cur: &'j Json<'j>, root: &'j Json<'j>) -> Option<&'j Json<'j>> {
    match op {
        Operand::Lit(j) => Some(j),
        Operand::Current(segs) => {
            let mut c = vec![cur];
            apply(segs, &mut c, root);
            c.first().copied()
        }
    }
}

fn test(f: &Filter, cur: &Json<'_>, root: &Json<'_>) -> bool {
    match f {
        Filter::Exists(segs) => {
            let mut c = vec![cur];
            apply(segs, &mut c, root);
            !c.is_empty()
        }
        Filter::And(a, b) => test(a, cur, root) && test(b, cur, root),
        Filter::Or(a, b) => test(a, cur, root) || test(b, cur, root),
        Filter::Not(a) => !test(a, cur, root),
        Filter::Cmp(l, op, r) => {
            let (Some(a), Some(b)) = (resolve(l, cur, root), resolve(r, cur, root)) else {
                return false;
            };
            let ord = match (a, b) {
                (Json::Number(x), Json::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
                (Json::String(x), Json::String(y)) => Some(x.as_ref().cmp(y.as_ref())),
                _ => {
                    return match *op {
                        "==" => a == b,
                        "!=" => a != b,
                        _ => false,
                    }
                }
            };
            let Some(ord) = ord else { return false };
            use std::cmp::Ordering::*;
            match *op {
                "==" => ord == Equal,
                "!=" => ord != Equal,
                "<" => ord == Less,
                "<=" => ord != Greater,
                ">" => ord == Greater,
                ">=" => ord != Less,
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Evaluates `p` and returns the results as `serde_json` values.
    fn q(doc: &serde_json::Value, p: &str) -> Vec<serde_json::Value> {
        let doc = Json::from_serde(doc);
        let mut out = Vec::new();
        parse(p).expect("path parses").eval(&doc, &mut out);
        out.into_iter()
            .map(|d| {
                let mut s = String::new();
                d.write_compact(&mut s);
                serde_json::from_str(&s).expect("JSON")
            })
            .collect()
    }

    #[test]
    fn subset() {
        let d =
            json!({"a": {"b": [1, 2, {"c": 3}]}, "x": [{"p": 1, "n": "a"}, {"p": 5, "n": "b"}]});
        assert_eq!(q(&d, "$"), vec![d.clone()]);
        assert_eq!(q(&d, "$.a.b[1]"), vec![json!(2)]);
        assert_eq!(q(&d, "$['a']['b'][-1].c"), vec![json!(3)]);
        assert_eq!(q(&d, "$.x[*].n"), vec![json!("a"), json!("b")]);
        assert_eq!(q(&d, "$..c"), vec![json!(3)]);
        assert_eq!(q(&d, "$.x[?(@.p > 1)].n"), vec![json!("b")]);
        assert_eq!(q(&d, "$.x[?(@.n == 'a')].p"), vec![json!(1)]);
        assert_eq!(q(&d, "$.a.b[0:2]"), vec![json!(1), json!(2)]);
        assert_eq!(q(&d, "a.b[0]"), vec![json!(1)]);
        assert!(q(&d, "$.nope").is_empty());
        assert!(parse("$.x[?(@.p > 1)]").is_some_and(|p| !p.definite));
        assert!(parse("$.a.b[0]").is_some_and(|p| p.definite));
        assert!(parse("$[").is_none());
    }
}
