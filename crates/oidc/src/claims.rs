//! A verified token's claims and the checks API Gateway makes on them.

use serde_json::{Map, Value};

/// The claims of a verified token (its payload as JSON).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// The claim `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// The claim `name` when it is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// `iss`.
    pub fn issuer(&self) -> Option<&str> {
        self.get_str("iss")
    }

    /// `sub`.
    pub fn subject(&self) -> Option<&str> {
        self.get_str("sub")
    }

    /// Cognito's `token_use` (`id` or `access`).
    pub fn token_use(&self) -> Option<&str> {
        self.get_str("token_use")
    }

    /// AWS's client-id check. With no `client_id_regex` every token passes. Otherwise ID tokens
    /// (`token_use` = `id`, or tokens with an `aud` and no `token_use`) pass when the regex
    /// matches `aud` (a string, or any string element of an array), and access tokens
    /// (`token_use` = `access`, or tokens without `aud`) when it matches `client_id`.
    ///
    /// The match is [`regex::Regex::is_match`]: anchor the pattern (`^...$`) for a
    /// whole-value match.
    pub fn client_matches(&self, client_id_regex: Option<&regex::Regex>) -> bool {
        let Some(re) = client_id_regex else {
            return true;
        };
        let aud = self.0.get("aud");
        let access = match self.token_use() {
            Some("access") => true,
            Some("id") => false,
            _ => aud.is_none(),
        };
        if access {
            return self.get_str("client_id").is_some_and(|c| re.is_match(c));
        }
        match aud {
            Some(Value::String(a)) => re.is_match(a),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .any(|a| re.is_match(a)),
            _ => false,
        }
    }

    /// The token's scopes: `scope` (space-separated), else `scp` (an array of strings, or a
    /// space-separated string).
    pub fn scopes(&self) -> Vec<&str> {
        match (self.0.get("scope"), self.0.get("scp")) {
            (Some(Value::String(s)), _) | (_, Some(Value::String(s))) => {
                s.split_whitespace().collect()
            }
            (_, Some(Value::Array(items))) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// `authorizationScopes`: true when `scopes` is empty, else when the token has at least one
    /// of them (see [`Claims::scopes`]).
    pub fn has_any_scope(&self, scopes: &[String]) -> bool {
        if scopes.is_empty() {
            return true;
        }
        let have = self.scopes();
        scopes.iter().any(|want| have.contains(&want.as_str()))
    }

    /// The claims flattened to strings as API Gateway exposes them in
    /// `$context.authorizer.claims.*`: strings as they are, numbers and booleans as text,
    /// `null` as `null`, arrays and objects as JSON text. In claim-name order.
    pub fn as_strings(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .0
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect();
        // The map keeps the token's order when serde_json's `preserve_order` is on somewhere
        // in the build; sort so the order does not depend on that.
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl From<Map<String, Value>> for Claims {
    fn from(map: Map<String, Value>) -> Self {
        Claims(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Claims {
        match v {
            Value::Object(m) => Claims(m),
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn client_matches_id_and_access_tokens() {
        let re = regex::Regex::new("^client-a$").unwrap();
        let id = claims(json!({"token_use": "id", "aud": "client-a", "client_id": "other"}));
        assert!(id.client_matches(Some(&re)));
        assert!(id.client_matches(None));
        let id_arr = claims(json!({"token_use": "id", "aud": ["x", "client-a"]}));
        assert!(id_arr.client_matches(Some(&re)));
        let id_wrong = claims(json!({"token_use": "id", "aud": ["x"], "client_id": "client-a"}));
        assert!(!id_wrong.client_matches(Some(&re)));
        let access = claims(json!({"token_use": "access", "client_id": "client-a"}));
        assert!(access.client_matches(Some(&re)));
        let access_aud =
            claims(json!({"token_use": "access", "aud": "client-a", "client_id": "z"}));
        assert!(!access_aud.client_matches(Some(&re)));
        let no_aud = claims(json!({"client_id": "client-a"}));
        assert!(no_aud.client_matches(Some(&re)));
        let generic = claims(json!({"aud": "client-a"}));
        assert!(generic.client_matches(Some(&re)));
        let nothing = claims(json!({}));
        assert!(!nothing.client_matches(Some(&re)));
        assert!(nothing.client_matches(None));
    }

    #[test]
    fn scopes() {
        let s = claims(json!({"scope": "openid  email\tprofile"}));
        assert_eq!(s.scopes(), ["openid", "email", "profile"]);
        assert!(s.has_any_scope(&["admin".into(), "email".into()]));
        assert!(!s.has_any_scope(&["admin".into()]));
        assert!(s.has_any_scope(&[]));
        let scp = claims(json!({"scp": ["read", "write"]}));
        assert!(scp.has_any_scope(&["write".into()]));
        assert!(!scp.has_any_scope(&["admin".into()]));
        let scp_str = claims(json!({"scp": "read write"}));
        assert!(scp_str.has_any_scope(&["read".into()]));
        let none = claims(json!({}));
        assert!(none.has_any_scope(&[]));
        assert!(!none.has_any_scope(&["read".into()]));
    }

    #[test]
    fn as_strings() {
        let c = claims(json!({
            "sub": "abc",
            "exp": 1700000000,
            "email_verified": true,
            "cognito:groups": ["admin", "users"],
            "address": {"country": "NZ"},
            "nothing": null,
            "ratio": 1.5
        }));
        let s = c.as_strings();
        let get = |k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("sub"), Some("abc"));
        assert_eq!(get("exp"), Some("1700000000"));
        assert_eq!(get("email_verified"), Some("true"));
        assert_eq!(get("cognito:groups"), Some(r#"["admin","users"]"#));
        assert_eq!(get("address"), Some(r#"{"country":"NZ"}"#));
        assert_eq!(get("nothing"), Some("null"));
        assert_eq!(get("ratio"), Some("1.5"));
        assert_eq!(s.len(), 7);
    }
}
