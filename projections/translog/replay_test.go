package translog_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"promiseledger/eventstore"
	"promiseledger/projections"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

// appendHostile appends events whose streams, types, data and metadata
// carry what COPY's text format escapes or a careless encoder mangles:
// tabs, newlines, backslashes, `\N`, NUL and invalid UTF-8 in the bytes,
// bidi controls, a field of 1 MiB, actor ids too long or unfit for text,
// times with nanoseconds, an offset, or out of PostgreSQL's range, and
// metadata that is not JSON at all.
func appendHostile(t *testing.T, e *logtest.Env) {
	t.Helper()
	ctx := context.Background()
	metas := []string{
		`{"actor_id":"tab\there\\N\r\nnewline \\ backslash","effective_at":"2021-03-01T00:00:00.123456789Z","recorded_at":"2021-03-01T05:45:00+05:45"}`,
		`{"actor_id":"\u202eevil\u202c \u0000nul","effective_at":"0000-01-01T00:00:00Z","recorded_at":"not a time"}`,
		`{"actor_id":"` + strings.Repeat("я", 300) + `","effective_at":"9999-12-31T23:59:59.999999999Z"}`,
		`{"actor_id":"","effective_at":"","recorded_at":null}`,
		`{"ACTOR_ID":"case","Effective_At":"2022-01-01T00:00:00Z"}`,
		"not json \\N\t\x00\xff",
		``,
		`{"actor_id":"\\N"}`,
	}
	datas := [][]byte{{0, 0xff, '\t', '\\', 'N', '\n', 0x80}, []byte(`\N`), nil, bytesOf(1<<20, 'x')}
	streams := []string{"s\t\\N\r\nb", "roadmap-Ақмола/😀\u200f", `\`, "plain"}
	for i, m := range metas {
		ev := eventstore.Event{ID: uuid.Must(uuid.NewV7()), Type: fmt.Sprintf("t\\%d\t.v1\u202e", i),
			Data: datas[i%len(datas)], Metadata: []byte(m)}
		if _, err := e.Store.Append(ctx, streams[i%len(streams)], eventstore.Any(), []eventstore.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
}

func bytesOf(n int, b byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// logRows dumps every row of generation gen in the log's tables, each as
// PostgreSQL's text of the row (NULL and the empty string differ), in key
// order.
func logRows(t *testing.T, e *logtest.Env, gen int) map[string][]string {
	t.Helper()
	queries := map[string]string{
		"translog_leaves": `SELECT row(leaf_index, event_id, position, leaf_hash, stream, version, type, actor_id, effective_at, recorded_at)::text
FROM translog_leaves WHERE generation = $1 ORDER BY leaf_index`,
		"translog_entries": `SELECT row(leaf_index, entry)::text FROM translog_entries WHERE generation = $1 ORDER BY leaf_index`,
		"translog_hashes":  `SELECT row(hash_index, hash)::text FROM translog_hashes WHERE generation = $1 ORDER BY hash_index`,
	}
	out := map[string][]string{}
	for table, q := range queries {
		var rows []string
		if err := e.DB.Select(&rows, q, gen); err != nil {
			t.Fatal(err)
		}
		out[table] = rows
	}
	return out
}

// TestReplayWritesWhatApplyWrites: the replay (a rebuild's and a first
// start's path, which writes with COPY) and Apply (the page path, which
// writes with array parameters) store the same rows in every table of the
// log, byte for byte and NULL for NULL, hostile text included, whatever
// the pages and transactions: the same leaves, entries and tree hashes, so
// the same tiles, proofs and signed checkpoints.
func TestReplayWritesWhatApplyWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 300)
	appendHostile(t, e)
	e.AppendMany(t, 1700)
	appendHostile(t, e)
	e.Append(t, 57)
	events := e.Events(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for {
		e.CatchUp(t, 1+rng.IntN(300)) // the page path into generation 1
		if n, _ := translog.Size(ctx, e.DB); n == int64(len(events)) {
			break
		}
	}
	want := logRows(t, e, 1)
	if len(want["translog_leaves"]) != len(events) || len(want["translog_entries"]) != len(events) {
		t.Fatalf("the page path logged %d leaves and %d entries of %d events", len(want["translog_leaves"]), len(want["translog_entries"]), len(events))
	}
	ref := newReference(t, events)
	if got := storedHashes(t, e, 1); !slices.Equal(got, ref.hashes) {
		t.Fatalf("the page path stored %d hashes, want %d; first difference at %d", len(got), len(ref.hashes), firstDiff(got, ref.hashes))
	}

	// Replays into fresh generations, pages of every size from one event
	// to all of them, over one transaction or several.
	for gen, pages := range map[int][]int{
		2: {len(events)},
		3: {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, len(events)},
		4: {256, 255, 257, 1, 511, 513, len(events)},
	} {
		rest, perTx := events, 1+gen%3
		for len(rest) > 0 {
			tx, err := e.DB.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			rp := translog.Projector{}.NewReplay(gen)
			for k := 0; k < perTx && len(rest) > 0; k++ {
				n := min(pages[0], len(rest))
				if len(pages) > 1 {
					pages = pages[1:]
				}
				if err := rp.Apply(ctx, tx, rest[:n]); err != nil {
					t.Fatalf("generation %d: replay of %d events: %v", gen, n, err)
				}
				rest = rest[n:]
			}
			if err := rp.Flush(ctx, tx); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		got := logRows(t, e, gen)
		for table, rows := range want {
			if i := firstDiffString(got[table], rows); i >= 0 {
				t.Errorf("generation %d, %s: %d rows, want %d; first difference at row %d:\n%s\nwant\n%s",
					gen, table, len(got[table]), len(rows), i, at(got[table], i), at(rows, i))
			}
		}
	}
}

func firstDiffString(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func at(rows []string, i int) string {
	if i >= len(rows) {
		return "(none)"
	}
	if r := rows[i]; len(r) > 400 {
		return r[:400] + "…"
	}
	return rows[i]
}

// TestReplayRefusesAGenerationThatHoldsTheEvents: COPY, like the page
// path's INSERT, never logs an event twice; a replay given events its
// generation holds already fails and writes nothing.
func TestReplayRefusesAGenerationThatHoldsTheEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 50)
	e.CatchUp(t, 20)
	events := e.Events(t)
	before := logRows(t, e, 1)
	for _, from := range []int{0, 10, 49} {
		tx, err := e.DB.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := (translog.Projector{}).NewReplay(1).Apply(ctx, tx, events[from:]); err == nil {
			t.Errorf("a replay of events %d.. into the generation that holds them succeeded", from)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
	if after := logRows(t, e, 1); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("the generation changed")
	}
}

// TestReplayThatFailsMidPageWritesNothing: when a leaf of a page cannot
// be computed (the replay computes while it copies the leaves before),
// the replay says which event, its goroutine ends, and the transaction,
// rolled back as a failed replay's is, leaves the generation as it was;
// the page path then logs the same events as if nothing had happened.
func TestReplayThatFailsMidPageWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.AppendMany(t, 1500)
	events := e.Events(t)
	boom := errors.New("boom")
	for _, k := range []int{0, 1, 511, 512, 513, 1000, len(events) - 1} {
		tx, err := e.DB.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = translog.NewReplayFailingAt(1, events[k], boom).Apply(ctx, tx, events)
		var ee *projections.EventError
		if !errors.As(err, &ee) || ee.Event.ID != events[k].ID || !errors.Is(err, boom) {
			t.Fatalf("failing at event %d: %v", k, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
	for table, rows := range logRows(t, e, 1) {
		if len(rows) != 0 {
			t.Fatalf("%s holds %d rows after failed replays", table, len(rows))
		}
	}
	e.CatchUp(t, 400)
	ref := newReference(t, events)
	if got := storedHashes(t, e, 1); !slices.Equal(got, ref.hashes) {
		t.Fatalf("stored %d hashes, want %d; first difference at %d", len(got), len(ref.hashes), firstDiff(got, ref.hashes))
	}
}
