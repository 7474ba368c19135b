package kurrentdb_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"promiseledger/eventstore"
	"promiseledger/eventstore/kurrentdb"
	"promiseledger/eventstore/storetest"
)

// testLogger shows the adapter's warnings with go test -v. It does not log
// through t: subscriptions may still log while a test ends.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// namespace returns a stream prefix no other test uses: the store sees only
// the streams that start with it, so it works on a log of its own even on a
// shared server.
func namespace(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "storetest-" + hex.EncodeToString(b) + "-"
}

// open opens a store, closed when t ends.
func open(t testing.TB, cfg kurrentdb.Config) *kurrentdb.Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	s, err := kurrentdb.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// harness runs the conformance suite on stores that newConfig describes:
// Reopen opens a second store (a new client) with the same configuration.
func harness(newConfig func(t *testing.T) kurrentdb.Config) storetest.Harness {
	var (
		mu      sync.Mutex
		configs = map[eventstore.Store]kurrentdb.Config{}
	)
	return storetest.Harness{
		New: func(t *testing.T) eventstore.Store {
			cfg := newConfig(t)
			s := open(t, cfg)
			mu.Lock()
			configs[s] = cfg
			mu.Unlock()
			return s
		},
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			mu.Lock()
			cfg, ok := configs[s]
			mu.Unlock()
			if !ok {
				t.Fatal("Reopen: the store was not made by New")
			}
			return open(t, cfg)
		},
		// KurrentDB has no transactions a test could hold open: an append
		// is visible once it is acknowledged, in log order.
		HoldOpen: nil,
	}
}

// namespaced is a harness over one server: each store works in a stream
// namespace of its own, which is what makes the suite's assertions on
// ReadAll and Head meaningful on a shared server.
func namespaced(url string) storetest.Harness {
	return harness(func(t *testing.T) kurrentdb.Config {
		return kurrentdb.Config{URL: url, StreamPrefix: namespace(t)}
	})
}
