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
--
-- A transaction that already has an id may append only if it holds the
-- mark, i.e. it appended before it wrote anything else. The check reads
-- pg_locks (the backend's own locks), not a setting a session could set.
CREATE FUNCTION events_appender_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF pg_current_xact_id_if_assigned() IS NULL THEN
		PERFORM pg_advisory_xact_lock_shared(6174900909646240013);
		RETURN NULL;
	END IF;
	IF EXISTS (
		SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND classid = 1437706153 AND objid = 1253267725 AND objsubid = 1) THEN
		RETURN NULL; -- marked by an earlier append of this transaction
	END IF;
	RAISE EXCEPTION 'events must be appended before the transaction writes anything else'
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      HINT = 'append in a transaction of its own, or append first';
END
$$;

CREATE TRIGGER events_appender_mark BEFORE INSERT ON events
	FOR EACH STATEMENT EXECUTE FUNCTION events_appender_mark();
ALTER TABLE events ENABLE ALWAYS TRIGGER events_appender_mark;

-- plpgsql, not sql: its plans are cached per session (a sql function was
-- planned on every call, ~0.6 ms). STABLE: it sees the calling statement's
-- snapshot, the one the caller reads events with.
--
-- Locks are matched to their transaction by the holder's pid, not by
-- virtualtransaction: pg_locks reads a holder's virtual transaction id live
-- from its PGPROC, and a committing backend clears it while it still holds
-- its locks, so one look can show its id lock under its virtual transaction
-- and its mark under another. pg_locks takes every lock partition at once,
-- so the locks themselves are one consistent picture, and a backend
-- releases its id lock before its advisory locks. A prepared transaction's
-- locks have no pid: it is never taken for a bystander.
--
-- On a hot standby the snapshot lists no running transaction and pg_locks
-- does not show the primary's: there the horizon is pg_snapshot_xmin, the
-- rule before this migration.
CREATE FUNCTION events_readable_below() RETURNS xid8 LANGUAGE plpgsql STABLE AS $$
DECLARE
	snap pg_snapshot := pg_current_snapshot();
BEGIN
	IF pg_snapshot_xmin(snap) = pg_snapshot_xmax(snap) THEN
		RETURN pg_snapshot_xmax(snap); -- nothing running: no need to look at pg_locks
	END IF;
	IF pg_is_in_recovery() THEN
		RETURN pg_snapshot_xmin(snap);
	END IF;
	RETURN (
		WITH locks AS MATERIALIZED (
			SELECT locktype, pid, transactionid, database, classid, objid, objsubid
			FROM pg_locks
			WHERE granted AND pid IS NOT NULL
			  AND (locktype = 'advisory' OR (locktype = 'transactionid' AND mode = 'ExclusiveLock'))
		), bystanders AS (
			-- Only a transaction's own id is held in ExclusiveLock mode.
			SELECT t.transactionid FROM locks t
			WHERE t.locktype = 'transactionid' AND t.transactionid IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM locks a
				WHERE a.locktype = 'advisory' AND a.pid = t.pid
				  AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database())
				  AND a.classid = 1437706153 AND a.objid = 1253267725 AND a.objsubid = 1)
		)
		SELECT COALESCE(
			(SELECT min(x) FROM pg_snapshot_xip(snap) AS x
			 WHERE x::xid NOT IN (SELECT transactionid FROM bystanders)),
			pg_snapshot_xmax(snap)));
END
$$;
