-- Event store schema, version 4: streams that never moved past their first event, found without
-- a scan of every stream (a sweep of games that never ended: placed, never ended).
CREATE INDEX streams_at_first_version ON streams (aggregate_type) WHERE version = 1;
