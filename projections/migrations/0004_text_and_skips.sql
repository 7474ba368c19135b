-- Identifiers the log does not bound (person ids, state-body ids) may be
-- of any length in an event the store accepted. A btree entry must fit in
-- a third of a page (about 2.7 kB), so a long one would fail the write and
-- stop the projector. Hash indexes keep only a hash of the value and serve
-- the same equality lookups for any length.
DROP INDEX rm_indicators_responsible;
CREATE INDEX rm_indicators_responsible ON rm_indicators USING hash (responsible_id);
DROP INDEX rm_council_members_member;
CREATE INDEX rm_council_members_member ON rm_council_members USING hash (member_id);
DROP INDEX rm_recommendations_body;
CREATE INDEX rm_recommendations_body ON rm_recommendations USING hash (body_id);

-- A link's person id is part of its key: the key keeps its SHA-256 instead.
-- convert_to is only STABLE in general; into the database's own encoding
-- (UTF-8, which the ledger requires) it returns the stored bytes, so the
-- digest never changes for a value.
CREATE FUNCTION rm_text_digest(t text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT sha256(convert_to(t, 'UTF8')) $$;
ALTER TABLE rm_rating_links DROP CONSTRAINT rm_rating_links_pkey;
CREATE UNIQUE INDEX rm_rating_links_key ON rm_rating_links (generation, subject_kind, subject_id, rm_text_digest(person_id));
CREATE INDEX rm_rating_links_person ON rm_rating_links USING hash (person_id);

-- Operators' decisions that a projector passes over one event it stopped
-- on (docs/operations.md, "A projector stopped"). The log is never
-- changed; the decision is data, public in status, and kept for good.
CREATE TABLE projector_skips (
	name       text        NOT NULL,
	event_id   uuid        NOT NULL,
	event_type text        NOT NULL,
	position   text        NOT NULL,
	reason     text        NOT NULL CHECK (reason <> ''),
	decided_by text        NOT NULL CHECK (decided_by <> ''),
	decided_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (name, event_id)
);

CREATE FUNCTION projector_skips_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'projector_skips is append-only: % is not allowed', TG_OP
		USING ERRCODE = 'insufficient_privilege',
		      HINT = 'a skip decision stands; record the reasons in a new one';
END
$$;
CREATE TRIGGER projector_skips_no_update_delete BEFORE UPDATE OR DELETE ON projector_skips
	FOR EACH STATEMENT EXECUTE FUNCTION projector_skips_append_only();
CREATE TRIGGER projector_skips_no_truncate BEFORE TRUNCATE ON projector_skips
	FOR EACH STATEMENT EXECUTE FUNCTION projector_skips_append_only();
ALTER TABLE projector_skips ENABLE ALWAYS TRIGGER projector_skips_no_update_delete;
ALTER TABLE projector_skips ENABLE ALWAYS TRIGGER projector_skips_no_truncate;
