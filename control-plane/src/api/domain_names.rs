//! CreateDomainName, GetDomainName(s), UpdateDomainName, DeleteDomainName; the base path
//! mappings of a domain; and the domain-name access associations.
//!
//! A self-hosted gateway has no ACM: a domain's certificate is uploaded as PEM through the
//! members the model has for that (`certificateBody`, `certificateChain`,
//! `certificatePrivateKey`, `certificateName`), for EDGE and REGIONAL endpoints alike. Each
//! upload is a row of `certificates` with an ARN `arn:aws:acm:{region}::certificate/{id}`,
//! which `certificateArn` / `regionalCertificateArn` may name later (another domain serving
//! the same certificate). The private key is checked against the certificate, encrypted with
//! the master key, and never returned nor logged. Rotation is one UpdateDomainName with
//! `replace` on `/certificateBody`, `/certificateChain`, `/certificatePrivateKey` (and
//! `/certificateName`): the new material is checked as a whole; a key that does not match
//! is refused and the old certificate stays.
//!
//! Mutual TLS: `truststoreUri` `file://{path}` is a PEM bundle the control plane reads at
//! create/update time and keeps with the domain; `s3://` is refused (no S3 here).
//!
//! Access associations share a private custom domain with other AWS accounts' VPC
//! endpoints: there are no accounts nor private endpoints here, so GetDomainNameAccess-
//! Associations answers an empty list and the others a BadRequestException saying why.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use crate::certs;
use crate::constraints::Violations;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::{now_epoch, random_id};
use crate::patch::{Op, PatchRequest};
use crate::store::{self, domains::StoredCertificate, domains::StoredDomain};
use crate::validate;
use crate::wire::{BasePathMapping, DomainName, EndpointConfiguration, MutualTlsAuthentication};
use crate::AppState;

/// The model's `SecurityPolicy` enum.
pub const SECURITY_POLICIES: &[&str] = &[
    "TLS_1_0",
    "TLS_1_2",
    "SecurityPolicy_TLS13_1_3_2025_09",
    "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
    "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_Ext2_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_Ext2_FIPS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_2021_06",
    "SecurityPolicy_TLS13_2025_EDGE",
    "SecurityPolicy_TLS12_PFS_2025_EDGE",
    "SecurityPolicy_TLS12_2018_EDGE",
];

const ENDPOINT_TYPES: &[&str] = &["REGIONAL", "EDGE", "PRIVATE"];

/// The suffix of `regionalDomainName` / `distributionDomainName`: `d-{id}` under it names
/// the domain; operators point the domain's DNS at their nodes (informational here).
pub const TARGET_SUFFIX: &str = "execute-api.localhost";

/// Body of CreateDomainName.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDomainName {
    pub(crate) domain_name: Option<String>,
    pub(crate) certificate_name: Option<String>,
    pub(crate) certificate_body: Option<String>,
    pub(crate) certificate_private_key: Option<String>,
    pub(crate) certificate_chain: Option<String>,
    pub(crate) certificate_arn: Option<String>,
    pub(crate) regional_certificate_name: Option<String>,
    pub(crate) regional_certificate_arn: Option<String>,
    pub(crate) endpoint_configuration: Option<EndpointConfiguration>,
    pub(crate) security_policy: Option<String>,
    pub(crate) mutual_tls_authentication: Option<MutualTlsInput>,
    #[serde(default)]
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) ownership_verification_certificate_arn: Option<String>,
    pub(crate) policy: Option<String>,
    pub(crate) routing_mode: Option<String>,
}

/// `MutualTlsAuthenticationInput`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutualTlsInput {
    pub(crate) truststore_uri: Option<String>,
    pub(crate) truststore_version: Option<String>,
}

/// A host name: dot-separated labels of letters, digits and hyphens (not at either end),
/// optionally a leading `*.` wildcard; at most 253 characters; lower-cased.
pub fn check_domain_name(name: &str) -> ApiResult<String> {
    let lower = name.trim().to_ascii_lowercase();
    let body = lower.strip_prefix("*.").unwrap_or(&lower);
    let labels: Vec<&str> = body.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if lower.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(ApiError::bad_request(format!(
            "Invalid domain name '{name}': expected a host name such as api.example.com \
             (letters, digits and hyphens in dot-separated labels, an optional leading '*.')"
        )));
    }
    Ok(lower)
}

