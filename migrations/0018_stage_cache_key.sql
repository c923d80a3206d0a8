-- The stage cache's encryption (issue 17, `caching/dataEncrypted`): a random value per
-- stage row, not secret, that goes into the HKDF `info` of the stage's cache data key
-- (derived from the master key by the control plane, never stored). A stage deleted and
-- created again under the same name gets a new one, so entries its predecessor sealed
-- in Redis no longer open.
ALTER TABLE stages ADD COLUMN cache_key_salt UUID NOT NULL DEFAULT gen_random_uuid();
