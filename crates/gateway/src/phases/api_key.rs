//! Step 4, API key: for methods with `apiKeyRequired`, the `x-api-key` header is hashed
//! (SHA-256, as the control plane indexes keys) and looked up; the key must be enabled and
//! in a usage plan that covers this API stage (at most one plan can). Otherwise 403
//! Forbidden, as API Gateway answers for a missing, unknown, disabled or unplanned key.

use std::sync::Arc;

use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::compile::usage::{CompiledPlan, CompiledUsage};
use crate::compile::CompiledStage;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::trace::lines::{self, ApiKeyRefusal};

/// The header carrying the key (`apiKeySource` HEADER).
pub const X_API_KEY: &str = "x-api-key";

/// The caller's key and the plan that governs it on this stage.
#[derive(Debug, Clone)]
pub struct KeyPlan {
    /// API key id.
    pub key_id: Box<str>,
    /// Its plan for this API stage.
    pub plan: Arc<CompiledPlan>,
}

/// Identifies the caller's key and plan, or refuses with 403. The key is the `x-api-key`
/// header (`apiKeySource` HEADER) or the authorizer's `usageIdentifierKey` (AUTHORIZER).
/// A refusal writes why in the execution log (when the request is traced), in API
/// Gateway's words for `http_method` and `resource_path`.
pub fn identify(
    usage: &CompiledUsage,
    stage: &CompiledStage,
    headers: &HeaderMap,
    ctx: &RequestContext,
    http_method: &str,
    resource_path: &str,
) -> Result<KeyPlan, GatewayError> {
    lookup(usage, stage, headers, ctx).map_err(|(reason, value)| {
        ctx.log(|| {
            let key = value.map(String::from_utf8_lossy).unwrap_or_default();
            lines::api_key_refused(
                &crate::trace::mask(&key),
                http_method,
                resource_path,
                &format!("{}/{}", stage.api_id, stage.stage_name),
                reason,
            )
        });
        GatewayError::InvalidApiKey
    })
}

/// The key's plan, or why there is none (and the key's bytes, when one came).
fn lookup<'a>(
    usage: &CompiledUsage,
    stage: &CompiledStage,
    headers: &'a HeaderMap,
    ctx: &'a RequestContext,
) -> Result<KeyPlan, (ApiKeyRefusal, Option<&'a [u8]>)> {
    let value = if stage.api_key_from_header {
        headers.get(X_API_KEY).map(|v| v.as_bytes())
    } else {
        ctx.authorizer
            .get()
            .and_then(|a| a.usage_identifier_key.as_deref())
            .map(str::as_bytes)
    }
    .filter(|v| !v.is_empty())
    .ok_or((ApiKeyRefusal::Missing, None))?;
    let hash: [u8; 32] = Sha256::digest(value).into();
    let key = usage
        .key(&hash)
        .filter(|k| k.enabled)
        .ok_or((ApiKeyRefusal::Unknown, Some(value)))?;
    let plan = key
        .plans
        .iter()
        .find(|p| p.stage(&stage.api_id, &stage.stage_name).is_some())
        .ok_or((ApiKeyRefusal::NotInPlan, Some(value)))?;
    Ok(KeyPlan {
        key_id: key.id.clone(),
        plan: Arc::clone(plan),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_proto::config as pb;
    use http::HeaderValue;

    fn ctx() -> RequestContext {
        RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]))
    }

    fn stage(api_key_source: &str) -> CompiledStage {
        crate::compile::compile_stage(&pb::StageConfig {
            api_id: "a".into(),
            stage_name: "prod".into(),
            deployment: Some(pb::DeploymentSnapshot {
                api_key_source: api_key_source.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap()
    }

    fn usage() -> CompiledUsage {
        let key = |id: &str, value: &str, enabled: bool, plans: &[&str]| pb::ApiKeyEntry {
            id: id.into(),
            value_hash: Sha256::digest(value.as_bytes()).to_vec(),
            enabled,
            plan_ids: plans.iter().map(|p| p.to_string()).collect(),
        };
        let plan = |id: &str, stage: &str| pb::UsagePlanConfig {
            id: id.into(),
            api_stages: vec![pb::PlanApiStage {
                api_id: "a".into(),
                stage: stage.into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        crate::compile::usage::compile_usage(&pb::UsageConfig {
            api_keys: vec![
                key("good", "good-key-value-0123456789", true, &["dev", "p"]),
                key("off", "off-key-value-0123456789", false, &["p"]),
                key("lost", "lost-key-value-0123456789", true, &["dev"]),
            ],
            usage_plans: vec![plan("p", "prod"), plan("dev", "dev")],
        })
    }

    fn headers(v: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = v {
            h.insert(X_API_KEY, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_refusal_says_why_in_the_execution_log() {
        let (u, s) = (usage(), stage("HEADER"));
        for (value, why) in [
            (None, "request did not contain API Key"),
            (
                Some("unknown-key-value-0123456789"),
                "API Key is invalid or disabled",
            ),
            (
                Some("lost-key-value-0123456789"),
                "API Key is not associated with a Usage Plan for API Stage a/prod",
            ),
        ] {
            let ctx = ctx();
            let _ = ctx
                .trace
                .set(Arc::new(crate::trace::ExecutionTrace::for_node(false)));
            assert!(identify(&u, &s, &headers(value), &ctx, "GET", "/pets").is_err());
            let logged = ctx.trace.get().unwrap().lines();
            assert_eq!(logged.len(), 1, "{logged:?}");
            assert!(
                logged[0].ends_with(&format!("method 'GET /pets' requires API Key and {why}")),
                "{logged:?}"
            );
            assert!(!logged[0].contains("0123456789"), "the key is masked");
        }
    }

    #[test]
    fn every_refusal_is_forbidden() {
        let (u, s) = (usage(), stage("HEADER"));
        let ok = identify(
            &u,
            &s,
            &headers(Some("good-key-value-0123456789")),
            &ctx(),
            "GET",
            "/",
        )
        .unwrap();
        assert_eq!((&*ok.key_id, &*ok.plan.id), ("good", "p"));
        for v in [
            None,
            Some(""),
            Some("unknown-key-value-0123456789"),
            Some("off-key-value-0123456789"),
            Some("lost-key-value-0123456789"),
        ] {
            assert!(
                matches!(
                    identify(&u, &s, &headers(v), &ctx(), "GET", "/"),
                    Err(GatewayError::InvalidApiKey)
                ),
                "{v:?}"
            );
        }
        let auth = stage("AUTHORIZER");
        assert!(identify(
            &u,
            &auth,
            &headers(Some("good-key-value-0123456789")),
            &ctx(),
            "GET",
            "/"
        )
        .is_err());
    }
}
