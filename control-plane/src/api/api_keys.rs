//! CreateApiKey, GetApiKey(s), UpdateApiKey, DeleteApiKey and ImportApiKeys (CSV).
//!
//! Values are encrypted at rest ([`crate::keys`]) and indexed by their SHA-256; they are
//! returned only on create and when the caller asks (`includeValue(s)`). Every change bumps
//! the config version: nodes see a disabled or deleted key within a second.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::{now_epoch, random_id};
use crate::keys::generate_value;
use crate::patch::PatchRequest;
use crate::store;
use crate::wire::ApiKey;
use crate::AppState;

/// A `stageKeys` element of CreateApiKey (deprecated by AWS, kept for the wire shape).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageKey {
    rest_api_id: Option<String>,
    stage_name: Option<String>,
}

/// Body of CreateApiKey.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiKey {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    generate_distinct_id: bool,
    value: Option<String>,
    #[serde(default)]
    stage_keys: Vec<StageKey>,
    customer_id: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// Query of CreateApiKey: `mode=import` is ImportApiKeys (the route table dispatches it),
/// any other mode is refused.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct CreateQuery {
    /// `import` for ImportApiKeys.
    mode: Option<String>,
}

/// Query of ImportApiKeys (`POST /apikeys?mode=import`).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ImportQuery {
    /// `csv`, the only format.
    format: Option<String>,
    /// `true`: a warning fails the whole import.
    failonwarnings: Option<String>,
}

/// The answer of ImportApiKeys (`ApiKeyIds` shape).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ApiKeyIds {
    /// The imported (or updated) keys' ids.
    pub ids: Vec<String>,
    /// What was not done (a key not added to a plan).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Query of GetApiKey.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetQuery {
    include_value: Option<String>,
}

/// Query of GetApiKeys.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    include_values: Option<String>,
    name: Option<String>,
    customer_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// A query flag: `true` (any case) is true, anything else false.
fn flag(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// Checks an imported or given key value (AWS: 20 to 128 characters).
pub fn validate_value(value: &str) -> ApiResult<()> {
    let ok = (20..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_graphic() && b != b',');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "API Key value must be 20 to 128 printable ASCII characters without commas or spaces",
        ))
    }
}

fn validate_key(key: &ApiKey) -> ApiResult<()> {
    crate::validate::tags(&key.tags)?;
    if key.name.len() > 1024 {
        return Err(ApiError::bad_request(
            "API Key name must be at most 1024 characters",
        ));
    }
    if key.description.as_ref().is_some_and(|d| d.len() > 1024) {
        return Err(ApiError::bad_request(
            "API Key description must be at most 1024 characters",
        ));
    }
    Ok(())
}

/// POST /apikeys (CreateApiKey); `?mode=import` is [`import`].
pub async fn create(
    State(state): State<AppState>,
    AwsQuery(q): AwsQuery<CreateQuery>,
    AwsJson(req): AwsJson<CreateApiKey>,
) -> ApiResult<(StatusCode, Json<ApiKey>)> {
    if let Some(other) = q.mode.as_deref() {
        return Err(ApiError::bad_request(format!(
            "Invalid mode '{other}': only 'import' is supported"
        )));
    }
    let _ = req.generate_distinct_id;
    let value = match req.value {
        Some(v) => {
            validate_value(&v)?;
            v
        }
        None => generate_value(),
    };
    let mut stage_keys = Vec::new();
    let mut tx = state.db.begin().await?;
    for sk in &req.stage_keys {
        let (api, stage) = match (&sk.rest_api_id, &sk.stage_name) {
            (Some(a), Some(s)) => (a, s),
            _ => {
                return Err(ApiError::bad_request(
                    "stageKeys elements need restApiId and stageName",
                ))
            }
        };
        store::stages::require(&mut tx, api, stage).await?;
        stage_keys.push(format!("{api}/{stage}"));
    }
    let now = now_epoch();
    let key = ApiKey {
        id: random_id(10),
        value: Some(value.clone()),
        name: req.name.unwrap_or_default(),
        customer_id: req.customer_id,
        description: req.description,
        enabled: req.enabled,
        created_date: now,
        last_updated_date: now,
        stage_keys,
        tags: req.tags,
    };
    validate_key(&key)?;
    store::api_keys::insert(&mut tx, &state.keys, &key, &value).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// GET /apikeys/{api_Key}
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AwsQuery(q): AwsQuery<GetQuery>,
) -> ApiResult<Json<ApiKey>> {
    let mut conn = state.db.acquire().await?;
    let (mut key, enc) = store::api_keys::load(&mut conn, &id, false).await?;
    if flag(&q.include_value) {
        key.value = Some(store::api_keys::decrypt(&state.keys, &enc)?);
    }
    Ok(Json(key))
}

