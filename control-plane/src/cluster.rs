//! Cluster identity: the id recorded in Postgres ([`crate::store::cluster`]) claims the
//! Redis key prefix (`{prefix}cluster`, set once, never expiring), so two gateways pointed
//! by mistake at one Redis with the same prefix cannot silently move each other's usage
//! counts: the second control plane refuses to start, naming both clusters, and a node
//! refuses the config of a control plane whose cluster is not the prefix's claimant
//! (the id travels in the config stream's `apigw-cluster-id` response metadata).

use std::time::Duration;

pub use apigw_proto::{CLUSTER_CLAIM_KEY as CLAIM_KEY, CLUSTER_ID_METADATA as METADATA_KEY};

/// How long the claim may take before the check is skipped (Redis unreachable).
const CLAIM_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the claim failed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The prefix belongs to another cluster.
    #[error(
        "the Redis key prefix {prefix:?} is claimed by cluster {claimant}, but this control \
         plane's database ({database}) is cluster {ours}: two clusters would mix their usage \
         counts, quotas and caches. Give this cluster its own REDIS_KEY_PREFIX \
         (--redis-prefix), or point it at its own database"
    )]
    Foreign {
        /// The prefix.
        prefix: String,
        /// The cluster already holding it.
        claimant: String,
        /// This control plane's cluster (from Postgres).
        ours: String,
        /// Where that id comes from (host, port and database name; no credentials).
        database: String,
    },
    /// Redis could not be asked (unreachable, bad URL).
    #[error("cannot check the Redis key prefix's claim: {0}")]
    Redis(String),
}

/// Claims `prefix` for `cluster_id` (`SET NX`), then reads who holds it.
pub async fn claim_prefix(
    target: &apigw_shared_redis::RedisTarget,
    prefix: &str,
    cluster_id: &str,
    database: &str,
) -> Result<(), ClaimError> {
    let redis = |e: redis::RedisError| ClaimError::Redis(e.to_string());
    let claim = async {
        let mut conn = target
            .connect_lazy(apigw_shared_redis::Timeouts {
                connect: CLAIM_TIMEOUT,
                response: CLAIM_TIMEOUT,
                retries: 1,
            })
            .map_err(|e| ClaimError::Redis(e.to_string()))?;
        let key = format!("{prefix}{CLAIM_KEY}");
        let _: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(cluster_id)
            .arg("NX")
            .query_async(&mut conn)
            .await
            .map_err(redis)?;
        let holder: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(redis)?;
        Ok(holder)
    };
    let holder = tokio::time::timeout(CLAIM_TIMEOUT, claim)
        .await
        .map_err(|_| ClaimError::Redis(format!("no answer within {CLAIM_TIMEOUT:?}")))??;
    match holder {
        Some(claimant) if claimant != cluster_id => Err(ClaimError::Foreign {
            prefix: prefix.to_string(),
            claimant,
            ours: cluster_id.to_string(),
            database: database.to_string(),
        }),
        _ => Ok(()),
    }
}

/// `host:port/dbname` of a Postgres URL, without user or password, for messages.
pub fn database_label(database_url: &str) -> String {
    let rest = database_url
        .split_once("://")
        .map_or(database_url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split('?').next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_labels_carry_no_credentials() {
        assert_eq!(
            database_label("postgres://user:secret@db.example:5432/apigw?sslmode=require"),
            "db.example:5432/apigw"
        );
        assert_eq!(
            database_label("postgres://postgres@127.0.0.1:5432/x"),
            "127.0.0.1:5432/x"
        );
    }
}
