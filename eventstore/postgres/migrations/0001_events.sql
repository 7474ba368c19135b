-- The global log. Rows are only ever inserted: see events_append_only below.
--
-- Global order is (tx_id, seq). seq comes from a sequence at insert time, so
-- concurrent transactions may commit out of seq order; tx_id is the inserting
-- transaction's id. Readers only read rows whose tx_id is below the oldest
-- transaction still running (pg_snapshot_xmin), so every transaction they
-- could still miss sorts after what they have read. See docs/eventstore.md.
CREATE TABLE events (
	seq       bigint GENERATED ALWAYS AS IDENTITY,
	tx_id     xid8        NOT NULL DEFAULT pg_current_xact_id(),
	event_id  uuid        NOT NULL,
	stream_id text        NOT NULL CHECK (stream_id <> '' AND length(stream_id) <= 512),
	version   bigint      NOT NULL CHECK (version > 0),
	type      text        NOT NULL CHECK (type <> ''),
	data      bytea       NOT NULL,
	metadata  bytea       NOT NULL,
	stored_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT events_global_order PRIMARY KEY (tx_id, seq),
	CONSTRAINT events_stream_version UNIQUE (stream_id, version),
	CONSTRAINT events_event_id UNIQUE (event_id)
);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the events table is append-only: % is not allowed', TG_OP
		USING ERRCODE = 'insufficient_privilege',
		      HINT = 'record a correcting event instead';
END
$$;

-- Statement-level, so even an UPDATE or DELETE that matches no row fails.
CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
-- ENABLE ALWAYS: the triggers fire even with session_replication_role = replica.
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_delete;
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_truncate;
