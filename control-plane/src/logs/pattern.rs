//! CloudWatch Logs filter patterns (`filterPattern` of FilterLogEvents), parsed once per
//! call into a [`Pattern`] and matched against each event's message.
//!
//! What is understood, as AWS documents it ("Filter pattern syntax"):
//!
//! - the empty pattern (or `""`) matches every event;
//! - **terms**, case-sensitive, each found anywhere in the message: `ERROR`, a quoted phrase
//!   `"Method completed"`, `-term` (excluded: the event must not contain it), `?term`
//!   (optional: an event needs at least one of the `?` terms, and every plain term);
//! - a **regular expression** between `%` signs, alone: `%4[0-9]{2}%`;
//! - **JSON patterns** on messages that are JSON objects: `{ SELECTOR OP VALUE }` with
//!   selectors `$.a.b`, `$.a[0]`, operators `=`, `!=`, `<`, `<=`, `>`, `>=`, values that
//!   are numbers, quoted strings, unquoted words (both with `*` wildcards) or `%regex%`;
//!   `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`; combined with `&&`, `||` and
//!   parentheses (`&&` binds tighter). A number compared with `=`, `!=` or an ordering
//!   operator also matches a string that holds a number (AWS's JSON access-log preset quotes
//!   `status`), and a wildcard matches a number by its text (`{ $.status = 5* }`).
//!
//! Space-delimited patterns (`[ip, user, ...]`) are refused with a message saying so.

use serde_json::Value;

/// Longest pattern accepted (the model's `FilterPattern` max).
pub const MAX_PATTERN: usize = 1024;

/// A compiled filter pattern.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Matches everything.
    All,
    /// Term matching.
    Terms(Terms),
    /// `%regex%` over the whole message.
    Regex(regex::Regex),
    /// A JSON pattern.
    Json(Expr),
}

/// The terms of an unstructured pattern.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    required: Vec<String>,
    optional: Vec<String>,
    excluded: Vec<String>,
}

/// A JSON pattern's expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// One comparison.
    Test(Selector, Test),
}

/// A step of a selector: `.name` or `[index]`.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// `$.a.b[0]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector(Vec<Step>);

/// What is tested of the selected value.
#[derive(Debug, Clone)]
pub enum Test {
    /// `= value` (`negate`: `!=`).
    Equals {
        /// `!=`.
        negate: bool,
        /// The value.
        value: Operand,
    },
    /// `<`, `<=`, `>`, `>=` a number.
    Order(Ordering, f64),
    /// `IS NULL`.
    IsNull,
    /// `IS TRUE` / `IS FALSE`.
    IsBool(bool),
    /// `NOT EXISTS`.
    NotExists,
}

/// An ordering operator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ordering {
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// The right-hand side of `=` / `!=`.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A number: equal numerically (a string holding a number counts).
    Number(f64),
    /// A string, perhaps with `*` wildcards (numbers and booleans compared by their text).
    Glob(String),
    /// `%regex%`.
    Regex(regex::Regex),
}

