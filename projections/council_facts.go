package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// Facts are stored events, kept by a projector so that it can fold any
// aggregate as of a past time without reading the event store. The
// councils and ratings projectors keep their own (rm_council_events,
// rm_rating_events), so each can be rebuilt on its own.

// factTable names a facts table; only the two constants below are used.
type factTable string

const (
	councilFacts factTable = "rm_council_events"
	ratingFacts  factTable = "rm_rating_events"
)

// fact is one event to store.
type fact struct {
	rec  eventstore.Recorded
	kind string
	id   string // the aggregate's id within kind
	ev   domain.Event
	meta domain.Meta
}

// factsFor returns an empty list with room for the events of the page that
// decodes keeps: the list used to grow by doubling, a gigabyte of copies in
// the ratings' rebuild at a million events.
func factsFor(events []eventstore.Recorded, decodes func(stream string) bool) []fact {
	n := 0
	for _, r := range events {
		if decodes(r.Stream) {
			n++
		}
	}
	return make([]fact, 0, n)
}

// storeFacts inserts facts; redelivered ones change nothing.
func storeFacts(ctx context.Context, tx *sqlx.Tx, table factTable, gen int, facts []fact) error {
	if len(facts) == 0 {
		return nil
	}
	if len(facts) >= int(copyFactsAt.Load()) {
		if copied, err := copyNewFacts(ctx, tx, table, gen, facts); err != nil || copied {
			return err
		}
	}
	n := len(facts)
	streams, kinds, ids, eventIDs, types := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	versions := make([]int64, n)
	data, meta := make([][]byte, n), make([][]byte, n)
	effective, recorded := make([]string, n), make([]string, n)
	commits, prepares := make([]int64, n), make([]int64, n)
	for i, f := range facts {
		streams[i], kinds[i], ids[i], eventIDs[i], types[i] = f.rec.Stream, f.kind, f.id, f.rec.ID.String(), f.rec.Type
		versions[i], data[i], meta[i] = f.rec.Version, f.rec.Data, f.rec.Metadata
		effective[i], recorded[i] = f.effectiveText(), f.meta.RecordedAt.UTC().Format(time.RFC3339Nano)
		commits[i], prepares[i] = int64(f.rec.Position.Commit), int64(f.rec.Position.Prepare)
	}
	arrays := `$2::text[], $3::bigint[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::bytea[], $9::bytea[], $10::timestamptz[], $11::timestamptz[]`
	args := []any{gen, pq.StringArray(streams), pq.Int64Array(versions), pq.StringArray(kinds), pq.StringArray(ids), pq.StringArray(eventIDs),
		pq.StringArray(types), pq.ByteaArray(data), pq.ByteaArray(meta), pq.StringArray(effective), pq.StringArray(recorded)}
	if table == ratingFacts {
		arrays += `, $12::bigint[], $13::bigint[]`
		args = append(args, pq.Int64Array(commits), pq.Int64Array(prepares))
	}
	q := `INSERT INTO ` + string(table) + ` (` + factColumns(table) + `)
SELECT $1, u.* FROM unnest(` + arrays + `) AS u
ON CONFLICT DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("store facts in %s: %w", table, err)
	}
	return nil
}

// factColumns lists a facts table's columns in the order storeFacts and
// copyFacts write them. The ratings' facts also keep their position in the
// log, for the live settle to read only the facts new since its last look.
func factColumns(table factTable) string {
	const columns = "generation, stream, version, kind, aggregate_id, event_id, type, data, metadata, effective_at, recorded_at"
	if table == ratingFacts {
		return columns + ", position_commit, position_prepare"
	}
	return columns
}

// effectiveText is when the fact took effect (its recording time when its
// metadata names none), as a timestamptz literal.
func (f *fact) effectiveText() string {
	return effective(domain.Envelope{Event: f.ev, Meta: f.meta}).UTC().Format(time.RFC3339Nano)
}

// copyFacts is storeFacts for a replay: it copies facts that the table
// cannot hold yet (see CopyInto), and refuses, rather than skips, a stored
// one.
func copyFacts(ctx context.Context, tx *sqlx.Tx, table factTable, gen int, facts []fact) error {
	err := CopyInto(ctx, tx, string(table), factColumns(table), len(facts), func(i int) []any {
		f := &facts[i]
		row := []any{int64(gen), f.rec.Stream, f.rec.Version, f.kind, f.id, f.rec.ID.String(), f.rec.Type, f.rec.Data, f.rec.Metadata,
			f.effectiveText(), f.meta.RecordedAt.UTC().Format(time.RFC3339Nano)}
		if table == ratingFacts {
			row = append(row, int64(f.rec.Position.Commit), int64(f.rec.Position.Prepare))
		}
		return row
	})
	if err != nil {
		return fmt.Errorf("store facts in %s: %w", table, err)
	}
	return nil
}

// copyFactsAt: storeFacts copies a batch of at least this many facts (a
// catch-up's page) with COPY, in a savepoint, and inserts it as it does a
// smaller batch only if one of them is stored already (a redelivery). COPY
// takes about half the time of the array insert per row; on a live batch
// of a few facts the savepoint's round trips would cost more than it saves.
var copyFactsAt = atomicInt(1000)

// copyNewFacts copies facts as copyFacts does, in a savepoint: when one of
// them is stored already, nothing is copied and copied is false.
func copyNewFacts(ctx context.Context, tx *sqlx.Tx, table factTable, gen int, facts []fact) (copied bool, err error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT store_facts`); err != nil {
		return false, fmt.Errorf("store facts in %s: %w", table, err)
	}
	err = copyFacts(ctx, tx, table, gen, facts)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" { // unique_violation
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT store_facts`); err != nil {
			return false, fmt.Errorf("store facts in %s: %w", table, err)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT store_facts`); err != nil {
		return false, fmt.Errorf("store facts in %s: %w", table, err)
	}
	return true, nil
}