/// GET /apikeys (`name` is a prefix match, `customerId` exact).
pub async fn list(
    State(state): State<AppState>,
    AwsQuery(q): AwsQuery<ListQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let mut conn = state.db.acquire().await?;
    let rows =
        store::api_keys::list(&mut conn, q.name.as_deref(), q.customer_id.as_deref()).await?;
    let page = q.page.page(rows)?;
    let include = flag(&q.include_values);
    let mut items = Vec::with_capacity(page.item.len());
    for (mut key, enc) in page.item {
        if include {
            key.value = Some(store::api_keys::decrypt(&state.keys, &enc)?);
        }
        items.push(key);
    }
    Ok(Json(Page {
        item: items,
        position: page.position,
    }))
}

/// PATCH /apikeys/{api_Key}
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<ApiKey>> {
    let mut tx = state.db.begin().await?;
    let (mut key, _) = store::api_keys::load(&mut tx, &id, true).await?;
    for op in &req.patch_operations {
        let segs = op.segments()?;
        match segs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["name"] => {
                let mut name = Some(key.name.clone());
                op.apply_opt_string(&mut name)?;
                key.name = name.unwrap_or_default();
            }
            ["description"] => op.apply_opt_string(&mut key.description)?,
            ["enabled"] => op.apply_bool(&mut key.enabled)?,
            ["customerId"] => op.apply_opt_string(&mut key.customer_id)?,
            ["value"] => {
                return Err(ApiError::bad_request(
                    "The value of an API key cannot be changed; create or import a new key",
                ))
            }
            _ => return Err(op.unsupported()),
        }
    }
    validate_key(&key)?;
    key.last_updated_date = now_epoch();
    store::api_keys::save_doc(&mut tx, &key).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(key))
}

/// DELETE /apikeys/{api_Key} (its plan bindings go with it; usage records stay).
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::api_keys::delete(&mut tx, &id).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

/// One row of an API key CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// `Name`.
    pub name: String,
    /// `Key`.
    pub value: String,
    /// `Description` (empty = none).
    pub description: Option<String>,
    /// `Enabled` (default true).
    pub enabled: bool,
    /// `UsagePlanIds`.
    pub plan_ids: Vec<String>,
}

/// Parses the API key file format: a header row (case-insensitive names, any order,
/// `Name` and `Key` required, `Description`, `Enabled`, `UsagePlanIds` optional, others
/// ignored), then one key per row. A plan id list is quoted with `"` or `'`.
pub fn parse_csv(body: &[u8]) -> ApiResult<Vec<ImportRow>> {
    let bad = |msg: String| ApiError::bad_request(format!("Invalid API key file: {msg}"));
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(name_col), Some(key_col)) = (col("name"), col("key")) else {
        return Err(bad(
            "the header row must name the Name and Key columns".into()
        ));
    };
    let (desc_col, enabled_col, plans_col) =
        (col("description"), col("enabled"), col("usageplanids"));
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| bad(format!("line {line}: {e}")))?;
        let fields = merge_single_quoted(record.iter().map(str::to_string).collect());
        if fields.iter().all(String::is_empty) {
            continue;
        }
        let get = |c: Option<usize>| c.and_then(|c| fields.get(c)).cloned().unwrap_or_default();
        let value = get(Some(key_col));
        validate_value(&value).map_err(|e| bad(format!("line {line}: {e}")))?;
        let name = get(Some(name_col));
        if name.len() > 1024 {
            return Err(bad(format!("line {line}: Name exceeds 1024 characters")));
        }
        let enabled = match get(enabled_col).to_ascii_lowercase().as_str() {
            "" | "true" => true,
            "false" => false,
            other => {
                return Err(bad(format!(
                    "line {line}: Enabled must be true or false, not '{other}'"
                )))
            }
        };
        let plans = get(plans_col);
        let plans = plans.trim_matches(|c| c == '\'' || c == '"');
        rows.push(ImportRow {
            name,
            value,
            description: Some(get(desc_col)).filter(|d| !d.is_empty()),
            enabled,
            plan_ids: plans
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        });
    }
    Ok(rows)
}

/// Rejoins a `'a,b'` value that the CSV reader (which only knows `"`) split at the comma.
fn merge_single_quoted(fields: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(fields.len());
    let mut open = false;
    for f in fields {
        if open {
            if let Some(last) = out.last_mut() {
                last.push(',');
                last.push_str(&f);
            }
            open = !f.ends_with('\'');
        } else {
            open = f.starts_with('\'') && !(f.len() > 1 && f.ends_with('\''));
            out.push(f);
        }
    }
    out
}

