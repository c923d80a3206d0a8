//! `PUT /restapis/{restapi_id}/resources/{resource_id}/cors`: our one-call equivalent of
//! the AWS console's "Enable CORS" (not an AWS API operation).
//!
//! It writes exactly what the console writes, through the ordinary entities, so the
//! result is visible and editable with GetMethod/GetIntegration and deployed like any
//! other change:
//!
//! - an `OPTIONS` method (NONE auth) with a `MOCK` integration (`{"statusCode": 200}`),
//!   a 200 method response declaring `Access-Control-Allow-Headers/Methods/Origin`, and a
//!   200 integration response giving them static values;
//! - on every other method of the resource, `Access-Control-Allow-Origin` declared on its
//!   200 method response and set on its 200 integration response (non-proxy integrations;
//!   proxy backends send their own headers);
//! - optionally (`gatewayResponses: true`) the same headers on DEFAULT_4XX and DEFAULT_5XX,
//!   so errors carry them too.
//!
//! Body (all optional): `{"allowOrigin": "*", "allowHeaders": "Content-Type,...",
//! "allowMethods": ["GET", "OPTIONS"], "gatewayResponses": true}`. The answer is the
//! resource with its methods embedded.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::AwsJson;
use crate::store::{self, resources::ResourceRow};
use crate::wire::{Integration, IntegrationResponse, Method, MethodResponse, Resource};
use crate::AppState;

/// The console's default `Access-Control-Allow-Headers`.
pub const DEFAULT_ALLOW_HEADERS: &str =
    "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token";

const ALLOW_HEADERS: &str = "Access-Control-Allow-Headers";
const ALLOW_METHODS: &str = "Access-Control-Allow-Methods";
const ALLOW_ORIGIN: &str = "Access-Control-Allow-Origin";

/// Body of the call.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnableCors {
    allow_origin: Option<String>,
    allow_headers: Option<String>,
    allow_methods: Option<Vec<String>>,
    #[serde(default)]
    gateway_responses: bool,
}

/// The resolved header values.
#[derive(Debug, Clone, PartialEq)]
struct CorsValues {
    origin: String,
    headers: String,
    methods: String,
}

/// A static mapping value (`'v'`), refusing quotes that would break it.
fn quoted(name: &str, v: &str) -> ApiResult<String> {
    if v.is_empty() || v.contains('\'') || http::HeaderValue::from_str(v).is_err() {
        return Err(ApiError::bad_request(format!(
            "Invalid {name} value '{v}': must be a non-empty header value without quotes"
        )));
    }
    Ok(format!("'{v}'"))
}

fn resolve(req: &EnableCors, row: &ResourceRow) -> ApiResult<CorsValues> {
    let methods = match &req.allow_methods {
        Some(list) => {
            for m in list {
                crate::validate::http_method(m)?;
            }
            list.clone()
        }
        None => {
            let mut list: Vec<String> = row
                .methods
                .keys()
                .filter(|m| *m != "OPTIONS")
                .flat_map(|m| {
                    if m == "ANY" {
                        ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]
                            .map(String::from)
                            .to_vec()
                    } else {
                        vec![m.clone()]
                    }
                })
                .collect();
            list.push("OPTIONS".into());
            list.sort();
            list.dedup();
            list
        }
    };
    Ok(CorsValues {
        origin: quoted("allowOrigin", req.allow_origin.as_deref().unwrap_or("*"))?,
        headers: quoted(
            "allowHeaders",
            req.allow_headers
                .as_deref()
                .unwrap_or(DEFAULT_ALLOW_HEADERS),
        )?,
        methods: quoted("allowMethods", &methods.join(","))?,
    })
}

fn header_key(prefix: &str, name: &str) -> String {
    format!("{prefix}.header.{name}")
}

/// Applies the console's edits to a resource row.
fn apply(row: &mut ResourceRow, v: &CorsValues) {
    let mut options = row.methods.remove("OPTIONS").unwrap_or_else(|| Method {
        http_method: "OPTIONS".into(),
        authorization_type: "NONE".into(),
        ..Default::default()
    });
    let declared: BTreeMap<String, bool> = [ALLOW_HEADERS, ALLOW_METHODS, ALLOW_ORIGIN]
        .iter()
        .map(|h| (header_key("method.response", h), false))
        .collect();
    let response = options
        .method_responses
        .entry("200".into())
        .or_insert_with(|| MethodResponse {
            status_code: "200".into(),
            ..Default::default()
        });
    response.response_parameters.extend(declared);
    let integration = options
        .method_integration
        .get_or_insert_with(|| Integration {
            integration_type: "MOCK".into(),
            connection_type: "INTERNET".into(),
            passthrough_behavior: "WHEN_NO_MATCH".into(),
            timeout_in_millis: 29_000,
            cache_namespace: row.id.clone(),
            request_templates: BTreeMap::from([(
                "application/json".into(),
                "{\"statusCode\": 200}".into(),
            )]),
            ..Default::default()
        });
    let ir = integration
        .integration_responses
        .entry("200".into())
        .or_insert_with(|| IntegrationResponse {
            status_code: "200".into(),
            response_templates: BTreeMap::from([("application/json".into(), String::new())]),
            ..Default::default()
        });
    for (h, value) in [
        (ALLOW_HEADERS, &v.headers),
        (ALLOW_METHODS, &v.methods),
        (ALLOW_ORIGIN, &v.origin),
    ] {
        ir.response_parameters
            .insert(header_key("method.response", h), value.clone());
    }
    for method in row.methods.values_mut() {
        let response = method
            .method_responses
            .entry("200".into())
            .or_insert_with(|| MethodResponse {
                status_code: "200".into(),
                ..Default::default()
            });
        response
            .response_parameters
            .insert(header_key("method.response", ALLOW_ORIGIN), false);
        if let Some(i) = &mut method.method_integration {
            let proxy = matches!(i.integration_type.as_str(), "HTTP_PROXY" | "AWS_PROXY");
            if let (false, Some(ir)) = (proxy, i.integration_responses.get_mut("200")) {
                ir.response_parameters.insert(
                    header_key("method.response", ALLOW_ORIGIN),
                    v.origin.clone(),
                );
            }
        }
    }
    row.methods.insert("OPTIONS".into(), options);
}

