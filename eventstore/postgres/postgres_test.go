package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/eventstore/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newStoreAt opens and migrates a store on url, closed when tb ends.
func newStoreAt(tb testing.TB, u string) *postgres.Store {
	tb.Helper()
	return newStoreWith(tb, postgres.Config{URL: u})
}

func newStoreWith(tb testing.TB, cfg postgres.Config) *postgres.Store {
	tb.Helper()
	u := cfg.URL
	s, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := postgres.Migrate(context.Background(), s.DB()); err != nil {
		tb.Fatal(err)
	}
	storeURLs.Store(s, u)
	return s
}

// storeURLs remembers each test store's database, for a second store on it.
var storeURLs sync.Map // *postgres.Store -> string

func newStore(tb testing.TB) *postgres.Store {
	tb.Helper()
	return newStoreAt(tb, pgtest.NewURL(tb))
}

// TestConformance runs the suite on both append paths: group commit (the
// package default) and one transaction per append (what `ledger serve`
// uses unless --group-commit is set).
func TestConformance(t *testing.T) {
	for _, mode := range []struct {
		name string
		off  bool
	}{{"group-commit", false}, {"one-transaction-per-append", true}} {
		t.Run(mode.name, func(t *testing.T) { conformance(t, mode.off) })
	}
}

func conformance(t *testing.T, noGroupCommit bool) {
	var mu sync.Mutex
	urls := map[eventstore.Store]string{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) eventstore.Store {
			u := pgtest.NewURL(t)
			s := newStoreWith(t, postgres.Config{URL: u, NoGroupCommit: noGroupCommit})
			mu.Lock()
			urls[s] = u
			mu.Unlock()
			return s
		},
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			mu.Lock()
			u := urls[s]
			mu.Unlock()
			return newStoreWith(t, postgres.Config{URL: u, NoGroupCommit: noGroupCommit})
		},
		HoldOpen: func(t *testing.T, s eventstore.Store) (func(context.Context, string, eventstore.Event) error, func() error) {
			ps := s.(*postgres.Store)
			var tx *sqlx.Tx
			appendInTx := func(ctx context.Context, stream string, ev eventstore.Event) error {
				var err error
				if tx, err = ps.DB().BeginTxx(ctx, nil); err != nil {
					return err
				}
				_, err = ps.AppendInTx(ctx, tx, stream, eventstore.Any(), []eventstore.Event{ev})
				return err
			}
			commit := func() error {
				if tx == nil {
					return errors.New("no transaction was opened")
				}
				return tx.Commit()
			}
			return appendInTx, commit
		},
	})
}

