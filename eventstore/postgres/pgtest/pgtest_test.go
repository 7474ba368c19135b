package pgtest_test

import (
	"sync"
	"testing"

	"promiseledger/eventstore/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestFreshDatabases runs two parallel tests that each must get a database
// of their own, empty, and usable.
func TestFreshDatabases(t *testing.T) {
	var (
		mu    sync.Mutex
		names = map[string]string{}
	)
	t.Run("group", func(t *testing.T) {
		for _, sub := range []string{"a", "b"} {
			t.Run(sub, func(t *testing.T) {
				t.Parallel()
				db := pgtest.NewDatabase(t)
				var name string
				var port, tables int
				if err := db.QueryRowx(`SELECT current_database(), inet_server_port(),
					(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &port, &tables); err != nil {
					t.Fatal(err)
				}
				t.Logf("database %s on port %d", name, port)
				if tables != 0 {
					t.Errorf("database %s is not empty: %d tables", name, tables)
				}
				// Would collide if the two tests shared a database.
				db.MustExec(`CREATE TABLE ledger (id bigint PRIMARY KEY)`)
				db.MustExec(`INSERT INTO ledger VALUES (1)`)
				mu.Lock()
				names[sub] = name
				mu.Unlock()
			})
		}
	})
	if len(names) != 2 || names["a"] == names["b"] {
		t.Errorf("databases not distinct: %v", names)
	}
}

func TestNewURL(t *testing.T) {
	a, b := pgtest.NewURL(t), pgtest.NewURL(t)
	if a == b {
		t.Errorf("two calls returned the same URL %s", a)
	}
}

// BenchmarkNewDatabase measures what each test pays for its database.
func BenchmarkNewDatabase(b *testing.B) {
	for b.Loop() {
		db := pgtest.NewDatabase(b)
		if err := db.Ping(); err != nil {
			b.Fatal(err)
		}
		db.Close() // keep connections from piling up until the benchmark ends
	}
}
