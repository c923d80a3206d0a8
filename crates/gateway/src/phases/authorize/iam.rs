//! `AWS_IAM`: requests signed with SigV4 (service `execute-api`) by one of the control
//! plane's access keys. Nodes never see a secret: the control plane streams, per key, the
//! derived signing keys (`kSigning` for `execute-api` in its region) of yesterday, today
//! and tomorrow (UTC), which is all verification needs, as AWS itself scopes keys per day,
//! region and service. The clock-skew rules are the management API's (5 minutes).

use std::collections::HashMap;

use apigw_proto::config as pb;
use apigw_sigv4::{Payload, Request as SignedRequest, SigV4Error};
use http::request::Parts;

use super::IamCaller;
use crate::error::GatewayError;

/// The service signed requests must be scoped to.
pub const SERVICE: &str = "execute-api";

/// One access key's verification material.
#[derive(Debug)]
struct KeyMaterial {
    user_arn: Box<str>,
    /// (date `YYYYMMDD`, region) → kSigning.
    signing_keys: Vec<(Box<str>, Box<str>, [u8; 32])>,
}

/// Every access key's derived signing keys, by access key id.
#[derive(Debug, Default)]
pub struct IamKeys {
    keys: HashMap<Box<str>, KeyMaterial>,
}

impl IamKeys {
    /// Compiles the streamed key set (entries with a key of the wrong length are dropped).
    pub fn compile(config: &pb::IamConfig) -> Self {
        let keys = config
            .keys
            .iter()
            .map(|k| {
                let signing_keys = k
                    .signing_keys
                    .iter()
                    .filter_map(|d| {
                        let key: [u8; 32] = d.key.as_slice().try_into().ok()?;
                        Some((d.date.as_str().into(), d.region.as_str().into(), key))
                    })
                    .collect();
                (
                    k.access_key_id.as_str().into(),
                    KeyMaterial {
                        user_arn: k.user_arn.as_str().into(),
                        signing_keys,
                    },
                )
            })
            .collect();
        IamKeys { keys }
    }
}

/// Verifies the request's signature; `body_sha256` is the hex SHA-256 of the whole body.
pub fn verify(keys: &IamKeys, parts: &Parts, body_sha256: &str) -> Result<IamCaller, GatewayError> {
    let signed = SignedRequest::from_parts(parts, Payload::Sha256Hex(body_sha256));
    let parsed = apigw_sigv4::parse(&signed).map_err(|e| match e {
        SigV4Error::MissingAuthenticationToken | SigV4Error::IncompleteSignature(_) => {
            GatewayError::MissingSignature
        }
        other => GatewayError::InvalidSignature(other.message()),
    })?;
    let material = keys.keys.get(parsed.access_key_id()).ok_or_else(|| {
        GatewayError::InvalidSignature(format!("unknown access key {}", parsed.access_key_id()))
    })?;
    let scope = parsed.scope();
    let key = material
        .signing_keys
        .iter()
        .find(|(date, region, _)| **date == *scope.date && **region == *scope.region)
        .map(|(_, _, key)| key)
        .ok_or_else(|| {
            GatewayError::InvalidSignature(format!(
                "credential scope {}/{} is not current for this gateway",
                scope.date, scope.region
            ))
        })?;
    parsed
        .verify_with_signing_key(key, SERVICE, time::OffsetDateTime::now_utc())
        .map_err(|e| match e {
            SigV4Error::SignatureExpired(m) | SigV4Error::SignatureNotYetCurrent(m) => {
                GatewayError::ExpiredSignature(m)
            }
            other => GatewayError::InvalidSignature(other.message()),
        })?;
    Ok(IamCaller {
        access_key: parsed.access_key_id().into(),
        user_arn: material.user_arn.clone(),
    })
}
