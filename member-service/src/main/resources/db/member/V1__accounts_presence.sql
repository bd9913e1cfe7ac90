-- member-service schema, version 1.

CREATE TABLE accounts (
    player_id     TEXT        PRIMARY KEY,
    nickname      TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
-- Nicknames are unique whatever their letter case: "Alice" blocks "alice".
CREATE UNIQUE INDEX accounts_nickname_unique ON accounts (lower(nickname));

-- Where each player is, from the player.presence topic. No row means LOBBY.
CREATE TABLE presence (
    player_id  TEXT        PRIMARY KEY REFERENCES accounts (player_id),
    status     TEXT        NOT NULL CHECK (status IN ('LOBBY', 'QUEUED', 'IN_GAME')),
    match_id   TEXT,
    sequence   BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
