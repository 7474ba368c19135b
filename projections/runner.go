// Package projections turns the global event log into read models in
// PostgreSQL. Each projector is one Watermill handler with a permanent name;
// it writes its read model and its checkpoint in one transaction, so a crash
// at any point neither loses nor double-counts an event.
package projections

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgmigrate"
	"promiseledger/projections/pgtext"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Component names the read models' migrations in ledger_migrations.
const Component = "projections"

// Migrate creates or upgrades the read-model tables.
func Migrate(ctx context.Context, db *sqlx.DB) error {
	return pgmigrate.Run(ctx, db, Component, migrationFiles, "migrations")
}

// Projector builds one read model. Its name is permanent: it keys the
// checkpoint, so renaming a projector rebuilds it from the first event.
type Projector interface {
	Name() string
	// Apply writes the effect of events (consecutive, in global order, none
	// applied before to generation gen) inside tx.
	Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error
	// Reset deletes every row of generation gen.
	Reset(ctx context.Context, tx *sqlx.Tx, gen int) error
}

// EventError names the event a projector failed on.
type EventError struct {
	Event eventstore.Recorded
	Err   error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("event %s (%s, %s v%d, position %s): %v", e.Event.ID, e.Event.Type, e.Event.Stream, e.Event.Version, e.Event.Position, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

// Checkpoint returns where the active generation of a projector resumes:
// the start of the log for a projector not registered yet.
func Checkpoint(ctx context.Context, db sqlx.QueryerContext, name string) (eventstore.Position, error) {
	_, pos, err := activeCheckpoint(ctx, db, name)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Start, nil
	}
	return pos, err
}

// activeCheckpoint returns a registered projector's active generation and
// its checkpoint; an unregistered one's error wraps sql.ErrNoRows.
func activeCheckpoint(ctx context.Context, db sqlx.QueryerContext, name string) (int, eventstore.Position, error) {
	const q = `SELECT p.active_generation, c.position_commit, c.position_prepare
FROM projectors p JOIN projector_checkpoints c ON c.name = p.name AND c.generation = p.active_generation
WHERE p.name = $1`
	var gen int
	var c, p int64
	if err := db.QueryRowxContext(ctx, q, name).Scan(&gen, &c, &p); err != nil {
		return 0, eventstore.Start, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	return gen, eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}, nil
}

// Register records a projector (active generation 1, at the start of the
// log) unless it is known already. The router and Rebuild call it.
func Register(ctx context.Context, db sqlx.ExecerContext, name string) error {
	return ensure(ctx, db, name)
}

// ensure registers a projector on first use.
func ensure(ctx context.Context, db sqlx.ExecerContext, name string) error {
	const q = `WITH p AS (INSERT INTO projectors (name) VALUES ($1) ON CONFLICT (name) DO NOTHING)
INSERT INTO projector_checkpoints (name, generation) VALUES ($1, 1) ON CONFLICT DO NOTHING`
	if _, err := db.ExecContext(ctx, q, name); err != nil {
		return fmt.Errorf("register projector %s: %w", name, err)
	}
	return nil
}

type generationState struct {
	gen int
	pos eventstore.Position
	// skips are the projector's skip decisions and database the key
	// databaseOf returns, read with the lock: a live batch makes one round
	// trip where it made three (the lock, the skips, the key).
	skips    skipSet
	database string
}

// lockActive locks the projector's row for the transaction (a rebuild's
// switch takes the same lock) and returns its active generation, that
// generation's checkpoint, the projector's skip decisions and the
// database's key.
//
// The skip decisions are read with the statement's snapshot, taken before
// it waits for the lock: one stored while it waited is missed by this
// batch, which then fails on the event again and is delivered again (no
// event is lost or applied wrongly: a decision names an event that failed).
// locate reads them afresh.
func lockActive(ctx context.Context, tx *sqlx.Tx, name string) (generationState, error) {
	return lockActiveAs(ctx, tx, name, "''")
}

// lockActiveDurable is lockActive for a live batch: it also makes the
// transaction's commit durable (durableCommit), in the same round trip.
func lockActiveDurable(ctx context.Context, tx *sqlx.Tx, name string) (generationState, error) {
	return lockActiveAs(ctx, tx, name, durableCommit)
}

func lockActiveAs(ctx context.Context, tx *sqlx.Tx, name, setting string) (generationState, error) {
	q := `SELECT p.active_generation, c.position_commit, c.position_prepare,
	ARRAY(SELECT s.event_id::text FROM projector_skips s WHERE s.name = p.name) AS skips,
	(` + databaseKeyQuery + `) AS database, ` + setting + ` AS setting
FROM projectors p JOIN projector_checkpoints c ON c.name = p.name AND c.generation = p.active_generation
WHERE p.name = $1 FOR UPDATE OF p`
	var st generationState
	var c, p int64
	var skips pq.StringArray
	var setTo string
	if err := tx.QueryRowxContext(ctx, q, name).Scan(&st.gen, &c, &p, &skips, &st.database, &setTo); err != nil {
		return st, fmt.Errorf("lock projector %s: %w", name, err)
	}
	st.pos = eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}
	var err error
	if st.skips, err = newSkipSet(skips); err != nil {
		return st, fmt.Errorf("lock projector %s: %w", name, err)
	}
	return st, nil
}

