//! Custom domain names and API mappings in the `apigatewayv2` shape: CreateDomainName,
//! GetDomainName(s), UpdateDomainName, DeleteDomainName under `/v2/domainnames`, and
//! CreateApiMapping, GetApiMapping(s), UpdateApiMapping, DeleteApiMapping under
//! `/v2/domainnames/{domainName}/apimappings`.
//!
//! One namespace of domain names serves both APIs, as in AWS: a v2 domain is a row of the
//! REST API's `domain_names` ([`crate::api::domain_names`] creates, updates and deletes it,
//! with the same certificate handling), so a domain created through either API is seen,
//! changed and deleted through the other, and maps REST stages through base path mappings
//! and HTTP API stages through API mappings. The v2 shape has no certificate upload
//! members: `domainNameConfigurations[0].certificateArn` names a certificate uploaded
//! earlier (with a REST CreateDomainName, `arn:aws:acm:{region}::certificate/{id}` as its
//! `regionalCertificateArn` shows). UpdateDomainName is translated into the REST API's
//! patch operations.
//!
//! An API mapping points a key of the domain (`''` for the whole domain, `orders` or
//! `v1/orders`) at an HTTP API stage; keys are unique per domain across base path mappings
//! and API mappings (ConflictException). The nodes route both kinds alike: the longest key
//! that is a whole-segment prefix of the path wins and is stripped before route matching
//! (`compile::domain`). Request members that name something that does not exist (`apiId`,
//! `stage`) are BadRequestException, as for base path mappings; path members (the domain,
//! the mapping id) NotFoundException. As in AWS, keys are at most 300 characters, and HTTP
//! APIs map only to REGIONAL domains with the TLS 1.2 security policy (or a newer one).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

use super::{shape, Paging};
use crate::api::domain_names::{self as v1, CreateDomainName, MutualTlsInput};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery};
use crate::ids::random_id;
use crate::patch::{Op, PatchOperation, PatchRequest};
use crate::store;
use crate::wire::{DomainName, EndpointConfiguration};
use crate::AppState;

/// The v2 `DomainName` of a stored domain.
pub fn v2_domain(d: &DomainName) -> Value {
    let mut cfg = Map::new();
    let mut put = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            cfg.insert(k.into(), json!(v));
        }
    };
    put(
        "apiGatewayDomainName",
        d.regional_domain_name
            .as_ref()
            .or(d.distribution_domain_name.as_ref()),
    );
    put(
        "certificateArn",
        d.regional_certificate_arn
            .as_ref()
            .or(d.certificate_arn.as_ref()),
    );
    put(
        "certificateName",
        d.regional_certificate_name
            .as_ref()
            .or(d.certificate_name.as_ref()),
    );
    put(
        "hostedZoneId",
        d.regional_hosted_zone_id
            .as_ref()
            .or(d.distribution_hosted_zone_id.as_ref()),
    );
    put("domainNameStatus", Some(&d.domain_name_status));
    put(
        "domainNameStatusMessage",
        d.domain_name_status_message.as_ref(),
    );
    put("endpointType", d.endpoint_configuration.types.first());
    put("securityPolicy", Some(&d.security_policy));
    if let Some(at) = d.certificate_upload_date {
        if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(at) {
            if let Ok(s) = t.format(&time::format_description::well_known::Rfc3339) {
                cfg.insert("certificateUploadDate".into(), json!(s));
            }
        }
    }
    let mut out = json!({
        "apiMappingSelectionExpression": "$request.basepath",
        "domainName": d.domain_name,
        "domainNameArn": d.domain_name_arn,
        "domainNameConfigurations": [Value::Object(cfg)],
        "routingMode": "API_MAPPING_ONLY",
        "tags": d.tags,
    });
    if let Some(m) = &d.mutual_tls_authentication {
        let mut mtls = json!({
            "truststoreUri": m.truststore_uri,
            "truststoreWarnings": m.truststore_warnings,
        });
        if let Some(v) = &m.truststore_version {
            mtls["truststoreVersion"] = json!(v);
        }
        out["mutualTlsAuthentication"] = mtls;
    }
    out
}