impl Pattern {
    /// Parses a filter pattern; the error says what is wrong and where.
    pub fn parse(src: &str) -> Result<Pattern, String> {
        if src.len() > MAX_PATTERN {
            return Err(format!(
                "the filter pattern is longer than {MAX_PATTERN} characters"
            ));
        }
        let s = src.trim();
        if s.is_empty() || s == "\"\"" {
            return Ok(Pattern::All);
        }
        if s.starts_with('{') {
            if !s.ends_with('}') {
                return Err("a JSON filter pattern must end with '}'".into());
            }
            let inner = &s[1..s.len() - 1];
            let tokens = lex(inner)?;
            if tokens.is_empty() {
                return Err("the JSON filter pattern between '{' and '}' is empty".into());
            }
            let mut p = Parser { tokens, pos: 0 };
            let e = p.or()?;
            if p.pos < p.tokens.len() {
                return Err(format!(
                    "unexpected {} in the JSON filter pattern",
                    p.tokens[p.pos].describe()
                ));
            }
            return Ok(Pattern::Json(e));
        }
        if s.starts_with('[') {
            return Err(
                "space-delimited filter patterns ([w1, w2, ...]) are not supported by this gateway: use terms or a JSON pattern"
                    .into(),
            );
        }
        if s.len() >= 2 && s.starts_with('%') && s.ends_with('%') {
            let re = regex::Regex::new(&s[1..s.len() - 1])
                .map_err(|e| format!("the regular expression between '%' is invalid: {e}"))?;
            return Ok(Pattern::Regex(re));
        }
        terms(s).map(Pattern::Terms)
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Regex(re) => re.is_match(message),
            Pattern::Terms(t) => {
                t.required.iter().all(|w| message.contains(w.as_str()))
                    && !t.excluded.iter().any(|w| message.contains(w.as_str()))
                    && (t.optional.is_empty()
                        || t.optional.iter().any(|w| message.contains(w.as_str())))
            }
            Pattern::Json(e) => {
                let Ok(v) = serde_json::from_str::<Value>(message) else {
                    return false;
                };
                eval(e, &v)
            }
        }
    }
}

fn terms(s: &str) -> Result<Terms, String> {
    let mut t = Terms::default();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let mut kind = 0; // 0 required, 1 optional, 2 excluded
        if chars[i] == '?' {
            kind = 1;
            i += 1;
        } else if chars[i] == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace() {
            kind = 2;
            i += 1;
        }
        let word = if i < chars.len() && chars[i] == '"' {
            let (w, next) = quoted(&chars, i)?;
            i = next;
            w
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '"' {
                    return Err(format!(
                        "a quote in the middle of a term (character {}): quote the whole term",
                        i + 1
                    ));
                }
                i += 1;
            }
            chars[start..i].iter().collect()
        };
        if word.is_empty() {
            return Err(format!(
                "an empty term at character {}: '?' and '-' need a term after them",
                i
            ));
        }
        match kind {
            0 => t.required.push(word),
            1 => t.optional.push(word),
            _ => t.excluded.push(word),
        }
    }
    Ok(t)
}

