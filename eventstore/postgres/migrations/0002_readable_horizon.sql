-- The readable horizon no longer waits for transactions that do not append.
--
-- Until now a reader read only rows with tx_id below the oldest transaction
-- still running anywhere in the cluster (pg_snapshot_xmin). That is safe but
-- makes every writing transaction hold the log back: a projector writing its
-- read model, a settle writing ratings, an idle BEGIN in psql, a test in
-- another database. Now only transactions that may append events do:
--
--   1. Every statement inserting into events first takes a shared
--      transaction-level advisory lock, the appender mark (the trigger
--      below), before the transaction has a transaction id. A transaction
--      that already has one (it wrote something else first) is refused: it
--      could have become running, unmarked, in a reader's snapshot.
--   2. A reader's horizon (events_readable_below) is the oldest transaction
--      running in its snapshot that is not known to be a bystander: a
--      transaction still running, with its id, without the mark, in this
--      database or another. Such a transaction has no live row in events
--      and never will (rule 1), so rows above it can be read.
--
-- A transaction that finished since the snapshot counts as running (it is
-- not in pg_locks any more, so it is not known to be a bystander): the
-- horizon stays below it until the next read, as before. docs/eventstore.md
-- gives the whole argument.

-- The mark's key: hashtextextended('promiseledger.events.appender', 0).
-- pg_locks shows a bigint advisory key as classid (high 32 bits), objid
-- (low 32 bits) and objsubid 1.
CREATE FUNCTION events_appender_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('promiseledger.appender', true) = 'on' THEN
		RETURN NULL; -- marked by an earlier statement of this transaction
	END IF;
	IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
		RAISE EXCEPTION 'events must be appended before the transaction writes anything else'
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'append in a transaction of its own, or append first';
	END IF;
	PERFORM pg_advisory_xact_lock_shared(6174900909646240013);
	PERFORM set_config('promiseledger.appender', 'on', true);
	RETURN NULL;
END
$$;

CREATE TRIGGER events_appender_mark BEFORE INSERT ON events
	FOR EACH STATEMENT EXECUTE FUNCTION events_appender_mark();
ALTER TABLE events ENABLE ALWAYS TRIGGER events_appender_mark;

-- plpgsql, not sql: its plan is cached per session (a sql function was
-- planned on every call, ~0.6 ms). STABLE: it sees the calling statement's
-- snapshot, the one the caller reads events with.
CREATE FUNCTION events_readable_below() RETURNS xid8 LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (
		WITH locks AS MATERIALIZED (
			SELECT locktype, virtualtransaction, transactionid, database, classid, objid, objsubid
			FROM pg_locks
			WHERE granted AND (locktype = 'advisory' OR (locktype = 'transactionid' AND mode = 'ExclusiveLock'))
		), bystanders AS (
			-- Only a transaction's own id is held in ExclusiveLock mode.
			SELECT t.transactionid FROM locks t
			WHERE t.locktype = 'transactionid' AND t.transactionid IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM locks a
				WHERE a.locktype = 'advisory' AND a.virtualtransaction = t.virtualtransaction
				  AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database())
				  AND a.classid = 1437706153 AND a.objid = 1253267725 AND a.objsubid = 1)
		)
		SELECT COALESCE(
			(SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
			 WHERE x::xid NOT IN (SELECT transactionid FROM bystanders)),
			pg_snapshot_xmax(pg_current_snapshot())));
END
$$;
