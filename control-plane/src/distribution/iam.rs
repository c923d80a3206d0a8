//! The AWS_IAM part of the deployed state: for every enabled access key, the SigV4
//! signing keys (`kSigning` for service `execute-api` in the control plane's region) of
//! yesterday, today and tomorrow (UTC), and the key's user ARN. Nodes verify signatures
//! with them and never see a secret; a key derived for one day signs nothing on another.
//! A new UTC day changes the set, and the watcher reloads for it.

use apigw_proto::config as pb;

use crate::keys::KeyVault;
use crate::store::access_keys::EnabledKey;
use crate::store::account_id;

/// Today's date (UTC) as `YYYYMMDD`.
pub fn today() -> String {
    day(time::OffsetDateTime::now_utc())
}

fn day(t: time::OffsetDateTime) -> String {
    format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day())
}

/// The user ARN of a key: its console user's, or the account root's for the bootstrap key.
pub fn user_arn(username: Option<&str>) -> String {
    match username {
        Some(name) => format!("arn:aws:iam::{}:user/{name}", account_id()),
        None => format!("arn:aws:iam::{}:root", account_id()),
    }
}

/// The streamed IAM config for `keys` on `today` (`YYYYMMDD`); a key whose secret does
/// not unseal is left out (and logged).
pub fn config(keys: &[EnabledKey], vault: &KeyVault, region: &str, today: &str) -> pb::IamConfig {
    let Some(date) = time::Date::parse(
        today,
        time::macros::format_description!("[year][month][day]"),
    )
    .ok() else {
        return pb::IamConfig::default();
    };
    let days: Vec<String> = [date.previous_day(), Some(date), date.next_day()]
        .into_iter()
        .flatten()
        .map(|d| day(d.midnight().assume_utc()))
        .collect();
    let keys = keys
        .iter()
        .filter_map(|(id, plain, sealed, username)| {
            let secret = match sealed {
                Some(sealed) => match vault.decrypt(sealed) {
                    Ok(secret) => secret,
                    Err(error) => {
                        tracing::error!(%error, access_key_id = %id, "an access key secret does not decrypt; AWS_IAM calls with it will fail");
                        return None;
                    }
                },
                None => plain.clone()?,
            };
            Some(pb::IamKey {
                access_key_id: id.clone(),
                user_arn: user_arn(username.as_deref()),
                signing_keys: days
                    .iter()
                    .map(|d| pb::DatedSigningKey {
                        date: d.clone(),
                        region: region.to_string(),
                        key: apigw_sigv4::canonical::signing_key(&secret, d, region, "execute-api")
                            .to_vec(),
                    })
                    .collect(),
            })
        })
        .collect();
    pb::IamConfig { keys }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cover_three_days_and_no_secret() {
        let vault = KeyVault::from_master_key("test");
        let keys = vec![(
            "AKID".to_string(),
            None,
            Some(vault.encrypt("s3cret")),
            Some("ann".to_string()),
        )];
        let c = config(&keys, &vault, "us-east-1", "20260301");
        let k = &c.keys[0];
        assert_eq!(k.user_arn, "arn:aws:iam::000000000000:user/ann");
        let dates: Vec<&str> = k.signing_keys.iter().map(|d| d.date.as_str()).collect();
        assert_eq!(dates, ["20260228", "20260301", "20260302"]);
        assert_eq!(
            k.signing_keys[1].key,
            apigw_sigv4::canonical::signing_key("s3cret", "20260301", "us-east-1", "execute-api")
        );
        let encoded = format!("{c:?}");
        assert!(!encoded.contains("s3cret"));
    }
}
