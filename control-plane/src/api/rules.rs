//! Rules that several handlers apply: stage names and contents (CreateStage, UpdateStage
//! and the stage CreateDeployment makes; a stage's documentation version, also set by
//! CreateDocumentationVersion) and the path parameters of a resource path (methods and
//! integrations), here; the rules of each entity in its own submodule, shared by the
//! entity's own calls and by ImportRestApi / PutRestApi (`api/imports.rs`), so an import
//! accepts exactly what the individual calls accept. Field-level checks are in
//! [`crate::validate`].

pub mod authorizer;
pub mod gateway_response;
pub mod method;
pub mod model;
pub mod resource;
pub mod rest_api;

use crate::constraints::{self, Violations};
use crate::error::{ApiError, ApiResult};
use crate::ids::now_epoch;
use crate::store;
use std::collections::BTreeMap;

use crate::wire::{AccessLogSettings, CanarySettings, Stage};

/// A rule of an entity broken by one of its members: the member, as the management API
/// names it (`uri`, `requestParameters`, …), and AWS's error. A handler answers the error
/// (`?` converts); an import says where that member is in its document.
#[derive(Debug)]
pub struct Broken {
    /// The member that breaks the rule.
    pub member: &'static str,
    /// What the entity's own call answers.
    pub error: ApiError,
}

impl From<Broken> for ApiError {
    fn from(b: Broken) -> Self {
        b.error
    }
}

/// The answer of a rule that names the member breaking it.
pub type RuleResult<T = ()> = Result<T, Broken>;

/// Names the member a check was about.
pub trait Member<T> {
    /// `Err(e)` becomes `Err(Broken { member, error: e })`.
    fn member(self, member: &'static str) -> RuleResult<T>;
}

impl<T> Member<T> for ApiResult<T> {
    fn member(self, member: &'static str) -> RuleResult<T> {
        self.map_err(|error| Broken { member, error })
    }
}

/// Stage names as AWS allows them.
pub fn validate_stage_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "Stage name only allows a-zA-Z0-9_- and must be 1 to 128 characters long",
        ))
    }
}

/// The input every new stage is checked for (CreateStage, and CreateDeployment when it
/// names a stage): the model's cacheClusterSize values first (ValidationException), then
/// the stage name.
pub fn validate_new_stage(cache_cluster_size: Option<&str>, name: Option<&str>) -> ApiResult<()> {
    Violations::new()
        .enum_value(
            "cacheClusterSize",
            cache_cluster_size,
            constraints::CACHE_CLUSTER_SIZE,
        )
        .finish()?;
    name.map_or(Ok(()), validate_stage_name)
}

/// Checks what a stage holds beyond its name (also for stages CreateDeployment makes).
pub fn validate_stage(stage: &Stage) -> ApiResult<()> {
    crate::validate::tags(&stage.tags)?;
    validate_variables(&stage.variables, "Stage variable")?;
    if let Some(canary) = &stage.canary_settings {
        validate_canary(canary)?;
    }
    if let Some(logs) = &stage.access_log_settings {
        validate_access_log_settings(logs)?;
    }
    if let Some(size) = &stage.cache_cluster_size {
        const SIZES: &[&str] = crate::constraints::CACHE_CLUSTER_SIZE;
        if !SIZES.contains(&size.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Invalid cache cluster size '{size}': must be one of {}",
                SIZES.join(", ")
            )));
        }
    }
    for (key, s) in &stage.method_settings {
        if s.throttling_rate_limit < 0.0 || s.throttling_burst_limit < 0 {
            return Err(ApiError::bad_request(format!(
                "Throttling limits of {key} must not be negative"
            )));
        }
        if !(0..=3600).contains(&s.cache_ttl_in_seconds) {
            return Err(ApiError::bad_request(format!(
                "Cache TTL of {key} must be between 0 and 3600 seconds"
            )));
        }
        if !matches!(s.logging_level.as_str(), "OFF" | "ERROR" | "INFO") {
            return Err(ApiError::bad_request(format!(
                "Logging level of {key} must be OFF, ERROR or INFO"
            )));
        }
        const STRATEGIES: &[&str] = &[
            "FAIL_WITH_403",
            "SUCCEED_WITH_RESPONSE_HEADER",
            "SUCCEED_WITHOUT_RESPONSE_HEADER",
        ];
        if !STRATEGIES.contains(&s.unauthorized_cache_control_header_strategy.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Unauthorized cache control header strategy of {key} must be one of {}",
                STRATEGIES.join(", ")
            )));
        }
        validate_method_setting_key(key)?;
    }
    Ok(())
}

