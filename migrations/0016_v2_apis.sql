-- The apigatewayv2 APIs (WebSocket now, HTTP next) and everything that belongs to one.

-- One API per row, in the v2 management API's own shape (`Api`: apiId, name,
-- protocolType, routeSelectionExpression, ...).
CREATE TABLE v2_apis (
    id          TEXT PRIMARY KEY,
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every entity of an API, one row each, in its wire shape: routes, route responses
-- (parent: the route), integrations, integration responses (parent: the integration),
-- authorizers, models, stages (id: the stage name) and deployments. A deployment's
-- `frozen` is the API's definition as it was deployed (what the compiler reads); later
-- edits never change it.
CREATE TABLE v2_items (
    api_id      TEXT NOT NULL REFERENCES v2_apis(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    parent_id   TEXT NOT NULL DEFAULT '',
    id          TEXT NOT NULL,
    doc         JSONB NOT NULL,
    frozen      JSONB,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (api_id, kind, parent_id, id)
);

-- WebSocket usage for billing, per API, stage and UTC day: messages (in both directions,
-- in 32 KB units) and connection minutes (each connection's duration rounded up to a
-- minute, counted on the day it closed). Filled exactly once by the control plane's mover
-- from the nodes' Redis counters (batch ids in usage_batches, like REST usage).
CREATE TABLE ws_usage_records (
    api_id              TEXT NOT NULL,
    stage               TEXT NOT NULL,
    day                 DATE NOT NULL,
    messages            BIGINT NOT NULL DEFAULT 0,
    connection_minutes  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (api_id, stage, day)
);
