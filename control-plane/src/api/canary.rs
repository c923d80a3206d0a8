//! A stage's canary release (`canarySettings`), as UpdateStage patches it.
//!
//! - `/canarySettings/percentTraffic`, `/canarySettings/deploymentId`,
//!   `/canarySettings/useStageCache`, `/canarySettings/stageVariableOverrides/{name}`
//!   (add/replace/remove) change the canary, creating it (0 %, serving the stage's own
//!   deployment) when the stage has none, as AWS does when a canary is added with
//!   UpdateStage;
//! - `remove /canarySettings` deletes it;
//! - promotion is AWS's patch sequence: `copy` from `/canarySettings/deploymentId` to
//!   `/deploymentId`, `copy` from `/canarySettings/stageVariableOverrides` to `/variables`
//!   (merged into the stage's variables), then `percentTraffic` 0 or `remove /canarySettings`.
//!
//! The rules a canary obeys (share, overrides) are [`super::rules::validate_stage`]'s; that
//! its deployment exists is [`super::rules::check_canary_deployment`]'s. CreateDeployment's
//! and CreateStage's `canarySettings` are [`super::rules::CanaryInput`].

use crate::error::{ApiError, ApiResult};
use crate::patch::{string_of, Op, PatchOperation};
use crate::wire::{CanarySettings, Stage};

use super::rules::validate_percent_traffic;

/// Applies a `/canarySettings[/...]` operation; `segs` are the path's segments after
/// `canarySettings`.
pub fn apply(stage: &mut Stage, op: &PatchOperation, segs: &[&str]) -> ApiResult<()> {
    if segs.is_empty() {
        return match op.op {
            Op::Remove => {
                stage.canary_settings = None;
                Ok(())
            }
            _ => Err(op.unsupported()),
        };
    }
    if op.op == Op::Remove && stage.canary_settings.is_none() {
        return Err(no_canary());
    }
    let deployment_id = stage.deployment_id.clone();
    let canary = stage.canary_settings.get_or_insert_with(|| CanarySettings {
        deployment_id,
        ..Default::default()
    });
    match segs {
        ["percentTraffic"] => match op.op {
            Op::Add | Op::Replace => {
                let percent = op.f64_value()?;
                validate_percent_traffic(percent)?;
                canary.percent_traffic = percent;
            }
            Op::Remove => canary.percent_traffic = 0.0,
            _ => return Err(op.unsupported()),
        },
        ["deploymentId"] => op.apply_string(&mut canary.deployment_id)?,
        ["useStageCache"] => op.apply_bool(&mut canary.use_stage_cache)?,
        ["stageVariableOverrides", name] => {
            op.apply_map_entry(&mut canary.stage_variable_overrides, name, string_of)?
        }
        _ => return Err(op.unsupported()),
    }
    Ok(())
}

/// Applies a `copy` operation of the promotion sequence: `from` `/canarySettings/deploymentId`
/// to `/deploymentId` (the stage serves the canary's deployment), or `from`
/// `/canarySettings/stageVariableOverrides` to `/variables` (the overrides become stage
/// variables, merged over the existing ones).
pub fn copy(stage: &mut Stage, op: &PatchOperation) -> ApiResult<()> {
    let path = op.path()?;
    let from = op.from.as_deref().unwrap_or_default();
    let Some(canary) = &stage.canary_settings else {
        return Err(no_canary());
    };
    match (from, path) {
        ("/canarySettings/deploymentId", "/deploymentId") => {
            stage.deployment_id = canary.deployment_id.clone();
        }
        ("/canarySettings/stageVariableOverrides", "/variables") => {
            let overrides = canary.stage_variable_overrides.clone();
            stage.variables.extend(overrides);
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid copy from '{from}' to '{path}': a stage copies \
                 /canarySettings/deploymentId to /deploymentId or \
                 /canarySettings/stageVariableOverrides to /variables"
            )))
        }
    }
    Ok(())
}

fn no_canary() -> ApiError {
    ApiError::bad_request("The stage has no canary settings (canarySettings)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::rules::{new_stage, validate_stage};

    fn op(op: Op, path: &str, value: Option<&str>, from: Option<&str>) -> PatchOperation {
        PatchOperation {
            op,
            path: Some(path.into()),
            value: value.map(Into::into),
            from: from.map(Into::into),
        }
    }

    fn patch(stage: &mut Stage, o: PatchOperation) -> ApiResult<()> {
        let segs = o.segments()?;
        let names: Vec<&str> = segs.iter().map(String::as_str).collect();
        match names.as_slice() {
            ["canarySettings", rest @ ..] => apply(stage, &o, rest),
            _ => copy(stage, &o),
        }
    }

    #[test]
    fn patches_create_change_and_promote_a_canary() {
        let mut s = new_stage("prod", "d1");
        s.variables.insert("color".into(), "blue".into());
        s.variables.insert("keep".into(), "yes".into());
        let set = |path, v| op(Op::Replace, path, Some(v), None);
        patch(&mut s, set("/canarySettings/percentTraffic", "12.5")).unwrap();
        let c = s.canary_settings.as_ref().unwrap();
        assert_eq!((c.percent_traffic, c.deployment_id.as_str()), (12.5, "d1"));
        patch(&mut s, set("/canarySettings/deploymentId", "d2")).unwrap();
        patch(&mut s, set("/canarySettings/useStageCache", "true")).unwrap();
        patch(
            &mut s,
            set("/canarySettings/stageVariableOverrides/color", "green"),
        )
        .unwrap();
        validate_stage(&s).unwrap();
        assert!(patch(&mut s, set("/canarySettings/percentTraffic", "100.5")).is_err());
        assert!(patch(&mut s, set("/canarySettings/nope", "1")).is_err());
        // AWS's promotion sequence.
        patch(&mut s, set("/canarySettings/percentTraffic", "0.0")).unwrap();
        let from = |from, path| op(Op::Copy, path, None, Some(from));
        patch(
            &mut s,
            from("/canarySettings/stageVariableOverrides", "/variables"),
        )
        .unwrap();
        patch(
            &mut s,
            from("/canarySettings/deploymentId", "/deploymentId"),
        )
        .unwrap();
        assert_eq!(s.deployment_id, "d2");
        assert_eq!(s.variables["color"], "green");
        assert_eq!(s.variables["keep"], "yes");
        assert!(patch(
            &mut s,
            from("/canarySettings/percentTraffic", "/deploymentId")
        )
        .is_err());
        patch(&mut s, op(Op::Remove, "/canarySettings", None, None)).unwrap();
        assert!(s.canary_settings.is_none());
        assert!(patch(
            &mut s,
            from("/canarySettings/deploymentId", "/deploymentId")
        )
        .is_err());
    }

    #[test]
    fn overrides_obey_the_stage_variable_rules() {
        let mut s = new_stage("prod", "d1");
        patch(
            &mut s,
            op(
                Op::Replace,
                "/canarySettings/stageVariableOverrides/bad key",
                Some("v"),
                None,
            ),
        )
        .unwrap();
        assert!(validate_stage(&s).is_err());
    }
}
