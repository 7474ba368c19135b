-- The log's own copy of every leaf's exact bytes (the leaf encoding of
-- docs/audit.md, whose SHA-256 after a 0x00 byte is leaf_hash). The public
-- feed, the exports, the stream histories and the tiles' entry bundles
-- serve these bytes, not the event store's table: so the audit surface is
-- the same whichever event store the events live in (with KurrentDB,
-- PostgreSQL's events table is empty). Append-only like the other log
-- tables; the projector writes a leaf's entry in the transaction that
-- writes the leaf.
CREATE TABLE translog_entries (
	generation int    NOT NULL,
	leaf_index bigint NOT NULL CHECK (leaf_index >= 0),
	entry      bytea  NOT NULL,
	PRIMARY KEY (generation, leaf_index)
);

CREATE TRIGGER translog_entries_no_update_delete BEFORE UPDATE OR DELETE ON translog_entries
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
CREATE TRIGGER translog_entries_no_truncate BEFORE TRUNCATE ON translog_entries
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
ALTER TABLE translog_entries ENABLE ALWAYS TRIGGER translog_entries_no_update_delete;
ALTER TABLE translog_entries ENABLE ALWAYS TRIGGER translog_entries_no_truncate;

-- translog_leaf_bytes is the leaf encoding (translog.EncodeLeaf) in SQL,
-- for the backfill below: the stored-at time is microseconds in
-- PostgreSQL, so its nanoseconds end in 000, as the Go adapter reads them.
CREATE FUNCTION translog_leaf_bytes(stream text, version bigint, type text, data bytea, metadata bytea,
	event_id uuid, stored_at timestamptz) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT convert_to(E'promiseledger-leaf-v1\n', 'UTF8')
		|| int4send(octet_length(convert_to(stream, 'UTF8'))) || convert_to(stream, 'UTF8')
		|| int4send(octet_length(version::text)) || convert_to(version::text, 'UTF8')
		|| int4send(octet_length(convert_to(type, 'UTF8'))) || convert_to(type, 'UTF8')
		|| int4send(octet_length(data)) || data
		|| int4send(octet_length(metadata)) || metadata
		|| int4send(36) || convert_to(event_id::text, 'UTF8')
		|| int4send(octet_length(((extract(epoch FROM stored_at) * 1000000000)::numeric(30, 0))::text))
		|| convert_to(((extract(epoch FROM stored_at) * 1000000000)::numeric(30, 0))::text, 'UTF8')
$$;

-- Leaves logged before this migration get their copy from the postgres
-- event store, where it has one, and only where the event still hashes to
-- its leaf: an event changed after it was logged leaves its leaf without a
-- copy (served as missing), never with bytes that do not match.
DO $$
BEGIN
	IF to_regclass('events') IS NOT NULL THEN
		INSERT INTO translog_entries (generation, leaf_index, entry)
		SELECT l.generation, l.leaf_index, b.entry
		FROM translog_leaves l
		JOIN events e ON e.event_id = l.event_id
		CROSS JOIN LATERAL (SELECT translog_leaf_bytes(e.stream_id, e.version, e.type, e.data, e.metadata, e.event_id, e.stored_at) AS entry) b
		WHERE sha256('\x00'::bytea || b.entry) = l.leaf_hash;
	END IF;
END
$$;
