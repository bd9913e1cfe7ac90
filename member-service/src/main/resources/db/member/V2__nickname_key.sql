-- member-service schema, version 2: nicknames are compared in ONE canonical form, computed by the
-- service (Nicknames.canonical) at sign-up, log-in and rename alike, instead of the database's
-- lower(), whose case folding depends on the collation and differs from the service's.

ALTER TABLE accounts ADD COLUMN nickname_key TEXT;
-- Every stored nickname is [A-Za-z0-9_]{3,16}: lower() and the canonical form agree on them.
UPDATE accounts SET nickname_key = lower(nickname);
ALTER TABLE accounts ALTER COLUMN nickname_key SET NOT NULL;
CREATE UNIQUE INDEX accounts_nickname_key_unique ON accounts (nickname_key);
DROP INDEX accounts_nickname_unique;
