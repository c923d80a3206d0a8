//! Wire types: the management API's entities, in the exact JSON shape of the `apigateway`
//! service model (`RestApi`, `Resource`, `Method`, `Stage`, `ApiKey`, ...).
//!
//! These types are both the wire format and the stored form (JSONB), so what a client
//! PUTs is what it GETs back. Optional fields are omitted when unset, as AWS does.
//! [`Model`] here is API Gateway's "model" resource (a named JSON Schema of an API), one
//! wire type among the others.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// A REST API (`RestApi` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    /// 10-character identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
    /// Epoch seconds.
    pub created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Version label of the API (free text).
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Media types served as binary.
    pub binary_media_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Responses above this size are compressed.
    pub minimum_compression_size: Option<i32>,
    /// HEADER or AUTHORIZER.
    pub api_key_source: String,
    /// Endpoint types (EDGE, REGIONAL, PRIVATE); informational here.
    pub endpoint_configuration: EndpointConfiguration,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Resource policy JSON, as a string.
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// When true, the execute-api invoke URLs are off.
    pub disable_execute_api_endpoint: bool,
    /// Id of the `/` resource.
    pub root_resource_id: String,
}

/// The `EndpointConfiguration` shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    /// EDGE, REGIONAL or PRIVATE.
    #[serde(default)]
    pub types: Vec<String>,
}

/// A resource (`Resource` shape); `resource_methods` is filled per request (`embed`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// 6- or 10-character identifier.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Parent resource id; none for `/`.
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Last path segment; none for `/`.
    pub path_part: Option<String>,
    /// Full path.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// HTTP method -> method (full with `embed=methods`, empty objects otherwise).
    pub resource_methods: Option<BTreeMap<String, serde_json::Value>>,
}

/// A method (`Method` shape), stored with its responses and integration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    /// GET, POST, ..., ANY.
    pub http_method: String,
    /// NONE, AWS_IAM, CUSTOM or COGNITO_USER_POOLS.
    pub authorization_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Authorizer for CUSTOM / COGNITO_USER_POOLS.
    pub authorizer_id: Option<String>,
    /// Whether callers must present an API key.
    pub api_key_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Validator applied to requests.
    pub request_validator_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Friendly operation name.
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// `method.request.{path|querystring|header}.x` -> required.
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Content type -> model name.
    pub request_models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Status code -> method response.
    pub method_responses: BTreeMap<String, MethodResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The integration, once put.
    pub method_integration: Option<Integration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// OAuth scopes for COGNITO_USER_POOLS.
    pub authorization_scopes: Vec<String>,
}

/// A method response (`MethodResponse` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MethodResponse {
    /// HTTP status code as a string.
    pub status_code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// `method.response.header.x` -> required.
    pub response_parameters: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Content type -> model name.
    pub response_models: BTreeMap<String, String>,
}

/// An integration (`Integration` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    #[serde(rename = "type")]
    /// MOCK, HTTP, HTTP_PROXY, AWS, AWS_PROXY.
    pub integration_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Method used towards the backend.
    pub http_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Backend URI (may hold `${stageVariables.x}` and `{param}`).
    pub uri: Option<String>,
    /// INTERNET or VPC_LINK.
    pub connection_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// VPC link id when `connection_type` is VPC_LINK.
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// `integration.request.*` -> source expression.
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Content type -> mapping template.
    pub request_templates: BTreeMap<String, String>,
    /// WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER.
    pub passthrough_behavior: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// CONVERT_TO_BINARY or CONVERT_TO_TEXT.
    pub content_handling: Option<String>,
    /// 50..=29000.
    pub timeout_in_millis: i32,
    /// Cache namespace (defaults to the resource id).
    pub cache_namespace: String,
    /// Request parameters that make up the cache key.
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `tlsConfig`: HTTPS verification of the backend (HTTP and HTTP_PROXY).
    pub tls_config: Option<TlsConfig>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Status code -> integration response.
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
}

/// An integration's `tlsConfig` (`TlsConfig` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    /// Skip verifying the backend's certificate (self-signed, private CAs).
    #[serde(default)]
    pub insecure_skip_verification: bool,
}

/// An integration response (`IntegrationResponse` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    /// Method response status this maps to.
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Regex on the backend status (HTTP) or error message (AWS); none = default.
    pub selection_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// `method.response.header.x` -> source expression.
    pub response_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Content type -> mapping template.
    pub response_templates: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// CONVERT_TO_BINARY or CONVERT_TO_TEXT.
    pub content_handling: Option<String>,
}

