//! A small SigV4-signing client for the management API, as the AWS SDKs call it.

use http::HeaderMap;
use serde_json::Value;

/// What a management call answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `x-amzn-ErrorType`, on errors.
    pub error_type: Option<String>,
    /// The JSON body (`Null` when empty).
    pub body: Value,
    /// `x-amzn-RequestId`, which every answer should carry.
    pub request_id: Option<String>,
}

impl Answer {
    /// The `message` of an error body.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// Panics unless the status is 2xx; returns the body.
    pub fn ok(self) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "expected success, got {} {:?}: {}",
            self.status,
            self.error_type,
            self.body
        );
        self.body
    }

    /// Panics unless this is the given error; returns the message.
    pub fn err(self, status: u16, error_type: &str) -> String {
        assert_eq!(
            (self.status, self.error_type.as_deref()),
            (status, Some(error_type)),
            "unexpected answer: {}",
            self.body
        );
        self.message().to_string()
    }
}

/// A signed client for one control plane.
#[derive(Clone)]
pub struct Mgmt {
    base: String,
    access_key_id: String,
    secret: apigw_sigv4::SecretKey,
    http: reqwest::Client,
    /// Shifts the signing time (tests of stale signatures).
    pub clock_skew: time::Duration,
}

/// A management answer kept raw (see [`Mgmt::get_raw`]).
#[derive(Debug)]
pub struct RawAnswer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub text: String,
}

impl RawAnswer {
    /// A response header's value, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl Mgmt {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`) signing with the given key.
    pub fn new(base: &str, access_key_id: &str, secret: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            access_key_id: access_key_id.to_string(),
            secret: apigw_sigv4::SecretKey::new(secret),
            http: reqwest::Client::new(),
            clock_skew: time::Duration::ZERO,
        }
    }

    /// Sends a signed request; `path` includes any query string.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        Self::answer(
            self.send(method, path, bytes.as_bytes(), "application/json")
                .await,
        )
        .await
    }

    /// Sends a signed request with a non-JSON body (e.g. ImportApiKeys' CSV).
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        content_type: &str,
    ) -> Answer {
        Self::answer(self.send(method, path, body, content_type).await).await
    }

    /// A signed GET whose answer is text (e.g. a CSV export); panics unless it is 200.
    pub async fn call_text(&self, path: &str) -> String {
        let resp = self.send("GET", path, b"", "application/json").await;
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp.text().await.unwrap_or_default()
    }

    /// A signed GET sending `accept` (when given) whose answer is kept raw: status,
    /// headers and body text (GetExport's documents).
    pub async fn get_raw(&self, path: &str, accept: Option<&str>) -> RawAnswer {
        let extra: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let resp = self
            .send_with("GET", path, b"", "application/json", &extra)
            .await;
        RawAnswer {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap_or_default(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> reqwest::Response {
        self.send_with(method, path, bytes, content_type, &[]).await
    }

    async fn send_with(
        &self,
        method: &str,
        path: &str,
        bytes: &[u8],
        content_type: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        self.try_send_with(method, path, bytes, content_type, extra)
            .await
            .expect("management call")
    }

    /// [`Mgmt::call`] that returns a failed connection (a control plane killed under the
    /// call) as an error instead of panicking.
    pub async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, reqwest::Error> {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let resp = self
            .try_send_with(method, path, bytes.as_bytes(), "application/json", &[])
            .await?;
        Ok(Self::answer(resp).await)
    }

    async fn try_send_with(
        &self,
        method: &str,
        path: &str,
        bytes: &[u8],
        content_type: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        let url = format!("{}{path}", self.base);
        let mut headers = HeaderMap::new();
        headers.insert("content-type", content_type.parse().expect("content type"));
        for (name, value) in extra {
            headers.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                value.parse().expect("header value"),
            );
        }
        let params = apigw_sigv4::SigningParams {
            access_key_id: &self.access_key_id,
            secret: &self.secret,
            security_token: None,
            region: "us-east-1",
            service: "apigateway",
            time: time::OffsetDateTime::now_utc() + self.clock_skew,
        };
        let signed = apigw_sigv4::sign(method, &url, &headers, bytes, &params).expect("signing");
        signed.apply_to(&mut headers).expect("signed headers");
        self.http
            .request(method.parse().expect("method"), &url)
            .headers(headers)
            .body(bytes.to_vec())
            .send()
            .await
    }

    /// Sends a request without any signature.
    pub async fn call_unsigned(&self, method: &str, path: &str) -> Answer {
        let resp = self
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.base),
            )
            .send()
            .await
            .expect("management call");
        Self::answer(resp).await
    }

    async fn answer(resp: reqwest::Response) -> Answer {
        let status = resp.status().as_u16();
        let error_type = resp
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let request_id = resp
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            error_type,
            body,
            request_id,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, Some(body)).await
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call("PUT", path, Some(body)).await
    }

    /// PATCH with `patchOperations`.
    pub async fn patch(&self, path: &str, ops: Value) -> Answer {
        self.call(
            "PATCH",
            path,
            Some(serde_json::json!({ "patchOperations": ops })),
        )
        .await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Answer {
        self.call("DELETE", path, None).await
    }
}
