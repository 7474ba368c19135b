package demo_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/commands/demo"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

func TestLoadSmall(t *testing.T) {
	t.Parallel()
	store, stats := load(t, config(1))
	records := readAll(t, store)
	if stats.Events != len(records) || stats.Duplicates != 0 || stats.AlreadyLoaded {
		t.Errorf("stats say %d events, %d duplicates, loaded %v; the store holds %d events",
			stats.Events, stats.Duplicates, stats.AlreadyLoaded, len(records))
	}
	counts := []struct {
		name      string
		got, want int
	}{
		{"programs", stats.Programs, 2},
		{"territories", stats.Territories, 236},
		{"roadmaps", stats.Roadmaps, 217},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	// 5% of 362 + 2,300 measures, plus the few added later.
	if stats.Indicators < 133 || stats.Indicators > 145 {
		t.Errorf("%d indicators at scale %g, want about 133", stats.Indicators, smallScale)
	}
	for name, n := range map[string]int{
		"reports": stats.Reports, "corrections": stats.Corrections, "retargets": stats.Retargets,
		"status changes": stats.StatusChanges, "cancellations": stats.Cancellations,
	} {
		if n == 0 {
			t.Errorf("no %s at scale %g", name, smallScale)
		}
	}
}

func TestLoadIsDeterministic(t *testing.T) {
	t.Parallel()
	sequential := config(7)
	sequential.Workers = 1
	a, _ := load(t, config(7))
	b, _ := load(t, sequential)
	c, _ := load(t, config(8))
	fa, fb, fc := fingerprint(readAll(t, a)), fingerprint(readAll(t, b)), fingerprint(readAll(t, c))
	if fa != fb {
		t.Errorf("seed 7 loaded twice (8 workers, then 1) gave different data: %s vs %s", fa, fb)
	}
	if fa == fc {
		t.Error("seeds 7 and 8 gave the same data")
	}
}

// A later Now extends the same history: everything loaded with an earlier
// Now is there, byte for byte, under the same ids.
func TestLaterNowExtendsHistory(t *testing.T) {
	t.Parallel()
	early := config(3)
	early.Now = demo.DefaultStart().AddDate(1, 0, 0)
	short, _ := load(t, early)
	long, _ := load(t, config(3))
	byID := map[[16]byte]eventstore.Recorded{}
	for _, r := range readAll(t, long) {
		byID[r.ID] = r
	}
	shortEvents := readAll(t, short)
	for _, r := range shortEvents {
		l, ok := byID[r.ID]
		if !ok || l.Stream != r.Stream || l.Version != r.Version || string(l.Data) != string(r.Data) || string(l.Metadata) != string(r.Metadata) {
			t.Fatalf("event %s of %s (version %d) loaded with Now %s is not the same with Now %s",
				r.ID, r.Stream, r.Version, early.Now.Format(time.DateOnly), now.Format(time.DateOnly))
		}
	}
	if len(shortEvents) >= len(byID) {
		t.Errorf("%d events a year in, %d in late 2026: history did not grow", len(shortEvents), len(byID))
	}
}

func TestLoadTwiceIsAlreadyLoaded(t *testing.T) {
	t.Parallel()
	store, _ := load(t, config(1))
	before := len(readAll(t, store))
	stats, err := demo.Load(context.Background(), store, config(1))
	if err != nil {
		t.Fatal(err)
	}
	if !stats.AlreadyLoaded || stats.Events != 0 {
		t.Errorf("second Load: %+v, want AlreadyLoaded and no events", stats)
	}
	if after := len(readAll(t, store)); after != before {
		t.Errorf("second Load changed the store: %d events, then %d", before, after)
	}
}

// failingStore refuses appends after a number of them, as a crash or a
// lost connection would interrupt a load.
type failingStore struct {
	*memory.Store
	left atomic.Int64
}

var errInterrupted = errors.New("interrupted")

func (s *failingStore) Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	if s.left.Add(-1) < 0 {
		return eventstore.AppendResult{}, errInterrupted
	}
	return s.Store.Append(ctx, stream, expected, events)
}

var _ commands.EventStore = (*failingStore)(nil)

func TestResumeCompletesAnInterruptedLoad(t *testing.T) {
	t.Parallel()
	whole, full := load(t, config(5))
	want := fingerprint(readAll(t, whole))

	store := &failingStore{Store: memory.New()}
	t.Cleanup(func() { _ = store.Close() })
	store.left.Store(int64(full.Events / 2))
	if _, err := demo.Load(context.Background(), store, config(5)); !errors.Is(err, errInterrupted) {
		t.Fatalf("interrupted Load: %v, want %v", err, errInterrupted)
	}
	stats, err := demo.Load(context.Background(), store.Store, config(5))
	if err != nil || !stats.AlreadyLoaded {
		t.Fatalf("Load without Resume: %+v, %v; want AlreadyLoaded", stats, err)
	}
	resume := config(5)
	resume.Resume = true
	stats, err = demo.Load(context.Background(), store.Store, resume)
	if err != nil {
		t.Fatalf("resumed Load: %v", err)
	}
	if stats.Duplicates == 0 || stats.Events+stats.Duplicates != full.Events {
		t.Errorf("resumed Load: %d new events and %d duplicates, want %d in all", stats.Events, stats.Duplicates, full.Events)
	}
	if got := fingerprint(readAll(t, store.Store)); got != want {
		t.Errorf("resumed load differs from an uninterrupted one: %s vs %s", got, want)
	}
}

func TestLoadRefusesForeignData(t *testing.T) {
	t.Parallel()
	store := memory.New()
	t.Cleanup(func() { _ = store.Close() })
	h, err := commands.New(commands.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.RegisterTerritory.Handle(context.Background(), commands.RegisterTerritory{
		Header: commands.Header{Actor: commands.Actor{ID: "someone"}}, KATO: domain.RepublicKATO,
		Name: domain.Text{KK: "Қазақстан", RU: "Казахстан", EN: "Kazakhstan"}, Kind: domain.TerritoryRepublic,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(context.Background(), store, config(1)); !errors.Is(err, demo.ErrForeignData) {
		t.Errorf("Load over foreign data: %v, want %v", err, demo.ErrForeignData)
	}
}
