//! The Java methods and bean properties templates call on strings, numbers,
//! lists, maps and map entries, with Java's semantics (and Java's
//! exceptions, which become render errors). Unknown methods yield null, as
//! in Velocity, so the reference renders as its source text.

use std::rc::Rc;

use crate::doc::Doc as Json;

use crate::value::{list_items, Value};

/// Why a method failed (a Java exception); the caller adds the position.
pub(crate) type MethodResult<'a> = Result<Value<'a>, String>;

/// Upper bound on strings built by methods, checked by the caller too.
pub(crate) struct Bounds {
    pub(crate) max_string: usize,
    pub(crate) max_collection: usize,
}

fn arg_str<'v>(args: &'v [Value], i: usize, scratch: &'v mut String) -> Option<&'v str> {
    match args.get(i)? {
        Value::Str(s) => Some(s),
        Value::String(s) => Some(s),
        Value::Null => None,
        v => {
            scratch.clear();
            v.write_java(scratch);
            Some(scratch.as_str())
        }
    }
}

/// The argument for a Java `int` parameter. Only an integer fits: for null,
/// a float or a string Java has no applicable method, so Velocity treats the
/// call as an unknown method (`None`, rendering the reference literally).
fn arg_int(args: &[Value], i: usize) -> Option<i64> {
    match args.get(i) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

fn bool_v<'a>(b: bool) -> MethodResult<'a> {
    Ok(Value::Bool(b))
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Byte offset of char index `i` (which may equal the length).
fn byte_at(s: &str, i: usize) -> Option<usize> {
    if i == 0 {
        return Some(0);
    }
    s.char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(s.len()))
        .nth(i)
}

/// Converts a Java regex replacement (`$1`, `\$`) to the regex crate's.
pub(crate) fn java_replacement(r: &str) -> String {
    let mut out = String::with_capacity(r.len() + 4);
    let mut it = r.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                if let Some(n) = it.next() {
                    if n == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(n);
                    }
                }
            }
            '$' => {
                let mut digits = String::new();
                while let Some(d) = it.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    it.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str("${");
                    out.push_str(&digits);
                    out.push('}');
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Methods on strings. `regex` compiles (and caches) a Java-style pattern.
pub(crate) fn string_method<'a>(
    s: &str,
    name: &str,
    args: &[Value<'a>],
    regex: &mut dyn FnMut(&str) -> Result<Rc<regex::Regex>, String>,
    bounds: &Bounds,
) -> Option<MethodResult<'a>> {
    let mut s1 = String::new();
    let mut s2 = String::new();
    let r = match (name, args.len()) {
        ("length", 0) => Ok(Value::Int(char_len(s) as i64)),
        ("isEmpty", 0) => bool_v(s.is_empty()),
        ("toString", 0) | ("trim", 0) | ("toLowerCase", 0) | ("toUpperCase", 0) | ("intern", 0) => {
            let out = match name {
                "trim" => s.trim_matches(|c: char| c <= ' ').to_string(),
                "toLowerCase" => s.to_lowercase(),
                "toUpperCase" => s.to_uppercase(),
                _ => s.to_string(),
            };
            Ok(Value::string(out))
        }
        ("contains", 1) => match arg_str(args, 0, &mut s1) {
            Some(x) => bool_v(s.contains(x)),
            None => Err("NullPointerException".into()),
        },
        ("startsWith", 1) | ("endsWith", 1) => match arg_str(args, 0, &mut s1) {
            Some(x) => bool_v(if name == "startsWith" {
                s.starts_with(x)
            } else {
                s.ends_with(x)
            }),
            None => Err("NullPointerException".into()),
        },
        ("equals", 1) => bool_v(args[0].as_str() == Some(s)),
        ("equalsIgnoreCase", 1) => {
            bool_v(args[0].as_str().map(|x| x.to_lowercase()) == Some(s.to_lowercase()))
        }
        ("compareTo", 1) => match args[0].as_str() {
            Some(x) => {
                let a: Vec<u16> = s.encode_utf16().collect();
                let b: Vec<u16> = x.encode_utf16().collect();
                let n = a.len().min(b.len());
                let mut res = a.len() as i64 - b.len() as i64;
                for k in 0..n {
                    if a[k] != b[k] {
                        res = a[k] as i64 - b[k] as i64;
                        break;
                    }
                }
                Ok(Value::Int(res))
            }
            None => Err("NullPointerException".into()),
        },
        ("indexOf", 1) | ("lastIndexOf", 1) | ("indexOf", 2) => {
            let Some(x) = arg_str(args, 0, &mut s1) else {
                return Some(Err("NullPointerException".into()));
            };
            let from = if args.len() == 2 {
                arg_int(args, 1)?.max(0) as usize
            } else {
                0
            };
            let found = if name == "lastIndexOf" {
                s.rfind(x)
            } else {
                byte_at(s, from).and_then(|b| s[b..].find(x).map(|i| i + b))
            };
            Ok(Value::Int(
                found.map(|b| char_len(&s[..b]) as i64).unwrap_or(-1),
            ))
        }
        ("substring", 1) | ("substring", 2) => {
            let len = char_len(s) as i64;
            let b = arg_int(args, 0)?;
            let e = if args.len() == 2 {
                arg_int(args, 1)?
            } else {
                len
            };
            if b < 0 || e > len || b > e {
                Err(format!(
                    "StringIndexOutOfBoundsException: begin {b}, end {e}, length {len}"
                ))
            } else {
                let (bb, eb) = (byte_at(s, b as usize), byte_at(s, e as usize));
                match (bb, eb) {
                    (Some(x), Some(y)) => Ok(Value::string(s[x..y].to_string())),
                    _ => Err("StringIndexOutOfBoundsException".into()),
                }
            }
        }
        ("charAt", 1) => {
            let i = arg_int(args, 0)?;
            match (i >= 0).then(|| s.chars().nth(i as usize)).flatten() {
                Some(c) => Ok(Value::string(c.to_string())),
                None => Err(format!("StringIndexOutOfBoundsException: index {i}")),
            }
        }
        ("concat", 1) => match arg_str(args, 0, &mut s1) {
            Some(x) => checked(format!("{s}{x}"), bounds),
            None => Err("NullPointerException".into()),
        },
        ("replace", 2) => {
            let (Some(a), Some(b)) = (arg_str(args, 0, &mut s1), arg_str(args, 1, &mut s2)) else {
                return Some(Err("NullPointerException".into()));
            };
            if a.is_empty() {
                let est = s.len() + (char_len(s) + 1) * b.len();
                if est > bounds.max_string {
                    return Some(Err("string too large".into()));
                }
                let mut out = String::with_capacity(est);
                out.push_str(b);
                for c in s.chars() {
                    out.push(c);
                    out.push_str(b);
                }
                Ok(Value::string(out))
            } else {
                let est = s.len() / a.len() * b.len() + s.len();
                if est > bounds.max_string {
                    return Some(Err("string too large".into()));
                }
                Ok(Value::string(s.replace(a, b)))
            }
        }
        ("replaceAll", 2) | ("replaceFirst", 2) => {
            let (Some(a), Some(b)) = (arg_str(args, 0, &mut s1), arg_str(args, 1, &mut s2)) else {
                return Some(Err("NullPointerException".into()));
            };
            let re = match regex(a) {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            let rep = java_replacement(b);
            let out = if name == "replaceAll" {
                re.replace_all(s, rep.as_str()).into_owned()
            } else {
                re.replace(s, rep.as_str()).into_owned()
            };
            checked(out, bounds)
        }
        ("matches", 1) => {
            let Some(a) = arg_str(args, 0, &mut s1) else {
                return Some(Err("NullPointerException".into()));
            };
            let anchored = format!("^(?:{a})$");
            match regex(&anchored) {
                Ok(r) => bool_v(r.is_match(s)),
                Err(e) => Err(e),
            }
        }
        ("split", 1) | ("split", 2) => {
            let Some(a) = arg_str(args, 0, &mut s1) else {
                return Some(Err("NullPointerException".into()));
            };
            let limit = if args.len() == 2 {
                arg_int(args, 1)?
            } else {
                0
            };
            let re = match regex(a) {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            Ok(Value::new_list(java_split(s, &re, limit, bounds)))
        }
        _ => return None,
    };
    Some(r)
}

fn checked<'a>(s: String, bounds: &Bounds) -> MethodResult<'a> {
    if s.len() > bounds.max_string {
        Err("string too large".into())
    } else {
        Ok(Value::string(s))
    }
}

/// Java's `String.split(regex, limit)`.
fn java_split<'a>(s: &str, re: &regex::Regex, limit: i64, bounds: &Bounds) -> Vec<Value<'a>> {
    let mut parts: Vec<String> = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if limit > 0 && parts.len() as i64 >= limit - 1 {
            break;
        }
        if parts.len() >= bounds.max_collection {
            break;
        }
        if m.end() == 0 {
            continue; // a zero-width match at the start yields no leading empty string
        }
        if m.start() == m.end() && m.start() >= s.len() {
            break;
        }
        parts.push(s[last..m.start()].to_string());
        last = m.end();
    }
    parts.push(s[last..].to_string());
    if limit == 0 {
        while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        if parts.len() == 1 && parts[0].is_empty() && !s.is_empty() {
            parts.clear();
        }
    }
    parts.into_iter().map(Value::string).collect()
}

/// Methods on numbers and booleans, including the static parse helpers
/// (`$Integer.parseInt`-style calls work on any integer value).
pub(crate) fn number_method<'a>(
    v: &Value<'a>,
    name: &str,
    args: &[Value<'a>],
) -> Option<MethodResult<'a>> {
    let mut s1 = String::new();
    let r = match (name, args.len()) {
        ("toString", 0) => Ok(Value::string(v.to_java_string())),
        ("intValue", 0) | ("longValue", 0) => v.as_f64().map(|f| {
            Ok(Value::Int(match v {
                Value::Int(i) => *i,
                _ => f as i64,
            }))
        })?,
        ("doubleValue", 0) | ("floatValue", 0) => v.as_f64().map(|f| Ok(Value::Float(f)))?,
        ("booleanValue", 0) => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            _ => return None,
        },
        ("equals", 1) => Ok(Value::Bool(v.java_eq(&args[0], false))),
        ("compareTo", 1) => match (v.as_f64(), args[0].as_f64()) {
            (Some(a), Some(b)) => Ok(Value::Int(a.partial_cmp(&b).map(|o| o as i64).unwrap_or(0))),
            _ => Err("ClassCastException".into()),
        },
        ("parseInt", 1) | ("valueOf", 1) | ("parseLong", 1) if !matches!(v, Value::Float(_)) => {
            match arg_str(args, 0, &mut s1) {
                Some(x) if matches!(v, Value::Bool(_)) => {
                    Ok(Value::Bool(x.eq_ignore_ascii_case("true")))
                }
                Some(x) => x
                    .parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| format!("NumberFormatException: For input string: \"{x}\"")),
                None => Err("NumberFormatException: null".into()),
            }
        }
        ("parseBoolean", 1) => Ok(Value::Bool(
            arg_str(args, 0, &mut s1).is_some_and(|x| x.eq_ignore_ascii_case("true")),
        )),
        ("parseDouble", 1) | ("parseFloat", 1) | ("valueOf", 1) => {
            match arg_str(args, 0, &mut s1) {
                Some(x) => x
                    .trim()
                    .parse::<f64>()
                    .map(Value::Float)
                    .map_err(|_| format!("NumberFormatException: For input string: \"{x}\"")),
                None => Err("NullPointerException".into()),
            }
        }
        _ => return None,
    };
    Some(r)
}