/// PUT /restapis/{restapi_id}/resources/{resource_id}/cors
pub async fn enable(
    State(state): State<AppState>,
    Path((api_id, rid)): Path<(String, String)>,
    AwsJson(req): AwsJson<EnableCors>,
) -> ApiResult<Json<Resource>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut row = store::resources::load(&mut tx, &api_id, &rid, true).await?;
    let values = resolve(&req, &row)?;
    apply(&mut row, &values);
    store::resources::save_methods(&mut tx, &api_id, &row).await?;
    if req.gateway_responses {
        for t in ["DEFAULT_4XX", "DEFAULT_5XX"] {
            let mut r = store::gateway_responses::current(&mut tx, &api_id, t).await?;
            r.default_response = false;
            for (h, value) in [
                (ALLOW_HEADERS, &values.headers),
                (ALLOW_METHODS, &values.methods),
                (ALLOW_ORIGIN, &values.origin),
            ] {
                r.response_parameters
                    .insert(header_key("gatewayresponse", h), value.clone());
            }
            store::gateway_responses::save(&mut tx, &api_id, &r).await?;
        }
    }
    crate::audit::commit(tx).await?;
    Ok(Json(row.to_wire(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_with(methods: &[(&str, &str)]) -> ResourceRow {
        let mut map = BTreeMap::new();
        for (m, t) in methods {
            let mut integration = Integration {
                integration_type: (*t).into(),
                ..Default::default()
            };
            integration.integration_responses.insert(
                "200".into(),
                IntegrationResponse {
                    status_code: "200".into(),
                    ..Default::default()
                },
            );
            map.insert(
                (*m).to_string(),
                Method {
                    http_method: (*m).into(),
                    authorization_type: "NONE".into(),
                    method_integration: Some(integration),
                    ..Default::default()
                },
            );
        }
        ResourceRow {
            id: "r1".into(),
            parent_id: None,
            path_part: None,
            path: "/compare".into(),
            methods: map,
        }
    }

    #[test]
    fn options_mock_and_origin_on_other_methods_as_the_console_does() {
        let mut row = row_with(&[("POST", "HTTP"), ("GET", "HTTP_PROXY")]);
        let v = resolve(&EnableCors::default(), &row).unwrap();
        assert_eq!(v.methods, "'GET,OPTIONS,POST'");
        assert_eq!(v.origin, "'*'");
        apply(&mut row, &v);
        let options = &row.methods["OPTIONS"];
        let i = options.method_integration.as_ref().unwrap();
        assert_eq!(i.integration_type, "MOCK");
        assert_eq!(
            i.request_templates["application/json"],
            "{\"statusCode\": 200}"
        );
        let ir = &i.integration_responses["200"];
        assert_eq!(
            ir.response_parameters["method.response.header.Access-Control-Allow-Headers"],
            format!("'{DEFAULT_ALLOW_HEADERS}'")
        );
        assert_eq!(options.method_responses["200"].response_parameters.len(), 3);
        let post = &row.methods["POST"];
        assert!(post.method_responses["200"]
            .response_parameters
            .contains_key("method.response.header.Access-Control-Allow-Origin"));
        let post_ir = &post
            .method_integration
            .as_ref()
            .unwrap()
            .integration_responses["200"];
        assert_eq!(
            post_ir.response_parameters["method.response.header.Access-Control-Allow-Origin"],
            "'*'"
        );
        let get_ir = &row.methods["GET"]
            .method_integration
            .as_ref()
            .unwrap()
            .integration_responses["200"];
        assert!(
            get_ir.response_parameters.is_empty(),
            "proxy integrations are left alone"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        let row = row_with(&[]);
        let req = EnableCors {
            allow_origin: Some("it's".into()),
            ..Default::default()
        };
        assert!(resolve(&req, &row).is_err());
        let req = EnableCors {
            allow_methods: Some(vec!["FETCH".into()]),
            ..Default::default()
        };
        assert!(resolve(&req, &row).is_err());
    }
}
