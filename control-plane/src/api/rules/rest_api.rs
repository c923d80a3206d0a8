//! The rules of a REST API's own members (CreateRestApi, UpdateRestApi, ImportRestApi,
//! PutRestApi): what every create or update must keep valid.

use super::{Member, RuleResult};
use crate::constraints;
use crate::error::ApiError;
use crate::wire::RestApi;

fn bad(member: &'static str, message: String) -> super::Broken {
    super::Broken {
        member,
        error: ApiError::bad_request(message),
    }
}

/// Checks the members every create or update must keep valid.
pub fn rest_api(api: &RestApi) -> RuleResult {
    crate::validate::tags(&api.tags).member("tags")?;
    if api.name.trim().is_empty() {
        return Err(bad(
            "name",
            "Invalid REST API name specified: name must be non-empty".into(),
        ));
    }
    if !constraints::API_KEY_SOURCE_TYPE.contains(&api.api_key_source.as_str()) {
        return Err(bad(
            "apiKeySource",
            format!(
                "Invalid apiKeySource '{}': must be HEADER or AUTHORIZER",
                api.api_key_source
            ),
        ));
    }
    if let Some(size) = api.minimum_compression_size {
        if !(0..=10_485_760).contains(&size) {
            return Err(bad(
                "minimumCompressionSize",
                "Invalid minimumCompressionSize: must be between 0 and 10485760".into(),
            ));
        }
    }
    for t in &api.endpoint_configuration.types {
        if !constraints::ENDPOINT_TYPE.contains(&t.as_str()) {
            return Err(bad(
                "endpointConfiguration",
                format!("Invalid endpoint type '{t}': must be EDGE, REGIONAL or PRIVATE"),
            ));
        }
    }
    for m in &api.binary_media_types {
        if !m.contains('/') {
            return Err(bad(
                "binaryMediaTypes",
                format!("Invalid binary media type '{m}': must look like type/subtype"),
            ));
        }
    }
    // The engine compiles the same text for every stage (the region does not change
    // whether it is valid).
    if let Some(policy) = api.policy.as_deref().filter(|p| !p.trim().is_empty()) {
        let context = apigw_iam_policy::CompileContext {
            region: "us-east-1",
            account_id: crate::store::account_id(),
            api_id: &api.id,
        };
        apigw_iam_policy::Policy::parse(policy, &context)
            .map_err(|e| bad("policy", e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> RestApi {
        RestApi {
            name: "pets".into(),
            api_key_source: "HEADER".into(),
            ..Default::default()
        }
    }

    #[test]
    fn validation() {
        assert!(rest_api(&api()).is_ok());
        let mut a = api();
        a.name = " ".into();
        assert_eq!(rest_api(&a).unwrap_err().member, "name");
        let mut a = api();
        a.api_key_source = "QUERY".into();
        assert_eq!(rest_api(&a).unwrap_err().member, "apiKeySource");
        let mut a = api();
        a.policy = Some("{not json".into());
        assert_eq!(rest_api(&a).unwrap_err().member, "policy");
        let mut a = api();
        a.binary_media_types = vec!["png".into()];
        assert_eq!(rest_api(&a).unwrap_err().member, "binaryMediaTypes");
    }
}