// lockSettle serialises the writers of a settling projector's active
// generation (the catch-up's settle and the live settle), for the rest of
// tx. It is taken before the projector's row (lockActive) by both.
func lockSettle(ctx context.Context, tx *sqlx.Tx, name string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, leaseKey("settle:"+name)); err != nil {
		return fmt.Errorf("settle lock of %s: %w", name, err)
	}
	return nil
}

// after drops the events at or before pos: redelivered events change nothing.
func after(events []eventstore.Recorded, pos eventstore.Position) []eventstore.Recorded {
	for i, e := range events {
		if pos.Less(e.Position) {
			return events[i:]
		}
	}
	return nil
}

// deferringProjector is a projector some of whose work per batch does not
// grow with the batch (the ratings recompute whole levels): a catch-up or
// a rebuild applies its pages with ApplyDeferred, which leaves that work
// pending, and calls Settle once at the head of the log. Apply does both.
type deferringProjector interface {
	ApplyDeferred(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error
	Settle(ctx context.Context, tx *sqlx.Tx, gen int) error
}

// applyBatch applies events to generation gen whose checkpoint is pos and
// moves the checkpoint, inside tx. With deferred, a deferringProjector
// leaves its pending work for settle.
func applyBatch(ctx context.Context, tx *sqlx.Tx, p Projector, gen int, pos eventstore.Position, events []eventstore.Recorded, skips skipSet, deferred bool) error {
	events = after(events, pos)
	if len(events) == 0 {
		return nil
	}
	todo := skips.without(events)
	if len(todo) > 0 {
		apply := p.Apply
		if d, ok := p.(deferringProjector); ok && deferred {
			apply = d.ApplyDeferred
		}
		if err := apply(ctx, tx, gen, todo); err != nil {
			return err
		}
	}
	return moveCheckpoint(ctx, tx, p.Name(), gen, events)
}

// moveCheckpoint moves generation gen's checkpoint past events, inside tx.
func moveCheckpoint(ctx context.Context, tx *sqlx.Tx, name string, gen int, events []eventstore.Recorded) error {
	last := events[len(events)-1]
	const q = `UPDATE projector_checkpoints
SET position_commit = $3, position_prepare = $4, events_total = events_total + $5, last_stored_at = $6, updated_at = now()
WHERE name = $1 AND generation = $2`
	res, err := tx.ExecContext(ctx, q, name, gen, int64(last.Position.Commit), int64(last.Position.Prepare), len(events), last.StoredAt)
	if err != nil {
		return fmt.Errorf("move checkpoint of %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("move checkpoint of %s generation %d: %d rows (%v): the generation is gone", name, gen, n, err)
	}
	return nil
}

// beginProjection starts a transaction for read-model writes that does not
// wait for the WAL flush. A crash (of the server, or of PostgreSQL alone)
// can lose its commit after it was acknowledged: the checkpoint is lost
// with the rows, so this is only for work whose next step starts again
// from the stored checkpoint (a replay's run, a catch-up's or rebuild's
// page) or that is done again when lost (a settle). The live path does not
// use it (process).
func beginProjection(ctx context.Context, db *sqlx.DB) (*sqlx.Tx, error) {
	return beginProjectionTx(ctx, db.BeginTxx)
}

// beginProjectionOn is beginProjection on one connection of the pool.
func beginProjectionOn(ctx context.Context, conn *sqlx.Conn) (*sqlx.Tx, error) {
	return beginProjectionTx(ctx, conn.BeginTxx)
}

// durableCommit makes a transaction's commit wait for the WAL flush even
// where the server, database or role turned synchronous_commit off (it
// keeps any stronger setting): for the projection writes that something
// goes on from in memory after their commit.
const durableCommit = `set_config('synchronous_commit', CASE current_setting('synchronous_commit') WHEN 'off' THEN 'local' ELSE current_setting('synchronous_commit') END, true)`

// beginDurableOn starts a transaction on conn whose commit is durable
// (durableCommit).
func beginDurableOn(ctx context.Context, conn *sqlx.Conn) (*sqlx.Tx, error) {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT `+durableCommit); err != nil {
		tx.Rollback() //nolint:errcheck
		return nil, err
	}
	return tx, nil
}

func beginProjectionTx(ctx context.Context, begin func(context.Context, *sql.TxOptions) (*sqlx.Tx, error)) (*sqlx.Tx, error) {
	tx, err := begin(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
		tx.Rollback() //nolint:errcheck
		return nil, err
	}
	return tx, nil
}

// Process applies one delivered batch to the active generation of p: the
// whole of a projector's live path. A liveSettler's batch is applied
// deferred and its pending work then settled by SettleLive before Process
// returns; the router instead settles those in a loop of their own (see
// settleLoop), so that batches do not wait for the recomputation.
func Process(ctx context.Context, db *sqlx.DB, p Projector, events []eventstore.Recorded) error {
	l, ok := p.(liveSettler)
	if !ok {
		return process(ctx, db, p, events, false)
	}
	if err := process(ctx, db, p, events, true); err != nil {
		return err
	}
	// On an error the batch is delivered again: its events are applied
	// already and skipped, and the settling is tried again.
	if _, err := l.SettleLive(ctx, db); err != nil {
		return fmt.Errorf("%s: settle: %w", p.Name(), err)
	}
	return nil
}

// liveSettler is a deferringProjector that settles its active generation
// outside the batch's transaction (see Ratings.SettleLive).
type liveSettler interface {
	Projector
	deferringProjector
	SettleLive(ctx context.Context, db *sqlx.DB) (eventstore.Position, error)
}

// settle does the pending work of a deferringProjector's generation gen
// (the active one when gen is 0), in its own transaction.
func settle(ctx context.Context, db *sqlx.DB, p Projector, gen int) error {
	d, ok := p.(deferringProjector)
	if !ok {
		return nil
	}
	tx, err := beginProjection(ctx, db)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", p.Name(), err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if gen == 0 {
		// A live settle (Ratings.SettleLive) writes its rows before it
		// takes the projector's row: taking the settle lock first, as it
		// does, makes the two wait for each other instead of deadlocking.
		if err := lockSettle(ctx, tx, p.Name()); err != nil {
			return err
		}
		st, err := lockActive(ctx, tx, p.Name())
		if err != nil {
			return err
		}
		gen = st.gen
	}
	if err := d.Settle(ctx, tx, gen); err != nil {
		return fmt.Errorf("%s: settle generation %d: %w", p.Name(), gen, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", p.Name(), err)
	}
	return nil
}

func process(ctx context.Context, db *sqlx.DB, p Projector, events []eventstore.Recorded, deferred bool) error {
	// A live batch waits for its commit to be durable (not beginProjection;
	// lockActiveDurable sees to it whatever the server's setting):
	// the subscription delivers the next batch from where this one ended,
	// not from the stored checkpoint, so a commit a crash lost after it was
	// acknowledged would let the next batch move the checkpoint past the
	// lost batch's events for good (TestDevSurvivesItsPostgresBeingKilled
	// caught it: the catalog listed 238 of 240 territories).
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", p.Name(), err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	st, err := lockActiveDurable(ctx, tx, p.Name())
	if err != nil {
		return err
	}
	ctx = withDatabaseKey(ctx, st.database)
	if err := applyBatch(ctx, tx, p, st.gen, st.pos, events, st.skips, deferred); err != nil {
		tx.Rollback() //nolint:errcheck // the transaction failed already
		return locate(ctx, db, p, st.gen, st.pos, events, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", p.Name(), err)
	}
	return nil
}

// ErrRebuildRunning: another process is rebuilding the same projector.
var ErrRebuildRunning = errors.New("another rebuild of this projector is running")

// RebuildPageSize is how many events a rebuild or a catch-up applies per
// transaction, unless the projector asks for another size.
const RebuildPageSize = 1000

// catchUpPager is a projector whose batches cost more than their events
// (the ratings rewrite a whole level per batch): it asks for larger pages
// when it catches up.
type catchUpPager interface {
	CatchUpPageSize() int
}

func pageSize(p Projector) int {
	if c, ok := p.(catchUpPager); ok && c.CatchUpPageSize() > 0 {
		return c.CatchUpPageSize()
	}
	return RebuildPageSize
}

// Rebuild builds a fresh generation of p from the first event while the
// active one keeps serving, then makes it active in one transaction and
// deletes the old one. It returns the new generation.
func Rebuild(ctx context.Context, db *sqlx.DB, store eventstore.Store, p Projector) (int, error) {
	name := p.Name()
	if err := ensure(ctx, db, name); err != nil {
		return 0, err
	}
	// One rebuild of a projector at a time: a second one would reset the
	// first one's generation under it.
	conn, err := db.Connx(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var mine bool
	key := leaseKey("rebuild:" + name)
	if err := conn.GetContext(ctx, &mine, `SELECT pg_try_advisory_lock($1)`, key); err != nil {
		return 0, fmt.Errorf("rebuild %s: %w", name, err)
	}
	if !mine {
		return 0, fmt.Errorf("rebuild %s: %w", name, ErrRebuildRunning)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key) //nolint:errcheck // the lock dies with the connection anyway
	gen, err := startRebuild(ctx, db, p)
	if err != nil {
		return 0, err
	}
	// Catch up without holding the live projector back: replayed when the
	// projector can, and page by page from wherever the replay stopped.
	pos := eventstore.Start
	if r, ok := p.(Replayer); ok {
		if pos, _, _, err = replayLog(ctx, db, store, r, gen, pos, false); err != nil {
			return 0, err
		}
	}
	for {
		n, next, err := rebuildPage(ctx, db, store, p, gen, pos, nil, true)
		if err != nil {
			if rerr := recordRebuildFailure(context.WithoutCancel(ctx), db, name, err); rerr != nil {
				return 0, errors.Join(err, rerr)
			}
			return 0, err
		}
		pos = next
		if n == 0 {
			break
		}
	}
	if err := settle(ctx, db, p, gen); err != nil {
		return 0, err
	}
	old, err := switchGeneration(ctx, db, store, p, gen)
	if err != nil {
		return 0, err
	}
	if err := dropGeneration(ctx, db, p, old); err != nil {
		return gen, err
	}
	return gen, nil
}

func startRebuild(ctx context.Context, db *sqlx.DB, p Projector) (int, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck
	var active int
	var rebuilding sql.NullInt64
	if err := tx.QueryRowxContext(ctx, `SELECT active_generation, rebuilding_generation FROM projectors WHERE name = $1 FOR UPDATE`, p.Name()).Scan(&active, &rebuilding); err != nil {
		return 0, fmt.Errorf("rebuild %s: %w", p.Name(), err)
	}
	gen := active + 1
	if rebuilding.Valid && int(rebuilding.Int64) >= gen {
		gen = int(rebuilding.Int64) + 1 // an abandoned rebuild: start over past it
		if err := p.Reset(ctx, tx, int(rebuilding.Int64)); err != nil {
			return 0, err
		}
	}
	if err := p.Reset(ctx, tx, gen); err != nil {
		return 0, err
	}
	const q = `INSERT INTO projector_checkpoints (name, generation) VALUES ($1, $2)
ON CONFLICT (name, generation) DO UPDATE SET position_commit = 0, position_prepare = 0, events_total = 0, last_stored_at = NULL, updated_at = now()`
	if _, err := tx.ExecContext(ctx, q, p.Name(), gen); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM projector_checkpoints WHERE name = $1 AND generation NOT IN ($2, $3)`, p.Name(), active, gen); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE projectors SET rebuilding_generation = $2 WHERE name = $1`, p.Name(), gen); err != nil {
		return 0, err
	}
	return gen, tx.Commit()
}

// rebuildPage applies one page after pos to generation gen in its own
// transaction (or in tx when given) and returns how many events it read.
func rebuildPage(ctx context.Context, db *sqlx.DB, store eventstore.Store, p Projector, gen int, pos eventstore.Position, tx *sqlx.Tx, deferred bool) (int, eventstore.Position, error) {
	own := tx == nil
	if own {
		var err error
		if tx, err = beginProjection(ctx, db); err != nil {
			return 0, pos, err
		}
		defer tx.Rollback() //nolint:errcheck
		// The page goes on from the stored checkpoint, not from pos: a
		// crash can lose the last page's commit (beginProjection), and
		// this page would then move the checkpoint past its events.
		stored, err := generationCheckpoint(ctx, tx, p.Name(), gen)
		if err != nil {
			return 0, pos, err
		}
		pos = stored
	}
	page, err := store.ReadAll(ctx, pos, pageSize(p))
	if err != nil || len(page) == 0 {
		return 0, pos, err
	}
	skips, err := loadSkips(ctx, tx, p.Name())
	if err != nil {
		return 0, pos, err
	}
	if err := applyBatch(ctx, tx, p, gen, pos, page, skips, deferred); err != nil {
		if own {
			tx.Rollback() //nolint:errcheck // the transaction failed already
			err = locate(ctx, db, p, gen, pos, page, err)
		}
		return 0, pos, err
	}
	if own {
		if err := tx.Commit(); err != nil {
			return 0, pos, err
		}
	}
	return len(page), page[len(page)-1].Position, nil
}

// switchGeneration brings gen at least as far as the live generation while
// holding the live projector's lock, then makes it active. The live handler
// then resumes on gen and skips what gen already has.
func switchGeneration(ctx context.Context, db *sqlx.DB, store eventstore.Store, p Projector, gen int) (int, error) {
	// Durable: the live subscription goes on from the switched
	// generation's checkpoint, and the old generation is dropped next.
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck
	live, err := lockActiveDurable(ctx, tx, p.Name())
	if err != nil {
		return 0, err
	}
	// From gen's stored checkpoint, not from where the rebuild's last
	// page ended in memory: that page's commit may have been lost
	// (rebuildPage).
	pos, err := generationCheckpoint(ctx, tx, p.Name(), gen)
	if err != nil {
		return 0, err
	}
	for pos.Less(live.pos) {
		n, next, err := rebuildPage(ctx, db, store, p, gen, pos, tx, false)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, fmt.Errorf("rebuild %s: live checkpoint %s is past the readable log at %s", p.Name(), live.pos, pos)
		}
		pos = next
	}
	res, err := tx.ExecContext(ctx, `UPDATE projectors SET active_generation = $2, rebuilding_generation = NULL WHERE name = $1 AND rebuilding_generation = $2`, p.Name(), gen)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, fmt.Errorf("rebuild %s: generation %d is no longer the one being rebuilt", p.Name(), gen)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("rebuild %s: switch: %w", p.Name(), err)
	}
	return live.gen, nil
}

func dropGeneration(ctx context.Context, db *sqlx.DB, p Projector, gen int) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	if err := p.Reset(ctx, tx, gen); err != nil {
		return fmt.Errorf("drop %s generation %d: %w", p.Name(), gen, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM projector_checkpoints WHERE name = $1 AND generation = $2`, p.Name(), gen); err != nil {
		return err
	}
	return tx.Commit()
}

