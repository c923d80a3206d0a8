-- ResetAuthorizersCache (HTTP API stages): a counter on the stage's row, bumped by each
-- reset. The nodes make it part of the stage's authorizer-cache epoch, so every decision
-- cached before a reset is unreachable once they have the new config. Only stage rows use
-- it; it lives beside the document so GetStage's wire shape is untouched.
ALTER TABLE v2_items ADD COLUMN authorizer_cache_epoch BIGINT NOT NULL DEFAULT 0;