fn endpoint_type(cfg: &EndpointConfiguration) -> ApiResult<String> {
    match cfg.types.as_slice() {
        [] => Ok("EDGE".to_string()),
        [t] if t == "PRIVATE" => Err(ApiError::bad_request(
            "Private custom domain names are not supported: nodes serve custom domains on \
             their HTTPS listener (use REGIONAL or EDGE)",
        )),
        [t] => Ok(t.clone()),
        _ => Err(ApiError::bad_request(
            "A domain name must have exactly one endpoint type",
        )),
    }
}

/// The ARN of an uploaded certificate.
fn certificate_arn(region: &str, id: &str) -> String {
    format!("arn:aws:acm:{region}::certificate/{id}")
}

/// The certificate id an ARN of ours names (any other ARN: BadRequest saying the form).
fn certificate_id_of(region: &str, arn: &str) -> ApiResult<String> {
    let prefix = format!("arn:aws:acm:{region}::certificate/");
    arn.strip_prefix(&prefix)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid certificate ARN '{arn}': this gateway has no ACM; name a certificate \
                 uploaded earlier with a domain ({prefix}{{id}}, as GetDomainName shows it) or \
                 upload one with certificateBody, certificateChain and certificatePrivateKey"
            ))
        })
}

/// Checks and seals an uploaded certificate (the key encrypted with the master key).
fn seal_certificate(
    state: &AppState,
    name: Option<String>,
    body: &str,
    chain: Option<&str>,
    key: &str,
) -> ApiResult<StoredCertificate> {
    let checked = certs::check_server_certificate(body, chain, key)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(StoredCertificate {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        body_pem: checked.body_pem,
        chain_pem: checked.chain_pem,
        private_key_enc: state.keys.encrypt(&checked.key_pem),
        not_after: checked.not_after,
        uploaded_at: now_epoch(),
    })
}

/// Reads a `file://` truststore (PEM bundle); `s3://` and anything else: BadRequest.
fn read_truststore(uri: &str) -> ApiResult<String> {
    if uri.starts_with("s3://") {
        return Err(ApiError::bad_request(format!(
            "Truststore URI '{uri}': S3 truststores need an S3-compatible endpoint, and none \
             is configured; give the PEM bundle as file:///path/on/the/control/plane.pem"
        )));
    }
    let Some(path) = uri.strip_prefix("file://") else {
        return Err(ApiError::bad_request(format!(
            "Truststore URI '{uri}' is not supported: give the PEM bundle as \
             file:///path/on/the/control/plane.pem"
        )));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        ApiError::bad_request(format!(
            "Truststore '{uri}' could not be read by the control plane: {e}"
        ))
    })?;
    let (pem, _) = certs::check_truststore(&text)
        .map_err(|e| ApiError::bad_request(format!("Truststore '{uri}': {e}")))?;
    Ok(pem)
}

/// Points a domain's reply fields at certificate `c`.
fn show_certificate(doc: &mut DomainName, region: &str, c: &StoredCertificate) {
    let arn = certificate_arn(region, &c.id);
    doc.certificate_name = c.name.clone();
    doc.certificate_upload_date = Some(c.uploaded_at);
    let regional = doc.endpoint_configuration.types.first().map(String::as_str) == Some("REGIONAL");
    if regional {
        doc.regional_certificate_arn = Some(arn);
        doc.regional_certificate_name = c.name.clone();
        doc.certificate_arn = None;
    } else {
        doc.certificate_arn = Some(arn);
        doc.regional_certificate_arn = None;
        doc.regional_certificate_name = None;
    }
}

/// Fills the endpoint-dependent reply fields (target host names).
fn show_endpoint(doc: &mut DomainName) {
    let target = format!("{}.{TARGET_SUFFIX}", doc.domain_name_id);
    if doc.endpoint_configuration.types.first().map(String::as_str) == Some("REGIONAL") {
        doc.regional_domain_name = Some(target);
        doc.regional_hosted_zone_id = Some("Z0SELFHOSTED".to_string());
        doc.distribution_domain_name = None;
        doc.distribution_hosted_zone_id = None;
    } else {
        doc.distribution_domain_name = Some(target);
        doc.distribution_hosted_zone_id = Some("Z0SELFHOSTED".to_string());
        doc.regional_domain_name = None;
        doc.regional_hosted_zone_id = None;
    }
}