/// ImportApiKeys: creates (or, for a known value, overwrites) each key of the file and
/// binds it to its plans. Problems with plan bindings are warnings unless `failonwarnings`.
/// POST /apikeys?mode=import (ImportApiKeys): a CSV of keys.
pub async fn import(
    State(state): State<AppState>,
    AwsQuery(q): AwsQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ApiKeyIds>)> {
    match q.format.as_deref() {
        Some(f) if f.eq_ignore_ascii_case("csv") => {}
        _ => {
            return Err(ApiError::bad_request(
                "ImportApiKeys needs format=csv (the only supported format)",
            ))
        }
    }
    let fail_on_warnings = flag(&q.failonwarnings);
    let rows = parse_csv(&body)?;
    if rows.is_empty() {
        return Err(ApiError::bad_request("The API key file contains no keys"));
    }
    let mut ids = Vec::new();
    let mut warnings = Vec::new();
    let mut tx = state.db.begin().await?;
    for row in rows {
        let existing = store::api_keys::find_by_value(&mut tx, &row.value).await?;
        let now = now_epoch();
        let id = match existing {
            Some(id) => {
                let (mut key, _) = store::api_keys::load(&mut tx, &id, true).await?;
                key.name = row.name;
                key.description = row.description;
                key.enabled = row.enabled;
                key.last_updated_date = now;
                store::api_keys::save_doc(&mut tx, &key).await?;
                id
            }
            None => {
                let key = ApiKey {
                    id: random_id(10),
                    value: None,
                    name: row.name,
                    customer_id: None,
                    description: row.description,
                    enabled: row.enabled,
                    created_date: now,
                    last_updated_date: now,
                    stage_keys: vec![],
                    tags: BTreeMap::new(),
                };
                store::api_keys::insert(&mut tx, &state.keys, &key, &row.value).await?;
                key.id
            }
        };
        for plan_id in &row.plan_ids {
            if let Err(e) = store::usage_plans::bind_key(&mut tx, plan_id, &id).await {
                let w = format!("Key {id} not added to usage plan {plan_id}: {e}");
                if fail_on_warnings {
                    return Err(ApiError::bad_request(w));
                }
                warnings.push(w);
            }
        }
        ids.push(id);
    }
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(ApiKeyIds { ids, warnings })))
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "apikey1234abcdefghij0123456789";
    const K2: &str = "apikey9876abcdefghij0123456789";

    #[test]
    fn csv_minimal_any_order_and_case() {
        let rows = parse_csv(format!("Key,name\n{K1},MyFirstApiKey\n").as_bytes()).unwrap();
        assert_eq!(
            rows,
            vec![ImportRow {
                name: "MyFirstApiKey".into(),
                value: K1.into(),
                description: None,
                enabled: true,
                plan_ids: vec![],
            }]
        );
    }

    #[test]
    fn csv_all_columns_and_quoted_plan_lists() {
        let file = format!(
            "Name,key,description,Enabled,usageplanIds,Other\n\
             First,{K1},An imported key,TRUE,c7y23b,x\n\
             Second,{K2},,false,\"c7y23b,glvrsr\",y\n"
        );
        let rows = parse_csv(file.as_bytes()).unwrap();
        assert_eq!(rows[0].plan_ids, vec!["c7y23b"]);
        assert_eq!(rows[0].description.as_deref(), Some("An imported key"));
        assert!(rows[0].enabled && !rows[1].enabled);
        assert_eq!(rows[1].plan_ids, vec!["c7y23b", "glvrsr"]);
        let file = format!("Enabled,Name,key,UsageplanIds\ntrue,Mine,{K1},'c7y23b,glvrsr'\n");
        let rows = parse_csv(file.as_bytes()).unwrap();
        assert_eq!(rows[0].plan_ids, vec!["c7y23b", "glvrsr"]);
        assert_eq!(rows[0].name, "Mine");
    }

    #[test]
    fn csv_errors_say_what_is_wrong() {
        let e = parse_csv(b"name,description\nx,y\n").unwrap_err();
        assert!(e.to_string().contains("Name and Key"), "{e}");
        let e = parse_csv(b"name,key\nx,short\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = parse_csv(format!("name,key,enabled\nx,{K1},maybe\n").as_bytes()).unwrap_err();
        assert!(e.to_string().contains("Enabled"), "{e}");
    }
}