/// A `methodSettings` key: `*/*`, or a resource path (without its leading `/`, `*` for
/// every path) and an HTTP method (`*` for every method), as the patch paths
/// `/{resource path}/{METHOD}/...` make them.
fn validate_method_setting_key(key: &str) -> ApiResult<()> {
    const METHODS: &[&str] = &[
        "*", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY",
    ];
    let ok = key.rsplit_once('/').is_some_and(|(path, method)| {
        METHODS.contains(&method)
            && (path == "*" || path.is_empty() || !path.starts_with('/') && !path.ends_with('/'))
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid method setting path '{key}': expected /{{resource path}}/{{HTTP method}} \
             (use * for every resource or method, ~1 for / inside the path)"
        )))
    }
}

/// Stage variables (or a canary's overrides, `what` naming which) as AWS allows them.
pub fn validate_variables(vars: &BTreeMap<String, String>, what: &str) -> ApiResult<()> {
    for (k, v) in vars {
        let key_ok = !k.is_empty()
            && k.len() <= 64
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            return Err(ApiError::bad_request(format!(
                "{what} name '{k}' is invalid: only a-zA-Z0-9_, 1 to 64 characters"
            )));
        }
        // AWS: values must match [A-Za-z0-9-._~:/?#&=,]+ (so not empty either).
        let value_ok = !v.is_empty()
            && v.len() <= 512
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#&=,".contains(c));
        if !value_ok {
            return Err(ApiError::bad_request(format!(
                "{what} value for '{k}' is invalid: 1 to 512 characters of \
                 a-zA-Z0-9-._~:/?#&=,"
            )));
        }
    }
    Ok(())
}

/// What the `AccessLogSettings` shape documents, as far as this gateway delivers it: the
/// destination is the ARN of a CloudWatch Logs log group
/// (`arn:aws:logs:{region}:{account}:log-group:{name}`; Firehose streams are not
/// served here); the format is one line of `$context` variables the engine's access-log
/// compiler knows, with at least `$context.requestId` or `$context.extendedRequestId`
/// (the same compiler the nodes run, so what is accepted here is what they log).
pub fn validate_access_log_settings(logs: &AccessLogSettings) -> ApiResult<()> {
    if let Some(arn) = &logs.destination_arn {
        if apigw_gateway::access_log::log_group_name(arn).is_none() {
            return Err(ApiError::bad_request(format!(
                "Invalid ARN specified in the request: '{arn}'. Access logs go to a CloudWatch \
                 Logs log group: arn:aws:logs:{{region}}:{{account}}:log-group:{{name}}"
            )));
        }
    }
    if let Some(format) = &logs.format {
        if let Err(error) = apigw_gateway::access_log::AccessLogFormat::compile(format) {
            return Err(ApiError::bad_request(error.to_string()));
        }
    }
    Ok(())
}

/// A stage's `documentationVersion` must name a version of its API (or be cleared).
pub async fn check_documentation_version(
    conn: &mut sqlx::PgConnection,
    api_id: &str,
    version: Option<&str>,
) -> ApiResult<()> {
    let Some(version) = version else {
        return Ok(());
    };
    if !store::documentation::version_exists(conn, api_id, version).await? {
        return Err(ApiError::bad_request(format!(
            "Invalid documentation version '{version}': the API has no such documentation \
             version (CreateDocumentationVersion)"
        )));
    }
    Ok(())
}

