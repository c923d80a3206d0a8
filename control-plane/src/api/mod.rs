//! The management REST API, in the `apigateway` service model's wire shape.
//!
//! One module per resource family; [`routes`] is the table of paths, methods and
//! operations (as the service model's `http.requestUri` gives them) that [`router`]
//! dispatches on and the OpenAPI document ([`crate::openapi`]) describes.

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

use axum::Router;

use crate::error::ApiError;
use crate::openapi::{route, Route, Verb::*};
use crate::AppState;

/// The management API routes (authentication is layered on by the caller), built from
/// [`routes`].
pub fn router() -> Router<AppState> {
    routes()
        .iter()
        .fold(Router::new(), |router, r| {
            router.route(&r.path, r.method_router())
        })
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
}

/// The route table: every operation of the management API with its method, path
/// template (labels as the service model names them), success status and handler. The
/// server dispatches on it ([`router`]) and the OpenAPI document is generated from it
/// ([`crate::openapi`]).
pub fn routes() -> Vec<Route> {
    const API: &str = "/restapis/{restapi_id}";
    const RESOURCE: &str = "/restapis/{restapi_id}/resources/{resource_id}";
    const METHOD: &str = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}";
    const STAGE: &str = "/restapis/{restapi_id}/stages/{stage_name}";
    const PLAN: &str = "/usageplans/{usageplanId}";
    const DOMAIN: &str = "/domainnames/{domain_name}";
    let api = |p: &str| format!("{API}{p}");
    let method = |p: &str| format!("{METHOD}{p}");
    let stage = |p: &str| format!("{STAGE}{p}");
    let plan = |p: &str| format!("{PLAN}{p}");
    let domain = |p: &str| format!("{DOMAIN}{p}");
    vec![
        // REST APIs
        route(Get, "/restapis", "GetRestApis", 200, rest_apis::list),
        route(Post, "/restapis", "CreateRestApi", 201, rest_apis::create).or_when(
            "mode",
            "import",
            "ImportRestApi",
            201,
            imports::import,
        ),
        route(Get, API, "GetRestApi", 200, rest_apis::get),
        route(Put, API, "PutRestApi", 200, imports::put),
        route(Patch, API, "UpdateRestApi", 200, rest_apis::update),
        route(Delete, API, "DeleteRestApi", 202, rest_apis::delete),
        // Resources
        route(Get, api("/resources"), "GetResources", 200, resources::list),
        route(Get, RESOURCE, "GetResource", 200, resources::get),
        // The model's label is `parent_id`; one path has one set of labels here.
        route(Post, RESOURCE, "CreateResource", 201, resources::create),
        route(Patch, RESOURCE, "UpdateResource", 200, resources::update),
        route(Delete, RESOURCE, "DeleteResource", 202, resources::delete),
        route(
            Put,
            format!("{RESOURCE}/cors"),
            "EnableCors",
            200,
            cors::enable,
        ),
        // Methods and method responses
        route(Get, METHOD, "GetMethod", 200, methods::get),
        route(Put, METHOD, "PutMethod", 201, methods::put),
        route(Post, METHOD, "TestInvokeMethod", 200, test_invoke::invoke),
        route(Patch, METHOD, "UpdateMethod", 200, methods::update),
        route(Delete, METHOD, "DeleteMethod", 204, methods::delete),
        route(
            Get,
            method("/responses/{status_code}"),
            "GetMethodResponse",
            200,
            methods::get_response,
        ),
        route(
            Put,
            method("/responses/{status_code}"),
            "PutMethodResponse",
            201,
            methods::put_response,
        ),
        route(
            Patch,
            method("/responses/{status_code}"),
            "UpdateMethodResponse",
            201,
            methods::update_response,
        ),
        route(
            Delete,
            method("/responses/{status_code}"),
            "DeleteMethodResponse",
            204,
            methods::delete_response,
        ),
        // Integrations and integration responses
        route(
            Get,
            method("/integration"),
            "GetIntegration",
            200,
            integrations::get,
        ),
        route(
            Put,
            method("/integration"),
            "PutIntegration",
            201,
            integrations::put,
        ),
        route(
            Patch,
            method("/integration"),
            "UpdateIntegration",
            200,
            integrations::update,
        ),
        route(
            Delete,
            method("/integration"),
            "DeleteIntegration",
            204,
            integrations::delete,
        ),
        route(
            Get,
            method("/integration/responses/{status_code}"),
            "GetIntegrationResponse",
            200,
            integrations::get_response,
        ),
        route(
            Put,
            method("/integration/responses/{status_code}"),
            "PutIntegrationResponse",
            201,
            integrations::put_response,
        ),
        route(
            Patch,
            method("/integration/responses/{status_code}"),
            "UpdateIntegrationResponse",
            200,
            integrations::update_response,
        ),
        route(
            Delete,
            method("/integration/responses/{status_code}"),
            "DeleteIntegrationResponse",
            204,
            integrations::delete_response,
        ),
        // Deployments
        route(
            Get,
            api("/deployments"),
            "GetDeployments",
            200,
            deployments::list,
        ),
        route(
            Post,
            api("/deployments"),
            "CreateDeployment",
            201,
            deployments::create,
        ),
        route(
            Get,
            api("/deployments/{deployment_id}"),
            "GetDeployment",
            200,
            deployments::get,
        ),
        route(
            Patch,
            api("/deployments/{deployment_id}"),
            "UpdateDeployment",
            200,
            deployments::update,
        ),
        route(
            Delete,
            api("/deployments/{deployment_id}"),
            "DeleteDeployment",
            202,
            deployments::delete,
        ),
        // Stages
        route(Get, api("/stages"), "GetStages", 200, stages::list),
        route(Post, api("/stages"), "CreateStage", 201, stages::create),
        route(Get, STAGE, "GetStage", 200, stages::get),
        route(Patch, STAGE, "UpdateStage", 200, stages::update),
        route(Delete, STAGE, "DeleteStage", 202, stages::delete),
        route(
            Delete,
            stage("/cache/authorizers"),
            "FlushStageAuthorizersCache",
            202,
            stages::flush_authorizers_cache,
        ),
        route(
            Delete,
            stage("/cache/data"),
            "FlushStageCache",
            202,
            stages::flush_cache,
        ),
        route(
            Get,
            stage("/exports/{export_type}"),
            "GetExport",
            200,
            exports::get,
        ),
        route(
            Get,
            stage("/sdks/{sdk_type}"),
            "GetSdk",
            200,
            sdks::generate,
        ),
        // Models
        route(Get, api("/models"), "GetModels", 200, models::list),
        route(Post, api("/models"), "CreateModel", 201, models::create),
        route(
            Get,
            api("/models/{model_name}"),
            "GetModel",
            200,
            models::get,
        ),
        route(
            Patch,
            api("/models/{model_name}"),
            "UpdateModel",
            200,
            models::update,
        ),
        route(
            Delete,
            api("/models/{model_name}"),
            "DeleteModel",
            202,
            models::delete,
        ),
        route(
            Get,
            api("/models/{model_name}/default_template"),
            "GetModelTemplate",
            200,
            models::template,
        ),
        // Authorizers
        route(
            Get,
            api("/authorizers"),
            "GetAuthorizers",
            200,
            authorizers::list,
        ),
        route(
            Post,
            api("/authorizers"),
            "CreateAuthorizer",
            201,
            authorizers::create,
        ),
        route(
            Get,
            api("/authorizers/{authorizer_id}"),
            "GetAuthorizer",
            200,
            authorizers::get,
        ),
        route(
            Post,
            api("/authorizers/{authorizer_id}"),
            "TestInvokeAuthorizer",
            200,
            test_invoke::authorizer,
        ),
        route(
            Patch,
            api("/authorizers/{authorizer_id}"),
            "UpdateAuthorizer",
            200,
            authorizers::update,
        ),
        route(
            Delete,
            api("/authorizers/{authorizer_id}"),
            "DeleteAuthorizer",
            202,
            authorizers::delete,
        ),
        // Request validators
        route(
            Get,
            api("/requestvalidators"),
            "GetRequestValidators",
            200,
            request_validators::list,
        ),
        route(
            Post,
            api("/requestvalidators"),
            "CreateRequestValidator",
            201,
            request_validators::create,
        ),
        route(
            Get,
            api("/requestvalidators/{requestvalidator_id}"),
            "GetRequestValidator",
            200,
            request_validators::get,
        ),
        route(
            Patch,
            api("/requestvalidators/{requestvalidator_id}"),
            "UpdateRequestValidator",
            200,
            request_validators::update,
        ),
        route(
            Delete,
            api("/requestvalidators/{requestvalidator_id}"),
            "DeleteRequestValidator",
            202,
            request_validators::delete,
        ),
        // Gateway responses
        route(
            Get,
            api("/gatewayresponses"),
            "GetGatewayResponses",
            200,
            gateway_responses::list,
        ),
        route(
            Get,
            api("/gatewayresponses/{response_type}"),
            "GetGatewayResponse",
            200,
            gateway_responses::get,
        ),
        route(
            Put,
            api("/gatewayresponses/{response_type}"),
            "PutGatewayResponse",
            201,
            gateway_responses::put,
        ),
        route(
            Patch,
            api("/gatewayresponses/{response_type}"),
            "UpdateGatewayResponse",
            200,
            gateway_responses::update,
        ),
        route(
            Delete,
            api("/gatewayresponses/{response_type}"),
            "DeleteGatewayResponse",
            202,
            gateway_responses::delete,
        ),
        // Documentation
        route(
            Get,
            api("/documentation/parts"),
            "GetDocumentationParts",
            200,
            documentation::list_parts,
        ),
        route(
            Post,
            api("/documentation/parts"),
            "CreateDocumentationPart",
            201,
            documentation::create_part,
        ),
        route(
            Put,
            api("/documentation/parts"),
            "ImportDocumentationParts",
            200,
            documentation::import_parts,
        ),
        route(
            Get,
            api("/documentation/parts/{part_id}"),
            "GetDocumentationPart",
            200,
            documentation::get_part,
        ),
        route(
            Patch,
            api("/documentation/parts/{part_id}"),
            "UpdateDocumentationPart",
            200,
            documentation::update_part,
        ),
        route(
            Delete,
            api("/documentation/parts/{part_id}"),
            "DeleteDocumentationPart",
            202,
            documentation::delete_part,
        ),
        route(
            Get,
            api("/documentation/versions"),
            "GetDocumentationVersions",
            200,
            documentation::list_versions,
        ),
        route(
            Post,
            api("/documentation/versions"),
            "CreateDocumentationVersion",
            201,
            documentation::create_version,
        ),
        route(
            Get,
            api("/documentation/versions/{doc_version}"),
            "GetDocumentationVersion",
            200,
            documentation::get_version,
        ),
        route(
            Patch,
            api("/documentation/versions/{doc_version}"),
            "UpdateDocumentationVersion",
            200,
            documentation::update_version,
        ),
        route(
            Delete,
            api("/documentation/versions/{doc_version}"),
            "DeleteDocumentationVersion",
            202,
            documentation::delete_version,
        ),
        // Account
        route(Get, "/account", "GetAccount", 200, account::get),
        route(Patch, "/account", "UpdateAccount", 200, account::update),
        // API keys
        route(Get, "/apikeys", "GetApiKeys", 200, api_keys::list),
        route(Post, "/apikeys", "CreateApiKey", 201, api_keys::create).or_when(
            "mode",
            "import",
            "ImportApiKeys",
            201,
            api_keys::import,
        ),
        route(Get, "/apikeys/{api_Key}", "GetApiKey", 200, api_keys::get),
        route(
            Patch,
            "/apikeys/{api_Key}",
            "UpdateApiKey",
            200,
            api_keys::update,
        ),
        route(
            Delete,
            "/apikeys/{api_Key}",
            "DeleteApiKey",
            202,
            api_keys::delete,
        ),
        // Usage plans, their keys and usage
        route(Get, "/usageplans", "GetUsagePlans", 200, usage_plans::list),
        route(
            Post,
            "/usageplans",
            "CreateUsagePlan",
            201,
            usage_plans::create,
        ),
        route(Get, PLAN, "GetUsagePlan", 200, usage_plans::get),
        route(Patch, PLAN, "UpdateUsagePlan", 200, usage_plans::update),
        route(Delete, PLAN, "DeleteUsagePlan", 202, usage_plans::delete),
        route(
            Get,
            plan("/keys"),
            "GetUsagePlanKeys",
            200,
            usage_plans::list_keys,
        ),
        route(
            Post,
            plan("/keys"),
            "CreateUsagePlanKey",
            201,
            usage_plans::create_key,
        ),
        route(
            Get,
            plan("/keys/{keyId}"),
            "GetUsagePlanKey",
            200,
            usage_plans::get_key,
        ),
        route(
            Delete,
            plan("/keys/{keyId}"),
            "DeleteUsagePlanKey",
            202,
            usage_plans::delete_key,
        ),
        route(Get, plan("/usage"), "GetUsage", 200, usage::get),
        // The billing CSV of a plan (not in the AWS model).
        route(
            Get,
            plan("/usage/export"),
            "ExportUsage",
            200,
            usage::export,
        ),
        route(
            Patch,
            plan("/keys/{keyId}/usage"),
            "UpdateUsage",
            200,
            usage::update,
        ),
        // A WebSocket stage's live connection count (apigatewayv2, not in the AWS model;
        // here so the OpenAPI document has it: the rest of /v2 is checked against the v2
        // model at run time and is not in the document).
        route(
            Get,
            "/v2/apis/{api_id}/stages/{stage_name}/connections",
            "GetConnectionCount",
            200,
            crate::v2::connections::count,
        ),
        // VPC links
        route(Get, "/vpclinks", "GetVpcLinks", 200, vpc_links::list),
        route(Post, "/vpclinks", "CreateVpcLink", 202, vpc_links::create),
        route(
            Get,
            "/vpclinks/{vpclink_id}",
            "GetVpcLink",
            200,
            vpc_links::get,
        ),
        route(
            Patch,
            "/vpclinks/{vpclink_id}",
            "UpdateVpcLink",
            200,
            vpc_links::update,
        ),
        route(
            Delete,
            "/vpclinks/{vpclink_id}",
            "DeleteVpcLink",
            202,
            vpc_links::delete,
        ),
        // Custom domain names and base path mappings
        route(
            Get,
            "/domainnames",
            "GetDomainNames",
            200,
            domain_names::list,
        ),
        route(
            Post,
            "/domainnames",
            "CreateDomainName",
            201,
            domain_names::create,
        ),
        route(Get, DOMAIN, "GetDomainName", 200, domain_names::get),
        route(Patch, DOMAIN, "UpdateDomainName", 200, domain_names::update),
        route(
            Delete,
            DOMAIN,
            "DeleteDomainName",
            202,
            domain_names::delete,
        ),
        route(
            Get,
            domain("/basepathmappings"),
            "GetBasePathMappings",
            200,
            domain_names::list_mappings,
        ),
        route(
            Post,
            domain("/basepathmappings"),
            "CreateBasePathMapping",
            201,
            domain_names::create_mapping,
        ),
        route(
            Get,
            domain("/basepathmappings/{base_path}"),
            "GetBasePathMapping",
            200,
            domain_names::get_mapping,
        ),
        route(
            Patch,
            domain("/basepathmappings/{base_path}"),
            "UpdateBasePathMapping",
            200,
            domain_names::update_mapping,
        ),
        route(
            Delete,
            domain("/basepathmappings/{base_path}"),
            "DeleteBasePathMapping",
            202,
            domain_names::delete_mapping,
        ),
        route(
            Get,
            "/domainnameaccessassociations",
            "GetDomainNameAccessAssociations",
            200,
            domain_names::list_access_associations,
        ),
        route(
            Post,
            "/domainnameaccessassociations",
            "CreateDomainNameAccessAssociation",
            201,
            domain_names::access_association_unsupported,
        ),
        route(
            Delete,
            "/domainnameaccessassociations/{domain_name_access_association_arn}",
            "DeleteDomainNameAccessAssociation",
            202,
            domain_names::access_association_unsupported,
        ),
        route(
            Post,
            "/rejectdomainnameaccessassociations",
            "RejectDomainNameAccessAssociation",
            202,
            domain_names::access_association_unsupported,
        ),
        // Client certificates
        route(
            Get,
            "/clientcertificates",
            "GetClientCertificates",
            200,
            client_certificates::list,
        ),
        route(
            Post,
            "/clientcertificates",
            "GenerateClientCertificate",
            201,
            client_certificates::generate,
        ),
        route(
            Get,
            "/clientcertificates/{clientcertificate_id}",
            "GetClientCertificate",
            200,
            client_certificates::get,
        ),
        route(
            Patch,
            "/clientcertificates/{clientcertificate_id}",
            "UpdateClientCertificate",
            200,
            client_certificates::update,
        ),
        route(
            Delete,
            "/clientcertificates/{clientcertificate_id}",
            "DeleteClientCertificate",
            202,
            client_certificates::delete,
        ),
        // SDKs
        route(Get, "/sdktypes", "GetSdkTypes", 200, sdks::list),
        route(Get, "/sdktypes/{sdktype_id}", "GetSdkType", 200, sdks::get),
        // Tags
        route(Get, "/tags/{resource_arn}", "GetTags", 200, tags::get),
        route(Put, "/tags/{resource_arn}", "TagResource", 204, tags::tag),
        route(
            Delete,
            "/tags/{resource_arn}",
            "UntagResource",
            204,
            tags::untag,
        ),
    ]
}

async fn unknown_operation() -> ApiError {
    ApiError::UnknownOperation
}
