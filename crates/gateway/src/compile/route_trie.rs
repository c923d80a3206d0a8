//! The per-stage route trie: resource paths compiled into a tree of path segments.
//!
//! Matching follows API Gateway: at each segment a literal child beats a `{param}` child,
//! which beats a `{proxy+}` child (greedy: one or more remaining segments). When a more
//! specific branch dead-ends deeper down, matching backtracks to the next candidate, so
//! `/{proxy+}` still catches `/a/b` even if `/a` exists without a `/a/b`.
//! Captures are byte ranges into the request path: no allocation per segment.

use std::borrow::Cow;

use super::mapping::decode;

/// Why a resource path cannot be added to a stage's trie.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    /// Two resources compile to the same route.
    #[error("duplicate route {0:?}")]
    Duplicate(String),
    /// Siblings `{a}` and `{b}` (or two greedy ones) cannot be told apart.
    #[error("path parameter {new:?} conflicts with sibling {existing:?}")]
    ConflictingParam {
        /// The parameter already at this position.
        existing: String,
        /// The one being added.
        new: String,
    },
    /// `{proxy+}` must be the last path part.
    #[error("greedy parameter {0:?} must be the last path part")]
    GreedyNotLast(String),
    /// The path is not `/`-rooted or has an empty part.
    #[error("invalid resource path {0:?}")]
    InvalidPath(String),
}

/// A captured path parameter: a byte range of the (still percent-encoded) request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capture {
    start: u32,
    end: u32,
}

impl Capture {
    /// A capture of `path[start..end]`.
    pub fn new(start: usize, end: usize) -> Self {
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Capture {
            start: clamp(start),
            end: clamp(end),
        }
    }

    /// The raw captured text within the path it was captured from.
    pub fn of<'a>(&self, path: &'a str) -> &'a str {
        path.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }
}

#[derive(Debug, Default)]
struct Node {
    /// Sorted by segment text for binary search.
    literals: Vec<(Box<str>, u32)>,
    param: Option<(Box<str>, u32)>,
    greedy: Option<(Box<str>, u32)>,
    route: Option<u32>,
}

/// Resource paths → routes of type `T` (the compiled methods of a resource).
#[derive(Debug)]
pub struct RouteTrie<T> {
    nodes: Vec<Node>,
    routes: Vec<T>,
}

impl<T> Default for RouteTrie<T> {
    fn default() -> Self {
        RouteTrie {
            nodes: vec![Node::default()],
            routes: Vec::new(),
        }
    }
}

enum Part<'a> {
    Literal(&'a str),
    Param(&'a str),
    Greedy(&'a str),
}

fn parse_part(part: &str) -> Part<'_> {
    match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(name) => match name.strip_suffix('+') {
            Some(greedy) => Part::Greedy(greedy),
            None => Part::Param(name),
        },
        None => Part::Literal(part),
    }
}

/// The names of a resource path's parameters in capture order (`{proxy+}` gives `proxy`).
pub fn param_names(path: &str) -> Vec<Box<str>> {
    path.split('/')
        .filter_map(|part| match parse_part(part) {
            Part::Param(name) | Part::Greedy(name) => Some(name.into()),
            Part::Literal(_) => None,
        })
        .collect()
}

impl<T> RouteTrie<T> {
    /// Adds the route for a resource path such as `/pets/{id}` or `/files/{proxy+}`.
    pub fn insert(&mut self, path: &str, route: T) -> Result<(), RouteError> {
        let invalid = || RouteError::InvalidPath(path.to_owned());
        let rest = path.strip_prefix('/').ok_or_else(invalid)?;
        let mut node = 0usize;
        if !rest.is_empty() {
            let parts: Vec<&str> = rest.split('/').collect();
            for (i, part) in parts.iter().enumerate() {
                if part.is_empty() {
                    return Err(invalid());
                }
                node = match parse_part(part) {
                    Part::Literal(text) => self.literal_child(node, text),
                    Part::Param(name) => self.param_child(node, name, false)?,
                    Part::Greedy(name) => {
                        if i + 1 != parts.len() {
                            return Err(RouteError::GreedyNotLast(name.to_owned()));
                        }
                        self.param_child(node, name, true)?
                    }
                };
            }
        }
        if self.nodes[node].route.is_some() {
            return Err(RouteError::Duplicate(path.to_owned()));
        }
        self.nodes[node].route = Some(self.routes.len() as u32);
        self.routes.push(route);
        Ok(())
    }