/// Reads a quoted string starting at `chars[i] == '"'`; `\"` and `\\` escape.
fn quoted(chars: &[char], mut i: usize) -> Result<(String, usize), String> {
    let start = i;
    i += 1;
    let mut out = String::new();
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '"' => return Ok((out, i + 1)),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(format!(
        "the quoted string starting at character {} is not closed",
        start + 1
    ))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Selector(Selector),
    Op(&'static str),
    And,
    Or,
    Open,
    Close,
    Quoted(String),
    Word(String),
    Regex(String),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Selector(_) => "a selector".into(),
            Tok::Op(o) => format!("'{o}'"),
            Tok::And => "'&&'".into(),
            Tok::Or => "'||'".into(),
            Tok::Open => "'('".into(),
            Tok::Close => "')'".into(),
            Tok::Quoted(s) => format!("\"{s}\""),
            Tok::Word(w) => format!("'{w}'"),
            Tok::Regex(r) => format!("%{r}%"),
        }
    }
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '=' | '!' | '<' | '>' | '&' | '|' | '"')
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '&' if next == Some('&') => {
                out.push(Tok::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                out.push(Tok::Or);
                i += 2;
            }
            '!' if next == Some('=') => {
                out.push(Tok::Op("!="));
                i += 2;
            }
            '<' | '>' => {
                let eq = next == Some('=');
                out.push(Tok::Op(match (c, eq) {
                    ('<', true) => "<=",
                    ('<', false) => "<",
                    ('>', true) => ">=",
                    _ => ">",
                }));
                i += if eq { 2 } else { 1 };
            }
            '=' => {
                out.push(Tok::Op("="));
                i += 1;
            }
            '"' => {
                let (w, n) = quoted(&chars, i)?;
                out.push(Tok::Quoted(w));
                i = n;
            }
            '%' => {
                let start = i + 1;
                let end = chars[start..]
                    .iter()
                    .position(|&c| c == '%')
                    .map(|p| start + p)
                    .ok_or_else(|| {
                        format!(
                            "the regular expression at character {} is not closed with '%'",
                            i + 1
                        )
                    })?;
                out.push(Tok::Regex(chars[start..end].iter().collect()));
                i = end + 1;
            }
            '$' => {
                let start = i;
                i += 1;
                let mut steps = Vec::new();
                while i < chars.len() {
                    match chars[i] {
                        '.' => {
                            i += 1;
                            let s = i;
                            while i < chars.len()
                                && is_word_char(chars[i])
                                && chars[i] != '.'
                                && chars[i] != '['
                            {
                                i += 1;
                            }
                            if s == i {
                                return Err(format!(
                                    "the selector at character {} has an empty name after '.'",
                                    start + 1
                                ));
                            }
                            steps.push(Step::Key(chars[s..i].iter().collect()));
                        }
                        '[' => {
                            let s = i + 1;
                            let e = chars[s..]
                                .iter()
                                .position(|&c| c == ']')
                                .map(|p| s + p)
                                .ok_or_else(|| {
                                    format!(
                                        "the selector at character {} has an unclosed '['",
                                        start + 1
                                    )
                                })?;
                            let idx: String = chars[s..e].iter().collect();
                            let n = idx.trim().parse::<usize>().map_err(|_| {
                                format!("the selector at character {}: array index '{idx}' is not a number", start + 1)
                            })?;
                            steps.push(Step::Index(n));
                            i = e + 1;
                        }
                        _ => break,
                    }
                }
                if steps.is_empty() {
                    return Err(format!(
                        "the selector at character {} must name a field: $.name",
                        start + 1
                    ));
                }
                out.push(Tok::Selector(Selector(steps)));
            }
            c if is_word_char(c) => {
                let s = i;
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                out.push(Tok::Word(chars[s..i].iter().collect()));
            }
            other => {
                return Err(format!(
                    "unexpected '{other}' at character {} of the JSON filter pattern",
                    i + 1
                ))
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    Some(t) => Err(format!("expected ')' but found {}", t.describe())),
                    None => Err("a '(' is not closed".into()),
                }
            }
            Some(Tok::Selector(sel)) => self.test(sel),
            Some(t) => Err(format!(
                "expected a selector ($.field) or '(' but found {}",
                t.describe()
            )),
            None => Err("the JSON filter pattern ends where a comparison was expected".into()),
        }
    }

    fn test(&mut self, sel: Selector) -> Result<Expr, String> {
        let test = match self.next() {
            Some(Tok::Op(op)) => {
                let value = self
                    .next()
                    .ok_or_else(|| format!("'{op}' needs a value after it"))?;
                match op {
                    "=" | "!=" => Test::Equals {
                        negate: op == "!=",
                        value: operand(value)?,
                    },
                    _ => {
                        let n = match &value {
                            Tok::Word(w) => w.parse::<f64>().ok().filter(|n| n.is_finite()),
                            _ => None,
                        }
                        .ok_or_else(|| {
                            format!("'{op}' compares with a number, not {}", value.describe())
                        })?;
                        let ord = match op {
                            "<" => Ordering::Lt,
                            "<=" => Ordering::Le,
                            ">" => Ordering::Gt,
                            _ => Ordering::Ge,
                        };
                        Test::Order(ord, n)
                    }
                }
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("NULL") => Test::IsNull,
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("TRUE") => Test::IsBool(true),
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("FALSE") => Test::IsBool(false),
                _ => return Err("IS must be followed by NULL, TRUE or FALSE".into()),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("EXISTS") => Test::NotExists,
                _ => return Err("NOT must be followed by EXISTS".into()),
            },
            Some(t) => {
                return Err(format!(
                    "expected an operator (=, !=, <, <=, >, >=, IS, NOT EXISTS) after the selector but found {}",
                    t.describe()
                ))
            }
            None => {
                return Err(
                    "a selector needs an operator and a value (for example $.status = 200)".into(),
                )
            }
        };
        Ok(Expr::Test(sel, test))
    }
}