// aggregateHistory is the stored events of one aggregate, in stream order.
type aggregateHistory struct {
	ID      string
	Version int64
	Events  []domain.Envelope
}

// loadFacts reads the stored events of the given aggregates of one kind.
func loadFacts(ctx context.Context, q sqlx.QueryerContext, table factTable, gen int, kind string, ids []string) (map[string]*aggregateHistory, error) {
	out := make(map[string]*aggregateHistory, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	sel := `SELECT aggregate_id, version, type, data, metadata FROM ` + string(table) + `
WHERE generation = $1 AND kind = $2 AND aggregate_id = ANY($3) ORDER BY aggregate_id, version`
	return out, scanFacts(ctx, q, out, sel, gen, kind, pq.StringArray(ids))
}

// loadAllFacts reads every stored event of one kind.
func loadAllFacts(ctx context.Context, q sqlx.QueryerContext, table factTable, gen int, kind string) (map[string]*aggregateHistory, error) {
	out := map[string]*aggregateHistory{}
	sel := `SELECT aggregate_id, version, type, data, metadata FROM ` + string(table) + `
WHERE generation = $1 AND kind = $2 ORDER BY aggregate_id, version`
	return out, scanFacts(ctx, q, out, sel, gen, kind)
}

func scanFacts(ctx context.Context, q sqlx.QueryerContext, out map[string]*aggregateHistory, sel string, args ...any) error {
	rows, err := q.QueryxContext(ctx, sel, args...)
	if err != nil {
		return fmt.Errorf("load facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, typ    string
			version    int64
			data, meta []byte
		)
		if err := rows.Scan(&id, &version, &typ, &data, &meta); err != nil {
			return err
		}
		ev, m, err := decodeFact(typ, data, meta)
		if err != nil {
			return fmt.Errorf("%s version %d: %w", id, version, err)
		}
		h := out[id]
		if h == nil {
			h = &aggregateHistory{ID: id}
			out[id] = h
		}
		h.Version = version
		h.Events = append(h.Events, domain.Envelope{Event: ev, Meta: m})
	}
	return rows.Err()
}

// activeGeneration reads a projector's active generation.
func activeGeneration(ctx context.Context, q sqlx.QueryerContext, name string) (int, error) {
	var gen int
	if err := sqlx.GetContext(ctx, q, &gen, `SELECT active_generation FROM projectors WHERE name = $1`, name); err != nil {
		return 0, fmt.Errorf("generation of %s: %w", name, err)
	}
	return gen, nil
}

// StoredEvent is an event as a read model keeps it, for "the events behind
// this number".
type StoredEvent struct {
	EventID     uuid.UUID       `json:"event_id"`
	Stream      string          `json:"stream"`
	Version     int64           `json:"version"`
	Type        string          `json:"type"`
	Data        json.RawMessage `json:"data"`
	ActorID     string          `json:"actor_id"`
	Reason      string          `json:"reason,omitempty"`
	EffectiveAt time.Time       `json:"effective_at"`
	RecordedAt  time.Time       `json:"recorded_at"`
}
