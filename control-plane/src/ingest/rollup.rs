//! The background task that rolls complete minutes into hours and applies the retention
//! (minutes 15 days, hours 15 months): every [`EVERY`] it calls
//! [`store::metrics::roll_up`] until caught up, and every [`PRUNE_EVERY`] ticks
//! [`store::metrics::prune`]. Each control-plane replica runs one; both functions take a
//! Postgres advisory lock, so one replica works at a time and the others skip, and both are
//! idempotent, so a replica dying half-way leaves nothing wrong behind.

use std::time::Duration;

use sqlx::PgPool;

use crate::store;

/// How often the roll-up runs.
pub const EVERY: Duration = Duration::from_secs(60);
/// Pruning runs every this many roll-up ticks (the first tick included).
pub const PRUNE_EVERY: u32 = 10;
/// Most roll-up transactions per tick (each rolls at most 6 hours).
const MAX_ROUNDS: u32 = 32;

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Runs forever (abort the task to stop it).
pub async fn run(db: PgPool) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u32 = 0;
    loop {
        tick.tick().await;
        once(&db, n.is_multiple_of(PRUNE_EVERY)).await;
        n = n.wrapping_add(1);
    }
}

/// One tick: roll up until caught up, then prune if asked.
pub async fn once(db: &PgPool, prune: bool) {
    for _ in 0..MAX_ROUNDS {
        match store::metrics::roll_up(db, unix_now()).await {
            Ok(r) if r.hours > 0 => {
                tracing::info!(
                    hours = r.hours,
                    rows = r.rows,
                    rolled_up_to = r.rolled_up_to,
                    "metrics rolled up into hours"
                );
            }
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "metrics roll-up failed; next tick retries");
                return;
            }
        }
    }
    if prune {
        match store::metrics::prune(db, unix_now()).await {
            Ok(p) if p.minutes + p.hours + p.shipments > 0 => {
                tracing::info!(
                    minutes = p.minutes,
                    hours = p.hours,
                    shipments = p.shipments,
                    "old metrics deleted"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "metrics pruning failed; retried later"),
        }
    }
}