/// A deployment (`Deployment` shape).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// 6-character identifier.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
    /// Epoch seconds.
    pub created_date: i64,
    /// Path -> method -> {authorizationType, apiKeyRequired}; GetDeployment(s) fill it
    /// only with `embed=apisummary`, as the model's `embed` member says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_summary: Option<serde_json::Value>,
}

/// A stage (`Stage` shape). Stored as the whole document.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    /// Deployment served by this stage.
    pub deployment_id: String,
    /// Name, used in invoke URLs.
    pub stage_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Client certificate used towards backends.
    pub client_certificate_id: Option<String>,
    /// Whether the stage cache is on.
    pub cache_cluster_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Cache size label, e.g. "0.5".
    pub cache_cluster_size: Option<String>,
    /// AVAILABLE or NOT_AVAILABLE.
    pub cache_cluster_status: String,
    #[serde(default)]
    /// "*/*" or "{path}/{METHOD}" -> settings.
    pub method_settings: BTreeMap<String, MethodSetting>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Stage variables.
    pub variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Where and how access logs go (kept and returned; shipping them is issue 15's).
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Documentation version.
    pub documentation_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The stage's canary release, if it has one.
    pub canary_settings: Option<CanarySettings>,
    /// Whether tracing is on.
    pub tracing_enabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Epoch seconds.
    pub created_date: i64,
    /// Epoch seconds.
    pub last_updated_date: i64,
}

/// A stage's canary release (`CanarySettings` shape): the share of the stage's requests
/// served by another deployment, with stage variables overridden for them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanarySettings {
    /// 0.0–100.0: the percentage of the stage's requests the canary serves.
    #[serde(default)]
    pub percent_traffic: f64,
    /// The canary's deployment.
    #[serde(default)]
    pub deployment_id: String,
    /// Stage variables that replace (or add to) the stage's for canary requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_variable_overrides: BTreeMap<String, String>,
    /// Whether canary requests use the stage cache.
    #[serde(default)]
    pub use_stage_cache: bool,
}

/// A stage's access log settings (`AccessLogSettings` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// ARN of the CloudWatch Logs log group or Firehose stream receiving the logs.
    pub destination_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// One line of `$context` variables; must include `$context.requestId`.
    pub format: Option<String>,
}

/// Per-method stage settings (`MethodSetting` shape).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MethodSetting {
    /// Detailed CloudWatch-style metrics.
    pub metrics_enabled: bool,
    /// OFF, ERROR or INFO.
    pub logging_level: String,
    /// Full request/response logging.
    pub data_trace_enabled: bool,
    /// Bucket size.
    pub throttling_burst_limit: i32,
    /// Refill per second.
    pub throttling_rate_limit: f64,
    /// Whether responses are cached.
    pub caching_enabled: bool,
    /// Cache TTL.
    pub cache_ttl_in_seconds: i32,
    /// Whether cached data is encrypted.
    pub cache_data_encrypted: bool,
    /// Whether `Cache-Control: max-age=0` needs authorization.
    pub require_authorization_for_cache_control: bool,
    /// FAIL_WITH_403, SUCCEED_WITH_RESPONSE_HEADER or SUCCEED_WITHOUT_RESPONSE_HEADER.
    pub unauthorized_cache_control_header_strategy: String,
}

impl Default for MethodSetting {
    fn default() -> Self {
        Self {
            metrics_enabled: false,
            logging_level: "OFF".into(),
            data_trace_enabled: false,
            throttling_burst_limit: 5000,
            throttling_rate_limit: 10000.0,
            caching_enabled: false,
            cache_ttl_in_seconds: 300,
            cache_data_encrypted: false,
            require_authorization_for_cache_control: true,
            unauthorized_cache_control_header_strategy: "SUCCEED_WITH_RESPONSE_HEADER".into(),
        }
    }
}

/// Account settings (`Account` shape).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Role used for logging (informational here).
    pub cloudwatch_role_arn: Option<String>,
    /// Account-level throttle applied to every request.
    pub throttle_settings: ThrottleSettings,
    #[serde(default)]
    /// Enabled features.
    pub features: Vec<String>,
    /// API key format version.
    pub api_key_version: String,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            cloudwatch_role_arn: None,
            throttle_settings: ThrottleSettings {
                burst_limit: 5000,
                rate_limit: 10000.0,
            },
            features: vec!["UsagePlans".into()],
            api_key_version: "4".into(),
        }
    }
}

