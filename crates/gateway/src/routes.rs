//! Route matching as API Gateway does it: static segments before `{param}` before `{proxy+}`,
//! `ANY` after an exact method, `$default` last (HTTP APIs), a REST resource found by path first
//! and then its method. Paths are case-sensitive; REST APIs ignore a trailing slash, HTTP APIs
//! do not.

/// One segment of a route's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Static(String),
    Param(String),
    /// `{proxy+}`: the rest of the path, one or more segments.
    Greedy(String),
}

/// Path parameters as (name, raw value) pairs.
pub type Parameters = Vec<(String, String)>;
/// Specificity per segment: 0 static, 1 parameter, 2 greedy; lower sorts first.
pub type Rank = Vec<u8>;

/// A route's path, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub text: String,
    pub segments: Vec<Segment>,
    /// Ends with `/` (other than the root).
    pub trailing_slash: bool,
}

impl Pattern {
    pub fn parse(path: &str) -> Pattern {
        let trimmed = path.trim_start_matches('/');
        let trailing_slash = trimmed.ends_with('/') && !trimmed.is_empty();
        let segments = trimmed
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    match inner.strip_suffix('+') {
                        Some(name) => Segment::Greedy(name.to_string()),
                        None => Segment::Param(inner.to_string()),
                    }
                } else {
                    Segment::Static(s.to_string())
                }
            })
            .collect();
        Pattern {
            text: if path.starts_with('/') {
                path.to_string()
            } else {
                format!("/{path}")
            },
            segments,
            trailing_slash,
        }
    }

    /// Matches the request path's raw (still percent-encoded) segments; returns the path
    /// parameters (raw values) and a rank, lower being more specific.
    pub fn matches(&self, raw_segments: &[&str], trailing_slash: bool) -> Option<(Parameters, Rank)> {
        let mut parameters = Vec::new();
        let mut rank = Vec::with_capacity(self.segments.len());
        for (index, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Static(text) => {
                    if raw_segments.get(index).is_none_or(|s| !static_equal(s, text)) {
                        return None;
                    }
                    rank.push(0);
                }
                Segment::Param(name) => {
                    let value = raw_segments.get(index)?;
                    if value.is_empty() {
                        return None;
                    }
                    parameters.push((name.clone(), (*value).to_string()));
                    rank.push(1);
                }
                Segment::Greedy(name) => {
                    let rest = &raw_segments[index.min(raw_segments.len())..];
                    if rest.is_empty() {
                        return None;
                    }
                    let mut value = rest.join("/");
                    if trailing_slash {
                        value.push('/');
                    }
                    parameters.push((name.clone(), value));
                    rank.push(2);
                    return Some((parameters, rank));
                }
            }
        }
        if raw_segments.len() != self.segments.len() || trailing_slash != self.trailing_slash {
            return None;
        }
        Some((parameters, rank))
    }
}

/// A static segment matches its decoded form too (`/caf%C3%A9` reaches `/café`).
fn static_equal(raw: &str, text: &str) -> bool {
    raw == text || crate::decode::percent_decode(raw) == text
}

/// Splits a raw request path (no query) into segments and whether it ends with `/`.
pub fn split_path(path: &str) -> (Vec<&str>, bool) {
    let trimmed = path.trim_start_matches('/');
    let trailing = trimmed.ends_with('/') && !trimmed.is_empty();
    (trimmed.split('/').filter(|s| !s.is_empty()).collect(), trailing)
}

/// What a route table gives back.
#[derive(Debug, PartialEq, Eq)]
pub enum Match<T> {
    Found {
        route: T,
        /// (name, raw value) pairs.
        parameters: Vec<(String, String)>,
    },
    /// REST: a resource matches the path but has no such method.
    MethodNotAllowed,
    NotFound,
}

/// A route: its method (`ANY` for all), its path pattern, and what it leads to.
#[derive(Clone, Debug)]
pub struct Entry<T> {
    pub method: String,
    pub pattern: Pattern,
    /// HTTP APIs' `$default` catch-all.
    pub default_route: bool,
    pub target: T,
}

