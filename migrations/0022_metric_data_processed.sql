-- HTTP APIs' DataProcessed: request and response body bytes per series and minute (hour),
-- summed like the counts. REST and WebSocket rows keep 0.
ALTER TABLE metric_minutes ADD COLUMN data_processed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE metric_hours ADD COLUMN data_processed BIGINT NOT NULL DEFAULT 0;
