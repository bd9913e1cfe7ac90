-- Event store schema, version 3: the outbox publishes outside any database transaction.
-- A round leases its checkpoint (owner + expiry) in one short statement, reads and publishes with
-- no transaction open, and moves the checkpoint only while it still holds the lease. A publisher
-- that dies or stalls loses the lease when it expires, and another takes over from the
-- checkpoint (consumers dedupe by aggregate id and seq).
ALTER TABLE outbox_checkpoints
    ADD COLUMN lease_owner TEXT,
    ADD COLUMN lease_until TIMESTAMPTZ NOT NULL DEFAULT '-infinity';

-- Events Kafka can never accept (over the size limit) are set aside here, whole (the envelope as
-- it would have been published) and with the reason, instead of blocking everything behind them;
-- the checkpoint moves past them, and retention may then delete the journal's copy.
CREATE TABLE outbox_dead_letters (
    name           TEXT        NOT NULL,
    global_position BIGINT     NOT NULL,
    aggregate_id   TEXT        NOT NULL,
    seq            BIGINT      NOT NULL,
    event_type     TEXT        NOT NULL,
    reason         TEXT        NOT NULL,
    envelope       BYTEA       NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (name, global_position)
);
