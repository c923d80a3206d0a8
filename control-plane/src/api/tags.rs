//! GetTags, TagResource, UntagResource (`/tags/{resource_arn}`).
//!
//! The resource is named by its ARN in API Gateway's form,
//! `arn:aws:apigateway:{region}::/restapis/{id}` (or `.../stages/{name}`, `::/apikeys/{id}`,
//! `::/usageplans/{id}`, `::/vpclinks/{id}`), in the control plane's own region. An ARN
//! naming something that is not a taggable resource is a `BadRequestException` saying why;
//! a taggable resource that does not exist is a `NotFoundException`.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};

use crate::openapi::DocumentedQuery;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::AwsJson;
use crate::store::{self, tags::Target};
use crate::validate;
use crate::AppState;

/// The `Tags` shape (GetTags' answer).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Tags {
    tags: BTreeMap<String, String>,
}

/// Body of TagResource.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TagResource {
    tags: Option<BTreeMap<String, String>>,
}

const TAGGABLE: &str = "RestApi (/restapis/{id}), Stage (/restapis/{id}/stages/{name}), \
                        ApiKey (/apikeys/{id}), UsagePlan (/usageplans/{id}), VpcLink \
                        (/vpclinks/{id}), DomainName (/domainnames/{name}) and \
                        ClientCertificate (/clientcertificates/{id})";

/// Parses an API Gateway ARN into the taggable resource it names.
pub fn parse_arn(arn: &str, region: &str) -> ApiResult<Target> {
    let invalid = |why: &str| {
        ApiError::bad_request(format!(
            "Invalid resource ARN '{arn}': {why}; taggable resources are {TAGGABLE}, named \
             arn:aws:apigateway:{region}::/{{path}}"
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, arn_region, account, path] = parts[..] else {
        return Err(invalid("not an ARN"));
    };
    if prefix != "arn" || partition != "aws" {
        return Err(invalid("not an ARN of the aws partition"));
    }
    if service != "apigateway" {
        return Err(invalid(&format!(
            "the service is '{service}', not apigateway"
        )));
    }
    if arn_region != region {
        return Err(invalid(&format!(
            "the region is '{arn_region}', but this control plane is {region}"
        )));
    }
    if !account.is_empty() {
        return Err(invalid("API Gateway resource ARNs have no account id"));
    }
    let segs: Vec<&str> = match path.strip_prefix('/') {
        Some(p) => p.split('/').collect(),
        None => return Err(invalid("the resource path must start with '/'")),
    };
    if segs.iter().any(|s| s.is_empty()) {
        return Err(invalid("the resource path has an empty segment"));
    }
    let own = |s: &str| s.to_string();
    match segs[..] {
        ["restapis", id] => Ok(Target::RestApi(own(id))),
        ["restapis", id, "stages", name] => Ok(Target::Stage {
            api_id: own(id),
            name: own(name),
        }),
        ["apikeys", id] => Ok(Target::ApiKey(own(id))),
        ["usageplans", id] => Ok(Target::UsagePlan(own(id))),
        ["vpclinks", id] => Ok(Target::VpcLink(own(id))),
        ["domainnames", name] => Ok(Target::DomainName(own(name).to_ascii_lowercase())),
        ["clientcertificates", id] => Ok(Target::ClientCertificate(own(id))),
        _ => Err(invalid("it does not name a taggable resource")),
    }
}

/// GET /tags/{resource_arn}
pub async fn get(State(state): State<AppState>, Path(arn): Path<String>) -> ApiResult<Json<Tags>> {
    let target = parse_arn(&arn, &state.region)?;
    let mut conn = state.db.acquire().await?;
    let tags = store::tags::load(&mut conn, &target, false).await?;
    Ok(Json(Tags { tags }))
}

/// PUT /tags/{resource_arn}: adds tags or replaces their values.
pub async fn tag(
    State(state): State<AppState>,
    Path(arn): Path<String>,
    AwsJson(req): AwsJson<TagResource>,
) -> ApiResult<StatusCode> {
    let target = parse_arn(&arn, &state.region)?;
    let new = req
        .tags
        .ok_or_else(|| ApiError::bad_request("tags is required"))?;
    validate::tags(&new)?;
    let mut tx = state.db.begin().await?;
    let mut tags = store::tags::load(&mut tx, &target, true).await?;
    tags.extend(new);
    validate::tags(&tags)?;
    store::tags::save(&mut tx, &target, &tags).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query of UntagResource.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // describes the query; read from the raw query (a repeated key)
pub struct UntagParams {
    /// The keys of the tags to remove (repeated: `tagKeys=a&tagKeys=b`).
    tag_keys: Vec<String>,
}

/// DELETE /tags/{resource_arn}?tagKeys=a&tagKeys=b: removes tags (keys it does not carry
/// are ignored).
pub async fn untag(
    State(state): State<AppState>,
    Path(arn): Path<String>,
    RawQuery(query): RawQuery,
    _: DocumentedQuery<UntagParams>,
) -> ApiResult<StatusCode> {
    let target = parse_arn(&arn, &state.region)?;
    let raw = query.unwrap_or_default();
    let keys: Vec<String> = apigw_gateway::query::all(&raw, "tagKeys")
        .map(|k| k.into_owned())
        .collect();
    if keys.is_empty() {
        return Err(ApiError::bad_request("tagKeys is required"));
    }
    let mut tx = state.db.begin().await?;
    let mut tags = store::tags::load(&mut tx, &target, true).await?;
    for key in &keys {
        tags.remove(key);
    }
    store::tags::save(&mut tx, &target, &tags).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        let r = "us-east-1";
        let p = |a: &str| parse_arn(a, r);
        assert_eq!(
            p("arn:aws:apigateway:us-east-1::/restapis/abc").ok(),
            Some(Target::RestApi("abc".into()))
        );
        assert_eq!(
            p("arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod").ok(),
            Some(Target::Stage {
                api_id: "abc".into(),
                name: "prod".into()
            })
        );
        assert_eq!(
            p("arn:aws:apigateway:us-east-1::/apikeys/k1").ok(),
            Some(Target::ApiKey("k1".into()))
        );
        assert_eq!(
            p("arn:aws:apigateway:us-east-1::/usageplans/u1").ok(),
            Some(Target::UsagePlan("u1".into()))
        );
        assert_eq!(
            p("arn:aws:apigateway:us-east-1::/vpclinks/v1").ok(),
            Some(Target::VpcLink("v1".into()))
        );
        assert_eq!(
            p("arn:aws:apigateway:us-east-1::/clientcertificates/c1").ok(),
            Some(Target::ClientCertificate("c1".into()))
        );
        for bad in [
            "",
            "abc",
            "arn:aws:lambda:us-east-1:1:function:f",
            "arn:aws:apigateway:eu-west-1::/restapis/abc",
            "arn:aws:apigateway:us-east-1:123:/restapis/abc",
            "arn:aws:apigateway:us-east-1::restapis/abc",
            "arn:aws:apigateway:us-east-1::/restapis/abc/resources/r1",
            "arn:aws:apigateway:us-east-1::/restapis//stages/prod",
            "arn:aws:apigateway:us-east-1::/clientcertificates/c1/x",
            "arn:aws:apigateway:us-east-1::/vpclinks/v1/x",
        ] {
            assert!(
                matches!(p(bad), Err(ApiError::BadRequest(_))),
                "{bad} should be refused"
            );
        }
    }
}
