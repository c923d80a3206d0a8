//! CloudTrail's `LookupEvents` over the audit log, on `POST /` (JSON 1.1,
//! `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`,
//! SigV4 service `cloudtrail`, or a console session), in the shapes of
//! `cloudtrail.service-2.json`: at most one `LookupAttributes` item, `StartTime` /
//! `EndTime` (default: the last 90 days), `MaxResults` 1–50 (default 50), `NextToken`
//! (opaque: the last event's time and id), newest first; each event with its
//! `CloudTrailEvent`, a JSON string in CloudTrail's record shape. Errors are the model's
//! shapes in the JSON protocol's `__type` form, status 400.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use http::StatusCode;
use serde_json::{json, Value};

use crate::store::audit::{Attribute, EventRow};
use crate::AppState;

/// The JSON protocol's target prefix of CloudTrail.
pub const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

const MAX_BODY: usize = 1024 * 1024;

/// A refused LookupEvents call.
#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    /// More than one attribute, an unknown key, or a bad value.
    #[error("{0}")]
    InvalidLookupAttributes(String),
    /// StartTime after EndTime, or a time that is not one.
    #[error("{0}")]
    InvalidTimeRange(String),
    /// MaxResults outside 1–50.
    #[error("{0}")]
    InvalidMaxResults(String),
    /// A NextToken we did not hand out.
    #[error("{0}")]
    InvalidNextToken(String),
    /// EventCategory other than `insight`.
    #[error("{0}")]
    InvalidEventCategory(String),
    /// Another CloudTrail operation.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// The body is not a JSON object.
    #[error("{0}")]
    Serialization(String),
    /// Authentication failed.
    #[error("{message}")]
    Auth {
        /// 403 or 401.
        status: StatusCode,
        /// The error type.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// Our failure (logged, not shown).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for TrailError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

impl From<crate::error::ApiError> for TrailError {
    fn from(e: crate::error::ApiError) -> Self {
        match crate::aws_json::auth_failure(e) {
            Ok(f) => Self::Auth {
                status: f.status,
                code: f.code,
                message: f.message,
            },
            Err(detail) => Self::Internal(detail),
        }
    }
}

impl TrailError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Auth { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The model's shape name (`__type`).
    pub fn json_type(&self) -> &'static str {
        match self {
            Self::InvalidLookupAttributes(_) => "InvalidLookupAttributesException",
            Self::InvalidTimeRange(_) => "InvalidTimeRangeException",
            Self::InvalidMaxResults(_) => "InvalidMaxResultsException",
            Self::InvalidNextToken(_) => "InvalidNextTokenException",
            Self::InvalidEventCategory(_) => "InvalidEventCategoryException",
            Self::UnsupportedOperation(_) => "UnsupportedOperationException",
            Self::Serialization(_) => "SerializationException",
            Self::Auth { code, .. } => code,
            Self::Internal(_) => "InternalFailure",
        }
    }
}

impl IntoResponse for TrailError {
    fn into_response(self) -> Response {
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "CloudTrail API internal error");
                "Internal server error".to_string()
            }
            other => other.to_string(),
        };
        crate::aws_json::AwsJsonError {
            status: self.status(),
            code: self.json_type(),
            message,
        }
        .response(crate::aws_json::JSON_1_1)
    }
}

/// Serves one CloudTrail call.
pub async fn handle(state: &AppState, req: Request) -> Response {
    match call(state, req).await {
        Ok(v) => crate::aws_json::ok_1_1(&v),
        Err(e) => {
            if !matches!(e, TrailError::Internal(_)) {
                tracing::info!(code = e.json_type(), message = %e, "CloudTrail call refused");
            }
            e.into_response()
        }
    }
}

async fn call(state: &AppState, req: Request) -> Result<Value, TrailError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        TrailError::Serialization("The request body is too large or unreadable.".into())
    })?;
    let caller = crate::auth::service_caller(state, &parts, &bytes, "cloudtrail").await?;
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let op = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    if op != "LookupEvents" {
        return Err(TrailError::UnsupportedOperation(format!(
            "The operation {op} is not supported by this gateway's CloudTrail API (LookupEvents only)."
        )));
    }
    crate::iam::authorize(state, &caller, &format!("cloudtrail:{op}"), "*").await?;
    let input: Value = if bytes.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| TrailError::Serialization(format!("The body is not JSON: {e}")))?
    };
    if !input.is_object() {
        return Err(TrailError::Serialization(
            "The body is not a JSON object.".into(),
        ));
    }
    lookup_events(state, &input).await
}

