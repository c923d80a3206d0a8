//! CreateVpcLink, GetVpcLink(s), UpdateVpcLink, DeleteVpcLink.
//!
//! In AWS a VPC link is a VPC endpoint service in front of a network load balancer, and
//! creating one takes minutes. Here the data-plane nodes already sit in the private network
//! they serve, so a link is a name integrations refer to (`connectionType: VPC_LINK`,
//! `connectionId`): it is `AVAILABLE` as soon as it is created, its `targetArns` are kept as
//! given, and a node calls the integration's `uri` directly.
//!
//! Deleting a link that an integration names is refused as AWS refuses it: a
//! `BadRequestException` listing the references, first those of deployed stages
//! (`[RESTApiId:Method:Resource:Stage]`), else those of the current definitions
//! (`[RESTApiId:Method:Resource]`). (AWS's model lists ConflictException for DeleteVpcLink,
//! but AWS answers this case with a BadRequestException in these words, and tools match
//! what AWS answers.) An integration that names its link through a stage variable
//! (`${stageVariables.vpcLinkId}`) is not tracked: which link it means is decided per stage.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use prost::Message;
use serde::Deserialize;

use apigw_proto::config as pb;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::random_id;
use crate::patch::PatchRequest;
use crate::store::{self, vpc_links::Lock};
use crate::validate;
use crate::wire::VpcLink;
use crate::AppState;

/// A link's status: usable at once (see the module doc).
pub const AVAILABLE: &str = "AVAILABLE";
/// The status message of an available link.
pub const AVAILABLE_MESSAGE: &str = "Your vpc link is ready for use";

/// Body of CreateVpcLink.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateVpcLink {
    name: Option<String>,
    description: Option<String>,
    target_arns: Option<Vec<String>>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("Vpc link name must not be blank"));
    }
    Ok(())
}

/// POST /vpclinks (202, as AWS answers: creating a link is asynchronous there).
pub async fn create(
    State(state): State<AppState>,
    AwsJson(req): AwsJson<CreateVpcLink>,
) -> ApiResult<(StatusCode, Json<VpcLink>)> {
    let name = req
        .name
        .ok_or_else(|| ApiError::bad_request("Vpc link name is required"))?;
    check_name(&name)?;
    let target_arns = req.target_arns.unwrap_or_default();
    match target_arns.as_slice() {
        [] => {
            return Err(ApiError::bad_request(
                "targetArns is required: the ARN of the network load balancer the link targets",
            ))
        }
        [arn] if arn.trim().is_empty() => {
            return Err(ApiError::bad_request("Invalid target arn: it is blank"))
        }
        [_] => {}
        _ => {
            return Err(ApiError::bad_request(
                "More than one target arn specified for vpc link.",
            ))
        }
    }
    validate::tags(&req.tags)?;
    let link = VpcLink {
        id: random_id(6),
        name,
        description: req.description,
        target_arns,
        status: AVAILABLE.to_string(),
        status_message: Some(AVAILABLE_MESSAGE.to_string()),
        tags: req.tags,
    };
    let mut conn = state.db.acquire().await?;
    store::vpc_links::insert(&mut conn, &link).await?;
    Ok((StatusCode::ACCEPTED, Json(link)))
}

/// GET /vpclinks
pub async fn list(
    State(state): State<AppState>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<VpcLink>>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(page.page(store::vpc_links::list(&mut conn).await?)?))
}

/// GET /vpclinks/{vpclink_id}
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<VpcLink>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        store::vpc_links::load(&mut conn, &id, Lock::None).await?,
    ))
}

/// PATCH /vpclinks/{vpclink_id}: `/name`, `/description`; the targets cannot change.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<VpcLink>> {
    let mut tx = state.db.begin().await?;
    let mut link = store::vpc_links::load(&mut tx, &id, Lock::Update).await?;
    for op in &req.patch_operations {
        match op.path()? {
            "/name" => {
                op.apply_string(&mut link.name)?;
                check_name(&link.name)?;
            }
            "/description" => op.apply_opt_string(&mut link.description)?,
            p if p == "/targetArns" || p.starts_with("/targetArns/") => {
                return Err(ApiError::bad_request(
                    "Target arns are not allowed to be changed/added.",
                ))
            }
            _ => return Err(op.unsupported()),
        }
    }
    store::vpc_links::save(&mut tx, &link).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(link))
}

/// The methods of deployed stages whose integration goes through VPC link `id`, as AWS
/// names them: `{api}:{METHOD}:{resourceId}:{stage}`.
async fn deployed_references(conn: &mut sqlx::PgConnection, id: &str) -> ApiResult<Vec<String>> {
    let stages = store::deployed::stages(conn).await?;
    let (api_ids, deployment_ids): (Vec<String>, Vec<String>) = stages
        .iter()
        .map(|s| (s.api_id.clone(), s.deployment_id.clone()))
        .unzip();
    let snapshots = store::deployed::snapshots(conn, &api_ids, &deployment_ids).await?;
    let mut refs = Vec::new();
    for stage in &stages {
        let Some((_, _, bytes)) = snapshots
            .iter()
            .find(|(a, d, _)| *a == stage.api_id && *d == stage.deployment_id)
        else {
            continue;
        };
        let snap = pb::DeploymentSnapshot::decode(bytes.as_slice())
            .map_err(|e| ApiError::Internal(format!("snapshot does not decode: {e}")))?;
        for resource in &snap.resources {
            for method in &resource.methods {
                let through_link = method
                    .integration
                    .as_ref()
                    .is_some_and(|i| i.connection_type == "VPC_LINK" && i.connection_id == id);
                if through_link {
                    refs.push(format!(
                        "{}:{}:{}:{}",
                        stage.api_id, method.http_method, resource.id, stage.stage_name
                    ));
                }
            }
        }
    }
    refs.sort();
    Ok(refs)
}

/// DELETE /vpclinks/{vpclink_id}: refused while an integration uses the link.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::vpc_links::load(&mut tx, &id, Lock::Update).await?;
    let deployed = deployed_references(&mut tx, &id).await?;
    if !deployed.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Cannot delete vpc link. Vpc link '{id}', is referenced in [{}] in format of \
             [RESTApiId:Method:Resource:Stage].",
            deployed.join(", ")
        )));
    }
    let defined = store::vpc_links::integrations_using(&mut tx, &id).await?;
    if !defined.is_empty() {
        let refs: Vec<String> = defined
            .iter()
            .map(|(api, method, resource)| format!("{api}:{method}:{resource}"))
            .collect();
        return Err(ApiError::bad_request(format!(
            "Cannot delete vpc link. Vpc link '{id}', is referenced in [{}] in format of \
             [RESTApiId:Method:Resource].",
            refs.join(", ")
        )));
    }
    store::vpc_links::delete(&mut tx, &id).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}
