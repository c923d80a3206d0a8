//! Keeps the published [`DeployedState`] in step with Postgres.
//!
//! Every transaction that changes what is deployed ends with `pg_notify('apigw_config')`,
//! so every replica hears about every change as soon as it commits. Notifications can be
//! lost while the listener reconnects, so the state is also loaded again every second: a
//! load reads only what changed since the last one (`state.rs`), so one that finds
//! nothing new is a handful of small queries, and unlike a check of the `config_version`
//! sequence it cannot miss a transaction that took its number before the last load and
//! committed after it.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

use super::state::{DeployedState, Loader};

/// How often the state is loaded again in case a notification was missed.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Loads the initial state (retrying until Postgres answers) and returns the channel
/// the gRPC streams subscribe to, plus the task that keeps it current.
pub async fn start(
    db: PgPool,
    vault: Arc<crate::keys::KeyVault>,
    region: String,
) -> (
    watch::Receiver<Arc<DeployedState>>,
    tokio::task::JoinHandle<()>,
) {
    let mut loader = Loader::new(db.clone(), vault, region);
    let initial = loop {
        match loader.load(&DeployedState::default()).await {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!(error = %e, "loading deployed state failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let (tx, rx) = watch::channel(Arc::new(initial));
    let task = tokio::spawn(run(db, loader, tx));
    (rx, task)
}

async fn run(db: PgPool, mut loader: Loader, tx: watch::Sender<Arc<DeployedState>>) {
    // The last state loaded: the next load reads what changed since it. Published only
    // when its content differs from the published one (its version moved).
    let mut last = tx.borrow().clone();
    loop {
        let mut listener = match PgListener::connect_with(&db).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "config listener cannot connect; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(crate::store::config::CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN apigw_config failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Anything committed while we were not listening is picked up here.
        reload(&mut loader, &tx, &mut last).await;
        let mut tick = tokio::time::interval(POLL_EVERY);
        loop {
            tokio::select! {
                n = listener.try_recv() => match n {
                    Ok(Some(_)) => {
                        // One reload covers every change committed before it starts:
                        // notifications already received are folded into it, so a burst
                        // of N changes (a generator deploying thousands of APIs) costs far
                        // fewer than N loads.
                        while listener.next_buffered().is_some() {}
                        reload(&mut loader, &tx, &mut last).await
                    }
                    Ok(None) => reload(&mut loader, &tx, &mut last).await, // reconnected: may have missed some
                    Err(e) => {
                        tracing::warn!(error = %e, "config listener failed; reconnecting");
                        break;
                    }
                },
                // A missed notification, or a new UTC day (newly derived AWS_IAM signing
                // keys): the load finds either.
                _ = tick.tick() => reload(&mut loader, &tx, &mut last).await,
                _ = tx.closed() => return,
            }
        }
    }
}

/// Loads what changed since `last` and publishes the result when its content differs.
async fn reload(
    loader: &mut Loader,
    tx: &watch::Sender<Arc<DeployedState>>,
    last: &mut Arc<DeployedState>,
) {
    let started = std::time::Instant::now();
    match loader.load(last).await {
        Ok(next) => {
            let next = Arc::new(next);
            let load_us = started.elapsed().as_micros() as u64;
            if next.version != last.version {
                tracing::info!(
                    version = next.version,
                    stages = next.stages.len(),
                    load_us,
                    "deployed state changed"
                );
                tx.send_replace(Arc::clone(&next));
            } else {
                tracing::debug!(load_us, "deployed state unchanged");
            }
            *last = next;
        }
        Err(e) => {
            tracing::warn!(error = %e, "reloading deployed state failed; keeping the last one")
        }
    }
}