// recordFailure stores the error (and the event, if known) a projector
// stopped on, for status pages and metrics.
func recordFailure(ctx context.Context, db sqlx.ExecerContext, name string, failure error, stopped bool) error {
	var id, pos, typ any
	var ee *EventError
	if errors.As(failure, &ee) {
		id, pos, typ = ee.Event.ID, ee.Event.Position.String(), ee.Event.Type
	}
	const q = `UPDATE projectors SET last_error = $2, last_error_at = $3, stopped = $4,
	poison_event_id = $5, poison_position = $6, poison_type = $7, errors_total = errors_total + 1
WHERE name = $1`
	_, err := db.ExecContext(ctx, q, name, errorText(failure), time.Now().UTC(), stopped, id, pos, typ)
	return err
}

// errorText is an error as status keeps it: at most maxErrorText bytes
// (an error may quote a 1 MiB value), in pgtext's escaped form.
func errorText(err error) string {
	s := err.Error()
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "… (cut)"
	}
	return pgtext.String(s)
}

const maxErrorText = 2000

// recordRebuildFailure records the event a rebuild failed on, so that
// status names it and an operator can decide on it; the live generation
// runs on, so it does not mark the projector stopped.
func recordRebuildFailure(ctx context.Context, db sqlx.ExecerContext, name string, failure error) error {
	var ee *EventError
	if !errors.As(failure, &ee) {
		return nil
	}
	const q = `UPDATE projectors SET last_error = $2, last_error_at = $3,
	poison_event_id = $4, poison_position = $5, poison_type = $6, errors_total = errors_total + 1
WHERE name = $1`
	_, err := db.ExecContext(ctx, q, name, "rebuild: "+errorText(failure), time.Now().UTC(), ee.Event.ID, ee.Event.Position.String(), ee.Event.Type)
	return err
}

