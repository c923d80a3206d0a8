//! The `certificates`, `domain_names` and `base_path_mappings` tables: custom domain
//! names, the server certificates they serve (private keys encrypted by the caller with the
//! master key, never read back here but for the config stream), and base path mappings.

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::{BasePathMapping, DomainName};

/// AWS's error for an unknown domain name.
pub fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Invalid domain name identifier specified: {name}"))
}

/// An uploaded certificate, as stored (the key still encrypted).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredCertificate {
    /// Identifier (the last part of its ARN).
    pub id: String,
    /// `certificateName`.
    pub name: Option<String>,
    /// End-entity certificate, PEM.
    pub body_pem: String,
    /// Intermediates, PEM.
    pub chain_pem: Option<String>,
    /// `nonce || ciphertext` of the PEM private key.
    pub private_key_enc: Vec<u8>,
    /// Validity end, epoch seconds.
    pub not_after: i64,
    /// Upload time, epoch seconds.
    pub uploaded_at: i64,
}

/// Inserts an uploaded certificate.
pub async fn insert_certificate(conn: &mut PgConnection, c: &StoredCertificate) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO certificates (id, name, body_pem, chain_pem, private_key_enc, not_after, \
         uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.id)
    .bind(&c.name)
    .bind(&c.body_pem)
    .bind(&c.chain_pem)
    .bind(&c.private_key_enc)
    .bind(c.not_after)
    .bind(c.uploaded_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A certificate by id, if any.
pub async fn certificate(
    conn: &mut PgConnection,
    id: &str,
) -> ApiResult<Option<StoredCertificate>> {
    Ok(sqlx::query_as(
        "SELECT id, name, body_pem, chain_pem, private_key_enc, not_after, uploaded_at \
         FROM certificates WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// A domain with the id of its certificate and its truststore PEM.
#[derive(Debug, Clone)]
pub struct StoredDomain {
    /// The management document.
    pub doc: DomainName,
    /// The served certificate.
    pub certificate_id: String,
    /// Mutual TLS truststore, PEM.
    pub truststore_pem: Option<String>,
}

type DomainRow = (Json<DomainName>, String, Option<String>);

fn stored((doc, certificate_id, truststore_pem): DomainRow) -> StoredDomain {
    StoredDomain {
        doc: doc.0,
        certificate_id,
        truststore_pem,
    }
}

/// Loads a domain (NotFound when there is none), `FOR UPDATE` when `lock`.
pub async fn load(conn: &mut PgConnection, name: &str, lock: bool) -> ApiResult<StoredDomain> {
    let sql = if lock {
        "SELECT doc, certificate_id, truststore_pem FROM domain_names WHERE domain_name = $1 \
         FOR UPDATE"
    } else {
        "SELECT doc, certificate_id, truststore_pem FROM domain_names WHERE domain_name = $1"
    };
    let row: Option<DomainRow> = sqlx::query_as(sql).bind(name).fetch_optional(conn).await?;
    row.map(stored).ok_or_else(|| not_found(name))
}

/// Every domain, by name.
pub async fn list(conn: &mut PgConnection) -> ApiResult<Vec<StoredDomain>> {
    let rows: Vec<DomainRow> = sqlx::query_as(
        "SELECT doc, certificate_id, truststore_pem FROM domain_names ORDER BY domain_name",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(stored).collect())
}

/// Inserts a domain; Conflict when the name is taken.
pub async fn insert(conn: &mut PgConnection, d: &StoredDomain) -> ApiResult<()> {
    let done = sqlx::query(
        "INSERT INTO domain_names (domain_name, doc, certificate_id, truststore_pem) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&d.doc.domain_name)
    .bind(Json(&d.doc))
    .bind(&d.certificate_id)
    .bind(&d.truststore_pem)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::conflict(format!(
            "The domain name you provided already exists: {}",
            d.doc.domain_name
        )));
    }
    Ok(())
}

/// Writes back a domain.
pub async fn save(conn: &mut PgConnection, d: &StoredDomain) -> ApiResult<()> {
    sqlx::query(
        "UPDATE domain_names SET doc = $2, certificate_id = $3, truststore_pem = $4 \
         WHERE domain_name = $1",
    )
    .bind(&d.doc.domain_name)
    .bind(Json(&d.doc))
    .bind(&d.certificate_id)
    .bind(&d.truststore_pem)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a domain (and, by cascade, its mappings).
pub async fn delete(conn: &mut PgConnection, name: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM domain_names WHERE domain_name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// The stored form of a base path: `(none)` is the empty string.
fn wire_base_path(stored: String) -> String {
    if stored.is_empty() {
        "(none)".to_string()
    } else {
        stored
    }
}

type MappingRow = (String, String, Option<String>);

fn mapping((base_path, rest_api_id, stage): MappingRow) -> BasePathMapping {
    BasePathMapping {
        base_path: wire_base_path(base_path),
        rest_api_id,
        stage,
    }
}

/// The mappings of a domain, by base path.
pub async fn mappings(conn: &mut PgConnection, domain: &str) -> ApiResult<Vec<BasePathMapping>> {
    let rows: Vec<MappingRow> = sqlx::query_as(
        "SELECT base_path, rest_api_id, stage FROM base_path_mappings WHERE domain_name = $1 \
         ORDER BY base_path",
    )
    .bind(domain)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(mapping).collect())
}

/// Every mapping of every domain, `(domain, mapping)`: base path mappings (REST stages)
/// and API mappings (HTTP API stages, their key as the base path), as the nodes route
/// them alike.
pub async fn all_mappings(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, BasePathMapping)>> {
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT domain_name, base_path, rest_api_id, stage FROM base_path_mappings \
         UNION ALL \
         SELECT domain_name, api_mapping_key, api_id, stage FROM api_mappings \
         ORDER BY 1, 2",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(d, b, a, s)| (d, mapping((b, a, s))))
        .collect())
}

/// One mapping (`base_path` stored form: '' for `(none)`).
pub async fn mapping_of(
    conn: &mut PgConnection,
    domain: &str,
    base_path: &str,
) -> ApiResult<BasePathMapping> {
    let row: Option<MappingRow> = sqlx::query_as(
        "SELECT base_path, rest_api_id, stage FROM base_path_mappings \
         WHERE domain_name = $1 AND base_path = $2 FOR UPDATE",
    )
    .bind(domain)
    .bind(base_path)
    .fetch_optional(conn)
    .await?;
    row.map(mapping).ok_or_else(|| {
        ApiError::not_found(format!(
            "Invalid base path mapping identifier specified: {}",
            wire_base_path(base_path.to_string())
        ))
    })
}

/// Inserts a mapping (`base_path` stored form); Conflict when the base path is taken.
pub async fn insert_mapping(
    conn: &mut PgConnection,
    domain: &str,
    base_path: &str,
    api: &str,
    stage: Option<&str>,
) -> ApiResult<()> {
    let done = sqlx::query(
        "INSERT INTO base_path_mappings (domain_name, base_path, rest_api_id, stage) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(domain)
    .bind(base_path)
    .bind(api)
    .bind(stage)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 || api_mapping_key_taken(conn, domain, base_path, None).await? {
        return Err(ApiError::conflict(
            "Base path already exists for this domain name",
        ));
    }
    Ok(())
}

/// Deletes a mapping (`base_path` stored form).
pub async fn delete_mapping(
    conn: &mut PgConnection,
    domain: &str,
    base_path: &str,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM base_path_mappings WHERE domain_name = $1 AND base_path = $2")
        .bind(domain)
        .bind(base_path)
        .execute(conn)
        .await?;
    Ok(())
}

/// A domain as the nodes get it: `(domain name, security policy, truststore PEM,
/// certificate body PEM, chain PEM, encrypted key)`.
pub type DeployedDomain = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Vec<u8>,
);

/// Every domain with its certificate, for the config stream.
pub async fn deployed(conn: &mut PgConnection) -> sqlx::Result<Vec<DeployedDomain>> {
    sqlx::query_as(
        "SELECT d.domain_name, d.doc->>'securityPolicy', d.truststore_pem, c.body_pem, \
         c.chain_pem, c.private_key_enc \
         FROM domain_names d JOIN certificates c ON c.id = d.certificate_id \
         ORDER BY d.domain_name",
    )
    .fetch_all(conn)
    .await
}

// ---- API mappings (apigatewayv2: HTTP API stages) ----

/// An API mapping as stored: `(api_mapping_id, api_mapping_key, api_id, stage)`.
pub type ApiMappingRow = (String, String, String, String);

/// AWS's error for an unknown API mapping.
pub fn api_mapping_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid API mapping identifier specified {id}"))
}

/// The API mappings of a domain, by key.
pub async fn api_mappings(conn: &mut PgConnection, domain: &str) -> ApiResult<Vec<ApiMappingRow>> {
    Ok(sqlx::query_as(
        "SELECT api_mapping_id, api_mapping_key, api_id, stage FROM api_mappings \
         WHERE domain_name = $1 ORDER BY api_mapping_key",
    )
    .bind(domain)
    .fetch_all(conn)
    .await?)
}

/// One API mapping (NotFound when there is none).
pub async fn api_mapping(
    conn: &mut PgConnection,
    domain: &str,
    id: &str,
) -> ApiResult<ApiMappingRow> {
    let row: Option<ApiMappingRow> = sqlx::query_as(
        "SELECT api_mapping_id, api_mapping_key, api_id, stage FROM api_mappings \
         WHERE domain_name = $1 AND api_mapping_id = $2",
    )
    .bind(domain)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.ok_or_else(|| api_mapping_not_found(id))
}

/// Whether an API mapping other than `except` holds `key` ('' for the empty key).
async fn api_mapping_key_taken(
    conn: &mut PgConnection,
    domain: &str,
    key: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    let found: Option<(i32,)> = sqlx::query_as(
        "SELECT 1 FROM api_mappings WHERE domain_name = $1 AND api_mapping_key = $2 \
         AND api_mapping_id IS DISTINCT FROM $3",
    )
    .bind(domain)
    .bind(key)
    .bind(except)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Whether `key` of `domain` is taken by a base path mapping or by an API mapping other
/// than `except`: one namespace of keys per domain. Callers hold the domain's row lock.
pub async fn mapping_key_taken(
    conn: &mut PgConnection,
    domain: &str,
    key: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    let base: Option<(i32,)> = sqlx::query_as(
        "SELECT 1 FROM base_path_mappings WHERE domain_name = $1 AND base_path = $2",
    )
    .bind(domain)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(base.is_some() || api_mapping_key_taken(conn, domain, key, except).await?)
}

/// Inserts or rewrites an API mapping (the caller checked its key is free).
pub async fn put_api_mapping(
    conn: &mut PgConnection,
    domain: &str,
    (id, key, api, stage): &ApiMappingRow,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO api_mappings (domain_name, api_mapping_id, api_mapping_key, api_id, stage) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain_name, api_mapping_id) DO UPDATE \
         SET api_mapping_key = $3, api_id = $4, stage = $5",
    )
    .bind(domain)
    .bind(id)
    .bind(key)
    .bind(api)
    .bind(stage)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes an API mapping.
pub async fn delete_api_mapping(conn: &mut PgConnection, domain: &str, id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM api_mappings WHERE domain_name = $1 AND api_mapping_id = $2")
        .bind(domain)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
