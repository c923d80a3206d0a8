-- API documentation (documentation parts and their versioned snapshots) and VPC links.

-- One documentation part per row, in the management API's own shape (`DocumentationPart`:
-- id, location, properties). A location is unique per API; the handlers check it under
-- the API's row lock.
CREATE TABLE documentation_parts (
    api_id      TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (api_id, id)
);

-- A documentation version (`DocumentationVersion`: version, createdDate, description),
-- keyed by its version string, with the copy of every documentation part taken when it
-- was created. Later changes to the parts never change a version.
CREATE TABLE documentation_versions (
    api_id      TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    doc         JSONB NOT NULL,
    parts       JSONB NOT NULL DEFAULT '[]'::jsonb,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (api_id, id)
);

-- VPC links (`VpcLink`: id, name, description, targetArns, status, tags). Integrations
-- name one by `connectionId`.
CREATE TABLE vpc_links (
    id          TEXT PRIMARY KEY,
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
