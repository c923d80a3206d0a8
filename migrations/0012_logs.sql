-- The log store: the access and execution log lines data-plane nodes ship (proto
-- apigw.logs.v1), read back with the CloudWatch Logs API (DescribeLogGroups,
-- DescribeLogStreams, GetLogEvents, FilterLogEvents) and the console's Logs page.
--
-- log_events is partitioned by day on the event time (Unix milliseconds): the control
-- plane creates each day's partition ahead of time and drops whole partitions past the
-- retention (`APIGW_LOG_RETENTION_DAYS`), so neither ingest nor retention deletes rows one
-- by one. No partition is created here: the control plane does it on start.

-- A log group: the group an access log's `destinationArn` names, or
-- `API-Gateway-Execution-Logs_{apiId}/{stage}`; created by the first line shipped to it.
CREATE TABLE log_groups (
    name        TEXT PRIMARY KEY,
    created_ms  BIGINT NOT NULL
);

-- One log stream per node (the shipment's node_id) and group.
CREATE TABLE log_streams (
    log_group           TEXT NOT NULL REFERENCES log_groups (name),
    name                TEXT NOT NULL,
    created_ms          BIGINT NOT NULL,
    first_event_ms      BIGINT NOT NULL,
    last_event_ms       BIGINT NOT NULL,
    last_ingestion_ms   BIGINT NOT NULL,
    stored_bytes        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (log_group, name)
);
CREATE INDEX log_streams_by_last_event ON log_streams (log_group, last_event_ms, name);

-- Every line. `id` orders lines of the same millisecond (and is FilterLogEvents' eventId).
CREATE SEQUENCE log_event_ids;
CREATE TABLE log_events (
    ts_ms         BIGINT NOT NULL,
    id            BIGINT NOT NULL DEFAULT nextval('log_event_ids'),
    log_group     TEXT NOT NULL,
    log_stream    TEXT NOT NULL,
    ingestion_ms  BIGINT NOT NULL,
    -- 0 access, 1 execution (apigw.logs.v1.LogKind).
    kind          SMALLINT NOT NULL,
    message       TEXT NOT NULL,
    -- What the console searches by ('' / 0 when unknown).
    api_id        TEXT NOT NULL DEFAULT '',
    stage         TEXT NOT NULL DEFAULT '',
    request_id    TEXT NOT NULL DEFAULT '',
    status        INTEGER NOT NULL DEFAULT 0,
    source_ip     TEXT NOT NULL DEFAULT '',
    api_key_id    TEXT NOT NULL DEFAULT '',
    path          TEXT NOT NULL DEFAULT ''
) PARTITION BY RANGE (ts_ms);
CREATE INDEX log_events_by_group ON log_events (log_group, ts_ms, id);
CREATE INDEX log_events_by_stream ON log_events (log_group, log_stream, ts_ms, id);
-- The console's search over every group, newest first.
CREATE INDEX log_events_by_time ON log_events (ts_ms, id);
CREATE INDEX log_events_by_request ON log_events (request_id) WHERE request_id <> '';

-- Which shipments were stored: a node process (node_instance) ships seq 1, 2, 3, ... and
-- each is stored exactly once, in the same transaction that records its seq here.
CREATE TABLE log_shipments (
    node_instance   UUID PRIMARY KEY,
    node_id         TEXT NOT NULL,
    applied_seq     BIGINT NOT NULL,
    last_shipped_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
