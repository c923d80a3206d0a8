-- Access-key secrets and the generated session signing key, encrypted at rest with the
-- master key (AES-256-GCM, as API key values are). The plaintext columns stay only for
-- rows written before this migration; the control plane seals them at start-up, after
-- which they are NULL.

ALTER TABLE access_keys ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE access_keys ADD COLUMN secret_enc BYTEA;
ALTER TABLE access_keys
    ADD CONSTRAINT access_keys_secret_present CHECK (secret IS NOT NULL OR secret_enc IS NOT NULL);

ALTER TABLE console_secrets ALTER COLUMN value DROP NOT NULL;
ALTER TABLE console_secrets ADD COLUMN value_enc BYTEA;
ALTER TABLE console_secrets
    ADD CONSTRAINT console_secrets_value_present CHECK (value IS NOT NULL OR value_enc IS NOT NULL);
