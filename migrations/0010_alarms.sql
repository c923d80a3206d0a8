-- CloudWatch metric alarms (PutMetricAlarm) over the cluster's metric series, their state
-- as the control plane's evaluator keeps it, and their history (configuration updates,
-- state changes, each webhook delivery attempt).

CREATE TABLE alarms (
    name                  TEXT PRIMARY KEY,
    -- The alarm's configuration, as PutMetricAlarm accepted it (cloudwatch::alarms::Definition).
    definition            JSONB NOT NULL,
    state_value           TEXT NOT NULL DEFAULT 'INSUFFICIENT_DATA'
                          CHECK (state_value IN ('OK', 'ALARM', 'INSUFFICIENT_DATA')),
    state_reason          TEXT NOT NULL,
    state_reason_data     TEXT,
    -- Last time the state was set (evaluated or SetAlarmState), and last time it changed.
    state_updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    state_transitioned_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    config_updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Kept after an alarm is deleted (CloudWatch keeps two weeks of history); the evaluator
-- deletes items older than 14 days.
CREATE TABLE alarm_history (
    id         BIGSERIAL PRIMARY KEY,
    alarm_name TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    -- ConfigurationUpdate, StateUpdate or Action.
    item_type  TEXT NOT NULL,
    summary    TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm_name, at);
CREATE INDEX alarm_history_by_time ON alarm_history (at);