fn check_mutual_tls(doc: &DomainName) -> ApiResult<()> {
    if doc.mutual_tls_authentication.is_some() {
        if doc.endpoint_configuration.types.first().map(String::as_str) != Some("REGIONAL") {
            return Err(ApiError::bad_request(
                "Mutual TLS authentication is only supported for REGIONAL domain names",
            ));
        }
        if doc.security_policy == "TLS_1_0" {
            return Err(ApiError::bad_request(
                "Mutual TLS authentication requires the TLS_1_2 security policy (or a newer one)",
            ));
        }
    }
    Ok(())
}

/// POST /domainnames
pub async fn create(
    State(state): State<AppState>,
    AwsJson(req): AwsJson<CreateDomainName>,
) -> ApiResult<(StatusCode, Json<DomainName>)> {
    Ok((StatusCode::CREATED, Json(create_domain(&state, req).await?)))
}

/// Creates a domain (REST's CreateDomainName, and apigatewayv2's through
/// [`crate::v2::domains`]: one store of domain names for both APIs).
pub(crate) async fn create_domain(
    state: &AppState,
    req: CreateDomainName,
) -> ApiResult<DomainName> {
    let types = req
        .endpoint_configuration
        .as_ref()
        .map(|c| c.types.clone())
        .unwrap_or_default();
    Violations::new()
        .enum_value(
            "securityPolicy",
            req.security_policy.as_deref(),
            SECURITY_POLICIES,
        )
        .enum_list("endpointConfiguration.types", &types, ENDPOINT_TYPES)
        .finish()?;
    let name = req
        .domain_name
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("domainName is required"))?;
    let name = check_domain_name(name)?;
    if req.ownership_verification_certificate_arn.is_some() || req.policy.is_some() {
        return Err(ApiError::bad_request(
            "ownershipVerificationCertificateArn and policy apply to private custom domain \
             names of AWS, which this gateway does not have",
        ));
    }
    if req
        .routing_mode
        .as_deref()
        .is_some_and(|m| m != "BASE_PATH_MAPPING_ONLY")
    {
        return Err(ApiError::bad_request(
            "routingMode: only BASE_PATH_MAPPING_ONLY is supported (routing rules are not)",
        ));
    }
    validate::tags(&req.tags)?;
    let mut doc = DomainName {
        domain_name: name.clone(),
        domain_name_id: format!("d-{}", random_id(10)),
        domain_name_arn: format!("arn:aws:apigateway:{}::/domainnames/{name}", state.region),
        endpoint_configuration: EndpointConfiguration {
            types: vec![endpoint_type(&EndpointConfiguration { types })?],
        },
        domain_name_status: "AVAILABLE".to_string(),
        security_policy: req
            .security_policy
            .clone()
            .unwrap_or_else(|| "TLS_1_2".to_string()),
        tags: req.tags.clone(),
        ..DomainName::default()
    };
    let cert_name = req
        .certificate_name
        .clone()
        .or(req.regional_certificate_name.clone());
    let mut tx = state.db.begin().await?;
    let cert =
        match (
            req.certificate_body.as_deref(),
            req.certificate_private_key.as_deref(),
            req.certificate_arn
                .as_deref()
                .or(req.regional_certificate_arn.as_deref()),
        ) {
            (Some(body), Some(key), None) => {
                let c = seal_certificate(
                    state,
                    cert_name,
                    body,
                    req.certificate_chain.as_deref(),
                    key,
                )?;
                store::domains::insert_certificate(&mut tx, &c).await?;
                c
            }
            (None, None, Some(arn)) => {
                let id = certificate_id_of(&state.region, arn)?;
                store::domains::certificate(&mut tx, &id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("Certificate '{arn}' does not exist"))
                    })?
            }
            (Some(_), Some(_), Some(_)) => return Err(ApiError::bad_request(
                "Give either certificateBody/certificatePrivateKey or a certificate ARN, not both",
            )),
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(ApiError::bad_request(
                    "certificateBody and certificatePrivateKey must be given together",
                ))
            }
            (None, None, None) => {
                return Err(ApiError::bad_request(
                    "A certificate is required: certificateBody, certificateChain and \
                 certificatePrivateKey (PEM), or the certificateArn of one uploaded earlier",
                ))
            }
        };
    let mut truststore = None;
    if let Some(m) = &req.mutual_tls_authentication {
        let uri = m.truststore_uri.clone().ok_or_else(|| {
            ApiError::bad_request("mutualTlsAuthentication.truststoreUri is required")
        })?;
        truststore = Some(read_truststore(&uri)?);
        doc.mutual_tls_authentication = Some(MutualTlsAuthentication {
            truststore_uri: uri,
            truststore_version: m.truststore_version.clone(),
            truststore_warnings: Vec::new(),
        });
    }
    check_mutual_tls(&doc)?;
    show_certificate(&mut doc, &state.region, &cert);
    show_endpoint(&mut doc);
    let stored = StoredDomain {
        doc,
        certificate_id: cert.id.clone(),
        truststore_pem: truststore,
    };
    store::domains::insert(&mut tx, &stored).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(stored.doc)
}

