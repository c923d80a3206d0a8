//! The service model's own constraints on input members, answered as AWS answers them:
//! `ValidationException` (400) with the message
//! `N validation error(s) detected: Value 'X' at 'member' failed to satisfy constraint: ...`.
//!
//! This is one side of the validation split. A value that the `apigateway` model itself
//! refuses (outside a shape's `enum`, not matching its `pattern`) is a
//! `ValidationException`, checked here before anything else; a value the model accepts but
//! API Gateway's rules do not (a bad URI, a missing model, an unknown authorizer) is a
//! `BadRequestException`, checked by the handlers with [`crate::validate`] and
//! [`crate::api::rules`]. The sets below are copied from the model's shapes
//! (`/work/shared/reference/apigateway.service-2.json`), named after them.
//!
//! Members the model types as a plain `String` (`authorizationType`,
//! `passthroughBehavior`) are not enums to the model, so they are API Gateway's rules and
//! live in [`crate::validate`], case-insensitively.

use crate::error::{ApiError, ApiResult};

/// `ApiKeySourceType`.
pub const API_KEY_SOURCE_TYPE: &[&str] = &["HEADER", "AUTHORIZER"];
/// `EndpointType`.
pub const ENDPOINT_TYPE: &[&str] = &["REGIONAL", "EDGE", "PRIVATE"];
/// `IntegrationType`.
pub const INTEGRATION_TYPE: &[&str] = &["HTTP", "AWS", "MOCK", "HTTP_PROXY", "AWS_PROXY"];
/// `ConnectionType`.
pub const CONNECTION_TYPE: &[&str] = &["INTERNET", "VPC_LINK"];
/// `ContentHandlingStrategy`.
pub const CONTENT_HANDLING_STRATEGY: &[&str] = &["CONVERT_TO_BINARY", "CONVERT_TO_TEXT"];
/// `CacheClusterSize`.
pub const CACHE_CLUSTER_SIZE: &[&str] =
    &["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"];
/// `AuthorizerType`.
pub const AUTHORIZER_TYPE: &[&str] = &["TOKEN", "REQUEST", "COGNITO_USER_POOLS", "JWT"];
/// `QuotaPeriodType`.
pub const QUOTA_PERIOD_TYPE: &[&str] = &["DAY", "WEEK", "MONTH"];

/// `DocumentationPartType`.
pub const DOCUMENTATION_PART_TYPE: &[&str] = &[
    "API",
    "AUTHORIZER",
    "MODEL",
    "RESOURCE",
    "METHOD",
    "PATH_PARAMETER",
    "QUERY_PARAMETER",
    "REQUEST_HEADER",
    "REQUEST_BODY",
    "RESPONSE",
    "RESPONSE_HEADER",
    "RESPONSE_BODY",
];
/// `LocationStatusType`.
pub const LOCATION_STATUS_TYPE: &[&str] = &["DOCUMENTED", "UNDOCUMENTED"];
/// `PutMode`.
pub const PUT_MODE: &[&str] = &["merge", "overwrite"];
/// `DocumentationPartLocationStatusCode`'s pattern (see [`is_location_status_code`]).
pub const DOCUMENTATION_PART_LOCATION_STATUS_CODE: &str = r"^([1-5]\d\d|\*|\s*)$";

/// Whether `s` matches [`DOCUMENTATION_PART_LOCATION_STATUS_CODE`]: a status code 100..=599,
/// `*`, or only white space.
pub fn is_location_status_code(s: &str) -> bool {
    let b = s.as_bytes();
    s == "*"
        || s.chars().all(char::is_whitespace)
        || (b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1..].iter().all(u8::is_ascii_digit))
}

/// The violations found in one request, reported together as AWS does.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `member`, when present, must be one of `set` (exactly: the model's enums are
    /// case-sensitive).
    pub fn enum_value(&mut self, member: &str, value: Option<&str>, set: &[&str]) -> &mut Self {
        if let Some(v) = value {
            if !set.contains(&v) {
                self.0.push(format!(
                    "Value '{v}' at '{member}' failed to satisfy constraint: Member must \
                     satisfy enum value set: [{}]",
                    set.join(", ")
                ));
            }
        }
        self
    }

    /// `member`, when present, must match the shape's `pattern` (`matches` is its test).
    pub fn pattern(
        &mut self,
        member: &str,
        value: Option<&str>,
        pattern: &str,
        matches: impl Fn(&str) -> bool,
    ) -> &mut Self {
        if let Some(v) = value {
            if !matches(v) {
                self.0.push(format!(
                    "Value '{v}' at '{member}' failed to satisfy constraint: Member must \
                     satisfy regular expression pattern: {pattern}"
                ));
            }
        }
        self
    }

    /// Every element of the list `member` must be one of `set`.
    pub fn enum_list(&mut self, member: &str, values: &[String], set: &[&str]) -> &mut Self {
        if values.iter().any(|v| !set.contains(&v.as_str())) {
            self.0.push(format!(
                "Value '[{}]' at '{member}' failed to satisfy constraint: Member must satisfy \
                 constraint: [Member must satisfy enum value set: [{}]]",
                values.join(", "),
                set.join(", ")
            ));
        }
        self
    }

    /// `ValidationException` naming every violation, or `Ok` when there is none.
    pub fn finish(&mut self) -> ApiResult<()> {
        let found = std::mem::take(&mut self.0);
        match found.len() {
            0 => Ok(()),
            1 => Err(ApiError::Validation(format!(
                "1 validation error detected: {}",
                found[0]
            ))),
            n => Err(ApiError::Validation(format!(
                "{n} validation errors detected: {}",
                found.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_violation_reads_like_aws() {
        let err = Violations::new()
            .enum_value("apiKeySource", Some("BOGUS"), API_KEY_SOURCE_TYPE)
            .finish()
            .unwrap_err();
        assert!(matches!(&err, ApiError::Validation(_)));
        assert_eq!(
            err.to_string(),
            "1 validation error detected: Value 'BOGUS' at 'apiKeySource' failed to satisfy \
             constraint: Member must satisfy enum value set: [HEADER, AUTHORIZER]"
        );
    }

    #[test]
    fn patterns_read_like_aws() {
        let err = Violations::new()
            .pattern(
                "location.statusCode",
                Some("600"),
                DOCUMENTATION_PART_LOCATION_STATUS_CODE,
                is_location_status_code,
            )
            .finish()
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "1 validation error detected: Value '600' at 'location.statusCode' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: \
             ^([1-5]\\d\\d|\\*|\\s*)$"
        );
        for ok in ["200", "599", "100", "*", "", "  "] {
            assert!(is_location_status_code(ok), "{ok:?}");
        }
        for bad in ["600", "099", "20", "2000", "2x0", "**", " 200"] {
            assert!(!is_location_status_code(bad), "{bad:?}");
        }
    }

    #[test]
    fn several_are_counted_and_absent_members_pass() {
        let err = Violations::new()
            .enum_value("type", Some("mock"), INTEGRATION_TYPE)
            .enum_value("connectionType", None, CONNECTION_TYPE)
            .enum_list(
                "endpointConfiguration.types",
                &["EDGE".into(), "LOCAL".into()],
                ENDPOINT_TYPE,
            )
            .finish()
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("2 validation errors detected: Value 'mock' at 'type'"));
        assert!(err.contains("; Value '[EDGE, LOCAL]' at 'endpointConfiguration.types'"));
        assert!(Violations::new()
            .enum_value("apiKeySource", Some("HEADER"), API_KEY_SOURCE_TYPE)
            .finish()
            .is_ok());
    }
}
