package storetest_test

// TEMPORARY probe of the postgres adapter's ReadAll rule. Deleted before handing back.

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
)

func TestScratchProbe(t *testing.T) {
	base := os.Getenv("SCRATCH_PG")
	if base == "" {
		t.Skip()
	}
	ctx := context.Background()
	admin := sqlx.MustOpen("postgres", base+"/postgres?sslmode=disable")
	defer admin.Close()
	name := fmt.Sprintf("probe_%d", time.Now().UnixNano())
	admin.MustExec("CREATE DATABASE " + name)
	url := base + "/" + name + "?sslmode=disable"
	s, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := postgres.Migrate(ctx, s.DB()); err != nil {
		t.Fatal(err)
	}
	db := sqlx.MustOpen("postgres", url)
	defer db.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			stream := fmt.Sprintf("w%d", w)
			for v := int64(0); ; v++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := s.Append(ctx, stream, eventstore.Exactly(v), []eventstore.Event{{ID: uuid.New(), Type: "t"}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	const q = `SELECT tx_id::text, seq, pg_current_snapshot()::text, txid_current_if_assigned() FROM events
WHERE (tx_id, seq) > ($1::text::xid8, $2::bigint)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY tx_id, seq LIMIT 64`
	var aTx uint64
	var aSeq int64
	var lastSnap string
	deadline := time.Now().Add(8 * time.Second)
	n := 0
	qn := 0
	for time.Now().Before(deadline) {
		qn++
		after := fmt.Sprintf("%d/%d", aTx, aSeq)
		rows, err := db.Query(q, strconv.FormatUint(aTx, 10), aSeq)
		if err != nil {
			t.Fatal(err)
		}
		var page []string
		for rows.Next() {
			var tx string
			var seq int64
			var snap string
			var cur any
			rows.Scan(&tx, &seq, &snap, &cur)
			x, _ := strconv.ParseUint(tx, 10, 64)
			if x < aTx || (x == aTx && seq <= aSeq) {
				t.Errorf("query %d (after %s): row %d/%d follows %d/%d; snap %s (prev row's snap %s); page so far %v", qn, after, x, seq, aTx, aSeq, snap, lastSnap, page)
			}
			page = append(page, tx+"/"+strconv.FormatInt(seq, 10))
			aTx, aSeq, lastSnap = x, seq, snap
			n++
		}
		rows.Close()
	}
	close(stop)
	wg.Wait()
	// Now check: every row read? compare count
	var total int
	db.Get(&total, "select count(*) from events")
	t.Logf("read %d rows, table has %d", n, total)
	// find rows with tx_id < last read but never read: count rows <= (aTx,aSeq)
	var below int
	db.Get(&below, "select count(*) from events where (tx_id, seq) <= ($1::text::xid8, $2::bigint)", strconv.FormatUint(aTx, 10), aSeq)
	t.Logf("rows at or before the last read position: %d (read %d)", below, n)
}