/// Finds the route for a REST API request: the most specific resource by path, then its
/// method (exact before ANY).
pub fn match_rest<T: Clone>(entries: &[Entry<T>], method: &str, path: &str) -> Match<T> {
    // REST APIs ignore a trailing slash (`/books/` reaches `/books`).
    let (segments, _) = split_path(path);
    let mut best: Option<(Vec<u8>, &Pattern)> = None;
    for entry in entries {
        if let Some((_, rank)) = entry.pattern.matches(&segments, entry.pattern.trailing_slash)
            && best.as_ref().is_none_or(|(best_rank, _)| rank < *best_rank)
        {
            best = Some((rank, &entry.pattern));
        }
    }
    let Some((_, resource)) = best else {
        return Match::NotFound;
    };
    let on_resource = entries.iter().filter(|e| e.pattern.text == resource.text);
    let chosen = on_resource
        .clone()
        .find(|e| e.method == method)
        .or_else(|| on_resource.clone().find(|e| e.method == "ANY"));
    match chosen {
        Some(entry) => {
            let parameters = entry
                .pattern
                .matches(&segments, entry.pattern.trailing_slash)
                .map(|(p, _)| p)
                .unwrap_or_default();
            Match::Found {
                route: entry.target.clone(),
                parameters,
            }
        }
        None => Match::MethodNotAllowed,
    }
}

/// The methods defined on the REST resource a path resolves to, if any (for CORS preflights).
pub fn rest_resource_methods<T>(entries: &[Entry<T>], path: &str) -> Option<Vec<String>> {
    let (segments, _) = split_path(path);
    let mut best: Option<(Vec<u8>, &Pattern)> = None;
    for entry in entries {
        if let Some((_, rank)) = entry.pattern.matches(&segments, entry.pattern.trailing_slash)
            && best.as_ref().is_none_or(|(best_rank, _)| rank < *best_rank)
        {
            best = Some((rank, &entry.pattern));
        }
    }
    let (_, resource) = best?;
    let mut methods: Vec<String> = entries
        .iter()
        .filter(|e| e.pattern.text == resource.text)
        .map(|e| e.method.clone())
        .collect();
    methods.sort();
    methods.dedup();
    Some(methods)
}

/// Finds the route for an HTTP API request: the most specific route whose method matches
/// (exact before ANY on equal paths), else `$default`.
pub fn match_http<T: Clone>(entries: &[Entry<T>], method: &str, path: &str) -> Match<T> {
    let (segments, trailing) = split_path(path);
    let mut best: Option<((Rank, u8), &Entry<T>, Parameters)> = None;
    for entry in entries.iter().filter(|e| !e.default_route) {
        let method_rank = if entry.method == method {
            0
        } else if entry.method == "ANY" {
            1
        } else {
            continue;
        };
        if let Some((parameters, rank)) = entry.pattern.matches(&segments, trailing) {
            let key = (rank, method_rank);
            if best.as_ref().is_none_or(|(best_key, _, _)| key < *best_key) {
                best = Some((key, entry, parameters));
            }
        }
    }
    if let Some((_, entry, parameters)) = best {
        return Match::Found {
            route: entry.target.clone(),
            parameters,
        };
    }
    match entries.iter().find(|e| e.default_route) {
        Some(entry) => Match::Found {
            route: entry.target.clone(),
            parameters: Vec::new(),
        },
        None => Match::NotFound,
    }
}