fn str_of(v: &Map<String, Value>, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// The one `domainNameConfigurations` entry of a request, if any.
fn configuration(body: &Map<String, Value>) -> ApiResult<Option<Map<String, Value>>> {
    let configs = body
        .get("domainNameConfigurations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match configs.as_slice() {
        [] => Ok(None),
        [c] => Ok(c.as_object().cloned()),
        _ => Err(ApiError::bad_request(
            "domainNameConfigurations must hold exactly one configuration",
        )),
    }
}

fn check_routing_mode(body: &Map<String, Value>) -> ApiResult<()> {
    match body.get("routingMode").and_then(Value::as_str) {
        None | Some("API_MAPPING_ONLY") => Ok(()),
        Some(m) => Err(ApiError::bad_request(format!(
            "routingMode {m} is not supported: only API_MAPPING_ONLY (routing rules are not)"
        ))),
    }
}

fn mutual_tls(body: &Map<String, Value>) -> Option<MutualTlsInput> {
    body.get("mutualTlsAuthentication")
        .and_then(Value::as_object)
        .map(|m| MutualTlsInput {
            truststore_uri: str_of(m, "truststoreUri"),
            truststore_version: str_of(m, "truststoreVersion"),
        })
}

/// POST /v2/domainnames
pub async fn create(
    State(state): State<AppState>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = shape::check("CreateDomainName", &body, true)?;
    check_routing_mode(&body)?;
    let cfg = configuration(&body)?.unwrap_or_default();
    let Some(arn) = str_of(&cfg, "certificateArn") else {
        return Err(ApiError::bad_request(
            "domainNameConfigurations[0].certificateArn is required: this gateway has no ACM; \
             name a certificate uploaded earlier with a domain through the REST API's \
             CreateDomainName (arn:aws:acm:{region}::certificate/{id}, as its \
             regionalCertificateArn shows)",
        ));
    };
    let tags = body
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let req = CreateDomainName {
        domain_name: str_of(&body, "domainName"),
        regional_certificate_arn: Some(arn),
        endpoint_configuration: Some(EndpointConfiguration {
            types: vec![str_of(&cfg, "endpointType").unwrap_or_else(|| "REGIONAL".into())],
        }),
        security_policy: str_of(&cfg, "securityPolicy"),
        mutual_tls_authentication: mutual_tls(&body),
        ownership_verification_certificate_arn: str_of(&cfg, "ownershipVerificationCertificateArn"),
        tags,
        ..CreateDomainName::default()
    };
    let d = v1::create_domain(&state, req).await?;
    Ok((StatusCode::CREATED, Json(v2_domain(&d))))
}

/// GET /v2/domainnames
pub async fn list(
    State(state): State<AppState>,
    AwsQuery(paging): AwsQuery<Paging>,
) -> ApiResult<Json<Value>> {
    let mut conn = state.db.acquire().await?;
    let all = store::domains::list(&mut conn).await?;
    Ok(Json(
        paging.page(all.iter().map(|d| v2_domain(&d.doc)).collect())?,
    ))
}

/// GET /v2/domainnames/{domain_name}
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut conn = state.db.acquire().await?;
    let d = store::domains::load(&mut conn, &name.to_ascii_lowercase(), false).await?;
    Ok(Json(v2_domain(&d.doc)))
}

fn replace(path: &str, value: String) -> PatchOperation {
    PatchOperation {
        op: Op::Replace,
        path: Some(path.into()),
        value: Some(value),
        from: None,
    }
}

