//! GetExport: a stage's deployed snapshot as an OpenAPI 3.0.1 (`oas30`) or Swagger 2.0
//! (`swagger`) document, in JSON (default) or YAML by `Accept`; `parameters`
//! `extensions=integrations|apigateway|authorizers` add API Gateway's extensions
//! (`export.rs` builds the document), `extensions=documentation` the documentation version
//! the stage publishes (its `documentationVersion`) as `x-amazon-apigateway-documentation`.
//! `extensions=postman` is refused: we do not write Postman's fields.

use axum::extract::{Path, State};
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, Uri};

use crate::openapi::DocumentedQuery;
use axum::response::{IntoResponse, Response};
use prost::Message;

use apigw_proto::config as pb;

use crate::error::{ApiError, ApiResult};
use crate::export::{self, Dialect, Extensions, Target};
use crate::store;
use crate::AppState;

/// The invoke domain written into `servers` / `host`: the nodes' default
/// `--execute-api-domain` (the control plane is not told the nodes' domain).
const EXECUTE_API_DOMAIN: &str = "execute-api.localhost";

/// The document's serialisation, chosen by `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Yaml,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Yaml => "yaml",
        }
    }
}

/// `Accept`: `application/json` (also when absent or `*/*`) or `application/yaml`.
fn format_of(headers: &HeaderMap) -> ApiResult<Format> {
    let Some(accept) = headers.get(ACCEPT) else {
        return Ok(Format::Json);
    };
    let accept = accept
        .to_str()
        .map_err(|_| ApiError::bad_request("Invalid Accept header"))?;
    for item in accept.split(',') {
        let media = item.split(';').next().unwrap_or_default().trim();
        match media.to_ascii_lowercase().as_str() {
            "application/json" | "*/*" | "application/*" | "" => return Ok(Format::Json),
            "application/yaml" | "application/x-yaml" | "text/yaml" => return Ok(Format::Yaml),
            _ => {}
        }
    }
    Err(ApiError::bad_request(format!(
        "Unsupported Accept type: {accept}; supported: application/json, application/yaml"
    )))
}

/// The `extensions` parameter (repeated or comma-separated).
fn extensions_of(query: Option<&str>) -> ApiResult<Extensions> {
    let mut ext = Extensions::default();
    let Some(q) = query else {
        return Ok(ext);
    };
    for value in apigw_gateway::query::all(q, "extensions") {
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "integrations" => ext.integrations = true,
                "authorizers" => ext.authorizers = true,
                "apigateway" => {
                    ext.integrations = true;
                    ext.authorizers = true;
                }
                "documentation" => ext.documentation = true,
                "postman" => {
                    return Err(ApiError::bad_request(
                        "extensions=postman is not supported: this gateway does not write \
                         Postman's x-postman fields; use integrations, authorizers, apigateway \
                         or documentation",
                    ))
                }
                other => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid extensions value: {other}; supported: integrations, \
                         authorizers, apigateway, documentation"
                    )))
                }
            }
        }
    }
    Ok(ext)
}

/// The query of GetExport.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)] // describes the query; read by `extensions_of` (a repeated key)
pub struct ExportParams {
    /// What to add to the document: `integrations`, `authorizers`, `apigateway` (both) or
    /// `documentation` (repeated, or comma-separated).
    extensions: Option<Vec<String>>,
}

/// GET /restapis/{restapi_id}/stages/{stage_name}/exports/{export_type}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, stage_name, export_type)): Path<(String, String, String)>,
    headers: HeaderMap,
    uri: Uri,
    _: DocumentedQuery<ExportParams>,
) -> ApiResult<Response> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let stage = store::stages::load(&mut conn, &api_id, &stage_name, false)
        .await?
        .ok_or_else(store::stages::stage_not_found)?;
    let dialect = Dialect::parse(&export_type).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid export type: {export_type}; supported: oas30, swagger"
        ))
    })?;
    let format = format_of(&headers)?;
    let ext = extensions_of(uri.query())?;
    let (created_date, bytes) =
        store::deployments::snapshot(&mut conn, &api_id, &stage.deployment_id).await?;
    let documentation = match (&stage.documentation_version, ext.documentation) {
        (Some(version), true) => store::documentation::version_parts(&mut conn, &api_id, version)
            .await?
            .map(|parts| export::documentation(version, &parts)),
        _ => None,
    };
    drop(conn);
    let snap = pb::DeploymentSnapshot::decode(bytes.as_slice())
        .map_err(|e| ApiError::Internal(format!("snapshot does not decode: {e}")))?;
    let host = format!("{api_id}.{EXECUTE_API_DOMAIN}");
    let target = Target {
        host: &host,
        stage: &stage_name,
    };
    let mut doc = export::document(&snap, dialect, ext, &target).map_err(ApiError::Internal)?;
    if let (Some(docs), Some(obj)) = (documentation, doc.as_object_mut()) {
        obj.insert("x-amazon-apigateway-documentation".into(), docs);
    }
    let body = match format {
        Format::Json => serde_json::to_vec_pretty(&doc)
            .map_err(|e| ApiError::Internal(format!("export: {e}")))?,
        Format::Yaml => serde_yaml_ng::to_string(&doc)
            .map_err(|e| ApiError::Internal(format!("export: {e}")))?
            .into_bytes(),
    };
    // AWS answers `application/octet-stream` and names the file by type and version.
    let disposition = format!(
        "attachment; filename=\"{}_{}.{}\"",
        dialect.name(),
        export::version_of(created_date),
        format.extension()
    );
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream".to_string()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_parse_like_aws_names_them() {
        let e = extensions_of(Some("extensions=apigateway")).unwrap_or_default();
        assert!(e.integrations && e.authorizers);
        let e = extensions_of(Some("extensions=integrations")).unwrap_or_default();
        assert!(e.integrations && !e.authorizers);
        let e = extensions_of(Some("extensions=documentation,integrations")).unwrap_or_default();
        assert!(e.documentation && e.integrations && !e.authorizers);
        assert!(extensions_of(Some("extensions=postman")).is_err());
        assert!(extensions_of(Some("extensions=nope")).is_err());
        assert_eq!(extensions_of(None).ok(), Some(Extensions::default()));
    }
}
