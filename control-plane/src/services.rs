//! `POST /` on the management address: the AWS services other than `apigateway` that
//! this gateway serves there, told apart by the JSON protocol's `X-Amz-Target` prefix
//! (the query protocol's `Action=` form bodies are CloudWatch's). One arm per service:
//! CloudTrail ([`crate::audit::lookup`]), CloudWatch Logs ([`crate::logs`]) and CloudWatch
//! ([`crate::cloudwatch`]).

use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;

use crate::AppState;

/// `POST /`.
pub fn router() -> Router<AppState> {
    Router::new().route("/", post(dispatch))
}

async fn dispatch(State(state): State<AppState>, req: Request) -> Response {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if target.starts_with(crate::audit::lookup::TARGET_PREFIX) {
        crate::audit::lookup::handle(&state, req).await
    } else if target.starts_with(crate::logs::TARGET_PREFIX) {
        crate::logs::handle(&state, req).await
    } else {
        crate::cloudwatch::handle(State(state), req).await
    }
}
