package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgtest"
)

// bystander opens a transaction on u that writes a row of a table of its own
// (so it holds a transaction id) and stays open until the test ends or the
// returned func is called.
func bystander(t *testing.T, u string) (end func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlx.Open("postgres", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bystander_rows (x int)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bystander_rows VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	end = func() { once.Do(func() { _ = tx.Rollback() }) }
	t.Cleanup(end)
	return end
}

// readAllEventually reads the log from the start until it holds at least
// want events, for up to 10 s, and returns what it read last.
func readAllEventually(t *testing.T, s eventstore.Store, want int) []eventstore.Recorded {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := s.ReadAll(context.Background(), eventstore.Start, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBystandersDoNotHoldTheLogBack: a transaction that writes something
// other than events (a projector writing its read model, a settle, an idle
// BEGIN after an UPDATE in psql), in this database or in another one of the
// cluster, no longer keeps the events committed after it from readers. Under
// the rule before migration 0002 (pg_snapshot_xmin) every reader below waited
// for both bystanders.
func TestBystandersDoNotHoldTheLogBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := pgtest.NewURL(t)
	s := newStoreAt(t, u)
	endHere := bystander(t, u)
	endElsewhere := bystander(t, pgtest.NewURL(t))

	evs := appendAllEvents(3, "after-the-bystanders")
	res, err := s.Append(ctx, "horizon-bystanders", eventstore.NoStream(), evs)
	if err != nil {
		t.Fatal(err)
	}
	// A transaction of a parallel test that ends between a read's snapshot
	// and its look at pg_locks holds that one read back: poll a while.
	// Under the old rule no read returns anything while the bystanders
	// stay open.
	if got := readAllEventually(t, s, len(evs)); len(got) != len(evs) {
		t.Fatalf("ReadAll while two bystanders are open: %d events, want %d", len(got), len(evs))
	}
	eventually := func(what string, ok func() (bool, error)) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			done, err := ok()
			if err != nil {
				t.Fatal(err)
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%s while two bystanders are open: never", what)
				return
			}
		}
	}
	eventually("Head reaching the append", func() (bool, error) {
		head, err := s.Head(ctx)
		return head == res.Last, err
	})
	eventually("CountAfter counting the append", func() (bool, error) {
		n, err := s.CountAfter(ctx, eventstore.Start)
		return n == int64(len(evs)), err
	})
	endHere()
	endElsewhere()
}