fn index_of<'a>(items: &[Value<'a>], x: &Value<'a>) -> i64 {
    items
        .iter()
        .position(|v| v.java_eq(x, false))
        .map(|p| p as i64)
        .unwrap_or(-1)
}

/// Methods on lists (owned lists are mutable; JSON arrays are read-only).
pub(crate) fn list_method<'a>(
    v: &Value<'a>,
    name: &str,
    args: &[Value<'a>],
    bounds: &Bounds,
) -> Option<MethodResult<'a>> {
    let len = match v {
        Value::List(l) => l.borrow().len(),
        Value::Json(Json::Array(a)) => a.len(),
        _ => return None,
    };
    let get = |i: i64| -> MethodResult<'a> {
        if i < 0 || i as usize >= len {
            return Err(format!(
                "IndexOutOfBoundsException: Index {i} out of bounds for length {len}"
            ));
        }
        Ok(match v {
            Value::List(l) => l.borrow()[i as usize].clone(),
            Value::Json(Json::Array(a)) => Value::from_json(&a[i as usize]),
            _ => Value::Null,
        })
    };
    let r = match (name, args.len()) {
        ("size", 0) => Ok(Value::Int(len as i64)),
        ("isEmpty", 0) => Ok(Value::Bool(len == 0)),
        ("get", 1) => get(arg_int(args, 0)?),
        ("contains", 1) => Ok(Value::Bool(index_of(&list_items(v), &args[0]) >= 0)),
        ("indexOf", 1) => Ok(Value::Int(index_of(&list_items(v), &args[0]))),
        ("toString", 0) => Ok(Value::string(v.to_java_string())),
        ("equals", 1) => Ok(Value::Bool(v.java_eq(&args[0], false))),
        ("subList", 2) => match (arg_int(args, 0)?, arg_int(args, 1)?) {
            (a, b) if a >= 0 && b as usize <= len && a <= b => Ok(Value::new_list(
                list_items(v)[a as usize..b as usize].to_vec(),
            )),
            _ => Err("IndexOutOfBoundsException".into()),
        },
        _ => {
            let Value::List(l) = v else { return None };
            match (name, args.len()) {
                ("add", 1) | ("add", 2) | ("addAll", 1) if len >= bounds.max_collection => {
                    Err("collection too large".into())
                }
                ("add", 1) => {
                    l.borrow_mut().push(args[0].clone());
                    Ok(Value::Bool(true))
                }
                ("add", 2) => match arg_int(args, 0)? {
                    i if i >= 0 && i as usize <= len => {
                        l.borrow_mut().insert(i as usize, args[1].clone());
                        Ok(Value::Null)
                    }
                    _ => Err("IndexOutOfBoundsException".into()),
                },
                ("addAll", 1) => {
                    let items = list_items(&args[0]);
                    if len + items.len() > bounds.max_collection {
                        return Some(Err("collection too large".into()));
                    }
                    l.borrow_mut().extend(items);
                    Ok(Value::Bool(true))
                }
                ("set", 2) => match arg_int(args, 0)? {
                    i if i >= 0 && (i as usize) < len => {
                        let old =
                            std::mem::replace(&mut l.borrow_mut()[i as usize], args[1].clone());
                        Ok(old)
                    }
                    _ => Err("IndexOutOfBoundsException".into()),
                },
                ("remove", 1) => match &args[0] {
                    Value::Int(i) if *i >= 0 && (*i as usize) < len => {
                        Ok(l.borrow_mut().remove(*i as usize))
                    }
                    Value::Int(_) => Err("IndexOutOfBoundsException".into()),
                    x => {
                        let pos = index_of(&l.borrow(), x);
                        if pos >= 0 {
                            l.borrow_mut().remove(pos as usize);
                        }
                        Ok(Value::Bool(pos >= 0))
                    }
                },
                ("clear", 0) => {
                    l.borrow_mut().clear();
                    Ok(Value::Null)
                }
                _ => return None,
            }
        }
    };
    Some(r)
}

