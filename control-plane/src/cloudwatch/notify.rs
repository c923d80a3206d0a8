//! Alarm actions: an `http(s)://` action receives a POST of an SNS-style notification
//! (JSON: `Type` "Notification", `MessageId`, `TopicArn`, `Subject`, `Message` = the alarm
//! message CloudWatch publishes, `Timestamp`, with `x-amz-sns-message-type: Notification`;
//! unsigned, so `SignatureVersion` and `Signature` are absent). An `arn:aws:sns:` action
//! goes to the URL that `APIGW_ALARM_SNS_WEBHOOKS` (`arn=url,arn=url`) maps its topic to;
//! an unmapped topic is recorded as a failed action, never delivered.
//!
//! Each delivery is tried up to [`ATTEMPTS`] times (backoff 1 s, 2 s, 4 s; a 2XX answer
//! is success) in its own task, and every attempt is recorded in the alarm's history
//! (HistoryItemType `Action`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::protocol::iso8601;
use crate::store::alarms as store;

/// Delivery attempts per action.
pub const ATTEMPTS: u32 = 4;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// One action to run for a state change.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The alarm.
    pub alarm_name: String,
    /// The action (URL or topic ARN).
    pub action: String,
    /// The notification's Subject.
    pub subject: String,
    /// The alarm message (JSON text).
    pub message: String,
    /// When the state changed (Unix seconds).
    pub state_change_time: f64,
}

/// Delivers notifications: the HTTP(S) client and the topic-to-URL map.
pub struct Notifier {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    topics: HashMap<String, String>,
    first_backoff: Duration,
}

/// `APIGW_ALARM_SNS_WEBHOOKS` was not `arn=url[,arn=url…]`.
#[derive(Debug, thiserror::Error)]
#[error("APIGW_ALARM_SNS_WEBHOOKS: {0}")]
pub struct TopicMapError(String);

impl Notifier {
    /// A notifier with the topic map `arn=url,arn=url` (empty: no topic mapped).
    pub fn new(topic_map: &str) -> Result<Self, TopicMapError> {
        let mut topics = HashMap::new();
        for pair in topic_map
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (arn, url) = pair
                .split_once('=')
                .ok_or_else(|| TopicMapError(format!("'{pair}' is not arn=url")))?;
            if !arn.starts_with("arn:aws:sns:") {
                return Err(TopicMapError(format!("'{arn}' is not an SNS topic ARN")));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(TopicMapError(format!("'{url}' is not an http(s) URL")));
            }
            topics.insert(arn.to_string(), url.to_string());
        }
        // Webhook receivers are anywhere: the Web PKI's roots, as browsers trust them.
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            topics,
            first_backoff: Duration::from_secs(1),
        })
    }

    fn target(&self, action: &str) -> Result<String, String> {
        if action.starts_with("http://") || action.starts_with("https://") {
            return Ok(action.to_string());
        }
        self.topics.get(action).cloned().ok_or_else(|| {
            "no webhook is configured for this SNS topic (APIGW_ALARM_SNS_WEBHOOKS)".to_string()
        })
    }

    async fn post(&self, url: &str, body: &str, topic: &str) -> Result<u16, String> {
        let req = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=UTF-8")
            .header("x-amz-sns-message-type", "Notification")
            .header("x-amz-sns-topic-arn", topic)
            .header(http::header::USER_AGENT, "apigw-cloudwatch-alarms")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| format!("bad request: {e}"))?;
        let resp = tokio::time::timeout(ATTEMPT_TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| format!("{e}"))?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            Ok(status)
        } else {
            Err(format!("HTTP status {status}"))
        }
    }
}

/// The notification body, in SNS's HTTP(S) delivery shape.
fn envelope(n: &Notification, message_id: &str) -> String {
    serde_json::json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": n.action,
        "Subject": n.subject,
        "Message": n.message,
        "Timestamp": iso8601(n.state_change_time),
    })
    .to_string()
}

/// Sends every notification in its own task.
pub fn send_all(db: sqlx::PgPool, notifier: Arc<Notifier>, notifications: Vec<Notification>) {
    for n in notifications {
        tokio::spawn(deliver(db.clone(), notifier.clone(), n));
    }
}

async fn record(db: &sqlx::PgPool, n: &Notification, ok: bool, attempt: u32, detail: &str) {
    let summary = if ok {
        format!("Successfully executed action {}", n.action)
    } else {
        format!("Failed to execute action {}", n.action)
    };
    let data = serde_json::json!({
        "actionState": if ok { "Succeeded" } else { "Failed" },
        "stateUpdateTimestamp": iso8601(n.state_change_time),
        "notificationResource": n.action,
        "attempt": attempt,
        "attempts": ATTEMPTS,
        "detail": detail,
    });
    let result = async {
        let mut conn = db.acquire().await?;
        store::add_history(
            &mut conn,
            &n.alarm_name,
            "Action",
            &summary,
            &data.to_string(),
        )
        .await
    }
    .await;
    if let Err(error) = result {
        tracing::error!(%error, alarm = %n.alarm_name, "recording an alarm action failed");
    }
}

async fn deliver(db: sqlx::PgPool, notifier: Arc<Notifier>, n: Notification) {
    let url = match notifier.target(&n.action) {
        Ok(url) => url,
        Err(why) => {
            record(&db, &n, false, 0, &why).await;
            return;
        }
    };
    let message_id = uuid::Uuid::new_v4().to_string();
    let body = envelope(&n, &message_id);
    let mut backoff = notifier.first_backoff;
    for attempt in 1..=ATTEMPTS {
        match notifier.post(&url, &body, &n.action).await {
            Ok(status) => {
                record(&db, &n, true, attempt, &format!("HTTP status {status}")).await;
                return;
            }
            Err(why) => {
                tracing::warn!(alarm = %n.alarm_name, action = %n.action, attempt, %why, "alarm action failed");
                let last = attempt == ATTEMPTS;
                let detail = if last {
                    format!("{why}; giving up")
                } else {
                    format!("{why}; retrying in {} s", backoff.as_secs())
                };
                record(&db, &n, false, attempt, &detail).await;
                if last {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
    }
}
