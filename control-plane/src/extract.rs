//! Request extractors that fail the AWS way.
//!
//! axum's own `Json` and `Query` answer rejections in their own format; the management
//! API must answer `BadRequestException` with a message instead, so handlers use these.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::ApiError;

/// A JSON body; an empty body reads as `{}` (AWS clients omit bodies with no members).
pub struct AwsJson<T>(pub T);

impl<S, T> FromRequest<S> for AwsJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("Could not read request body: {e}")))?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text)
            .map(AwsJson)
            .map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))
    }
}

/// Query parameters, rejected as `BadRequestException`.
pub struct AwsQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AwsQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or_default();
        serde_urlencoded_parse(q).map(AwsQuery)
    }
}

fn serde_urlencoded_parse<T: DeserializeOwned>(q: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .map_err(|_| ApiError::bad_request("Invalid query string"))?,
    )
    .map(|axum::extract::Query(v)| v)
    .map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))
}

/// Whether a raw query string's `embed` list names `what`: the list may be
/// comma-separated (`embed=a,b`, the REST form) or repeated (`embed=a&embed=b`, how the
/// SDKs serialise a query list); names compare case-insensitively.
pub fn embeds(query: Option<&str>, what: &str) -> bool {
    query.is_some_and(|q| {
        apigw_gateway::query::all(q, "embed")
            .any(|v| v.split(',').any(|e| e.trim().eq_ignore_ascii_case(what)))
    })
}

/// `limit` and `position` of every list call.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct PageQuery {
    /// Page size, 1..=500, default 25.
    pub limit: Option<String>,
    /// Opaque position returned by the previous page.
    pub position: Option<String>,
}

/// One page of a list response, in AWS's `{"item": [...], "position": "..."}` shape.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct Page<T> {
    /// The items of this page.
    pub item: Vec<T>,
    /// Where the next page starts, absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

impl PageQuery {
    /// Cuts `items` (already in a stable order) into the requested page.
    pub fn page<T>(&self, items: Vec<T>) -> Result<Page<T>, ApiError> {
        let limit = match self.limit.as_deref() {
            None | Some("") => 25,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=500).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad_request(
                        "The limit must be a number between 1 and 500",
                    ))
                }
            },
        };
        let start = match self.position.as_deref() {
            None | Some("") => 0,
            Some(p) => p
                .parse::<usize>()
                .map_err(|_| ApiError::bad_request("Invalid position parameter"))?,
        };
        let total = items.len();
        let item: Vec<T> = items.into_iter().skip(start).take(limit).collect();
        let end = start + item.len();
        Ok(Page {
            item,
            position: (end < total).then(|| end.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_everything_once() {
        let q = PageQuery {
            limit: Some("2".into()),
            position: None,
        };
        let p = q.page(vec![1, 2, 3]).unwrap();
        assert_eq!(p.item, vec![1, 2]);
        let q = PageQuery {
            limit: Some("2".into()),
            position: p.position,
        };
        let p = q.page(vec![1, 2, 3]).unwrap();
        assert_eq!(p.item, vec![3]);
        assert!(p.position.is_none());
    }

    #[test]
    fn embed_lists() {
        assert!(embeds(Some("embed=apisummary"), "apisummary"));
        assert!(embeds(Some("limit=2&embed=x%2CapiSummary"), "apisummary"));
        assert!(embeds(Some("embed=x&embed=apisummary"), "apisummary"));
        assert!(!embeds(Some("embed=methods"), "apisummary"));
        assert!(!embeds(None, "apisummary"));
    }

    #[test]
    fn bad_limit_is_400() {
        let q = PageQuery {
            limit: Some("0".into()),
            position: None,
        };
        assert!(q.page(vec![1]).is_err());
    }
}