/// A Date member: epoch seconds (number or numeric string) or ISO 8601.
fn date_us(input: &Value, member: &str) -> Result<Option<i64>, TrailError> {
    let bad = || {
        TrailError::InvalidTimeRange(format!(
            "{member} is not a valid time: give epoch seconds or an ISO 8601 date-time."
        ))
    };
    let Some(v) = input.get(member).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    if let Some(n) = v.as_f64() {
        if !n.is_finite() || n.abs() > 1e11 {
            return Err(bad());
        }
        return Ok(Some((n * 1e6) as i64));
    }
    let s = v.as_str().ok_or_else(bad)?;
    if let Ok(n) = s.parse::<f64>() {
        if n.is_finite() && n.abs() <= 1e11 {
            return Ok(Some((n * 1e6) as i64));
        }
        return Err(bad());
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad())?;
    Ok(Some(
        i64::try_from(t.unix_timestamp_nanos() / 1000).map_err(|_| bad())?,
    ))
}

fn attribute(input: &Value) -> Result<Option<Attribute>, TrailError> {
    let Some(list) = input.get("LookupAttributes").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let items = list.as_array().ok_or_else(|| {
        TrailError::InvalidLookupAttributes("LookupAttributes must be a list.".into())
    })?;
    if items.len() > 1 {
        return Err(TrailError::InvalidLookupAttributes(
            "You cannot specify more than one lookup attribute.".into(),
        ));
    }
    let Some(item) = items.first() else {
        return Ok(None);
    };
    let key = item
        .get("AttributeKey")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            TrailError::InvalidLookupAttributes("A lookup attribute needs an AttributeKey.".into())
        })?;
    let value = item
        .get("AttributeValue")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            TrailError::InvalidLookupAttributes(
                "A lookup attribute needs an AttributeValue.".into(),
            )
        })?;
    if value.is_empty() || value.len() > 2000 {
        return Err(TrailError::InvalidLookupAttributes(
            "AttributeValue must be 1 to 2000 characters long.".into(),
        ));
    }
    let v = value.to_string();
    Ok(Some(match key {
        "EventName" => Attribute::EventName(v),
        "Username" => Attribute::Username(v),
        "ResourceName" => Attribute::ResourceName(v),
        "ResourceType" => Attribute::ResourceType(v),
        "AccessKeyId" => Attribute::AccessKeyId(v),
        "EventSource" => Attribute::EventSource(v),
        "ReadOnly" => match value {
            "true" => Attribute::ReadOnly(true),
            "false" => Attribute::ReadOnly(false),
            _ => {
                return Err(TrailError::InvalidLookupAttributes(
                    "The ReadOnly attribute's value must be true or false.".into(),
                ))
            }
        },
        "EventId" => match uuid::Uuid::parse_str(value) {
            Ok(u) => Attribute::EventId(u),
            // No event has an id that is not one of ours.
            Err(_) => Attribute::EventId(uuid::Uuid::nil()),
        },
        other => {
            return Err(TrailError::InvalidLookupAttributes(format!(
                "'{other}' is not a lookup attribute: use one of EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId."
            )))
        }
    }))
}

fn encode_token(us: i64, id: uuid::Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{us}:{id}"))
}

fn decode_token(token: &str) -> Option<(i64, uuid::Uuid)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (us, id) = s.split_once(':')?;
    Some((us.parse().ok()?, uuid::Uuid::parse_str(id).ok()?))
}

