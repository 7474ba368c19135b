package translog_test

import (
	"context"
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