/// A token-bucket setting (`ThrottleSettings` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ThrottleSettings {
    /// Bucket size.
    pub burst_limit: i32,
    /// Refill per second.
    pub rate_limit: f64,
}

/// An API key (`ApiKey` shape). Stored without `value`; the value lives encrypted beside it
/// and is filled in only when a caller asks for it (`includeValue`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    /// 10-character identifier.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The key value (only with `includeValue`, and on create).
    pub value: Option<String>,
    /// Display name.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Marketplace or developer-portal customer id, carried into billing exports.
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
    /// Whether callers may use it.
    pub enabled: bool,
    /// Epoch seconds.
    pub created_date: i64,
    /// Epoch seconds.
    pub last_updated_date: i64,
    #[serde(default)]
    /// Deprecated stage associations (`{restApiId}/{stageName}`), kept for the wire shape.
    pub stage_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A usage plan (`UsagePlan` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlan {
    /// Identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
    #[serde(default)]
    /// The API stages the plan covers, with per-method throttles.
    pub api_stages: Vec<ApiStage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Per-key token bucket.
    pub throttle: Option<ThrottleSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Per-key request quota per period.
    pub quota: Option<QuotaSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Marketplace product code (informational).
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// One API stage of a usage plan (`ApiStage` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiStage {
    /// REST API id.
    pub api_id: String,
    /// Stage name.
    pub stage: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// `/{resourcePath}/{METHOD}` -> per-key per-method throttle.
    pub throttle: BTreeMap<String, ThrottleSettings>,
}

/// A quota (`QuotaSettings` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct QuotaSettings {
    /// Requests per period.
    pub limit: i64,
    /// Requests subtracted from the limit in the plan's first period.
    pub offset: i64,
    /// DAY, WEEK or MONTH.
    pub period: String,
}

/// A key bound to a usage plan (`UsagePlanKey` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlanKey {
    /// The API key id.
    pub id: String,
    /// Always API_KEY.
    #[serde(rename = "type")]
    pub key_type: String,
    /// The API key's name.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The API key's value, as AWS returns it.
    pub value: Option<String>,
}

/// The URL prefix of model references, as AWS writes them.
pub const MODEL_URL_PREFIX: &str = "https://apigateway.amazonaws.com/restapis/";

/// A model (`Model` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// Identifier (6 characters).
    pub id: String,
    /// Alphanumeric name, unique in the API.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The JSON Schema text.
    pub schema: Option<String>,
    /// The content type the model describes.
    pub content_type: String,
}

/// A request validator (`RequestValidator` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestValidator {
    /// Identifier (6 characters).
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Display name.
    pub name: Option<String>,
    /// Check the body against the method's model for the content type.
    pub validate_request_body: bool,
    /// Check that required request parameters are present and non-blank.
    pub validate_request_parameters: bool,
}

/// An authorizer (`Authorizer` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    /// Identifier (6 characters).
    pub id: String,
    /// Display name (unique in the API).
    pub name: String,
    /// TOKEN, REQUEST or COGNITO_USER_POOLS.
    #[serde(rename = "type")]
    pub authorizer_type: String,
    /// The Lambda function URI (TOKEN / REQUEST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    /// An IAM role ARN (kept, not used: functions are called through `--functions-url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials: Option<String>,
    /// Where the identity comes from (`method.request.header.Auth`, ...; comma-separated
    /// for REQUEST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_source: Option<String>,
    /// TOKEN: a regex the token must match; COGNITO_USER_POOLS: the client id regex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    /// Result cache TTL (0 = off, default 300, at most 3600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i32>,
    /// COGNITO_USER_POOLS: user-pool ARNs or OIDC issuer URLs.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        rename = "providerARNs"
    )]
    pub provider_arns: Vec<String>,
    /// Free text for OpenAPI round trips.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
}

/// A gateway response (`GatewayResponse` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResponse {
    /// DEFAULT_4XX, THROTTLED, ...
    pub response_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The status sent (default: the type's).
    pub status_code: Option<String>,
    #[serde(default)]
    /// `gatewayresponse.header.X` -> `'static'` | `method.request.*` | `stageVariables.*` |
    /// `context.*`.
    pub response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    /// Content type -> body template.
    pub response_templates: BTreeMap<String, String>,
    /// Whether this is the built-in response (not customised).
    pub default_response: bool,
}

