package translog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore"
)

// FeedFilter selects logged events for the public feed. Filters on actor
// and times use the copies taken from metadata when the event was logged.
type FeedFilter struct {
	// After and Before bound the leaf index: After < index < Before.
	// After -1 starts at the first leaf; Before 0 means no bound.
	After, Before       int64
	Stream, Type, Actor string
	// Half-open time ranges [From, To) on the metadata's effective_at and
	// recorded_at; zero means unbounded.
	EffectiveFrom, EffectiveTo time.Time
	RecordedFrom, RecordedTo   time.Time
	// Limit caps the events returned (0: all, read in pages).
	Limit int
	// PageSize is how many rows one query reads (0: FeedPage).
	PageSize int
}

// FeedPage is how many rows ScanFeed reads per query (unless the filter
// asks for another PageSize): it reads a page whole and closes the query
// before handing the events on, so a slow download never holds a
// connection or a snapshot, and memory stays bounded by one page.
const FeedPage = 1000

// ErrFeedOrder: a page of the feed did not continue strictly after the
// last leaf handed on (or left the requested range). ScanFeed stops on it
// rather than serve the same leaves again, so every response is bounded.
var ErrFeedOrder = errors.New("translog: the feed's leaf order does not advance")

// FeedEvent is one leaf with the event the log copied when it logged it.
type FeedEvent struct {
	Leaf Leaf
	// Present is false when the log holds no copy of the leaf's bytes:
	// only a leaf logged before the copies were kept (migration 0003)
	// whose event had changed or gone by then, or a copy that is not a
	// leaf encoding at all.
	Present bool
	// Event is the logged event (when Present), decoded from the log's
	// copy of the leaf's bytes, with the position the leaf row records.
	Event eventstore.Recorded
}

// ScanFeed calls fn for each logged event that matches f, in log order,
// each leaf once. It serves the log's own copy of each leaf's bytes
// (translog_entries), never the event store's table, so it works the
// same with any event store; whether the store still holds what was
// logged is VerifyDatabase's question. fn never runs while a query is
// open: ScanFeed reads a page of at most f.PageSize (FeedPage) events,
// closes the query, then calls fn for each. It fails with ErrFeedOrder,
// having handed on nothing out of order, if a page does not continue
// strictly after the last leaf handed on.
func ScanFeed(ctx context.Context, q Querier, f FeedFilter, fn func(FeedEvent) error) error {
	return scanFeed(ctx, q, f, readFeedPage, fn)
}

// pageReader reads at most limit leaves matching f with an index above
// after, in leaf order.
type pageReader func(ctx context.Context, q Querier, f FeedFilter, after int64, limit int) ([]FeedEvent, error)

func scanFeed(ctx context.Context, q Querier, f FeedFilter, read pageReader, fn func(FeedEvent) error) error {
	if f.PageSize < 0 || f.Limit < 0 {
		return fmt.Errorf("feed page size %d, limit %d: %w", f.PageSize, f.Limit, ErrInvalid)
	}
	size := cmp.Or(f.PageSize, FeedPage)
	// last is the cursor: the last leaf handed on. Every leaf handed on
	// must be above it, so the cursor strictly advances and no response
	// can repeat itself for ever, whatever a page holds.
	last := f.After
	remaining := f.Limit
	for {
		limit := size
		if f.Limit > 0 {
			limit = min(remaining, size)
		}
		page, err := read(ctx, q, f, last, limit)
		if err != nil {
			return err
		}
		if len(page) > limit {
			return fmt.Errorf("translog: feed: a page of %d leaves after leaf %d, %d asked: %w", len(page), last, limit, ErrFeedOrder)
		}
		for i := range page {
			fe := page[i]
			page[i] = FeedEvent{} // let the event's bytes go once sent
			if fe.Leaf.Index <= last || f.Before > 0 && fe.Leaf.Index >= f.Before {
				return fmt.Errorf("translog: feed: leaf %d came after leaf %d (before %d): %w", fe.Leaf.Index, last, f.Before, ErrFeedOrder)
			}
			last = fe.Leaf.Index
			if err := fn(fe); err != nil {
				return err
			}
		}
		if len(page) < limit {
			return nil
		}
		if f.Limit > 0 {
			if remaining -= len(page); remaining <= 0 {
				return nil
			}
		}
	}
}

