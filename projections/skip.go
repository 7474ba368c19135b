package projections

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgerr"
)

// locate turns the failure of a whole batch into the failure of one event:
// it applies the batch again in halves, inside a transaction it rolls back,
// until one event fails on its own. A database error about one statement
// (text PostgreSQL refuses, a row too large) then still names the event,
// its type and position. It returns err as it is when err names an event
// already, or when the failure does not come back or looks transient.
func locate(ctx context.Context, db *sqlx.DB, p Projector, gen int, pos eventstore.Position, events []eventstore.Recorded, err error) error {
	var ee *EventError
	if errors.As(err, &ee) || transient(err) || ctx.Err() != nil {
		return err
	}
	tx, berr := beginProjection(ctx, db)
	if berr != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // diagnosis only: nothing is kept
	todo, serr := withoutSkipped(ctx, tx, p.Name(), after(events, pos))
	if serr != nil {
		return err
	}
	bad, cause := firstFailing(ctx, tx, p, gen, todo)
	if bad == nil || transient(cause) {
		return err
	}
	if errors.As(cause, &ee) {
		return ee
	}
	return &EventError{Event: *bad, Err: cause}
}

// firstFailing applies events in halves and returns the first event that
// fails on its own, with its error.
func firstFailing(ctx context.Context, tx *sqlx.Tx, p Projector, gen int, events []eventstore.Recorded) (*eventstore.Recorded, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if len(events) == 1 {
		if err := tryApply(ctx, tx, p, gen, events); err != nil {
			return &events[0], err
		}
		return nil, nil
	}
	mid := len(events) / 2
	if err := tryApply(ctx, tx, p, gen, events[:mid]); err != nil {
		return firstFailing(ctx, tx, p, gen, events[:mid])
	}
	return firstFailing(ctx, tx, p, gen, events[mid:])
}

