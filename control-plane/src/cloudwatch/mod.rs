//! The CloudWatch API subset that API Gateway users call, served on the management API's
//! address: `POST /` in JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`) or
//! the query protocol (`Action=<Op>`), signed with SigV4 for the service `monitoring` (or
//! carrying a console session, for the web console).
//!
//! - [`protocol`]: reading both protocols' input, writing JSON or XML output and errors;
//! - [`error`]: the model's error shapes and codes;
//! - [`metrics`]: GetMetricStatistics, GetMetricData, ListMetrics (`AWS/ApiGateway`);
//! - [`alarms`]: PutMetricAlarm, DescribeAlarms, DescribeAlarmHistory, DeleteAlarms,
//!   SetAlarmState;
//! - [`evaluator`]: the once-per-interval, once-per-cluster alarm evaluation;
//! - [`notify`]: webhook delivery of alarm actions.

pub mod alarms;
pub mod error;
pub mod evaluator;
pub mod metrics;
pub mod notify;
pub mod protocol;

use axum::extract::{Request, State};
use axum::response::Response;

use error::CwError;
use protocol::{Out, Protocol};

use crate::AppState;

/// Largest request body (CloudWatch's own limit for query requests is of this order).
const MAX_BODY: usize = 1024 * 1024;

/// Serves one CloudWatch call (`POST /`, sent here by [`crate::services`]).
pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let request_id = req
        .extensions()
        .get::<crate::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let protocol = Protocol::detect(req.headers());
    let mut op_name = String::new();
    let result = call(&state, req, &mut op_name).await;
    match result {
        Ok(out) => protocol.render_ok(&op_name, out, &request_id),
        Err(e) => {
            if !matches!(e, CwError::Internal(_)) {
                tracing::info!(operation = %op_name, code = e.query_code(), message = %e, "CloudWatch call refused");
            }
            protocol.render_err(&e, &request_id)
        }
    }
}

async fn call(
    state: &AppState,
    req: Request,
    op_name: &mut String,
) -> Result<Option<Out>, CwError> {
    let protocol = Protocol::detect(req.headers());
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        CwError::InvalidParameterValue("The request body is too large or unreadable.".into())
    })?;
    let caller = crate::auth::service_caller(state, &parts, &bytes, "monitoring").await?;
    let (op, input) = protocol.parse(&parts.headers, &bytes)?;
    op_name.clone_from(&op);
    crate::iam::authorize(state, &caller, &format!("cloudwatch:{op}"), "*").await?;
    let i = protocol::input(&input);
    Ok(match op.as_str() {
        "GetMetricStatistics" => Some(metrics::get_metric_statistics(state, i).await?),
        "GetMetricData" => Some(metrics::get_metric_data(state, i).await?),
        "ListMetrics" => Some(metrics::list_metrics(state, i).await?),
        "PutMetricAlarm" => {
            alarms::put_metric_alarm(state, i).await?;
            None
        }
        "DescribeAlarms" => Some(alarms::describe_alarms(state, i).await?),
        "DescribeAlarmHistory" => Some(alarms::describe_alarm_history(state, i).await?),
        "DeleteAlarms" => {
            alarms::delete_alarms(state, i).await?;
            None
        }
        "SetAlarmState" => {
            alarms::set_alarm_state(state, i).await?;
            None
        }
        other => {
            return Err(CwError::UnknownOperation(format!(
                "The operation {other} is not supported by this gateway's CloudWatch API (GetMetricStatistics, GetMetricData, ListMetrics, PutMetricAlarm, DescribeAlarms, DescribeAlarmHistory, DeleteAlarms, SetAlarmState)."
            )))
        }
    })
}