/// A new stage document with AWS's defaults.
pub fn new_stage(name: &str, deployment_id: &str) -> Stage {
    let now = now_epoch();
    Stage {
        deployment_id: deployment_id.to_string(),
        stage_name: name.to_string(),
        cache_cluster_status: "NOT_AVAILABLE".into(),
        created_date: now,
        last_updated_date: now,
        ..Default::default()
    }
}

/// The `canarySettings` of CreateStage (`CanarySettings`) and CreateDeployment
/// (`DeploymentCanarySettings`, without `deploymentId`), as sent.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryInput {
    /// 0.0–100.0 (default 0).
    pub percent_traffic: Option<f64>,
    /// CreateStage only: the canary's deployment (default: the stage's).
    pub deployment_id: Option<String>,
    /// Stage variables overridden for canary requests.
    #[serde(default)]
    pub stage_variable_overrides: BTreeMap<String, String>,
    /// Whether canary requests use the stage cache.
    #[serde(default)]
    pub use_stage_cache: bool,
}

/// `cacheClusterStatus` (and the default `cacheClusterSize`) as AWS reports them for the
/// stage's `cacheClusterEnabled`: the cache is the nodes' shared Redis, so there is no
/// cluster to create and an enabled cache is `AVAILABLE` at once (the nodes start caching
/// when they receive the config, within a second); a disabled one `NOT_AVAILABLE`.
pub fn settle_cache_cluster(stage: &mut Stage) {
    if stage.cache_cluster_enabled {
        stage.cache_cluster_status = "AVAILABLE".into();
        stage.cache_cluster_size.get_or_insert_with(|| "0.5".into());
    } else {
        stage.cache_cluster_status = "NOT_AVAILABLE".into();
    }
}

impl CanaryInput {
    /// The canary these settings make, serving `deployment_id` unless they name one.
    pub fn into_settings(self, deployment_id: &str) -> CanarySettings {
        CanarySettings {
            percent_traffic: self.percent_traffic.unwrap_or(0.0),
            deployment_id: self
                .deployment_id
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| deployment_id.to_string()),
            stage_variable_overrides: self.stage_variable_overrides,
            use_stage_cache: self.use_stage_cache,
        }
    }
}

/// A canary's share of traffic: a percentage from 0.0 to 100.0 (fractions allowed).
pub fn validate_percent_traffic(percent: f64) -> ApiResult<()> {
    if percent.is_finite() && (0.0..=100.0).contains(&percent) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid canary percentTraffic {percent}: it must be between 0.0 and 100.0"
        )))
    }
}

/// What a canary holds: its share, and its variable overrides under the stage variables'
/// rules. Its deployment is checked against the API by the handlers (it needs the store).
fn validate_canary(canary: &CanarySettings) -> ApiResult<()> {
    validate_percent_traffic(canary.percent_traffic)?;
    if canary.deployment_id.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid canary settings: a canary needs a deploymentId",
        ));
    }
    validate_variables(&canary.stage_variable_overrides, "Canary stage variable")
}

/// A stage's `clientCertificateId` must name an existing certificate (BadRequest).
pub async fn check_client_certificate(
    conn: &mut sqlx::PgConnection,
    id: Option<&str>,
) -> ApiResult<()> {
    match id {
        Some(id) if !crate::store::client_certificates::exists(conn, id).await? => {
            Err(ApiError::bad_request(format!(
                "Invalid client certificate identifier specified: {id}"
            )))
        }
        _ => Ok(()),
    }
}

/// The canary's deployment must be one of the API's.
pub async fn check_canary_deployment(
    conn: &mut sqlx::PgConnection,
    api_id: &str,
    stage: &Stage,
) -> ApiResult<()> {
    if let Some(canary) = &stage.canary_settings {
        store::deployments::require(conn, api_id, &canary.deployment_id).await?;
    }
    Ok(())
}

/// The names of the `{param}` / `{param+}` segments of a resource path.
pub fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|seg| {
        seg.strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .map(|s| s.trim_end_matches('+'))
    })
}