/// Looks a key up in a map-like value without allocating.
pub(crate) fn map_get<'a>(v: &Value<'a>, key: &Value<'a>) -> Value<'a> {
    match v {
        Value::Map(m) => m
            .borrow()
            .iter()
            .find(|(k, _)| k.java_eq(key, false))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null),
        Value::Json(Json::Object(o)) => match key.as_str() {
            Some(k) => o.get(k).map(Value::from_json).unwrap_or(Value::Null),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

/// Looks a string key up (property access) without allocating.
pub(crate) fn map_get_str<'a>(v: &Value<'a>, key: &str) -> Value<'a> {
    match v {
        Value::Map(m) => m
            .borrow()
            .iter()
            .find(|(k, _)| match k.as_str() {
                Some(s) => s == key,
                None => !k.is_null() && k.to_java_string() == key,
            })
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null),
        Value::Json(Json::Object(o)) => o.get(key).map(Value::from_json).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Methods on maps (owned maps are mutable; JSON objects are read-only).
pub(crate) fn map_method<'a>(
    v: &Value<'a>,
    name: &str,
    args: &[Value<'a>],
    bounds: &Bounds,
) -> Option<MethodResult<'a>> {
    let entries: Vec<(Value<'a>, Value<'a>)> = match (v, name) {
        (_, "get") | (_, "put") | (_, "containsKey") | (_, "remove") => Vec::new(),
        (Value::Map(m), _) => m.borrow().clone(),
        (Value::Json(Json::Object(o)), _) => o
            .iter()
            .map(|(k, x)| (Value::Str(k), Value::from_json(x)))
            .collect(),
        _ => return None,
    };
    let r = match (name, args.len()) {
        ("get", 1) => Ok(map_get(v, &args[0])),
        ("containsKey", 1) => Ok(Value::Bool(match v {
            Value::Map(m) => m.borrow().iter().any(|(k, _)| k.java_eq(&args[0], false)),
            Value::Json(Json::Object(o)) => args[0].as_str().is_some_and(|k| o.contains_key(k)),
            _ => false,
        })),
        ("containsValue", 1) => Ok(Value::Bool(
            entries.iter().any(|(_, x)| x.java_eq(&args[0], false)),
        )),
        ("size", 0) => Ok(Value::Int(entries.len() as i64)),
        ("isEmpty", 0) => Ok(Value::Bool(entries.is_empty())),
        ("keySet", 0) => Ok(Value::new_list(
            entries.into_iter().map(|(k, _)| k).collect(),
        )),
        ("values", 0) => Ok(Value::new_list(
            entries.into_iter().map(|(_, x)| x).collect(),
        )),
        ("entrySet", 0) => Ok(Value::new_list(
            entries
                .into_iter()
                .map(|e| Value::Entry(Rc::new(e)))
                .collect(),
        )),
        ("toString", 0) => Ok(Value::string(v.to_java_string())),
        ("equals", 1) => Ok(Value::Bool(v.java_eq(&args[0], false))),
        _ => {
            let Value::Map(m) = v else { return None };
            match (name, args.len()) {
                ("put", 2) => Some(map_put(m, args[0].clone(), args[1].clone(), bounds))?,
                ("putAll", 1) => {
                    let other = match &args[0] {
                        Value::Map(o) => o.borrow().clone(),
                        Value::Json(Json::Object(o)) => o
                            .iter()
                            .map(|(k, x)| (Value::Str(k), Value::from_json(x)))
                            .collect(),
                        _ => return Some(Err("ClassCastException".into())),
                    };
                    for (k, x) in other {
                        if let Err(e) = map_put(m, k, x, bounds) {
                            return Some(Err(e));
                        }
                    }
                    Ok(Value::Null)
                }
                ("remove", 1) => {
                    let mut mm = m.borrow_mut();
                    match mm.iter().position(|(k, _)| k.java_eq(&args[0], false)) {
                        Some(p) => Ok(mm.remove(p).1),
                        None => Ok(Value::Null),
                    }
                }
                ("clear", 0) => {
                    m.borrow_mut().clear();
                    Ok(Value::Null)
                }
                _ => return None,
            }
        }
    };
    Some(r)
}

/// `Map.put`: returns the previous value (or null).
pub(crate) fn map_put<'a>(
    m: &std::cell::RefCell<crate::value::MapData<'a>>,
    k: Value<'a>,
    x: Value<'a>,
    bounds: &Bounds,
) -> MethodResult<'a> {
    let mut mm = m.borrow_mut();
    if let Some(slot) = mm.iter_mut().find(|(key, _)| key.java_eq(&k, false)) {
        return Ok(std::mem::replace(&mut slot.1, x));
    }
    if mm.len() >= bounds.max_collection {
        return Err("collection too large".into());
    }
    mm.push((k, x));
    Ok(Value::Null)
}
