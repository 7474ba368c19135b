package storetest_test

// TEMPORARY: runs the suite against the in-progress postgres adapter on a
// throwaway server. Deleted before handing back.

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/storetest"
)

var (
	scratchMu sync.Mutex
	scratchN  atomic.Int64
)

func TestScratchPostgres(t *testing.T) {
	base := os.Getenv("SCRATCH_PG")
	if base == "" {
		t.Skip()
	}
	admin, err := sqlx.Open("postgres", base+"/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	urls := map[eventstore.Store]string{}
	var urlsMu sync.Mutex
	open := func(t *testing.T, url string) *postgres.Store {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) eventstore.Store {
			name := fmt.Sprintf("st_%d_%d", os.Getpid(), scratchN.Add(1))
			scratchMu.Lock()
			_, err := admin.Exec("CREATE DATABASE " + name)
			scratchMu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			url := base + "/" + name + "?sslmode=disable"
			s := open(t, url)
			if err := postgres.Migrate(context.Background(), s.DB()); err != nil {
				t.Fatal(err)
			}
			urlsMu.Lock()
			urls[s] = url
			urlsMu.Unlock()
			return s
		},
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			urlsMu.Lock()
			url := urls[s]
			urlsMu.Unlock()
			return open(t, url)
		},
		HoldOpen: func(t *testing.T, s eventstore.Store) (func(context.Context, string, eventstore.Event) error, func() error) {
			ps := s.(*postgres.Store)
			var tx *sqlx.Tx
			return func(ctx context.Context, stream string, ev eventstore.Event) error {
					var err error
					tx, err = ps.DB().BeginTxx(ctx, nil)
					if err != nil {
						return err
					}
					_, err = ps.AppendInTx(ctx, tx, stream, eventstore.Any(), []eventstore.Event{ev})
					return err
				}, func() error {
					if tx == nil {
						return fmt.Errorf("no tx")
					}
					return tx.Commit()
				}
		},
	})
}