fn operand(t: Tok) -> Result<Operand, String> {
    match t {
        Tok::Quoted(s) => Ok(Operand::Glob(s)),
        Tok::Word(w) => match w.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Operand::Number(n)),
            _ => Ok(Operand::Glob(w)),
        },
        Tok::Regex(r) => regex::Regex::new(&r)
            .map(Operand::Regex)
            .map_err(|e| format!("the regular expression %{r}% is invalid: {e}")),
        other => Err(format!("expected a value but found {}", other.describe())),
    }
}

fn select<'a>(v: &'a Value, sel: &Selector) -> Option<&'a Value> {
    let mut cur = v;
    for step in &sel.0 {
        cur = match step {
            Step::Key(k) => cur.get(k.as_str())?,
            Step::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

/// A scalar's text: strings as they are, numbers and booleans as JSON writes them.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn eval(e: &Expr, v: &Value) -> bool {
    match e {
        Expr::And(a, b) => eval(a, v) && eval(b, v),
        Expr::Or(a, b) => eval(a, v) || eval(b, v),
        Expr::Test(sel, test) => {
            let found = select(v, sel);
            match test {
                Test::NotExists => found.is_none(),
                Test::IsNull => found.is_some_and(Value::is_null),
                Test::IsBool(b) => found.and_then(Value::as_bool) == Some(*b),
                Test::Order(ord, n) => found.and_then(number).is_some_and(|x| match ord {
                    Ordering::Lt => x < *n,
                    Ordering::Le => x <= *n,
                    Ordering::Gt => x > *n,
                    Ordering::Ge => x >= *n,
                }),
                Test::Equals { negate, value } => {
                    let Some(found) = found else { return false };
                    let hit = match value {
                        Operand::Number(n) => match number(found) {
                            Some(x) => x == *n,
                            None => return false,
                        },
                        Operand::Glob(g) => match text(found) {
                            Some(t) => glob(g, &t),
                            None => return false,
                        },
                        Operand::Regex(re) => match text(found) {
                            Some(t) => re.is_match(&t),
                            None => return false,
                        },
                    };
                    hit != *negate
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, msg: &str) -> bool {
        Pattern::parse(p).unwrap().matches(msg)
    }

    #[test]
    fn empty_matches_everything() {
        assert!(m("", "anything"));
        assert!(m("  ", ""));
        assert!(m("\"\"", "x"));
    }

    #[test]
    fn terms_phrases_exclusions_and_optionals() {
        let lines = [
            "[ERROR 400] BAD REQUEST",
            "[ERROR 401] UNAUTHORIZED REQUEST",
            "[ERROR 419] MISSING ARGUMENTS",
            "[WARN 420] INVALID ARGUMENTS",
            "[INFO 200] Method completed with status: 200",
        ];
        let hits = |p: &str| -> Vec<usize> {
            let pat = Pattern::parse(p).unwrap();
            (0..lines.len())
                .filter(|&i| pat.matches(lines[i]))
                .collect()
        };
        assert_eq!(hits("ERROR"), vec![0, 1, 2]);
        assert_eq!(hits("ERROR ARGUMENTS"), vec![2]);
        assert_eq!(hits("\"ERROR\" \"ARGUMENTS\""), vec![2]);
        assert_eq!(hits("\"Method completed\""), vec![4]);
        assert_eq!(hits("ERROR -ARGUMENTS"), vec![0, 1]);
        assert_eq!(hits("?ERROR ?WARN"), vec![0, 1, 2, 3]);
        assert_eq!(hits("ARGUMENTS ?WARN ?INFO"), vec![3]);
        assert_eq!(hits("-\"BAD REQUEST\" REQUEST"), vec![1]);
        // Case-sensitive.
        assert_eq!(hits("error"), Vec::<usize>::new());
        assert_eq!(hits("%4[0-9]{2}%"), vec![0, 1, 2, 3]);
    }

    #[test]
    fn json_patterns() {
        let ok = r#"{"requestId":"r1","ip":"10.0.0.7","status":"200","latency":150,"user":{"name":"ann","tags":["a","b"]},"gone":null,"flag":true}"#;
        let err =
            r#"{"requestId":"r2","ip":"192.168.1.1","status":"503","latency":"20","flag":false}"#;
        let both = |p: &str| (m(p, ok), m(p, err));
        assert_eq!(both("{ $.status = 5* }"), (false, true));
        assert_eq!(both("{$.status=200}"), (true, false));
        assert_eq!(both("{ $.status = \"200\" }"), (true, false));
        assert_eq!(both("{ $.status != 200 }"), (false, true));
        assert_eq!(both("{ $.status >= 500 }"), (false, true));
        assert_eq!(both("{ $.latency > 100 }"), (true, false));
        assert_eq!(both("{ $.latency < 100 }"), (false, true));
        assert_eq!(
            both("{ $.latency > 100 && $.ip = \"10.*\" }"),
            (true, false)
        );
        assert_eq!(both("{ $.ip = 10.* || $.status = 503 }"), (true, true));
        assert_eq!(
            both("{ ($.status = 200 || $.status = 503) && $.ip != \"10.*\" }"),
            (false, true)
        );
        assert_eq!(both("{ $.user.name = \"ann\" }"), (true, false));
        assert_eq!(both("{ $.user.tags[1] = b }"), (true, false));
        assert_eq!(both("{ $.gone IS NULL }"), (true, false));
        assert_eq!(both("{ $.gone NOT EXISTS }"), (false, true));
        assert_eq!(both("{ $.flag IS TRUE }"), (true, false));
        assert_eq!(both("{ $.flag is false }"), (false, true));
        assert_eq!(both("{ $.requestId = * }"), (true, true));
        assert_eq!(both("{ $.ip = %^192\\.168% }"), (false, true));
        // A missing field never equals and never differs.
        assert_eq!(both("{ $.missing != 1 }"), (false, false));
        // Not JSON: no match.
        assert!(!m("{ $.status = 200 }", "status 200"));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let msg = r#"{"a":1,"b":2,"c":3}"#;
        assert!(m("{ $.a = 9 && $.b = 9 || $.c = 3 }", msg));
        assert!(!m("{ $.a = 9 && ($.b = 9 || $.c = 3) }", msg));
    }

    #[test]
    fn invalid_patterns_say_why() {
        let cases = [
            ("{ $.status = 200", "end with '}'"),
            ("{ }", "empty"),
            ("{ $.status 200 }", "expected an operator"),
            ("{ $.status = }", "needs a value"),
            ("{ $.latency > abc }", "compares with a number"),
            ("{ ($.a = 1 }", "not closed"),
            ("{ $.a = 1 && }", "ends where a comparison"),
            ("{ $. = 1 }", "empty name"),
            ("{ $ = 1 }", "must name a field"),
            ("{ $.a[x] = 1 }", "not a number"),
            ("{ $.a = 1 $.b = 2 }", "unexpected"),
            ("{ $.a IS MAYBE }", "NULL, TRUE or FALSE"),
            ("{ $.a = %[% }", "regular expression"),
            ("[ip, user]", "space-delimited"),
            ("\"unclosed", "not closed"),
            ("ab\"c", "quote"),
            ("%[%", "regular expression"),
        ];
        for (p, says) in cases {
            let err = Pattern::parse(p).unwrap_err();
            assert!(err.contains(says), "{p:?}: {err:?} should say {says:?}");
        }
        assert!(Pattern::parse(&"a".repeat(MAX_PATTERN + 1)).is_err());
    }

    #[test]
    fn glob_wildcards() {
        assert!(glob("5*", "503"));
        assert!(glob("*", ""));
        assert!(glob("a*c*e", "abcde"));
        assert!(!glob("a*c", "abd"));
        assert!(glob("10.*", "10.0.0.1"));
        assert!(!glob("10.*", "110.0.0.1"));
    }
}
