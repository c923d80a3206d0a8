-- The cluster's per-minute request metrics, merged from every data-plane node's shipments
-- (proto apigw.metrics.v1), and their hourly roll-up. CloudWatch keeps one-minute data for
-- 15 days and one-hour data for 15 months; so does the control plane.

-- One row per minute and series. A series is an API stage, or one method of it when the
-- stage's method settings turn detailed metrics on (resource and method are '' otherwise).
-- Counts are sums over every node's shipments; the sketches (apigw.metrics.v1.Sketch,
-- encoded) are merges of theirs.
CREATE TABLE metric_minutes (
    minute              TIMESTAMPTZ NOT NULL,
    api_id              TEXT NOT NULL,
    stage               TEXT NOT NULL,
    resource            TEXT NOT NULL DEFAULT '',
    method              TEXT NOT NULL DEFAULT '',
    -- The API's name as the last shipment for this row saw it (the ApiName dimension).
    api_name            TEXT NOT NULL,
    count               BIGINT NOT NULL DEFAULT 0,
    error_4xx           BIGINT NOT NULL DEFAULT 0,
    error_5xx           BIGINT NOT NULL DEFAULT 0,
    cache_hit           BIGINT NOT NULL DEFAULT 0,
    cache_miss          BIGINT NOT NULL DEFAULT 0,
    latency             BYTEA NOT NULL,
    integration_latency BYTEA NOT NULL,
    PRIMARY KEY (api_id, stage, resource, method, minute)
);
CREATE INDEX metric_minutes_by_minute ON metric_minutes (minute);
CREATE INDEX metric_minutes_by_name ON metric_minutes (api_name, stage, minute);

-- The same series per hour, rolled up from complete minutes.
CREATE TABLE metric_hours (
    hour                TIMESTAMPTZ NOT NULL,
    api_id              TEXT NOT NULL,
    stage               TEXT NOT NULL,
    resource            TEXT NOT NULL DEFAULT '',
    method              TEXT NOT NULL DEFAULT '',
    api_name            TEXT NOT NULL,
    count               BIGINT NOT NULL DEFAULT 0,
    error_4xx           BIGINT NOT NULL DEFAULT 0,
    error_5xx           BIGINT NOT NULL DEFAULT 0,
    cache_hit           BIGINT NOT NULL DEFAULT 0,
    cache_miss          BIGINT NOT NULL DEFAULT 0,
    latency             BYTEA NOT NULL,
    integration_latency BYTEA NOT NULL,
    PRIMARY KEY (api_id, stage, resource, method, hour)
);
CREATE INDEX metric_hours_by_hour ON metric_hours (hour);
CREATE INDEX metric_hours_by_name ON metric_hours (api_name, stage, hour);

-- Which shipments were applied: a node process (node_instance) ships seq 1, 2, 3, ... and
-- each is merged exactly once, in the same transaction that records its seq here.
CREATE TABLE metric_shipments (
    node_instance   UUID PRIMARY KEY,
    node_id         TEXT NOT NULL,
    applied_seq     BIGINT NOT NULL,
    last_shipped_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The newest hour whose minutes have been rolled up (one row).
CREATE TABLE metric_rollup (
    id           BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    rolled_up_to TIMESTAMPTZ NOT NULL
);
