package demo_test

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

	"promiseledger/commands/demo"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

// now is "today" for the tests: late 2026, after the term ended.
var now = time.Date(2026, time.November, 15, 9, 0, 0, 0, time.UTC)

// smallScale keeps the tests that load several data sets fast; the
// full-scale test is TestFullScale.
const smallScale = 0.05

func config(seed int64) demo.Config {
	return demo.Config{Seed: seed, Now: now, Scale: smallScale}
}

// load loads the demo into a fresh memory store.
func load(t *testing.T, cfg demo.Config) (*memory.Store, demo.Stats) {
	t.Helper()
	store := memory.New()
	t.Cleanup(func() { _ = store.Close() })
	stats, err := demo.Load(context.Background(), store, cfg)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return store, stats
}

// readAll returns every event of the store in global order.
func readAll(t *testing.T, store eventstore.Store) []eventstore.Recorded {
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

// fingerprint hashes what a data set is: every event's stream, version, id,
// type, data and metadata. Events are taken in (stream, version) order:
// the global order interleaves concurrently loaded roadmaps differently
// from run to run, and positions and storage times belong to the store,
// not to the data.
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

// decoded is a stored event with its domain event.
type decoded struct {
	eventstore.Recorded
	domain.Envelope
}

func decodeAll(t *testing.T, records []eventstore.Recorded) []decoded {
	t.Helper()
	out := make([]decoded, len(records))
	for i, r := range records {
		e, m, err := domain.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatalf("decode %s %s: %v", r.Stream, r.ID, err)
		}
		out[i] = decoded{Recorded: r, Envelope: domain.Envelope{Event: e, Meta: m}}
	}
	return out
}

// share is done measures over measures in force at one level.
type share struct {
	done, inForce int
}

func (s share) percent() float64 { return 100 * float64(s.done) / float64(s.inForce) }

// figures computes the published figure, "share of measures done", as it
// stood at t (the effective axis): every indicator's stream is read back
// from the store and folded with domain.EffectiveBy(t); measures not yet
// added or cancelled by t are left out.
func figures(t *testing.T, store eventstore.Store, events []decoded, at time.Time) map[domain.RoadmapLevel]share {
	t.Helper()
	levels := map[string]domain.RoadmapLevel{}
	var indicators []string
	for _, e := range events {
		switch ev := e.Event.(type) {
		case domain.RoadmapRegistered:
			levels[ev.RoadmapID] = ev.Level
		case domain.IndicatorAdded:
			indicators = append(indicators, e.Stream)
		}
	}
	out := map[domain.RoadmapLevel]share{}
	for _, stream := range indicators {
		s := foldStream(t, store, stream, at)
		if s.ID == "" || s.Status == domain.StatusCancelled {
			continue
		}
		sh := out[levels[s.RoadmapID]]
		sh.inForce++
		if s.Status == domain.StatusDone {
			sh.done++
		}
		out[levels[s.RoadmapID]] = sh
	}
	return out
}

func foldStream(t *testing.T, store eventstore.Store, stream string, at time.Time) domain.IndicatorState {
	t.Helper()
	records, err := store.ReadStream(context.Background(), stream, 1, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	history := make([]domain.Envelope, len(records))
	for i, d := range decodeAll(t, records) {
		history[i] = d.Envelope
	}
	s, err := domain.FoldIndicator(history, domain.EffectiveBy(at))
	if err != nil {
		t.Fatalf("fold %s: %v", stream, err)
	}
	return s
}
