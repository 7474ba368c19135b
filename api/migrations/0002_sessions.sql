-- Browser sessions of the pages (api/session), each opened once from a
-- live token. The cookie holds a random id; only its SHA-256 is stored, so
-- a leaked table opens no session. A session is operational state, not the
-- record: it is revoked by setting revoked_at (the event log is where
-- history lives), and it dies with its token (lookups join a live token).
CREATE TABLE api_sessions (
	id_sha256  bytea       PRIMARY KEY CHECK (length(id_sha256) = 32),
	token_id   uuid        NOT NULL REFERENCES api_tokens (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz
);

CREATE INDEX api_sessions_token ON api_sessions (token_id);
