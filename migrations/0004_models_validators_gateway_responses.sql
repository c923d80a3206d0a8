-- Per-API models (JSON Schema draft-04), request validators and customised gateway
-- responses. Like resources, the documents are in the management API's own shape; the
-- structural columns carry identity and uniqueness. All are copied into a deployment's
-- snapshot when it is created.

CREATE TABLE models (
    api_id      TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    id          TEXT NOT NULL,
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (api_id, name)
);

CREATE TABLE request_validators (
    api_id      TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (api_id, id)
);

-- Only customised types have a row; the others are reported with their defaults.
CREATE TABLE gateway_responses (
    api_id         TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    response_type  TEXT NOT NULL,
    doc            JSONB NOT NULL,
    PRIMARY KEY (api_id, response_type)
);