// TestAppendMustComeFirstInATransaction: a transaction that wrote something
// else before its first append could have been running, without the
// appender mark, in a reader's snapshot; the readers would have read past its
// transaction id. The database refuses such an append (and the transaction
// writes nothing); appending first and writing after is fine, and so is a
// second append in the same transaction.
func TestAppendMustComeFirstInATransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := pgtest.NewURL(t)
	s := newStoreAt(t, u)
	db := s.DB()
	if _, err := db.ExecContext(ctx, `CREATE TABLE other_rows (x int)`); err != nil {
		t.Fatal(err)
	}
	refused := func(name string, before func(tx *sqlx.Tx) error) {
		t.Helper()
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // the append failed
		if err := before(tx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = s.AppendInTx(ctx, tx, "horizon-"+strings.ReplaceAll(name, " ", "-"), eventstore.NoStream(), appendAllEvents(1, name))
		if err == nil || !strings.Contains(err.Error(), "events must be appended before the transaction writes anything else") {
			t.Errorf("%s: AppendInTx = %v, want the database's refusal", name, err)
		}
	}
	refused("after another write", func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO other_rows VALUES (1)`)
		return err
	})
	refused("after a transaction id was taken", func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_current_xact_id()`)
		return err
	})
	// A setting a session can set proves nothing: the trigger looks at the
	// backend's own locks.
	refused("with a forged setting", func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT set_config('promiseledger.appender', 'on', true)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO other_rows VALUES (1)`)
		return err
	})
	// The mark taken inside a savepoint that rolled back is gone with it,
	// while the transaction keeps its id: refused too.
	refused("after a rolled back savepoint", func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT a`); err != nil {
			return err
		}
		if _, err := s.AppendInTx(ctx, tx, "horizon-savepoint", eventstore.NoStream(), appendAllEvents(1, "savepoint")); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT a`)
		return err
	})

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendInTx(ctx, tx, "horizon-first", eventstore.NoStream(), appendAllEvents(1, "first")); err != nil {
		t.Fatalf("first append of a transaction: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO other_rows VALUES (2)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendInTx(ctx, tx, "horizon-second", eventstore.NoStream(), appendAllEvents(2, "second")); err != nil {
		t.Fatalf("second append of a transaction that appended first: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got := readAllEventually(t, s, 3)
	var streams []string
	for _, r := range got {
		streams = append(streams, r.Stream)
	}
	if want := []string{"horizon-first", "horizon-second", "horizon-second"}; fmt.Sprint(streams) != fmt.Sprint(want) {
		t.Errorf("the log holds %v, want %v (nothing of the refused appends)", streams, want)
	}
}

// TestTailNeverSkipsUnderMixedTransactions is the ordering rule as a
// property: appenders that hold their transactions open for a while (some
// rolling back, some writing other rows after appending), group-committed
// appends and bystander transactions run together while a tailer reads the
// log page by page from its last position. The tailer must end with exactly
// the committed log, in order: no event skipped, none twice. A horizon that
// counted a running appender as a bystander lets the tailer read past a
// transaction that commits later, and fails here. A horizon that matched
// an appender's mark to its id lock by virtual transaction (which a
// committing backend clears while it still holds both) failed about half
// of the rounds: three rounds run.
func TestTailNeverSkipsUnderMixedTransactions(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		t.Run(fmt.Sprintf("round-%d", round), tailUnderMixedTransactions)
	}
}

func tailUnderMixedTransactions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	u := pgtest.NewURL(t)
	s := newStoreAt(t, u)
	db := s.DB()
	if _, err := db.ExecContext(ctx, `CREATE TABLE side_rows (x int)`); err != nil {
		t.Fatal(err)
	}
	const run = 3 * time.Second
	stop := time.Now().Add(run)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	sleep := func(r *rand.Rand, max time.Duration) { time.Sleep(time.Duration(r.Int64N(int64(max)))) }

	for w := range 4 { // appenders holding their transactions open
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; time.Now().Before(stop); i++ {
				tx, err := db.BeginTxx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				stream := fmt.Sprintf("held-%d-%d", w, i)
				if _, err := s.AppendInTx(ctx, tx, stream, eventstore.NoStream(), appendAllEvents(1+r.IntN(3), stream)); err != nil {
					_ = tx.Rollback()
					errs <- err
					return
				}
				if r.IntN(3) == 0 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO side_rows VALUES (1)`); err != nil {
						_ = tx.Rollback()
						errs <- err
						return
					}
				}
				// Half of them commit quickly: a commit racing a reader's
				// look at pg_locks is where a horizon goes wrong.
				sleep(r, []time.Duration{40 * time.Millisecond, 2 * time.Millisecond}[w%2])
				if r.IntN(8) == 0 {
					err = tx.Rollback()
				} else {
					err = tx.Commit()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for w := range 4 { // short appends, grouped
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				stream := fmt.Sprintf("quick-%d-%d", w, i)
				if _, err := s.Append(ctx, stream, eventstore.NoStream(), appendAllEvents(1, stream)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for w := range 2 { // bystanders
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 2))
			for time.Now().Before(stop) {
				tx, err := db.BeginTxx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO side_rows VALUES (2)`); err != nil {
					_ = tx.Rollback()
					errs <- err
					return
				}
				sleep(r, 60*time.Millisecond)
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}

	var tailed []uuid.UUID
	after := eventstore.Start
	tail := func() (int, error) {
		page, err := s.ReadAll(ctx, after, 7)
		if err != nil {
			return 0, err
		}
		for _, r := range page {
			if !after.Less(r.Position) {
				return 0, fmt.Errorf("ReadAll after %v returned %v", after, r.Position)
			}
			tailed = append(tailed, r.ID)
			after = r.Position
		}
		return len(page), nil
	}
	for time.Now().Before(stop) {
		if _, err := tail(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for {
		n, err := tail()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}

	var committed []uuid.UUID
	if err := db.SelectContext(ctx, &committed, `SELECT event_id FROM events ORDER BY tx_id, seq`); err != nil {
		t.Fatal(err)
	}
	if len(committed) < 100 {
		t.Fatalf("only %d events were committed in %s: the test proves little", len(committed), run)
	}
	if len(tailed) != len(committed) {
		t.Fatalf("the tailer read %d events, the log holds %d", len(tailed), len(committed))
	}
	for i := range committed {
		if tailed[i] != committed[i] {
			t.Fatalf("event %d: the tailer read %s, the log holds %s", i, tailed[i], committed[i])
		}
	}
	t.Logf("%d events tailed in order", len(tailed))
}
