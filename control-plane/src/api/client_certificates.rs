//! GenerateClientCertificate, GetClientCertificate(s), UpdateClientCertificate,
//! DeleteClientCertificate: the gateway's certificates towards backends.
//!
//! The control plane generates the key pair (ECDSA P-256, `certs::generate_client_certificate`,
//! valid 365 days as AWS's), keeps the private key encrypted with the master key, and
//! returns only the PEM certificate, which backends trust. A stage names one in
//! `clientCertificateId`; its HTTP and HTTP_PROXY integrations present it to HTTPS backends.
//! Deleting a certificate a stage names is refused (the stage would lose its identity).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use crate::certs;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::{now_epoch, random_id};
use crate::patch::PatchRequest;
use crate::store;
use crate::validate;
use crate::wire::ClientCertificate;
use crate::AppState;

/// Body of GenerateClientCertificate.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Generate {
    description: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// POST /clientcertificates (201).
pub async fn generate(
    State(state): State<AppState>,
    AwsJson(req): AwsJson<Generate>,
) -> ApiResult<(StatusCode, Json<ClientCertificate>)> {
    validate::tags(&req.tags)?;
    let id = random_id(6);
    let generated = certs::generate_client_certificate(&format!("apigw client certificate {id}"))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let cert = ClientCertificate {
        client_certificate_id: id,
        description: req.description,
        pem_encoded_certificate: generated.cert_pem,
        created_date: now_epoch(),
        expiration_date: generated.not_after,
        tags: req.tags,
    };
    let key_enc = state.keys.encrypt(&generated.key_pem);
    let mut tx = state.db.begin().await?;
    store::client_certificates::insert(&mut tx, &cert, &key_enc).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(cert)))
}

/// GET /clientcertificates
pub async fn list(
    State(state): State<AppState>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<ClientCertificate>>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(page.page(
        store::client_certificates::list(&mut conn).await?,
    )?))
}

/// GET /clientcertificates/{clientcertificate_id}
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ClientCertificate>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        store::client_certificates::load(&mut conn, &id, false).await?,
    ))
}

/// PATCH /clientcertificates/{clientcertificate_id}: `/description`.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<ClientCertificate>> {
    let mut tx = state.db.begin().await?;
    let mut cert = store::client_certificates::load(&mut tx, &id, true).await?;
    for op in &req.patch_operations {
        match op.path()? {
            "/description" => op.apply_opt_string(&mut cert.description)?,
            _ => return Err(op.unsupported()),
        }
    }
    store::client_certificates::save(&mut tx, &cert).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(cert))
}

/// DELETE /clientcertificates/{clientcertificate_id} (202); refused while a stage names it.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::client_certificates::load(&mut tx, &id, true).await?;
    let users = store::client_certificates::stages_using(&mut tx, &id).await?;
    if !users.is_empty() {
        let names: Vec<String> = users.iter().map(|(a, s)| format!("{a}/{s}")).collect();
        return Err(ApiError::bad_request(format!(
            "Client certificate {id} is used by stage(s) [{}]; remove their \
             clientCertificateId first",
            names.join(", ")
        )));
    }
    store::client_certificates::delete(&mut tx, &id).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}
