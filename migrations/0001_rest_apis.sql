-- REST API definitions, their deployments (immutable compiled snapshots) and stages.
-- Definitions are typed documents (JSONB) in the management API's own shape; the
-- structural columns beside them carry the constraints (unique paths, foreign keys).

CREATE TABLE rest_apis (
    id          TEXT PRIMARY KEY,
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE resources (
    api_id      TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    parent_id   TEXT,
    path_part   TEXT,
    path        TEXT NOT NULL,
    -- HTTP method -> Method document (with its method responses and integration).
    methods     JSONB NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (api_id, id),
    UNIQUE (api_id, path)
);
CREATE INDEX resources_parent ON resources(api_id, parent_id);

CREATE TABLE deployments (
    api_id        TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    description   TEXT,
    created_date  BIGINT NOT NULL,
    -- apigw.config.v1.DeploymentSnapshot, protobuf-encoded. Never updated.
    snapshot      BYTEA NOT NULL,
    api_summary   JSONB NOT NULL,
    seq           BIGSERIAL,
    PRIMARY KEY (api_id, id)
);

CREATE TABLE stages (
    api_id             TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    stage_name         TEXT NOT NULL,
    deployment_id      TEXT NOT NULL,
    doc                JSONB NOT NULL,
    created_date       BIGINT NOT NULL,
    last_updated_date  BIGINT NOT NULL,
    PRIMARY KEY (api_id, stage_name),
    FOREIGN KEY (api_id, deployment_id) REFERENCES deployments(api_id, id)
);

CREATE TABLE account (
    id   INT PRIMARY KEY CHECK (id = 1),
    doc  JSONB NOT NULL
);

-- Access keys for the management API (AWS Signature V4).
CREATE TABLE access_keys (
    access_key_id  TEXT PRIMARY KEY,
    secret         TEXT NOT NULL,
    description    TEXT,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Bumped by every change to what is deployed (stages, their deployments, account
-- settings); its value is the config version streamed to data-plane nodes.
CREATE SEQUENCE config_version;
