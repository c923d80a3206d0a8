//! The management REST API, in the `apigateway` service model's wire shape.
//!
//! One module per resource family; [`router`] wires paths and methods exactly as the
//! service model's `http.requestUri` gives them.

pub mod account;
pub mod api_keys;
pub mod authorizers;
pub mod canary;
pub mod client_certificates;
pub mod cors;
pub mod deployments;
pub mod documentation;
pub mod domain_names;
pub mod exports;
pub mod gateway_responses;
pub mod imports;
pub mod integrations;
pub mod methods;
pub mod models;
pub mod request_validators;
pub mod resources;
pub mod rest_apis;
pub mod rules;
pub mod sdks;
pub mod stages;
pub mod tags;
pub mod test_invoke;
pub mod usage;
pub mod usage_plans;
pub mod vpc_links;

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

/// The management API routes (authentication is layered on by the caller).
pub fn router() -> Router<AppState> {
    const METHOD: &str = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}";
    Router::new()
        .route("/restapis", get(rest_apis::list).post(post_restapis))
        .route(
            "/restapis/{restapi_id}",
            get(rest_apis::get)
                .put(imports::put)
                .patch(rest_apis::update)
                .delete(rest_apis::delete),
        )
        .route("/restapis/{restapi_id}/resources", get(resources::list))
        .route(
            "/restapis/{restapi_id}/resources/{resource_id}",
            get(resources::get)
                .post(resources::create)
                .patch(resources::update)
                .delete(resources::delete),
        )
        .route(
            METHOD,
            get(methods::get)
                .put(methods::put)
                .post(test_invoke::invoke)
                .patch(methods::update)
                .delete(methods::delete),
        )
        .route(
            &format!("{METHOD}/responses/{{status_code}}"),
            get(methods::get_response)
                .put(methods::put_response)
                .patch(methods::update_response)
                .delete(methods::delete_response),
        )
        .route(
            &format!("{METHOD}/integration"),
            get(integrations::get)
                .put(integrations::put)
                .patch(integrations::update)
                .delete(integrations::delete),
        )
        .route(
            &format!("{METHOD}/integration/responses/{{status_code}}"),
            get(integrations::get_response)
                .put(integrations::put_response)
                .patch(integrations::update_response)
                .delete(integrations::delete_response),
        )
        .route(
            "/restapis/{restapi_id}/deployments",
            get(deployments::list).post(deployments::create),
        )
        .route(
            "/restapis/{restapi_id}/deployments/{deployment_id}",
            get(deployments::get)
                .patch(deployments::update)
                .delete(deployments::delete),
        )
        .route(
            "/restapis/{restapi_id}/stages",
            get(stages::list).post(stages::create),
        )
        .route(
            "/restapis/{restapi_id}/stages/{stage_name}",
            get(stages::get)
                .patch(stages::update)
                .delete(stages::delete),
        )
        .route(
            "/restapis/{restapi_id}/stages/{stage_name}/cache/authorizers",
            delete(stages::flush_authorizers_cache),
        )
        .route(
            "/restapis/{restapi_id}/stages/{stage_name}/cache/data",
            delete(stages::flush_cache),
        )
        .route(
            "/restapis/{restapi_id}/stages/{stage_name}/exports/{export_type}",
            get(exports::get),
        )
        .route(
            "/restapis/{restapi_id}/resources/{resource_id}/cors",
            axum::routing::put(cors::enable),
        )
        .route(
            "/restapis/{restapi_id}/models",
            get(models::list).post(models::create),
        )
        .route(
            "/restapis/{restapi_id}/models/{model_name}",
            get(models::get)
                .patch(models::update)
                .delete(models::delete),
        )
        .route(
            "/restapis/{restapi_id}/models/{model_name}/default_template",
            get(models::template),
        )
        .route(
            "/restapis/{restapi_id}/authorizers",
            get(authorizers::list).post(authorizers::create),
        )
        .route(
            "/restapis/{restapi_id}/authorizers/{authorizer_id}",
            get(authorizers::get)
                .post(test_invoke::authorizer)
                .patch(authorizers::update)
                .delete(authorizers::delete),
        )
        .route(
            "/restapis/{restapi_id}/requestvalidators",
            get(request_validators::list).post(request_validators::create),
        )
        .route(
            "/restapis/{restapi_id}/requestvalidators/{requestvalidator_id}",
            get(request_validators::get)
                .patch(request_validators::update)
                .delete(request_validators::delete),
        )
        .route(
            "/restapis/{restapi_id}/gatewayresponses",
            get(gateway_responses::list),
        )
        .route(
            "/restapis/{restapi_id}/gatewayresponses/{response_type}",
            get(gateway_responses::get)
                .put(gateway_responses::put)
                .patch(gateway_responses::update)
                .delete(gateway_responses::delete),
        )
        .route("/account", get(account::get).patch(account::update))
        .route("/apikeys", get(api_keys::list).post(api_keys::create))
        .route(
            "/apikeys/{api_key}",
            get(api_keys::get)
                .patch(api_keys::update)
                .delete(api_keys::delete),
        )
        .route(
            "/usageplans",
            get(usage_plans::list).post(usage_plans::create),
        )
        .route(
            "/usageplans/{usageplan_id}",
            get(usage_plans::get)
                .patch(usage_plans::update)
                .delete(usage_plans::delete),
        )
        .route(
            "/usageplans/{usageplan_id}/keys",
            get(usage_plans::list_keys).post(usage_plans::create_key),
        )
        .route(
            "/usageplans/{usageplan_id}/keys/{key_id}",
            get(usage_plans::get_key).delete(usage_plans::delete_key),
        )
        .route("/usageplans/{usageplan_id}/usage", get(usage::get))
        .route(
            "/usageplans/{usageplan_id}/usage/export",
            get(usage::export),
        )
        .route(
            "/usageplans/{usageplan_id}/keys/{key_id}/usage",
            axum::routing::patch(usage::update),
        )
        .route(
            "/restapis/{restapi_id}/documentation/parts",
            get(documentation::list_parts)
                .post(documentation::create_part)
                .put(documentation::import_parts),
        )
        .route(
            "/restapis/{restapi_id}/documentation/parts/{part_id}",
            get(documentation::get_part)
                .patch(documentation::update_part)
                .delete(documentation::delete_part),
        )
        .route(
            "/restapis/{restapi_id}/documentation/versions",
            get(documentation::list_versions).post(documentation::create_version),
        )
        .route(
            "/restapis/{restapi_id}/documentation/versions/{doc_version}",
            get(documentation::get_version)
                .patch(documentation::update_version)
                .delete(documentation::delete_version),
        )
        .route("/vpclinks", get(vpc_links::list).post(vpc_links::create))
        .route(
            "/vpclinks/{vpclink_id}",
            get(vpc_links::get)
                .patch(vpc_links::update)
                .delete(vpc_links::delete),
        )
        .route(
            "/domainnames",
            get(domain_names::list).post(domain_names::create),
        )
        .route(
            "/domainnames/{domain_name}",
            get(domain_names::get)
                .patch(domain_names::update)
                .delete(domain_names::delete),
        )
        .route(
            "/domainnames/{domain_name}/basepathmappings",
            get(domain_names::list_mappings).post(domain_names::create_mapping),
        )
        .route(
            "/domainnames/{domain_name}/basepathmappings/{base_path}",
            get(domain_names::get_mapping)
                .patch(domain_names::update_mapping)
                .delete(domain_names::delete_mapping),
        )
        .route(
            "/domainnameaccessassociations",
            get(domain_names::list_access_associations)
                .post(domain_names::access_association_unsupported),
        )
        .route(
            "/domainnameaccessassociations/{arn}",
            delete(domain_names::access_association_unsupported),
        )
        .route(
            "/rejectdomainnameaccessassociations",
            axum::routing::post(domain_names::access_association_unsupported),
        )
        .route(
            "/clientcertificates",
            get(client_certificates::list).post(client_certificates::generate),
        )
        .route(
            "/clientcertificates/{clientcertificate_id}",
            get(client_certificates::get)
                .patch(client_certificates::update)
                .delete(client_certificates::delete),
        )
        .route("/sdktypes", get(sdks::list))
        .route("/sdktypes/{sdktype_id}", get(sdks::get))
        .route(
            "/restapis/{restapi_id}/stages/{stage_name}/sdks/{sdk_type}",
            get(sdks::generate),
        )
        .route(
            "/tags/{resource_arn}",
            get(tags::get).put(tags::tag).delete(tags::untag),
        )
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
}

/// `POST /restapis`: ImportRestApi when the query says `mode=import` (its `requestUri` is
/// `/restapis?mode=import`), CreateRestApi otherwise.
async fn post_restapis(State(state): State<AppState>, req: Request) -> Response {
    let import = req
        .uri()
        .query()
        .and_then(|q| apigw_gateway::query::last(q, "mode"))
        .is_some_and(|mode| mode == "import");
    if import {
        Handler::<_, AppState>::call(imports::import, req, state).await
    } else {
        Handler::<_, AppState>::call(rest_apis::create, req, state).await
    }
}

async fn unknown_operation() -> ApiError {
    ApiError::UnknownOperation
}
