-- API keys, usage plans, the keys bound to plans, and per-key per-day usage records.
--
-- Key values are stored encrypted (AES-256-GCM under the master key) and looked up by
-- their SHA-256; only hashes are streamed to data-plane nodes.

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    -- SHA-256 of the key value: the lookup index (unique: two keys with one value are one key).
    value_hash  BYTEA NOT NULL UNIQUE,
    -- 12-byte nonce followed by the AES-256-GCM ciphertext of the value.
    value_enc   BYTEA NOT NULL,
    -- The ApiKey document without its value (name, description, enabled, customerId, ...).
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_customer ON api_keys ((doc->>'customerId'));

CREATE TABLE usage_plans (
    id          TEXT PRIMARY KEY,
    -- The UsagePlan document (name, throttle, quota, apiStages, ...).
    doc         JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE usage_plan_keys (
    plan_id     TEXT NOT NULL REFERENCES usage_plans(id) ON DELETE CASCADE,
    key_id      TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, key_id)
);
CREATE INDEX usage_plan_keys_key ON usage_plan_keys(key_id);

-- Requests admitted past the usage-plan step, per plan, key and UTC day. Filled by the
-- metering mover from Redis; never decremented. Not tied to the key/plan rows by foreign
-- keys: billing keeps the figures of deleted keys and plans.
CREATE TABLE usage_records (
    plan_id     TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    day         DATE NOT NULL,
    requests    BIGINT NOT NULL,
    PRIMARY KEY (plan_id, key_id, day)
);
CREATE INDEX usage_records_day ON usage_records(plan_id, day);

-- Batches of Redis counters already added to usage_records: the mover's idempotency
-- record (a batch is applied in the same transaction that inserts its id).
CREATE TABLE usage_batches (
    batch_id    TEXT PRIMARY KEY,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