async fn lookup_events(state: &AppState, input: &Value) -> Result<Value, TrailError> {
    let attr = attribute(input)?;
    if let Some(c) = input.get("EventCategory").filter(|v| !v.is_null()) {
        if c.as_str() != Some("insight") {
            return Err(TrailError::InvalidEventCategory(
                "EventCategory must be insight.".into(),
            ));
        }
        // No Insights events are kept: an empty answer, as for a trail without Insights.
        return Ok(json!({"Events": []}));
    }
    let now = time::OffsetDateTime::now_utc();
    let now_us = i64::try_from(now.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX);
    let start = date_us(input, "StartTime")?
        .unwrap_or(now_us - i64::from(super::RETENTION_DAYS) * 86_400_000_000);
    let end = date_us(input, "EndTime")?.unwrap_or(now_us);
    if start > end {
        return Err(TrailError::InvalidTimeRange(
            "StartTime must be before EndTime.".into(),
        ));
    }
    let limit = match input.get("MaxResults").filter(|v| !v.is_null()) {
        None => 50,
        Some(v) => match v.as_i64() {
            Some(n @ 1..=50) => n,
            _ => {
                return Err(TrailError::InvalidMaxResults(
                    "MaxResults must be between 1 and 50.".into(),
                ))
            }
        },
    };
    let after = match input.get("NextToken").filter(|v| !v.is_null()) {
        None => None,
        Some(t) => Some(t.as_str().and_then(decode_token).ok_or_else(|| {
            TrailError::InvalidNextToken("The NextToken is not one this API gave.".into())
        })?),
    };
    let mut rows =
        crate::store::audit::lookup(&state.db, attr.as_ref(), start, end, after, limit + 1).await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(50);
    rows.truncate(usize::try_from(limit).unwrap_or(50));
    let next = if more {
        rows.last().map(|r| encode_token(r.event_us, r.event_id))
    } else {
        None
    };
    let events: Vec<Value> = rows.iter().map(|r| event(&state.region, r)).collect();
    let mut out = json!({ "Events": events });
    if let Some(n) = next {
        out["NextToken"] = Value::String(n);
    }
    Ok(out)
}

fn iso(us: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// One `Event` of the answer.
fn event(region: &str, r: &EventRow) -> Value {
    let resources: Vec<Value> = r
        .resources
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| json!({"ResourceType": x.get("type"), "ResourceName": x.get("name")}))
        .collect();
    let mut e = json!({
        "EventId": r.event_id.to_string(),
        "EventName": r.event_name,
        "ReadOnly": r.read_only.to_string(),
        "EventTime": r.event_us as f64 / 1e6,
        "EventSource": r.event_source,
        "Username": r.username,
        "Resources": resources,
        "CloudTrailEvent": record(region, r).to_string(),
    });
    if !r.access_key_id.is_empty() {
        e["AccessKeyId"] = Value::String(r.access_key_id.clone());
    }
    e
}

/// The CloudTrail record (`CloudTrailEvent`).
pub fn record(region: &str, r: &EventRow) -> Value {
    let account = crate::store::account_id();
    let mut identity = match r.identity_type.as_str() {
        "Root" => json!({
            "type": "Root",
            "principalId": account,
            "arn": format!("arn:aws:iam::{account}:root"),
            "accountId": account,
        }),
        "IAMUser" | "ConsoleUser" => json!({
            "type": "IAMUser",
            "principalId": r.username,
            "arn": format!("arn:aws:iam::{account}:user/{}", r.username),
            "accountId": account,
            "userName": r.username,
        }),
        _ => json!({"type": "Unknown", "userName": r.username}),
    };
    if !r.access_key_id.is_empty() {
        identity["accessKeyId"] = Value::String(r.access_key_id.clone());
    } else if r.identity_type == "ConsoleUser" {
        identity["sessionContext"] = json!({"attributes": {"mfaAuthenticated": "false"}});
        identity["invokedBy"] = Value::String("console".into());
    }
    let mut rec = json!({
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": iso(r.event_us),
        "eventSource": r.event_source,
        "eventName": r.event_name,
        "awsRegion": region,
        "sourceIPAddress": r.source_ip,
        "userAgent": r.user_agent,
        "requestParameters": r.request_parameters,
        "responseElements": r.response_elements,
        "requestID": r.request_id,
        "eventID": r.event_id.to_string(),
        "readOnly": r.read_only,
        "resources": r.resources.as_array().into_iter().flatten().map(|x| json!({"ARN": x.get("name"), "type": x.get("type"), "accountId": account})).collect::<Vec<_>>(),
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
    });
    if let Some(code) = &r.error_code {
        rec["errorCode"] = Value::String(code.clone());
        rec["errorMessage"] = r
            .error_message
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null);
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let id = uuid::Uuid::new_v4();
        assert_eq!(decode_token(&encode_token(12345, id)), Some((12345, id)));
        assert_eq!(decode_token("nonsense!"), None);
    }
}