// readFeedPage reads one page whole and closes its rows before returning:
// the caller may write to a slow client, and must not hold a connection or
// a snapshot meanwhile.
func readFeedPage(ctx context.Context, q Querier, f FeedFilter, after int64, limit int) ([]FeedEvent, error) {
	var where []string
	args := []any{}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "l.generation = "+activeGeneration, "l.leaf_index > "+arg(after))
	if f.Before > 0 {
		where = append(where, "l.leaf_index < "+arg(f.Before))
	}
	if f.Stream != "" {
		where = append(where, "l.stream = "+arg(f.Stream))
	}
	if f.Type != "" {
		where = append(where, "l.type = "+arg(f.Type))
	}
	if f.Actor != "" {
		where = append(where, "l.actor_id = "+arg(f.Actor))
	}
	for _, r := range []struct {
		col string
		t   time.Time
		op  string
	}{
		{"l.effective_at", f.EffectiveFrom, ">="}, {"l.effective_at", f.EffectiveTo, "<"},
		{"l.recorded_at", f.RecordedFrom, ">="}, {"l.recorded_at", f.RecordedTo, "<"},
	} {
		if !r.t.IsZero() {
			where = append(where, r.col+" "+r.op+" "+arg(r.t.UTC()))
		}
	}
	query := `SELECT l.leaf_index, l.event_id, l.leaf_hash, l.position, l.stream, l.version, l.type, c.entry
FROM translog_leaves l LEFT JOIN translog_entries c ON c.generation = l.generation AND c.leaf_index = l.leaf_index
WHERE ` + strings.Join(where, " AND ") + `
ORDER BY l.leaf_index LIMIT ` + arg(limit)
	return queryFeedPage(ctx, q, query, args, limit)
}

func queryFeedPage(ctx context.Context, q Querier, query string, args []any, limit int) ([]FeedEvent, error) {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("translog: feed: %w", err)
	}
	defer rows.Close()
	page := make([]FeedEvent, 0, limit)
	for rows.Next() {
		var fe FeedEvent
		var h, entry []byte
		if err := rows.Scan(&fe.Leaf.Index, &fe.Leaf.EventID, &h, &fe.Leaf.Position, &fe.Leaf.Stream, &fe.Leaf.Version, &fe.Leaf.Type,
			&entry); err != nil {
			return nil, fmt.Errorf("translog: feed: %w", err)
		}
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("translog: leaf %d: hash has %d bytes", fe.Leaf.Index, len(h))
		}
		fe.Leaf.Hash = tlog.Hash(h)
		if entry != nil {
			if r, err := DecodeLeaf(entry); err == nil {
				// The position is the store's, kept beside the leaf: the
				// encoding leaves it out.
				r.Position, _ = eventstore.ParsePosition(fe.Leaf.Position)
				fe.Present, fe.Event = true, r
			}
		}
		page = append(page, fe)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("translog: feed: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("translog: feed: %w", err)
	}
	return page, nil
}

// EventLeaves returns the leaves of the given events that are below
// before (all leaves when before is 0), by event id.
func EventLeaves(ctx context.Context, q Querier, ids []uuid.UUID, before int64) (map[uuid.UUID]Leaf, error) {
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = id.String()
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	query := `SELECT ` + leafColumns + ` FROM translog_leaves
WHERE generation = ` + activeGeneration + ` AND event_id = ANY($1::uuid[]) AND leaf_index < $2`
	rows, err := q.QueryxContext(ctx, query, pq.StringArray(strs), before)
	if err != nil {
		return nil, fmt.Errorf("translog: leaves of events: %w", err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]Leaf, len(ids))
	for rows.Next() {
		l, err := scanLeaf(rows)
		if err != nil {
			return nil, err
		}
		out[l.EventID] = l
	}
	return out, rows.Err()
}
