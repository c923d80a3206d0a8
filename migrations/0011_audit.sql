-- The management audit log: one row per mutating call of the management API or the
-- console's API, read back with CloudTrail's LookupEvents. A successful call's row is
-- inserted in the same transaction as its change (`audit::commit`); a failed call's after
-- its response. Append-only: no API changes or deletes a row; the trigger below refuses
-- any UPDATE but the one completion (the response summary, once) and any DELETE of a row
-- younger than the 90 days of retention.

CREATE TABLE audit_events (
    event_id            UUID PRIMARY KEY,
    event_time          TIMESTAMPTZ NOT NULL,
    event_name          TEXT NOT NULL,
    event_source        TEXT NOT NULL,
    -- The console user, the owner of the access key, or the access key id for the bootstrap key.
    username            TEXT NOT NULL,
    -- The access key that signed the call; '' for a console session.
    access_key_id       TEXT NOT NULL,
    -- IAMUser, Root (the bootstrap key) or ConsoleUser.
    identity_type       TEXT NOT NULL,
    read_only           BOOLEAN NOT NULL DEFAULT FALSE,
    source_ip           TEXT NOT NULL,
    user_agent          TEXT NOT NULL,
    request_id          TEXT NOT NULL,
    -- Path, query and body members, secrets replaced by HIDDEN_DUE_TO_SECURITY_REASONS.
    request_parameters  JSONB,
    response_elements   JSONB,
    status              INTEGER,
    error_code          TEXT,
    error_message       TEXT,
    -- [{"type": "AWS::ApiGateway::RestApi", "name": "arn:aws:apigateway:..."}]
    resources           JSONB NOT NULL DEFAULT '[]',
    completed           BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX audit_events_time ON audit_events (event_time DESC, event_id DESC);
CREATE INDEX audit_events_name ON audit_events (event_name, event_time DESC);
CREATE INDEX audit_events_user ON audit_events (username, event_time DESC);
CREATE INDEX audit_events_key ON audit_events (access_key_id, event_time DESC);
CREATE INDEX audit_events_source ON audit_events (event_source, event_time DESC);
CREATE INDEX audit_events_resources ON audit_events USING GIN (resources jsonb_path_ops);

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.event_time < now() - interval '90 days' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit events are append-only';
    END IF;
    -- UPDATE: only the completion of an uncompleted row, its identity unchanged.
    IF OLD.completed OR NOT NEW.completed
       OR NEW.event_id <> OLD.event_id OR NEW.event_time <> OLD.event_time
       OR NEW.event_name <> OLD.event_name OR NEW.username <> OLD.username
       OR NEW.access_key_id <> OLD.access_key_id
       OR NEW.request_parameters IS DISTINCT FROM OLD.request_parameters THEN
        RAISE EXCEPTION 'audit events are append-only';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
