//! CloudWatch metric alarms (`alarms`, migration 0010) and their history
//! (`alarm_history`); the evaluator's cluster-wide lock. Times travel as Unix seconds
//! (fractional).

use sqlx::{PgConnection, PgPool};

/// Advisory-lock key: one alarm evaluation round at a time in the cluster.
const EVALUATOR_LOCK_KEY: i64 = 0x6170_6967_616c_726d; // "apigalrm"

/// An alarm as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlarmRow {
    /// AlarmName.
    pub name: String,
    /// The configuration (`cloudwatch::alarms::Definition` as JSON).
    pub definition: serde_json::Value,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state_value: String,
    /// StateReason.
    pub state_reason: String,
    /// StateReasonData (JSON text), if any.
    pub state_reason_data: Option<String>,
    /// StateUpdatedTimestamp.
    pub state_updated_at: f64,
    /// StateTransitionedTimestamp.
    pub state_transitioned_at: f64,
    /// AlarmConfigurationUpdatedTimestamp.
    pub config_updated_at: f64,
}

const COLUMNS: &str = "name, definition, state_value, state_reason, state_reason_data,
    EXTRACT(EPOCH FROM state_updated_at)::float8 AS state_updated_at,
    EXTRACT(EPOCH FROM state_transitioned_at)::float8 AS state_transitioned_at,
    EXTRACT(EPOCH FROM config_updated_at)::float8 AS config_updated_at";

/// How many alarms exist.
pub async fn count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM alarms")
        .fetch_one(conn)
        .await
}

/// Creates the alarm (state INSUFFICIENT_DATA with `initial_reason`) or replaces the
/// configuration of an existing one, leaving its state alone; true when created.
pub async fn put(
    conn: &mut PgConnection,
    name: &str,
    definition: &serde_json::Value,
    initial_reason: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "INSERT INTO alarms (name, definition, state_reason) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE
           SET definition = EXCLUDED.definition, config_updated_at = now()
         RETURNING (xmax = 0)",
    )
    .bind(name)
    .bind(definition)
    .bind(initial_reason)
    .fetch_one(conn)
    .await
}

/// What DescribeAlarms selects.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    /// Exactly these names.
    pub names: Option<&'a [String]>,
    /// Names starting with this.
    pub prefix: Option<&'a str>,
    /// In this state.
    pub state: Option<&'a str>,
    /// Names after this one (pagination).
    pub after: Option<&'a str>,
    /// At most this many.
    pub limit: i64,
}

/// The alarms matching `filter`, by name.
pub async fn list(db: &PgPool, filter: &Filter<'_>) -> sqlx::Result<Vec<AlarmRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alarms
         WHERE ($1::text[] IS NULL OR name = ANY($1))
           AND ($2::text IS NULL OR starts_with(name, $2))
           AND ($3::text IS NULL OR state_value = $3)
           AND ($4::text IS NULL OR name > $4)
         ORDER BY name LIMIT $5"
    );
    sqlx::query_as(&sql)
        .bind(filter.names)
        .bind(filter.prefix)
        .bind(filter.state)
        .bind(filter.after)
        .bind(filter.limit)
        .fetch_all(db)
        .await
}

/// Every alarm, locked for update (the evaluator, inside its locked transaction).
pub async fn all_for_update(conn: &mut PgConnection) -> sqlx::Result<Vec<AlarmRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alarms ORDER BY name FOR UPDATE"
    ))
    .fetch_all(conn)
    .await
}

/// One alarm, locked for update.
pub async fn get_for_update(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<AlarmRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alarms WHERE name = $1 FOR UPDATE"
    ))
    .bind(name)
    .fetch_optional(conn)
    .await
}

/// Records a state (evaluated or set); `transitioned` when it differs from the last one.
pub async fn set_state(
    conn: &mut PgConnection,
    name: &str,
    state: &str,
    reason: &str,
    reason_data: Option<&str>,
    transitioned: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE alarms SET state_value = $2, state_reason = $3, state_reason_data = $4,
                state_updated_at = now(),
                state_transitioned_at = CASE WHEN $5 THEN now() ELSE state_transitioned_at END
         WHERE name = $1",
    )
    .bind(name)
    .bind(state)
    .bind(reason)
    .bind(reason_data)
    .bind(transitioned)
    .execute(conn)
    .await?;
    Ok(())
}

/// Which of `names` do not exist.
pub async fn missing(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT n FROM unnest($1::text[]) AS n
         WHERE NOT EXISTS (SELECT 1 FROM alarms WHERE name = n)",
    )
    .bind(names)
    .fetch_all(conn)
    .await
}

/// Deletes the alarms named.
pub async fn delete(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM alarms WHERE name = ANY($1)")
        .bind(names)
        .execute(conn)
        .await?;
    Ok(())
}

/// A history item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    /// Its id (pagination).
    pub id: i64,
    /// AlarmName.
    pub alarm_name: String,
    /// Timestamp, Unix seconds.
    pub at: f64,
    /// ConfigurationUpdate, StateUpdate or Action.
    pub item_type: String,
    /// HistorySummary.
    pub summary: String,
    /// HistoryData (JSON text).
    pub data: String,
}

/// Appends a history item.
pub async fn add_history(
    conn: &mut PgConnection,
    alarm_name: &str,
    item_type: &str,
    summary: &str,
    data: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO alarm_history (alarm_name, item_type, summary, data) VALUES ($1, $2, $3, $4)",
    )
    .bind(alarm_name)
    .bind(item_type)
    .bind(summary)
    .bind(data)
    .execute(conn)
    .await?;
    Ok(())
}

/// What DescribeAlarmHistory selects.
#[derive(Debug, Default)]
pub struct HistoryFilter<'a> {
    /// Of this alarm.
    pub alarm_name: Option<&'a str>,
    /// Of this type.
    pub item_type: Option<&'a str>,
    /// At or after (Unix seconds).
    pub start: Option<f64>,
    /// At or before (Unix seconds).
    pub end: Option<f64>,
    /// Oldest first (else newest first).
    pub ascending: bool,
    /// Past this item id in the scan order (pagination).
    pub after_id: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// The history items matching `filter`.
pub async fn history(db: &PgPool, f: &HistoryFilter<'_>) -> sqlx::Result<Vec<HistoryRow>> {
    let (order, cmp) = if f.ascending {
        ("ASC", ">")
    } else {
        ("DESC", "<")
    };
    let sql = format!(
        "SELECT id, alarm_name, EXTRACT(EPOCH FROM at)::float8 AS at, item_type, summary, data
         FROM alarm_history
         WHERE ($1::text IS NULL OR alarm_name = $1)
           AND ($2::text IS NULL OR item_type = $2)
           AND ($3::float8 IS NULL OR at >= to_timestamp($3))
           AND ($4::float8 IS NULL OR at <= to_timestamp($4))
           AND ($5::bigint IS NULL OR id {cmp} $5)
         ORDER BY id {order} LIMIT $6"
    );
    sqlx::query_as(&sql)
        .bind(f.alarm_name)
        .bind(f.item_type)
        .bind(f.start)
        .bind(f.end)
        .bind(f.after_id)
        .bind(f.limit)
        .fetch_all(db)
        .await
}

/// Deletes history items older than `before` (Unix seconds).
pub async fn prune_history(conn: &mut PgConnection, before: f64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM alarm_history WHERE at < to_timestamp($1)")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the evaluator's lock until the end of the transaction; false when another
/// replica holds it (it is evaluating this round).
pub async fn try_lock_evaluator(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(EVALUATOR_LOCK_KEY)
        .fetch_one(conn)
        .await
}