// TestAppendOnlyForApplicationRole connects as a role with the grants
// docs/eventstore.md prescribes and checks that history cannot be changed
// from SQL, and that even the owner is stopped by the triggers.
func TestAppendOnlyForApplicationRole(t *testing.T) {
	u := pgtest.NewURL(t)
	owner := newStoreAt(t, u)
	ctx := context.Background()
	if _, err := owner.Append(ctx, "roadmap-1", eventstore.NoStream(), []eventstore.Event{{ID: uuid.Must(uuid.NewV7()), Type: "t.v1", Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	role := "ledger_app_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	db := owner.DB()
	var dbname string
	if err := db.Get(&dbname, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD 'app'`, role),
		fmt.Sprintf(`GRANT CONNECT ON DATABASE %s TO %s`, pq.QuoteIdentifier(dbname), role),
		fmt.Sprintf(`GRANT USAGE ON SCHEMA public TO %s`, role),
		fmt.Sprintf(`GRANT SELECT, INSERT ON events TO %s`, role),
		fmt.Sprintf(`GRANT USAGE ON SEQUENCE events_seq_seq TO %s`, role),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		db.Exec(fmt.Sprintf(`DROP OWNED BY %s`, role)) //nolint:errcheck
		db.Exec(fmt.Sprintf(`DROP ROLE %s`, role))     //nolint:errcheck
	})
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	pu.User = url.UserPassword(role, "app")
	app, err := postgres.Open(ctx, postgres.Config{URL: pu.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	// The application role can append.
	if _, err := app.Append(ctx, "roadmap-1", eventstore.Exactly(1), []eventstore.Event{{ID: uuid.Must(uuid.NewV7()), Type: "t.v1", Data: []byte(`{}`)}}); err != nil {
		t.Fatalf("application role cannot append: %v", err)
	}
	for _, tc := range []struct {
		name string
		conn *sqlx.DB
		sql  string
	}{
		{"app update", app.DB(), `UPDATE events SET data = '\x00'`},
		{"app delete", app.DB(), `DELETE FROM events`},
		{"app delete nothing", app.DB(), `DELETE FROM events WHERE false`},
		{"app truncate", app.DB(), `TRUNCATE events`},
		{"app disable trigger", app.DB(), `ALTER TABLE events DISABLE TRIGGER events_no_update_delete`},
		{"owner update", db, `UPDATE events SET type = 'x'`},
		{"owner delete", db, `DELETE FROM events`},
		{"owner truncate", db, `TRUNCATE events`},
		{"owner update as replica", db, `SET session_replication_role = replica; UPDATE events SET type = 'x'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.conn.Exec(tc.sql); err == nil {
				t.Fatalf("%s succeeded; want it rejected", tc.sql)
			}
		})
	}
	db.Exec(`SET session_replication_role = origin`) //nolint:errcheck
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM events WHERE type = 't.v1'`); err != nil || n != 2 {
		t.Fatalf("events after the attempts: %d (%v), want 2 unchanged", n, err)
	}
}

// TestRefusesStoreFromTheFuture simulates a logical restore into a cluster
// whose transaction counter is behind the stored events.
func TestRefusesStoreFromTheFuture(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := postgres.CheckTransactionIDs(ctx, s.DB()); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	// Only a superuser with the triggers bypassed could plant this row;
	// a restore from a dump does the equivalent.
	if _, err := s.DB().Exec(`INSERT INTO events (tx_id, event_id, stream_id, version, type, data, metadata)
OVERRIDING SYSTEM VALUE VALUES ('999999999999'::xid8, gen_random_uuid(), 's', 1, 't.v1', '', '')`); err != nil {
		t.Fatal(err)
	}
	err := postgres.CheckTransactionIDs(ctx, s.DB())
	if !errors.Is(err, postgres.ErrTransactionIDsBehind) {
		t.Fatalf("got %v, want ErrTransactionIDsBehind", err)
	}
	if !strings.Contains(err.Error(), "pg_resetwal -e") {
		t.Fatalf("the error does not say how to fix it: %v", err)
	}
}

func TestMigrateTwice(t *testing.T) {
	s := newStore(t)
	if err := postgres.Migrate(context.Background(), s.DB()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

// TestGlobalOrderIsNumeric guards against sorting transaction ids as text
// ("10" before "9"): rows planted with ids across powers of ten, all below
// the server's current transaction id so they are readable, must come back
// in numeric order from ReadAll and Head.
func TestGlobalOrderIsNumeric(t *testing.T) {
	s := newStore(t)
	for _, tx := range []string{"100", "9", "99", "10"} {
		if _, err := s.DB().Exec(`INSERT INTO events (tx_id, event_id, stream_id, version, type, data, metadata)
VALUES ($1::xid8, gen_random_uuid(), 's-' || $1, 1, 't.v1', '', '')`, tx); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.ReadAll(context.Background(), eventstore.Start, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, r := range recs {
		got = append(got, r.Position.Commit)
	}
	if fmt.Sprint(got) != "[9 10 99 100]" {
		t.Fatalf("ReadAll order %v, want [9 10 99 100]", got)
	}
	head, err := s.Head(context.Background())
	if err != nil || head.Commit != 100 {
		t.Fatalf("Head = %v (%v), want commit 100", head, err)
	}
	if page, _ := s.ReadAll(context.Background(), recs[2].Position, 1); len(page) != 1 || page[0].Position.Commit != 100 {
		t.Fatalf("ReadAll after 99: %v, want the event of transaction 100", page)
	}
}