/// GET /domainnames
pub async fn list(
    State(state): State<AppState>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<DomainName>>> {
    let mut conn = state.db.acquire().await?;
    let all = store::domains::list(&mut conn).await?;
    Ok(Json(page.page(all.into_iter().map(|d| d.doc).collect())?))
}

/// GET /domainnames/{domain_name}
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<DomainName>> {
    let mut conn = state.db.acquire().await?;
    let name = name.to_ascii_lowercase();
    Ok(Json(
        store::domains::load(&mut conn, &name, false).await?.doc,
    ))
}

/// PATCH /domainnames/{domain_name}: the certificate (rotation, see the module doc),
/// `/securityPolicy`, `/endpointConfiguration/types/0`, `/mutualTlsAuthentication/...`.
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<DomainName>> {
    Ok(Json(update_domain(&state, &name, &req).await?))
}

/// Applies UpdateDomainName's patch operations (apigatewayv2's UpdateDomainName is
/// translated into them).
pub(crate) async fn update_domain(
    state: &AppState,
    name: &str,
    req: &PatchRequest,
) -> ApiResult<DomainName> {
    let name = name.to_ascii_lowercase();
    let mut tx = state.db.begin().await?;
    let mut d = store::domains::load(&mut tx, &name, true).await?;
    let mut body: Option<String> = None;
    let mut chain: Option<Option<String>> = None;
    let mut key: Option<String> = None;
    let mut cert_name: Option<Option<String>> = None;
    let mut cert_arn: Option<String> = None;
    let mut truststore_changed = false;
    for op in &req.patch_operations {
        let path = op.path()?;
        let remove = matches!(op.op, Op::Remove);
        match path {
            "/certificateBody" if !remove => body = Some(op.value()?.to_string()),
            "/certificatePrivateKey" if !remove => key = Some(op.value()?.to_string()),
            "/certificateChain" => {
                chain = Some(if remove {
                    None
                } else {
                    Some(op.value()?.to_string())
                })
            }
            "/certificateName" | "/regionalCertificateName" => {
                cert_name = Some(if remove {
                    None
                } else {
                    Some(op.value()?.to_string())
                })
            }
            "/certificateArn" | "/regionalCertificateArn" if !remove => {
                cert_arn = Some(op.value()?.to_string())
            }
            "/securityPolicy" if !remove => {
                let v = op.value()?;
                Violations::new()
                    .enum_value("securityPolicy", Some(v), SECURITY_POLICIES)
                    .finish()?;
                d.doc.security_policy = v.to_string();
            }
            "/endpointConfiguration/types/0"
            | "/endpointConfiguration/types/EDGE"
            | "/endpointConfiguration/types/REGIONAL"
                if !remove =>
            {
                let v = op.value()?.to_string();
                Violations::new()
                    .enum_list(
                        "endpointConfiguration.types",
                        std::slice::from_ref(&v),
                        ENDPOINT_TYPES,
                    )
                    .finish()?;
                d.doc.endpoint_configuration.types =
                    vec![endpoint_type(&EndpointConfiguration { types: vec![v] })?];
            }
            "/mutualTlsAuthentication/truststoreUri" if !remove => {
                let uri = op.value()?.to_string();
                d.truststore_pem = Some(read_truststore(&uri)?);
                let m = d
                    .doc
                    .mutual_tls_authentication
                    .get_or_insert_with(Default::default);
                m.truststore_uri = uri;
                truststore_changed = true;
            }
            "/mutualTlsAuthentication/truststoreVersion" if !remove => {
                let v = op.value()?.to_string();
                let m = d.doc.mutual_tls_authentication.as_mut().ok_or_else(|| {
                    ApiError::bad_request(
                        "Set /mutualTlsAuthentication/truststoreUri before its version",
                    )
                })?;
                m.truststore_version = Some(v);
                // AWS reloads the truststore when its version changes.
                if !truststore_changed {
                    d.truststore_pem = Some(read_truststore(&m.truststore_uri)?);
                }
            }
            "/mutualTlsAuthentication" if remove => {
                d.doc.mutual_tls_authentication = None;
                d.truststore_pem = None;
            }
            _ => return Err(op.unsupported()),
        }
    }
    check_mutual_tls(&d.doc)?;
    let old = store::domains::certificate(&mut tx, &d.certificate_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("domain {name}: certificate missing")))?;
    let material = body.is_some() || key.is_some() || chain.is_some();
    let new_cert = match (material, cert_arn) {
        (true, Some(_)) => {
            return Err(ApiError::bad_request(
                "Replace either the certificate material or the certificate ARN, not both",
            ))
        }
        (true, None) => {
            // Rotation: the patched members over the current ones, checked as a whole.
            let old_key =
                match &key {
                    Some(_) => None,
                    None => Some(state.keys.decrypt(&old.private_key_enc).map_err(|e| {
                        ApiError::Internal(format!("domain {name}: stored key: {e}"))
                    })?),
                };
            let body = body.unwrap_or_else(|| old.body_pem.clone());
            let chain = chain.unwrap_or_else(|| old.chain_pem.clone());
            let key = key.or(old_key).unwrap_or_default();
            let name = cert_name.clone().unwrap_or_else(|| old.name.clone());
            let c = seal_certificate(state, name, &body, chain.as_deref(), &key)?;
            store::domains::insert_certificate(&mut tx, &c).await?;
            Some(c)
        }
        (false, Some(arn)) => {
            let id = certificate_id_of(&state.region, &arn)?;
            Some(
                store::domains::certificate(&mut tx, &id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("Certificate '{arn}' does not exist"))
                    })?,
            )
        }
        (false, None) => None,
    };
    let mut shown = new_cert.unwrap_or(old);
    if let Some(n) = cert_name {
        shown.name = n;
    }
    d.certificate_id = shown.id.clone();
    show_certificate(&mut d.doc, &state.region, &shown);
    show_endpoint(&mut d.doc);
    store::domains::save(&mut tx, &d).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(d.doc)
}

