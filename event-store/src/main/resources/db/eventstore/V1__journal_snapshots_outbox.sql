-- Event store schema, version 1. See docs/event-store.md for the reasoning.

-- One row per stream: its current version. Appends update it with "WHERE version = expected",
-- which fences stale writers even after retention has deleted old event rows.
CREATE TABLE streams (
    aggregate_id   TEXT   PRIMARY KEY,
    aggregate_type TEXT   NOT NULL,
    version        BIGINT NOT NULL CHECK (version > 0)
);

CREATE TABLE events (
    aggregate_id    TEXT        NOT NULL,
    seq             BIGINT      NOT NULL CHECK (seq > 0),
    aggregate_type  TEXT        NOT NULL,
    event_type      TEXT        NOT NULL,
    payload         BYTEA       NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    -- Order for the outbox: (tx_id, global_position), read only below the oldest running
    -- transaction, so an event that commits late is never skipped.
    global_position BIGINT      GENERATED ALWAYS AS IDENTITY,
    tx_id           XID8        NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (aggregate_id, seq)
);
CREATE UNIQUE INDEX events_global_position ON events (global_position);
CREATE INDEX events_outbox_order ON events (tx_id, global_position);

CREATE TABLE snapshots (
    aggregate_id   TEXT        NOT NULL,
    seq            BIGINT      NOT NULL CHECK (seq > 0),
    aggregate_type TEXT        NOT NULL,
    snapshot_type  TEXT        NOT NULL,
    payload        BYTEA       NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (aggregate_id, seq)
);

-- Where each outbox publisher has got to. Retention never deletes an event past any of these.
CREATE TABLE outbox_checkpoints (
    name          TEXT        PRIMARY KEY,
    last_tx_id    XID8        NOT NULL DEFAULT '0',
    last_position BIGINT      NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