/// PATCH /v2/domainnames/{domain_name}: the configuration's `endpointType`,
/// `securityPolicy`, `certificateArn` (another uploaded certificate) and
/// `certificateName`, and `mutualTlsAuthentication`; what is not given stays.
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<Json<Value>> {
    let body = shape::check("UpdateDomainName", &body, false)?;
    check_routing_mode(&body)?;
    let mut ops = Vec::new();
    if let Some(cfg) = configuration(&body)? {
        if cfg.contains_key("ownershipVerificationCertificateArn") {
            return Err(ApiError::bad_request(
                "ownershipVerificationCertificateArn applies to ACM certificates of AWS, \
                 which this gateway does not have",
            ));
        }
        for (member, path) in [
            ("endpointType", "/endpointConfiguration/types/0"),
            ("securityPolicy", "/securityPolicy"),
            ("certificateArn", "/regionalCertificateArn"),
            ("certificateName", "/certificateName"),
        ] {
            if let Some(v) = str_of(&cfg, member) {
                ops.push(replace(path, v));
            }
        }
    }
    if let Some(m) = mutual_tls(&body) {
        if let Some(uri) = m.truststore_uri.filter(|u| !u.is_empty()) {
            ops.push(replace("/mutualTlsAuthentication/truststoreUri", uri));
        }
        if let Some(v) = m.truststore_version {
            ops.push(replace("/mutualTlsAuthentication/truststoreVersion", v));
        }
    }
    let d = v1::update_domain(
        &state,
        &name,
        &PatchRequest {
            patch_operations: ops,
        },
    )
    .await?;
    Ok(Json(v2_domain(&d)))
}

/// DELETE /v2/domainnames/{domain_name}
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    v1::delete_domain(&state, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- API mappings ----

fn mapping_json((id, key, api, stage): &store::domains::ApiMappingRow) -> Value {
    json!({ "apiId": api, "apiMappingId": id, "apiMappingKey": key, "stage": stage })
}

/// The stored form of an API mapping key: omitted or empty is the empty key; otherwise
/// segments of letters, digits and `$-_.+!*'()` joined by single `/`s (no `/` at either
/// end), as base paths are.
fn stored_key(given: Option<&str>) -> ApiResult<String> {
    let key = given.unwrap_or("");
    if key.len() > 300 {
        return Err(ApiError::bad_request(
            "Invalid API mapping key: at most 300 characters",
        ));
    }
    if key == "(none)" {
        return Err(ApiError::bad_request(
            "Invalid API mapping key '(none)': give an empty key to map the whole domain",
        ));
    }
    v1::stored_base_path(Some(key)).map_err(|_| {
        ApiError::bad_request(format!(
            "Invalid API mapping key '{key}': segments of letters, digits and $-_.+!*'() \
             separated by single '/' (no leading or trailing '/'), or empty for the whole \
             domain"
        ))
    })
}

/// The mapped API must be an HTTP API with that stage.
async fn check_target(conn: &mut sqlx::PgConnection, api: &str, stage: &str) -> ApiResult<()> {
    let doc = store::v2::load_api(conn, api, false)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => {
                ApiError::bad_request(format!("Invalid API identifier specified {api}"))
            }
            other => other,
        })?;
    if super::protocol(&doc) != "HTTP" {
        return Err(ApiError::bad_request(format!(
            "API {api} is a {} API: API mappings of this gateway map HTTP API stages (map \
             REST API stages with base path mappings)",
            super::protocol(&doc)
        )));
    }
    let key = store::v2::Key {
        api,
        kind: store::v2::kind::STAGE,
        parent: "",
    };
    if store::v2::load_item(conn, key, stage, false)
        .await?
        .is_none()
    {
        return Err(ApiError::bad_request(format!(
            "Invalid stage identifier specified {stage} (no such stage of API {api})"
        )));
    }
    Ok(())
}

/// AWS maps HTTP APIs only to REGIONAL domains with the TLS 1.2 security policy (or a
/// newer one).
fn check_domain_takes_http_apis(d: &DomainName) -> ApiResult<()> {
    let regional = d.endpoint_configuration.types.first().map(String::as_str) == Some("REGIONAL");
    if !regional || d.security_policy == "TLS_1_0" {
        return Err(ApiError::bad_request(format!(
            "HTTP APIs can be mapped only to a REGIONAL custom domain name with the TLS 1.2 \
             security policy; {} is {} with {}",
            d.domain_name,
            d.endpoint_configuration
                .types
                .first()
                .map_or("EDGE", String::as_str),
            d.security_policy
        )));
    }
    Ok(())
}

fn key_conflict(key: &str) -> ApiError {
    ApiError::conflict(format!(
        "The API mapping key '{key}' is already used by a mapping of this domain name"
    ))
}