// CatchUp applies everything readable to each projector's active
// generation, page by page, without the router: `ledger dev` runs it before
// serving so the first reads see the whole demo. It is safe beside running
// routers (Process serialises on the projector's row and skips what is
// applied). A projector that fails on an event is recorded as stopped on
// it (status and /readyz name it) and the others go on: the server still
// starts, and the operator has a way back (docs/operations.md).
func CatchUp(ctx context.Context, db *sqlx.DB, store eventstore.Store, ps []Projector) (int, error) {
	return CatchUpEach(ctx, db, store, ps, nil)
}

// CaughtUp is what CatchUpEach says of one projector once it is done.
type CaughtUp struct {
	Name    string
	Events  int           // events applied (skipped ones included)
	Elapsed time.Duration // its own time
	Stopped error         // the event it stopped on, if it did
}

// CatchUpEach is CatchUp, calling done (when not nil) after each projector,
// so that a long catch-up can say how it goes. The projectors catch up side
// by side (each reads and writes on its own connection): one decodes while
// another waits for the database. done is never called concurrently.
func CatchUpEach(ctx context.Context, db *sqlx.DB, store eventstore.Store, ps []Projector, done func(CaughtUp)) (int, error) {
	var (
		mu    sync.Mutex
		total int
		errs  = make([]error, len(ps))
		wg    sync.WaitGroup
	)
	// The projectors that replay from the start of the log share one
	// reading of it; each one's checkpoint is read here, once.
	fresh := make([]*generationState, len(ps))
	subs := make([]*feedSub, len(ps))
	var f feed
	for i, p := range ps {
		if err := ensure(ctx, db, p.Name()); err != nil {
			return 0, err
		}
		if _, ok := p.(Replayer); !ok {
			continue
		}
		gen, pos, err := activeCheckpoint(ctx, db, p.Name())
		if err != nil {
			return 0, err
		}
		if pos == eventstore.Start {
			fresh[i] = &generationState{gen: gen, pos: pos}
			subs[i] = f.subscribe()
		}
	}
	if len(f.subs) > 1 {
		feedCtx, stop := context.WithCancel(ctx)
		defer stop()
		wg.Go(func() { f.run(feedCtx, store) })
	} else {
		clear(subs) // one replay reads the log itself
	}
	for i, p := range ps {
		wg.Go(func() {
			began := time.Now()
			n, stopped, err := catchUpOne(ctx, db, store, p, fresh[i], subs[i])
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil {
				errs[i] = err
				return
			}
			if done != nil {
				done(CaughtUp{Name: p.Name(), Events: n, Elapsed: time.Since(began), Stopped: stopped})
			}
		})
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// catchUpOne catches up p, registered already. fresh, when not nil, is
// its active generation, which holds nothing yet: it is replayed first,
// reading the log from sub when not nil (a share of a feed from the start).
func catchUpOne(ctx context.Context, db *sqlx.DB, store eventstore.Store, p Projector, fresh *generationState, sub *feedSub) (int, error, error) {
	quit := func() {} // tells the feed this projector reads no more of it
	if sub != nil {
		quit = sync.OnceFunc(func() { close(sub.quit) })
	}
	defer quit()
	total := 0
	if r, ok := p.(Replayer); ok && fresh != nil {
		// The page path below takes over wherever the replay stops.
		var n int
		var err error
		if sub != nil {
			_, n, _, err = replayFrom(ctx, db, r, fresh.gen, fresh.pos, true, sub.next)
		} else {
			_, n, _, err = replayLog(ctx, db, store, r, fresh.gen, fresh.pos, true)
		}
		quit()
		total += n
		if err != nil {
			return total, nil, fmt.Errorf("catch up %s: %w", p.Name(), err)
		}
	}
	quit()
	for {
		pos, err := Checkpoint(ctx, db, p.Name())
		if err != nil {
			return total, nil, err
		}
		page, err := store.ReadAll(ctx, pos, pageSize(p))
		if err != nil {
			return total, nil, err
		}
		if len(page) == 0 {
			if err := settle(ctx, db, p, 0); err != nil {
				return total, nil, fmt.Errorf("catch up %s: %w", p.Name(), err)
			}
			// At the head: a stop recorded earlier no longer holds.
			if _, err := db.ExecContext(ctx, `UPDATE projectors SET stopped = false WHERE name = $1 AND stopped`, p.Name()); err != nil {
				return total, nil, fmt.Errorf("catch up %s: %w", p.Name(), err)
			}
			return total, nil, nil
		}
		if err := process(ctx, db, p, page, true); err != nil {
			var ee *EventError
			if !errors.As(err, &ee) {
				return total, nil, fmt.Errorf("catch up %s: %w", p.Name(), err)
			}
			if rerr := recordFailure(context.WithoutCancel(ctx), db, p.Name(), err, true); rerr != nil {
				return total, nil, errors.Join(err, rerr)
			}
			// What was applied before the poison event is served settled.
			if serr := settle(ctx, db, p, 0); serr != nil {
				return total, nil, errors.Join(err, serr)
			}
			return total, err, nil
		}
		total += len(page)
	}
}
