-- Per-API authorizers (Lambda TOKEN / REQUEST, COGNITO_USER_POOLS), in the management
-- API's own shape like request validators; copied into a deployment's snapshot.

CREATE TABLE authorizers (
    api_id      TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (api_id, id)
);

-- FlushStageAuthorizersCache bumps it: nodes key cached authorizer decisions by it, so
-- older decisions are never used again.
ALTER TABLE stages ADD COLUMN authorizer_cache_epoch BIGINT NOT NULL DEFAULT 0;

-- Nodes verify AWS_IAM invoke requests with keys derived from the access keys, streamed
-- with the config: any change to the keys is a config change.
CREATE FUNCTION access_keys_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('apigw_config', nextval('config_version')::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER access_keys_changed
    AFTER INSERT OR UPDATE OR DELETE ON access_keys
    FOR EACH STATEMENT EXECUTE FUNCTION access_keys_changed();