/// POST /v2/domainnames/{domain_name}/apimappings
pub async fn create_mapping(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = shape::check("CreateApiMapping", &body, true)?;
    let domain = domain.to_ascii_lowercase();
    let key = stored_key(body.get("apiMappingKey").and_then(Value::as_str))?;
    let api = str_of(&body, "apiId").unwrap_or_default();
    let stage = str_of(&body, "stage").unwrap_or_default();
    let mut tx = state.db.begin().await?;
    let d = store::domains::load(&mut tx, &domain, true).await?;
    check_domain_takes_http_apis(&d.doc)?;
    check_target(&mut tx, &api, &stage).await?;
    if store::domains::mapping_key_taken(&mut tx, &domain, &key, None).await? {
        return Err(key_conflict(&key));
    }
    let row = (random_id(6), key, api, stage);
    store::domains::put_api_mapping(&mut tx, &domain, &row).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(mapping_json(&row))))
}

/// GET /v2/domainnames/{domain_name}/apimappings
pub async fn list_mappings(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    AwsQuery(paging): AwsQuery<Paging>,
) -> ApiResult<Json<Value>> {
    let domain = domain.to_ascii_lowercase();
    let mut conn = state.db.acquire().await?;
    store::domains::load(&mut conn, &domain, false).await?;
    let rows = store::domains::api_mappings(&mut conn, &domain).await?;
    Ok(Json(paging.page(rows.iter().map(mapping_json).collect())?))
}

/// GET /v2/domainnames/{domain_name}/apimappings/{api_mapping_id}
pub async fn get_mapping(
    State(state): State<AppState>,
    Path((domain, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let domain = domain.to_ascii_lowercase();
    let mut conn = state.db.acquire().await?;
    store::domains::load(&mut conn, &domain, false).await?;
    let row = store::domains::api_mapping(&mut conn, &domain, &id).await?;
    Ok(Json(mapping_json(&row)))
}

/// PATCH /v2/domainnames/{domain_name}/apimappings/{api_mapping_id}: `apiId`, `stage`,
/// `apiMappingKey`; what is not given stays.
pub async fn update_mapping(
    State(state): State<AppState>,
    Path((domain, id)): Path<(String, String)>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<Json<Value>> {
    let body = shape::check("UpdateApiMapping", &body, false)?;
    let domain = domain.to_ascii_lowercase();
    let mut tx = state.db.begin().await?;
    let d = store::domains::load(&mut tx, &domain, true).await?;
    check_domain_takes_http_apis(&d.doc)?;
    let (id, mut key, mut api, mut stage) =
        store::domains::api_mapping(&mut tx, &domain, &id).await?;
    if let Some(k) = body.get("apiMappingKey") {
        key = stored_key(k.as_str())?;
    }
    if let Some(a) = str_of(&body, "apiId") {
        api = a;
    }
    if let Some(s) = str_of(&body, "stage") {
        stage = s;
    }
    check_target(&mut tx, &api, &stage).await?;
    if store::domains::mapping_key_taken(&mut tx, &domain, &key, Some(&id)).await? {
        return Err(key_conflict(&key));
    }
    let row = (id, key, api, stage);
    store::domains::put_api_mapping(&mut tx, &domain, &row).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(mapping_json(&row)))
}

/// DELETE /v2/domainnames/{domain_name}/apimappings/{api_mapping_id}
pub async fn delete_mapping(
    State(state): State<AppState>,
    Path((domain, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let domain = domain.to_ascii_lowercase();
    let mut tx = state.db.begin().await?;
    store::domains::load(&mut tx, &domain, true).await?;
    store::domains::api_mapping(&mut tx, &domain, &id).await?;
    store::domains::delete_api_mapping(&mut tx, &domain, &id).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_keys_are_paths_of_segments() {
        assert_eq!(stored_key(None).unwrap(), "");
        assert_eq!(stored_key(Some("")).unwrap(), "");
        assert_eq!(stored_key(Some("v1/orders")).unwrap(), "v1/orders");
        let long = "a".repeat(301);
        for bad in ["/v1", "v1/", "v1//x", "a b", "(none)", "x?y", long.as_str()] {
            assert!(stored_key(Some(bad)).is_err(), "{bad}");
        }
    }
}
