-- The log's tables only grow, like events (eventstore/postgres 0001): a
-- leaf, a tree hash, a signed checkpoint or a cosignature, once written,
-- is never changed or removed by the application. A rebuild writes a new
-- generation and leaves the old ones as they were (the active generation
-- is kept in the projectors table); nothing in the code updates or
-- deletes these rows. Statement-level triggers, so even an UPDATE or
-- DELETE that matches no row fails; ENABLE ALWAYS, so
-- session_replication_role = replica does not silence them. The owner can
-- still drop them: that is what the signed checkpoints expose.
CREATE FUNCTION translog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the transparency log table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'insufficient_privilege',
		      HINT = 'the log only grows; a rebuild writes a new generation';
END
$$;

CREATE TRIGGER translog_leaves_no_update_delete BEFORE UPDATE OR DELETE ON translog_leaves
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
CREATE TRIGGER translog_leaves_no_truncate BEFORE TRUNCATE ON translog_leaves
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
ALTER TABLE translog_leaves ENABLE ALWAYS TRIGGER translog_leaves_no_update_delete;
ALTER TABLE translog_leaves ENABLE ALWAYS TRIGGER translog_leaves_no_truncate;

CREATE TRIGGER translog_hashes_no_update_delete BEFORE UPDATE OR DELETE ON translog_hashes
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
CREATE TRIGGER translog_hashes_no_truncate BEFORE TRUNCATE ON translog_hashes
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
ALTER TABLE translog_hashes ENABLE ALWAYS TRIGGER translog_hashes_no_update_delete;
ALTER TABLE translog_hashes ENABLE ALWAYS TRIGGER translog_hashes_no_truncate;

CREATE TRIGGER translog_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON translog_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
CREATE TRIGGER translog_checkpoints_no_truncate BEFORE TRUNCATE ON translog_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
ALTER TABLE translog_checkpoints ENABLE ALWAYS TRIGGER translog_checkpoints_no_update_delete;
ALTER TABLE translog_checkpoints ENABLE ALWAYS TRIGGER translog_checkpoints_no_truncate;

CREATE TRIGGER translog_cosignatures_no_update_delete BEFORE UPDATE OR DELETE ON translog_cosignatures
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
CREATE TRIGGER translog_cosignatures_no_truncate BEFORE TRUNCATE ON translog_cosignatures
	FOR EACH STATEMENT EXECUTE FUNCTION translog_append_only();
ALTER TABLE translog_cosignatures ENABLE ALWAYS TRIGGER translog_cosignatures_no_update_delete;
ALTER TABLE translog_cosignatures ENABLE ALWAYS TRIGGER translog_cosignatures_no_truncate;
