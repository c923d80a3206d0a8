-- VPC links (`VpcLink`: id, name, description, targetArns, status, tags). Integrations
-- name one by `connectionId`.
CREATE TABLE vpc_links (
    id          TEXT PRIMARY KEY,
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