/// DELETE /domainnames/{domain_name} (its mappings go with it).
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    delete_domain(&state, &name).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Deletes a domain with its base path mappings and API mappings.
pub(crate) async fn delete_domain(state: &AppState, name: &str) -> ApiResult<()> {
    let name = name.to_ascii_lowercase();
    let mut tx = state.db.begin().await?;
    store::domains::load(&mut tx, &name, true).await?;
    store::domains::delete(&mut tx, &name).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(())
}

// ---- base path mappings ----

/// Body of CreateBasePathMapping.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateMapping {
    base_path: Option<String>,
    rest_api_id: Option<String>,
    stage: Option<String>,
}

/// The stored form of a base path: omitted, empty and `(none)` are ''; otherwise segments
/// of letters, digits and `$-_.+!*'()` joined by single `/`s.
pub fn stored_base_path(given: Option<&str>) -> ApiResult<String> {
    let p = given.unwrap_or("").trim();
    if p.is_empty() || p == "(none)" {
        return Ok(String::new());
    }
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "$-_.+!*'()".contains(c);
    if p.split('/')
        .any(|s| s.is_empty() || !s.chars().all(ok_char))
    {
        return Err(ApiError::bad_request(format!(
            "Invalid base path '{p}': segments of letters, digits and $-_.+!*'() separated \
             by single '/' (no leading or trailing '/'), or (none)"
        )));
    }
    Ok(p.to_string())
}

/// The API must exist, the stage (when given) too.
async fn check_target(
    conn: &mut sqlx::PgConnection,
    api: &str,
    stage: Option<&str>,
) -> ApiResult<()> {
    store::rest_apis::load(conn, api, false)
        .await
        .map_err(|_| ApiError::bad_request("Invalid REST API identifier specified"))?;
    if let Some(s) = stage {
        if store::stages::load(conn, api, s, false).await?.is_none() {
            return Err(ApiError::bad_request(format!(
                "Invalid stage identifier specified: {s} (no such stage of API {api})"
            )));
        }
    }
    Ok(())
}

