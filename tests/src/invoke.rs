//! Calling invoke URLs from tests: one request, its status, headers and body as text.

use serde_json::Value;

/// A response as the tests look at it.
pub struct Got {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Got {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A header's value, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Sends `method url` with `headers` and `body`.
pub async fn send<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    url: &str,
    headers: &[(K, V)],
    body: &str,
) -> Got {
    let mut request = reqwest::Client::new().request(method.parse().expect("method"), url);
    for (k, v) in headers {
        request = request.header(k.as_ref(), v.as_ref());
    }
    let response = request.body(body.to_string()).send().await.expect("invoke");
    Got {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

/// `GET url` with `headers`.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Got {
    send("GET", url, headers, "").await
}

/// Waits until `GET` of every one of `urls` (the same path on each node) answers `want`.
pub async fn until_status(urls: &[String], headers: &[(&str, &str)], want: u16) {
    for url in urls {
        crate::eventually(
            &format!("{url} answers {want}"),
            std::time::Duration::from_secs(20),
            || async { (get(url, headers).await.status == want).then_some(()) },
        )
        .await;
    }
}
