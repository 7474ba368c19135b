-- API bearer tokens. Only the SHA-256 of each secret is stored: a leaked
-- table does not leak working tokens.
CREATE TABLE api_tokens (
	id            uuid        PRIMARY KEY,
	name          text        NOT NULL,
	role          text        NOT NULL CHECK (role IN ('admin', 'officer', 'council', 'deputy')),
	person_id     text        NOT NULL DEFAULT '',
	secret_sha256 bytea       NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
	created_at    timestamptz NOT NULL DEFAULT now(),
	revoked_at    timestamptz,
	last_used_at  timestamptz
);

-- Idempotency keys a token has used, with a fingerprint of the request each
-- one was first used for, so that a key reused for a different request is
-- refused instead of silently answered with the first request's result.
CREATE TABLE api_idempotency_keys (
	token_id    uuid        NOT NULL REFERENCES api_tokens (id),
	key         text        NOT NULL,
	route       text        NOT NULL,
	fingerprint bytea       NOT NULL,
	event_id    uuid        NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (token_id, key)
);