/// Whether any route matches the path, whatever its method (REST: a resource exists).
pub fn path_matches<T>(entries: &[Entry<T>], path: &str, rest: bool) -> bool {
    let (segments, trailing) = split_path(path);
    entries.iter().any(|entry| {
        if entry.default_route {
            return true;
        }
        let trailing = if rest { entry.pattern.trailing_slash } else { trailing };
        entry.pattern.matches(&segments, trailing).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, path: &str, target: &'static str) -> Entry<&'static str> {
        Entry {
            method: method.to_string(),
            pattern: Pattern::parse(path),
            default_route: path == "$default",
            target,
        }
    }

    fn found(m: Match<&'static str>) -> Option<(&'static str, Vec<(String, String)>)> {
        match m {
            Match::Found { route, parameters } => Some((route, parameters)),
            _ => None,
        }
    }

    #[test]
    fn rest_routes_match_as_api_gateway_does() {
        let routes = vec![
            entry("GET", "/books", "list"),
            entry("POST", "/books", "create"),
            entry("GET", "/books/{id}", "get"),
            entry("GET", "/books/new", "new"),
            entry("ANY", "/books/{id}/pages/{page}", "page"),
            entry("ANY", "/{proxy+}", "proxy"),
            entry("GET", "/", "root"),
        ];
        type Expected = Option<(&'static str, &'static [(&'static str, &'static str)])>;
        let cases: &[(&str, &str, Expected)] = &[
            ("GET", "/books", Some(("list", &[]))),
            ("POST", "/books", Some(("create", &[]))),
            ("GET", "/books/42", Some(("get", &[("id", "42")]))),
            ("GET", "/books/new", Some(("new", &[]))),
            (
                "DELETE",
                "/books/7/pages/3",
                Some(("page", &[("id", "7"), ("page", "3")])),
            ),
            (
                "GET",
                "/authors/1/books",
                Some(("proxy", &[("proxy", "authors/1/books")])),
            ),
            ("GET", "/", Some(("root", &[]))),
            ("GET", "/Books", Some(("proxy", &[("proxy", "Books")]))),
            ("GET", "/books/", Some(("list", &[]))),
            ("GET", "/books/a%20b", Some(("get", &[("id", "a%20b")]))),
        ];
        for &(method, path, expected) in cases {
            let got = found(match_rest(&routes, method, path));
            let expected = expected.map(|(target, params)| {
                (
                    target,
                    params
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect::<Vec<_>>(),
                )
            });
            assert_eq!(got, expected, "{method} {path}");
        }
        // The resource /books exists, without DELETE: REST does not fall back to {proxy+}.
        assert_eq!(match_rest(&routes, "DELETE", "/books"), Match::MethodNotAllowed);
    }

    #[test]
    fn rest_without_a_matching_resource_is_not_found() {
        let routes = vec![entry("GET", "/books", "list")];
        assert_eq!(match_rest(&routes, "GET", "/authors"), Match::NotFound);
        assert_eq!(match_rest(&routes, "GET", "/books/1"), Match::NotFound);
    }

    #[test]
    fn http_routes_prefer_specific_paths_then_exact_methods_then_default() {
        let routes = vec![
            entry("GET", "/pets/{id}", "get-pet"),
            entry("ANY", "/pets/{id}", "any-pet"),
            entry("GET", "/pets/dog", "dog"),
            entry("POST", "/pets", "create"),
            entry("ANY", "/store/{proxy+}", "store"),
            entry("ANY", "$default", "default"),
        ];
        let cases: &[(&str, &str, &str)] = &[
            ("GET", "/pets/1", "get-pet"),
            ("PUT", "/pets/1", "any-pet"),
            ("GET", "/pets/dog", "dog"),
            ("DELETE", "/pets/dog", "any-pet"),
            ("POST", "/pets", "create"),
            ("GET", "/pets", "default"),
            ("GET", "/store/a/b", "store"),
            ("GET", "/nothing", "default"),
        ];
        for (method, path, expected) in cases {
            assert_eq!(
                found(match_http(&routes, method, path)).map(|f| f.0),
                Some(*expected),
                "{method} {path}"
            );
        }
        let without_default: Vec<_> = routes.into_iter().filter(|r| !r.default_route).collect();
        assert_eq!(match_http(&without_default, "GET", "/nothing"), Match::NotFound);
    }
}