/// Every gateway response type with its default status (none for the two defaults).
pub const GATEWAY_RESPONSE_TYPES: &[(&str, Option<&str>)] = &[
    ("DEFAULT_4XX", None),
    ("DEFAULT_5XX", None),
    ("RESOURCE_NOT_FOUND", Some("404")),
    ("UNAUTHORIZED", Some("401")),
    ("INVALID_API_KEY", Some("403")),
    ("ACCESS_DENIED", Some("403")),
    ("AUTHORIZER_FAILURE", Some("500")),
    ("AUTHORIZER_CONFIGURATION_ERROR", Some("500")),
    ("INVALID_SIGNATURE", Some("403")),
    ("EXPIRED_TOKEN", Some("403")),
    ("MISSING_AUTHENTICATION_TOKEN", Some("403")),
    ("INTEGRATION_FAILURE", Some("504")),
    ("INTEGRATION_TIMEOUT", Some("504")),
    ("API_CONFIGURATION_ERROR", Some("500")),
    ("UNSUPPORTED_MEDIA_TYPE", Some("415")),
    ("BAD_REQUEST_PARAMETERS", Some("400")),
    ("BAD_REQUEST_BODY", Some("400")),
    ("REQUEST_TOO_LARGE", Some("413")),
    ("THROTTLED", Some("429")),
    ("QUOTA_EXCEEDED", Some("429")),
    ("WAF_FILTERED", Some("403")),
];

/// The body template every gateway response type has by default.
pub const DEFAULT_GATEWAY_RESPONSE_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

impl GatewayResponse {
    /// The default status of a type, or BadRequest for an unknown one.
    pub fn default_status(response_type: &str) -> ApiResult<Option<&'static str>> {
        GATEWAY_RESPONSE_TYPES
            .iter()
            .find(|(t, _)| *t == response_type)
            .map(|(_, s)| *s)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid gateway response type specified: {response_type}: must be one of {}",
                    GATEWAY_RESPONSE_TYPES
                        .iter()
                        .map(|t| t.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// The built-in form of a type (what an API has until it customises the type).
    pub fn built_in(response_type: &str) -> ApiResult<Self> {
        let status = Self::default_status(response_type)?;
        Ok(Self {
            response_type: response_type.to_string(),
            status_code: status.map(str::to_string),
            response_parameters: BTreeMap::new(),
            response_templates: BTreeMap::from([(
                "application/json".to_string(),
                DEFAULT_GATEWAY_RESPONSE_TEMPLATE.to_string(),
            )]),
            default_response: true,
        })
    }
}

/// Where a documentation part applies (`DocumentationPartLocation` shape). Members a type
/// does not have are absent; those it has are filled with AWS's defaults when saved
/// (`path` `/`, `method` `*`, `statusCode` `*`), so one location has one spelling.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationPartLocation {
    /// API, AUTHORIZER, MODEL, RESOURCE, METHOD, PATH_PARAMETER, QUERY_PARAMETER,
    /// REQUEST_HEADER, REQUEST_BODY, RESPONSE, RESPONSE_HEADER or RESPONSE_BODY.
    #[serde(rename = "type", default)]
    pub part_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Resource path.
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// HTTP verb, `*` for any.
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Status code, `*` for any.
    pub status_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Name of the authorizer, model, parameter or header.
    pub name: Option<String>,
}

/// A documentation part (`DocumentationPart` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationPart {
    /// Identifier (6 characters).
    pub id: String,
    /// The API entity it documents.
    pub location: DocumentationPartLocation,
    /// The content: a JSON object, as a string.
    pub properties: String,
}

/// A documentation version (`DocumentationVersion` shape): a snapshot of the parts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationVersion {
    /// The version identifier (the caller's).
    pub version: String,
    /// Epoch seconds.
    pub created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
}

