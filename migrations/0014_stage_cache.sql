-- FlushStageCache bumps it: nodes make it part of every response-cache key, so entries of
-- older epochs are never served again, on any node (issue 17, the stage cache).
ALTER TABLE stages ADD COLUMN cache_epoch BIGINT NOT NULL DEFAULT 0;
