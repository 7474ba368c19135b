package translog_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

// TestScanFeedHoldsNoQueryWhileCalling: fn (which writes to a slow client)
// runs with no query open. With a pool of one connection, fn can only
// query the database if ScanFeed has given the connection back.
func TestScanFeedHoldsNoQueryWhileCalling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 30)
	e.CatchUp(t, 100)
	db, err := sqlx.Open("postgres", e.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	for _, f := range []translog.FeedFilter{{After: -1}, {After: -1, Limit: 7}, {After: -1, Stream: logtest.Stream(1)}} {
		n := 0
		err := translog.ScanFeed(ctx, db, f, func(fe translog.FeedEvent) error {
			n++
			// Waits for the only connection: ScanFeed must not hold it.
			qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			var one int
			if err := db.QueryRowContext(qctx, `SELECT 1`).Scan(&one); err != nil {
				t.Fatalf("filter %+v, leaf %d: a query while the callback runs: %v", f, fe.Leaf.Index, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("filter %+v: no events", f)
		}
	}
}

// scanAll runs ScanFeed and returns the leaf indexes it handed on. It
// fails the test as soon as more leaves come than the log holds, so a
// feed that repeats itself fails instead of running for ever.
func scanAll(t *testing.T, e *logtest.Env, f translog.FeedFilter) []int64 {
	t.Helper()
	size, err := translog.Size(context.Background(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	err = translog.ScanFeed(context.Background(), e.DB, f, func(fe translog.FeedEvent) error {
		if got = append(got, fe.Leaf.Index); int64(len(got)) > size {
			return fmt.Errorf("more than the %d leaves of the log, the last ones %v", size, got[len(got)-5:])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("filter %+v: %v", f, err)
	}
	return got
}

// TestScanFeedEndsAndHoldsEachLeafOnce: over many pages, with and without
// every filter, the feed ends and holds exactly the matching leaves, each
// once and in order. It once read the next cursor from a page it had
// already blanked, and served the first page again for ever.
func TestScanFeedEndsAndHoldsEachLeafOnce(t *testing.T) {
	t.Parallel()
	e := logtest.New(t)
	e.Append(t, 130)
	e.CatchUp(t, 100)
	at := func(i int) time.Time { return logtest.Base.Add(time.Duration(i) * time.Hour) }
	// The reference: every leaf, in one page (no cursor involved), with
	// the filter's fields as the log copied them.
	type leafFields struct {
		index               int64
		stream, typ, actor  string
		effective, recorded time.Time
	}
	var all []leafFields
	rows, err := e.DB.Query(`SELECT leaf_index, stream, type, actor_id, effective_at, recorded_at FROM translog_leaves ORDER BY leaf_index`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var l leafFields
		if err := rows.Scan(&l.index, &l.stream, &l.typ, &l.actor, &l.effective, &l.recorded); err != nil {
			t.Fatal(err)
		}
		all = append(all, l)
	}
	rows.Close()
	for _, tc := range []struct {
		name  string
		f     translog.FeedFilter
		match func(leafFields) bool
	}{
		{"all", translog.FeedFilter{}, func(leafFields) bool { return true }},
		{"stream", translog.FeedFilter{Stream: logtest.Stream(3)}, func(l leafFields) bool { return l.stream == logtest.Stream(3) }},
		{"type", translog.FeedFilter{Type: "indicator.progress_reported.v1"}, func(l leafFields) bool { return true }},
		{"actor", translog.FeedFilter{Actor: "officer-2"}, func(l leafFields) bool { return l.actor == "officer-2" }},
		{"effective", translog.FeedFilter{EffectiveFrom: at(10), EffectiveTo: at(90)}, func(l leafFields) bool {
			return !l.effective.Before(at(10)) && l.effective.Before(at(90))
		}},
		{"recorded", translog.FeedFilter{RecordedFrom: at(20), RecordedTo: at(100)}, func(l leafFields) bool {
			return !l.recorded.Before(at(20)) && l.recorded.Before(at(100))
		}},
		{"before", translog.FeedFilter{Before: 77}, func(l leafFields) bool { return l.index < 77 }},
		{"after", translog.FeedFilter{After: 40}, func(l leafFields) bool { return l.index > 40 }},
	} {
		if tc.f.After == 0 {
			tc.f.After = -1
		}
		var want []int64
		for _, l := range all {
			if tc.match(l) && l.index > tc.f.After {
				want = append(want, l.index)
			}
		}
		for _, page := range []int{0, 2, 5, 1000} {
			f := tc.f
			f.PageSize = page
			if page > 0 && page < 10 && len(want) <= 3*page {
				t.Fatalf("%s: %d matching leaves do not make three pages of %d", tc.name, len(want), page)
			}
			if got := scanAll(t, e, f); !slices.Equal(got, want) {
				t.Errorf("%s, pages of %d: leaves %v, want %v", tc.name, page, got, want)
			}
			// A limit across pages stops at the limit.
			f.Limit = min(len(want), 2*max(page, 1)+1)
			if got := scanAll(t, e, f); !slices.Equal(got, want[:f.Limit]) {
				t.Errorf("%s, pages of %d, limit %d: leaves %v, want %v", tc.name, page, f.Limit, got, want[:f.Limit])
			}
		}
	}
}

// TestScanFeedAtTheRealPageSize: the whole feed of more than three pages
// of FeedPage ends and holds every leaf once.
func TestScanFeedAtTheRealPageSize(t *testing.T) {
	t.Parallel()
	e := logtest.New(t)
	n := 3*translog.FeedPage + 123
	e.AppendMany(t, n)
	e.CatchUp(t, 1000)
	got := scanAll(t, e, translog.FeedFilter{After: -1})
	if len(got) != n {
		t.Fatalf("%d leaves, want %d", len(got), n)
	}
	for i, idx := range got {
		if idx != int64(i) {
			t.Fatalf("leaf %d at place %d", idx, i)
		}
	}
}
