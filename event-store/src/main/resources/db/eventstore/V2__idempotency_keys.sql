-- Event store schema, version 2: idempotency keys. An append may carry a caller's key (an
-- Idempotency-Key header, a reward id, a transaction id); it is stored with the events in the same
-- statement, and an append whose key the stream already holds is not written. So a retried
-- request is a no-op, and an ambiguous failure (the reply to COMMIT lost) can be looked up.
CREATE TABLE idempotency_keys (
    aggregate_id TEXT        NOT NULL,
    idem_key     TEXT        NOT NULL,
    -- What the first request was (a digest of its content): the same key with another request
    -- is a caller's mistake, answered 409, never a silent no-op.
    fingerprint  TEXT        NOT NULL,
    first_seq    BIGINT      NOT NULL,
    last_seq     BIGINT      NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (aggregate_id, idem_key)
);
-- Keys are kept for a retention period (EventStore.forgetKeys), found by age.
CREATE INDEX idempotency_keys_recorded_at ON idempotency_keys (recorded_at);