    /// Gives back the room the trie's lists grew by, once every route is in (compile
    /// time: a node holds a trie per deployed stage).
    pub fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.routes.shrink_to_fit();
        for node in &mut self.nodes {
            node.literals.shrink_to_fit();
        }
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node::default());
        (self.nodes.len() - 1) as u32
    }

    fn literal_child(&mut self, node: usize, text: &str) -> usize {
        match self.nodes[node]
            .literals
            .binary_search_by(|(t, _)| t.as_ref().cmp(text))
        {
            Ok(i) => self.nodes[node].literals[i].1 as usize,
            Err(i) => {
                let child = self.new_node();
                self.nodes[node].literals.insert(i, (text.into(), child));
                child as usize
            }
        }
    }

    fn param_child(&mut self, node: usize, name: &str, greedy: bool) -> Result<usize, RouteError> {
        let existing = if greedy {
            &self.nodes[node].greedy
        } else {
            &self.nodes[node].param
        };
        if let Some((existing, child)) = existing {
            return if existing.as_ref() == name {
                Ok(*child as usize)
            } else {
                Err(RouteError::ConflictingParam {
                    existing: existing.to_string(),
                    new: name.to_owned(),
                })
            };
        }
        let child = self.new_node();
        let slot = (name.into(), child);
        if greedy {
            self.nodes[node].greedy = Some(slot);
        } else {
            self.nodes[node].param = Some(slot);
        }
        Ok(child as usize)
    }

    /// Finds the route for a stage-relative request path (`/pets/1`, `/` or empty).
    /// `captures` receives the parameters of the matched route, in path order, as ranges
    /// of `path`. A trailing slash is ignored, as API Gateway does.
    pub fn find(&self, path: &str, captures: &mut Vec<Capture>) -> Option<&T> {
        self.find_where(path, captures, Some)
    }

    /// Like [`RouteTrie::find`], but a route only matches when `pick` accepts it (gives
    /// `Some`); otherwise matching goes on with the next less specific candidate (HTTP
    /// APIs: a route matches a request only with its method, or `ANY`).
    pub fn find_where<'a, R>(
        &'a self,
        path: &str,
        captures: &mut Vec<Capture>,
        pick: impl Fn(&'a T) -> Option<R>,
    ) -> Option<R> {
        captures.clear();
        let start = usize::from(path.starts_with('/'));
        let mut picked = None;
        let mut accept = |route: u32| match self.routes.get(route as usize).and_then(&pick) {
            Some(r) => {
                picked = Some(r);
                true
            }
            None => false,
        };
        self.walk(0, path, start, captures, &mut accept)?;
        picked
    }

    fn walk(
        &self,
        node: usize,
        path: &str,
        pos: usize,
        captures: &mut Vec<Capture>,
        accept: &mut dyn FnMut(u32) -> bool,
    ) -> Option<u32> {
        let n = &self.nodes[node];
        if pos >= path.len() {
            return n.route.filter(|r| accept(*r));
        }
        let end = path[pos..].find('/').map_or(path.len(), |i| pos + i);
        let segment = &path[pos..end];
        let next = if end < path.len() {
            end + 1
        } else {
            path.len()
        };

        if !n.literals.is_empty() {
            let decoded: Cow<'_, str> = decode(segment);
            if let Ok(i) = n
                .literals
                .binary_search_by(|(t, _)| t.as_ref().cmp(&decoded))
            {
                let found = self.walk(n.literals[i].1 as usize, path, next, captures, accept);
                if found.is_some() {
                    return found;
                }
            }
        }
        if let Some((_, child)) = &n.param {
            if !segment.is_empty() {
                captures.push(Capture::new(pos, end));
                let found = self.walk(*child as usize, path, next, captures, accept);
                if found.is_some() {
                    return found;
                }
                captures.pop();
            }
        }
        if let Some((_, child)) = &n.greedy {
            if let Some(route) = self.nodes[*child as usize].route.filter(|r| accept(*r)) {
                captures.push(Capture::new(pos, path.len()));
                return Some(route);
            }
        }
        None
    }

    /// All routes, in insertion order.
    pub fn routes(&self) -> &[T] {
        &self.routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trie(paths: &[&'static str]) -> RouteTrie<&'static str> {
        let mut t = RouteTrie::default();
        for p in paths {
            t.insert(p, *p).unwrap();
        }
        t
    }

    fn find(t: &RouteTrie<&'static str>, path: &str) -> Option<(&'static str, Vec<String>)> {
        let mut caps = Vec::new();
        t.find(path, &mut caps)
            .map(|r| (*r, caps.iter().map(|c| c.of(path).to_owned()).collect()))
    }

    #[test]
    fn literal_beats_param_beats_greedy() {
        let t = trie(&["/pets/dog", "/pets/{id}", "/pets/{proxy+}", "/"]);
        assert_eq!(find(&t, "/pets/dog").unwrap().0, "/pets/dog");
        assert_eq!(
            find(&t, "/pets/cat"),
            Some(("/pets/{id}", vec!["cat".into()]))
        );
        assert_eq!(
            find(&t, "/pets/cat/toys/1"),
            Some(("/pets/{proxy+}", vec!["cat/toys/1".into()]))
        );
        assert_eq!(find(&t, "/").unwrap().0, "/");
        assert_eq!(find(&t, "").unwrap().0, "/");
        assert_eq!(
            find(&t, "/pets"),
            None,
            "no /pets resource and greedy needs a segment"
        );
    }

    #[test]
    fn backtracks_when_a_specific_branch_dead_ends() {
        let t = trie(&["/a/b/c", "/a/{x}/d", "/{proxy+}"]);
        assert_eq!(find(&t, "/a/b/c").unwrap().0, "/a/b/c");
        // literal "b" dead-ends at "d", so {x} is tried
        assert_eq!(find(&t, "/a/b/d"), Some(("/a/{x}/d", vec!["b".into()])));
        // both dead-end, back to the root's greedy
        assert_eq!(
            find(&t, "/a/b/e"),
            Some(("/{proxy+}", vec!["a/b/e".into()]))
        );
        // an intermediate node without its own route is not a match
        assert_eq!(find(&t, "/a/b"), Some(("/{proxy+}", vec!["a/b".into()])));
    }

    #[test]
    fn captures_are_raw_and_param_names_in_order() {
        let t = trie(&["/users/{user}/files/{path+}"]);
        assert_eq!(
            find(&t, "/users/a%20b/files/x/y%2Fz/"),
            Some((
                "/users/{user}/files/{path+}",
                vec!["a%20b".into(), "x/y%2Fz/".into()]
            ))
        );
        assert_eq!(
            param_names("/users/{user}/files/{path+}"),
            vec!["user".into(), "path".into()] as Vec<Box<str>>
        );
    }

    #[test]
    fn literals_match_percent_decoded_and_trailing_slash() {
        let t = trie(&["/hello world", "/items"]);
        assert_eq!(find(&t, "/hello%20world").unwrap().0, "/hello world");
        assert_eq!(find(&t, "/items/").unwrap().0, "/items");
        assert_eq!(find(&t, "/items//"), None);
    }

    #[test]
    fn rejects_bad_trees() {
        let mut t = trie(&["/pets/{id}"]);
        assert_eq!(
            t.insert("/pets/{id}", "x"),
            Err(RouteError::Duplicate("/pets/{id}".into()))
        );
        assert!(matches!(
            t.insert("/pets/{name}", "x"),
            Err(RouteError::ConflictingParam { .. })
        ));
        assert!(matches!(
            t.insert("/a/{p+}/b", "x"),
            Err(RouteError::GreedyNotLast(_))
        ));
        assert!(matches!(
            t.insert("pets", "x"),
            Err(RouteError::InvalidPath(_))
        ));
        assert!(matches!(
            t.insert("/a//b", "x"),
            Err(RouteError::InvalidPath(_))
        ));
    }
}