/// POST /domainnames/{domain_name}/basepathmappings
pub async fn create_mapping(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    AwsJson(req): AwsJson<CreateMapping>,
) -> ApiResult<(StatusCode, Json<BasePathMapping>)> {
    let domain = domain.to_ascii_lowercase();
    let api = req
        .rest_api_id
        .ok_or_else(|| ApiError::bad_request("restApiId is required"))?;
    let base = stored_base_path(req.base_path.as_deref())?;
    let stage = req.stage.filter(|s| !s.is_empty());
    let mut tx = state.db.begin().await?;
    store::domains::load(&mut tx, &domain, true).await?;
    check_target(&mut tx, &api, stage.as_deref()).await?;
    store::domains::insert_mapping(&mut tx, &domain, &base, &api, stage.as_deref()).await?;
    let m = store::domains::mapping_of(&mut tx, &domain, &base).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// GET /domainnames/{domain_name}/basepathmappings
pub async fn list_mappings(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<BasePathMapping>>> {
    let domain = domain.to_ascii_lowercase();
    let mut conn = state.db.acquire().await?;
    store::domains::load(&mut conn, &domain, false).await?;
    Ok(Json(page.page(
        store::domains::mappings(&mut conn, &domain).await?,
    )?))
}

/// GET /domainnames/{domain_name}/basepathmappings/{base_path}
pub async fn get_mapping(
    State(state): State<AppState>,
    Path((domain, base)): Path<(String, String)>,
) -> ApiResult<Json<BasePathMapping>> {
    let domain = domain.to_ascii_lowercase();
    let mut tx = state.db.begin().await?;
    store::domains::load(&mut tx, &domain, false).await?;
    let base = stored_base_path(Some(&base))?;
    let m = store::domains::mapping_of(&mut tx, &domain, &base).await?;
    tx.commit().await?;
    Ok(Json(m))
}

/// PATCH /domainnames/{domain_name}/basepathmappings/{base_path}: `/basePath`,
/// `/restapiId`, `/stage` (replace), applied together.
pub async fn update_mapping(
    State(state): State<AppState>,
    Path((domain, base)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<BasePathMapping>> {
    let domain = domain.to_ascii_lowercase();
    let mut tx = state.db.begin().await?;
    store::domains::load(&mut tx, &domain, true).await?;
    let base = stored_base_path(Some(&base))?;
    let mut m = store::domains::mapping_of(&mut tx, &domain, &base).await?;
    let mut new_base = base.clone();
    for op in &req.patch_operations {
        match (op.path()?, &op.op) {
            ("/basePath", Op::Replace) => new_base = stored_base_path(Some(op.value()?))?,
            ("/restapiId" | "/restApiId", Op::Replace) => m.rest_api_id = op.value()?.to_string(),
            ("/stage", Op::Replace) => {
                m.stage = Some(op.value()?.to_string()).filter(|s| !s.is_empty())
            }
            ("/stage", Op::Remove) => m.stage = None,
            _ => return Err(op.unsupported()),
        }
    }
    check_target(&mut tx, &m.rest_api_id, m.stage.as_deref()).await?;
    store::domains::delete_mapping(&mut tx, &domain, &base).await?;
    store::domains::insert_mapping(
        &mut tx,
        &domain,
        &new_base,
        &m.rest_api_id,
        m.stage.as_deref(),
    )
    .await?;
    let m = store::domains::mapping_of(&mut tx, &domain, &new_base).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(m))
}

/// DELETE /domainnames/{domain_name}/basepathmappings/{base_path}
pub async fn delete_mapping(
    State(state): State<AppState>,
    Path((domain, base)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let domain = domain.to_ascii_lowercase();
    let mut tx = state.db.begin().await?;
    store::domains::load(&mut tx, &domain, true).await?;
    let base = stored_base_path(Some(&base))?;
    store::domains::mapping_of(&mut tx, &domain, &base).await?;
    store::domains::delete_mapping(&mut tx, &domain, &base).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

// ---- access associations ----

const NO_ACCESS_ASSOCIATIONS: &str = "Domain name access associations share a private custom \
     domain name with other AWS accounts' VPC endpoints; this self-hosted gateway has neither \
     accounts nor private custom domain names";

/// GET /domainnameaccessassociations: none can exist.
pub async fn list_access_associations(
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<serde_json::Value>>> {
    Ok(Json(page.page(Vec::new())?))
}

/// Create / Delete / RejectDomainNameAccessAssociation.
pub async fn access_association_unsupported() -> ApiError {
    ApiError::bad_request(NO_ACCESS_ASSOCIATIONS)
}