// tryApply applies events under a savepoint, rolled back on failure so the
// transaction goes on.
func tryApply(ctx context.Context, tx *sqlx.Tx, p Projector, gen int, events []eventstore.Recorded) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT locate`); err != nil {
		return err
	}
	if err := p.Apply(ctx, tx, gen, events); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT locate`); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT locate`)
	return err
}

// transient reports errors that say nothing about the events: the database
// went away or is shutting down, the work was cancelled.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if pgerr.Unavailable(err) {
		return true
	}
	var pqe *pq.Error
	if errors.As(err, &pqe) {
		switch pqe.Code.Class() {
		case "08", "53", "57", "58": // connection, resources, operator intervention, system
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// withoutSkipped drops the events an operator decided this projector
// passes over (Skip); the checkpoint still moves past them.
func withoutSkipped(ctx context.Context, tx *sqlx.Tx, name string, events []eventstore.Recorded) ([]eventstore.Recorded, error) {
	if len(events) == 0 {
		return events, nil
	}
	skips, err := loadSkips(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	return skips.without(events), nil
}

// skipSet is the ids of the events a projector's skip decisions name; nil
// when there are none.
type skipSet map[uuid.UUID]bool

// loadSkips reads a projector's skip decisions.
func loadSkips(ctx context.Context, tx *sqlx.Tx, name string) (skipSet, error) {
	var ids []string
	if err := tx.SelectContext(ctx, &ids, `SELECT event_id::text FROM projector_skips WHERE name = $1`, name); err != nil {
		return nil, fmt.Errorf("skip decisions of %s: %w", name, err)
	}
	skips, err := newSkipSet(ids)
	if err != nil {
		return nil, fmt.Errorf("skip decisions of %s: %w", name, err)
	}
	return skips, nil
}

func newSkipSet(ids []string) (skipSet, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	skips := make(skipSet, len(ids))
	for _, s := range ids {
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, err
		}
		skips[id] = true
	}
	return skips, nil
}

// without returns events less the skipped ones (events itself when none is).
func (s skipSet) without(events []eventstore.Recorded) []eventstore.Recorded {
	if len(s) == 0 {
		return events
	}
	out := make([]eventstore.Recorded, 0, len(events))
	for _, e := range events {
		if !s[e.ID] {
			out = append(out, e)
		}
	}
	return out
}

// SkipDecision is an operator's decision that a projector passes over one
// event it cannot apply. Decisions are data, kept for good (the table is
// append-only) and public in status; the log itself is never changed.
type SkipDecision struct {
	Projector string    `json:"projector" db:"projector"`
	EventID   uuid.UUID `json:"event_id" db:"event_id"`
	EventType string    `json:"event_type" db:"event_type"`
	Position  string    `json:"position" db:"position"`
	Reason    string    `json:"reason" db:"reason"`
	DecidedBy string    `json:"decided_by" db:"decided_by"`
	DecidedAt time.Time `json:"decided_at" db:"decided_at"`
}

// Skip errors.
var (
	ErrUnknownProjector = errors.New("no such projector")
	ErrNotStoppedOnIt   = errors.New("the projector did not stop on this event")
)

// Skip records that projector name passes over event id, which it stopped
// on (status names it): the only event a decision may be about, so that no
// event is passed over before it has been shown to fail. reason and by are
// required. Every generation, rebuilds included, honours the decision; a
// running server applies it after a restart (a stopped handler does not
// resume by itself).
func Skip(ctx context.Context, db *sqlx.DB, name string, id uuid.UUID, reason, by string) (SkipDecision, error) {
	reason, by = strings.TrimSpace(reason), strings.TrimSpace(by)
	var errs []error
	if reason == "" {
		errs = append(errs, errors.New("a reason is required"))
	}
	if by == "" {
		errs = append(errs, errors.New("who decides is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return SkipDecision{}, fmt.Errorf("skip: %w", err)
	}
	var row struct {
		PoisonID   sql.NullString `db:"poison_event_id"`
		PoisonType sql.NullString `db:"poison_type"`
		PoisonPos  sql.NullString `db:"poison_position"`
	}
	err := db.GetContext(ctx, &row, `SELECT poison_event_id::text AS poison_event_id, poison_type, poison_position FROM projectors WHERE name = $1`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return SkipDecision{}, fmt.Errorf("skip: projector %q: %w", name, ErrUnknownProjector)
	}
	if err != nil {
		return SkipDecision{}, fmt.Errorf("skip: %w", err)
	}
	if row.PoisonID.String != id.String() {
		stopped := "no event"
		if row.PoisonID.Valid {
			stopped = "event " + row.PoisonID.String
		}
		return SkipDecision{}, fmt.Errorf("skip: %s failed on %s, not on event %s: %w", name, stopped, id, ErrNotStoppedOnIt)
	}
	d := SkipDecision{Projector: name, EventID: id, EventType: row.PoisonType.String, Position: row.PoisonPos.String, Reason: reason, DecidedBy: by}
	const q = `INSERT INTO projector_skips (name, event_id, event_type, position, reason, decided_by) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (name, event_id) DO NOTHING RETURNING decided_at`
	err = db.GetContext(ctx, &d.DecidedAt, q, d.Projector, d.EventID, d.EventType, d.Position, d.Reason, d.DecidedBy)
	if errors.Is(err, sql.ErrNoRows) {
		// Decided before: the first decision stands, unchanged.
		err = db.GetContext(ctx, &d, `SELECT name AS projector, event_id, event_type, position, reason, decided_by, decided_at
FROM projector_skips WHERE name = $1 AND event_id = $2`, name, id)
	}
	if err != nil {
		return SkipDecision{}, fmt.Errorf("skip: %w", err)
	}
	d.DecidedAt = d.DecidedAt.UTC()
	return d, nil
}

// Skips lists every skip decision, oldest first.
func Skips(ctx context.Context, db sqlx.QueryerContext) ([]SkipDecision, error) {
	var out []SkipDecision
	err := sqlx.SelectContext(ctx, db, &out, `SELECT name AS projector, event_id, event_type, position, reason, decided_by, decided_at
FROM projector_skips ORDER BY decided_at, name, event_id`)
	if err != nil {
		return nil, fmt.Errorf("skip decisions: %w", err)
	}
	for i := range out {
		out[i].DecidedAt = out[i].DecidedAt.UTC()
	}
	return out, nil
}
