package pgdemo_test

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/commands/demo"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.NewURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := postgres.Migrate(context.Background(), s.DB()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLoadIntoPostgres loads the full data set (a small one with -short),
// reports how long it took, and checks that PostgreSQL ends up holding
// exactly what the memory store holds for the same Config.
func TestLoadIntoPostgres(t *testing.T) {
	cfg := demo.Config{Seed: 1, Now: time.Date(2026, time.November, 15, 9, 0, 0, 0, time.UTC)}
	if testing.Short() {
		cfg.Scale = 0.05
	}
	ctx := context.Background()
	store := newStore(t)
	stats, err := demo.Load(ctx, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d events into PostgreSQL in %s: %+v", stats.Events, stats.Elapsed, stats)

	again, err := demo.Load(ctx, store, cfg)
	if err != nil || !again.AlreadyLoaded {
		t.Errorf("second Load: %+v, %v; want AlreadyLoaded", again, err)
	}

	mem := memory.New()
	t.Cleanup(func() { _ = mem.Close() })
	if _, err := demo.Load(ctx, mem, cfg); err != nil {
		t.Fatal(err)
	}
	pg, inMemory := readAll(t, store), readAll(t, mem)
	if len(pg) != stats.Events {
		t.Errorf("PostgreSQL holds %d events, Load appended %d", len(pg), stats.Events)
	}
	if fingerprint(pg) != fingerprint(inMemory) {
		t.Error("PostgreSQL and the memory store hold different data for the same Config")
	}
}

type allReader interface {
	commands.EventStore
	ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error)
}

func readAll(t *testing.T, store allReader) []eventstore.Recorded {
	t.Helper()
	var all []eventstore.Recorded
	after := eventstore.Start
	for {
		page, err := store.ReadAll(context.Background(), after, eventstore.DefaultPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}

// fingerprint hashes every event's stream, version, id, type, data and
// metadata in (stream, version) order; positions and storage times belong
// to the store, not to the data.
func fingerprint(records []eventstore.Recorded) string {
	sorted := slices.Clone(records)
	slices.SortFunc(sorted, func(a, b eventstore.Recorded) int {
		return cmp.Or(strings.Compare(a.Stream, b.Stream), cmp.Compare(a.Version, b.Version))
	})
	h := sha256.New()
	for _, r := range sorted {
		for _, part := range [][]byte{[]byte(r.Stream), r.ID[:], []byte(r.Type), r.Data, r.Metadata} {
			h.Write(binary.AppendUvarint(nil, uint64(len(part))))
			h.Write(part)
		}
		h.Write(binary.AppendVarint(nil, r.Version))
	}
	return hex.EncodeToString(h.Sum(nil))
}