/// A VPC link (`VpcLink` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VpcLink {
    /// Identifier (6 characters); integrations name it in `connectionId`.
    pub id: String,
    /// Display name.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
    /// The network load balancers' ARNs, kept as given (nodes call the integration's
    /// `uri` directly).
    #[serde(default)]
    pub target_arns: Vec<String>,
    /// Always AVAILABLE here.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// What the status means.
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A custom domain name (`DomainName` shape). Stored as the whole document, without any
/// key material (the certificate lives in the `certificates` table, its key encrypted).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    /// The host name, lower-cased.
    pub domain_name: String,
    /// Our identifier of the domain (`d-` + 10 characters), in `regionalDomainName`.
    pub domain_name_id: String,
    /// `arn:aws:apigateway:{region}::/domainnames/{domainName}`.
    pub domain_name_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The certificate's name (EDGE and REGIONAL alike).
    pub certificate_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `arn:aws:acm:{region}::certificate/{id}` of the served certificate (EDGE).
    pub certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// When the served certificate was uploaded, epoch seconds.
    pub certificate_upload_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The host the domain's DNS should point at (REGIONAL).
    pub regional_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Informational (REGIONAL).
    pub regional_hosted_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The certificate's name (REGIONAL).
    pub regional_certificate_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The served certificate's ARN (REGIONAL).
    pub regional_certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The host the domain's DNS should point at (EDGE).
    pub distribution_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Informational (EDGE).
    pub distribution_hosted_zone_id: Option<String>,
    /// EDGE or REGIONAL.
    pub endpoint_configuration: EndpointConfiguration,
    /// AVAILABLE: nodes serve a domain as soon as the config reaches them.
    pub domain_name_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// What the status means.
    pub domain_name_status_message: Option<String>,
    /// TLS_1_0, TLS_1_2 or one of the model's `SecurityPolicy_*` names.
    pub security_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Mutual TLS: the truststore's URI and version (its PEM is kept apart).
    pub mutual_tls_authentication: Option<MutualTlsAuthentication>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A domain's mutual TLS settings (`MutualTlsAuthentication` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutualTlsAuthentication {
    /// `file://` path of the PEM bundle, as given.
    pub truststore_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text, as given.
    pub truststore_version: Option<String>,
    #[serde(default)]
    /// Problems found in the truststore (none: a bad one is refused).
    pub truststore_warnings: Vec<String>,
}

/// A base path mapping (`BasePathMapping` shape); the empty base path is `(none)`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BasePathMapping {
    /// `(none)` or segments joined by `/` (`v1`, `v1/orders`).
    pub base_path: String,
    /// The API served under it.
    pub rest_api_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The stage served; absent: the path's first segment after the base path names it.
    pub stage: Option<String>,
}

/// A client certificate of the gateway (`ClientCertificate` shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientCertificate {
    /// 6-character identifier.
    pub client_certificate_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Free text.
    pub description: Option<String>,
    /// The certificate (public part), PEM.
    pub pem_encoded_certificate: String,
    /// Epoch seconds.
    pub created_date: i64,
    /// Epoch seconds.
    pub expiration_date: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// GetUsage's and UpdateUsage's answer (the model's `Usage`): per API key, one
/// `[used, remaining]` pair per day of the range.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// The usage plan.
    pub usage_plan_id: String,
    /// The first day, `YYYY-MM-DD`.
    pub start_date: String,
    /// The last day, `YYYY-MM-DD`.
    pub end_date: String,
    /// Per API key id, `[requests used, quota remaining]` for each day in order (the quota
    /// left at the end of the day; 0 when the plan has no quota).
    pub values: BTreeMap<String, Vec<[i64; 2]>>,
    /// The next page's position, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

/// TestInvokeMethod's answer (the model's `TestInvokeMethodResponse`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeMethodResponse {
    /// The HTTP status the method answered.
    pub status: u16,
    /// The response body.
    pub body: String,
    /// The response headers (the last value of each).
    pub headers: BTreeMap<String, String>,
    /// The response headers with every value.
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    /// The execution log of the call.
    pub log: String,
    /// The call's latency in milliseconds.
    pub latency: i64,
}

/// TestInvokeAuthorizer's answer (the model's `TestInvokeAuthorizerResponse`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeAuthorizerResponse {
    /// The status the caller would get: 200 allowed, 401 unauthorized, 403 denied.
    pub client_status: u16,
    /// The principal the authorizer returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The policy document the authorizer returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The identity the authorizer was given, per header.
    pub authorization: BTreeMap<String, Vec<String>>,
    /// A JWT authorizer's verified claims.
    pub claims: BTreeMap<String, String>,
    /// The authorizer call's latency in milliseconds.
    pub latency: i64,
    /// The execution log of the call.
    pub log: String,
}
