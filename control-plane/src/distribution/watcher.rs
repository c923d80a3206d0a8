//! Keeps the published [`DeployedState`] in step with Postgres.
//!
//! Every transaction that changes what is deployed ends with `pg_notify('apigw_config')`,
//! so every replica hears about every change as soon as it commits. Notifications can be
//! lost while the listener reconnects, so the sequence is also polled every second.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

use super::state::{DeployedState, Loader};

/// How often the config sequence is checked in case a notification was missed.
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
        reload(&mut loader, &tx).await;
        let mut tick = tokio::time::interval(POLL_EVERY);
        loop {
            tokio::select! {
                n = listener.try_recv() => match n {
                    Ok(Some(_)) => {
                        // One reload covers every change committed before it starts:
                        // notifications already received are folded into it, so a burst
                        // of N changes (a generator deploying thousands of APIs) costs far
                        // fewer than N loads of the whole deployed state.
                        while listener.next_buffered().is_some() {}
                        reload(&mut loader, &tx).await
                    }
                    Ok(None) => { reload(&mut loader, &tx).await; } // reconnected: may have missed some
                    Err(e) => {
                        tracing::warn!(error = %e, "config listener failed; reconnecting");
                        break;
                    }
                },
                _ = tick.tick() => {
                    // A new UTC day needs newly derived AWS_IAM signing keys.
                    let new_day = tx.borrow().iam_day != super::iam::today();
                    if new_day || sequence_moved(&db, &tx).await {
                        reload(&mut loader, &tx).await;
                    }
                }
                _ = tx.closed() => return,
            }
        }
    }
}

/// Whether the config sequence is ahead of the published version (a missed notification).
async fn sequence_moved(db: &PgPool, tx: &watch::Sender<Arc<DeployedState>>) -> bool {
    match crate::store::config::version(db).await {
        Ok((v, true)) => v.max(0) as u64 > tx.borrow().version,
        _ => false,
    }
}

async fn reload(loader: &mut Loader, tx: &watch::Sender<Arc<DeployedState>>) {
    let prev = tx.borrow().clone();
    match loader.load(&prev).await {
        Ok(next) if next.version != prev.version => {
            tracing::info!(
                version = next.version,
                stages = next.stages.len(),
                "deployed state changed"
            );
            tx.send_replace(Arc::new(next));
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "reloading deployed state failed; keeping the last one")
        }
    }
}
