package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
	"promiseledger/eventstore/storetest"
)

// The suite is only worth something if it fails on broken adapters. Each
// mutant below breaks one promise of the port; TestSuiteCatchesMutants runs
// the suite against it in a child process (a failing *testing.T cannot be
// observed from inside) and checks that the subtests named fail.

type mutant struct {
	name    string
	fails   []string // subtests that must fail
	harness func() storetest.Harness
}

var mutants = []mutant{
	{"ignores expected version", []string{"ExpectedVersion", "RacingNoStreamAppendsOneWins"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.append = func(ctx context.Context, stream string, _ eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			return m.Append(ctx, stream, eventstore.Any(), evs)
		}
	})},
	{"checks the version, then appends", []string{"RacingAppendsRetryOnConflict", "RacingNoStreamAppendsOneWins"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			v, err := m.StreamVersion(ctx, stream)
			if err != nil {
				return eventstore.AppendResult{}, err
			}
			if !exp.IsAny() && v != exp.Version() {
				return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: stream, Expected: exp, Actual: v}
			}
			// A slow round trip: wide enough that the released racers all
			// check before the first appends, even on a loaded CI machine
			// (with 1 ms they sometimes ran one after another and the
			// mutant passed RacingNoStreamAppendsOneWins).
			time.Sleep(50 * time.Millisecond)
			return m.Append(ctx, stream, eventstore.Any(), evs)
		}
	})},
	{"accepts a version ahead of the stream", []string{"ExpectedVersion"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			if v, _ := m.StreamVersion(ctx, stream); !exp.IsAny() && exp.Version() > v {
				exp = eventstore.Any()
			}
			return m.Append(ctx, stream, exp, evs)
		}
	})},
	{"conflicts without a ConflictError", []string{"ExpectedVersion"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			res, err := m.Append(ctx, stream, exp, evs)
			if errors.Is(err, eventstore.ErrConflict) {
				err = fmt.Errorf("append to %q: %w", stream, eventstore.ErrConflict)
			}
			return res, err
		}
	})},
	{"does not flag duplicates", []string{"IdempotentRetry"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			res, err := m.Append(ctx, stream, exp, evs)
			res.Duplicate = false
			return res, err
		}
	})},
	{"reports reused ids as conflicts", []string{"IdempotentRetry"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			res, err := m.Append(ctx, stream, exp, evs)
			if errors.Is(err, eventstore.ErrDuplicateEvent) {
				err = &eventstore.ConflictError{Stream: stream, Expected: exp}
			}
			return res, err
		}
	})},
	{"answers with a neighbour's result", []string{"ManySingleEventWriters"}, wrapMemory(func(m *memory.Store, b *broken) {
		// A batching adapter that mixes up the results of the appends it
		// wrote together: the versions are right, the positions are not.
		var mu sync.Mutex
		var last eventstore.AppendResult
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			res, err := m.Append(ctx, stream, exp, evs)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && last.First != (eventstore.Position{}) {
				res.First, res.Last, last = last.First, last.Last, res
			} else if err == nil {
				last = res
			}
			return res, err
		}
	})},
	{"a refused append fails its neighbours", []string{"FailingNeighbours"}, wrapMemory(func(m *memory.Store, b *broken) {
		// A batching adapter that fails the appends written together with
		// a refused one: here, every append after the first refusal.
		var refused atomic.Bool
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			if refused.Load() {
				return eventstore.AppendResult{}, errors.New("batch failed")
			}
			res, err := m.Append(ctx, stream, exp, evs)
			if err != nil {
				refused.Store(true)
			}
			return res, err
		}
	})},
	{"defaults an empty type", []string{"InvalidAppend"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			evs = append([]eventstore.Event(nil), evs...)
			for i := range evs {
				if evs[i].Type == "" {
					evs[i].Type = "unknown.v1"
				}
			}
			return m.Append(ctx, stream, exp, evs)
		}
	})},
	{"ReadStream ignores from", []string{"AppendAndReadStream"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.readStream = func(ctx context.Context, stream string, _ eventstore.Version, limit int) ([]eventstore.Recorded, error) {
			return m.ReadStream(ctx, stream, 1, limit)
		}
	})},
	{"ReadStream ignores limit", []string{"AppendAndReadStream"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.readStream = func(ctx context.Context, stream string, from eventstore.Version, _ int) ([]eventstore.Recorded, error) {
			return m.ReadStream(ctx, stream, from, 1000)
		}
	})},
	{"loses StoredAt", []string{"AppendAndReadStream"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.readStream = func(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
			recs, err := m.ReadStream(ctx, stream, from, limit)
			for i := range recs {
				recs[i].StoredAt = time.Time{}
			}
			return recs, err
		}
	})},
	{"ReadAll skips the first event after a position", []string{"ReadAllPaging", "ConcurrentWritersAndReaders"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.readAll = func(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error) {
			page, err := m.ReadAll(ctx, after, limit)
			if after != eventstore.Start && len(page) > 0 {
				page = page[1:]
			}
			return page, err
		}
	})},
	{"ReadAll ignores limit", []string{"ReadAllPaging"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.readAll = func(ctx context.Context, after eventstore.Position, _ int) ([]eventstore.Recorded, error) {
			return m.ReadAll(ctx, after, 1000)
		}
	})},
	{"Head lags one event", []string{"ReadAllPaging", "AppendAndReadStream"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.head = func(ctx context.Context) (eventstore.Position, error) {
			p, err := m.Head(ctx)
			if p.Commit > 1 {
				p = eventstore.Position{Commit: p.Commit - 1, Prepare: p.Prepare - 1}
			}
			return p, err
		}
	})},
	{"ignores ctx", []string{"CancelledContext", "SubscribeStopsWhenContextEnds"}, wrapMemory(func(m *memory.Store, b *broken) {
		bg := context.Background()
		b.append = func(_ context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			return m.Append(bg, stream, exp, evs)
		}
		b.readStream = func(_ context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
			return m.ReadStream(bg, stream, from, limit)
		}
		b.readAll = func(_ context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error) {
			return m.ReadAll(bg, after, limit)
		}
		b.subscribe = func(_ context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
			return m.Subscribe(bg, after, handle)
		}
	})},
	{"Subscribe repeats the checkpoint", []string{"SubscribeResumesFromCheckpoint"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.subscribe = func(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
			if after.Commit > 0 {
				after = eventstore.Position{Commit: after.Commit - 1, Prepare: after.Prepare - 1}
			}
			return m.Subscribe(ctx, after, handle)
		}
	})},
	{"Subscribe ignores handler errors", []string{"SubscribeResumesFromCheckpoint"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.subscribe = func(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
			return m.Subscribe(ctx, after, func(ctx context.Context, r eventstore.Recorded) error {
				_ = handle(ctx, r)
				return nil
			})
		}
	})},
	{"Subscribe does not wait for new events", []string{"SubscribeStopsWhenContextEnds", "ConcurrentWritersAndReaders"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.subscribe = func(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
			page, err := m.ReadAll(ctx, after, eventstore.DefaultPageSize)
			for _, r := range page {
				if err := handle(ctx, r); err != nil {
					return err
				}
			}
			return err
		}
	})},
	{"truncates large data", []string{"LargeEvent"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.mapRecord = func(r eventstore.Recorded) eventstore.Recorded {
			r.Data = r.Data[:min(len(r.Data), 64<<10)]
			return r
		}
	})},
	{"treats data as text", []string{"BinaryData"}, wrapMemory(func(m *memory.Store, b *broken) {
		b.mapRecord = func(r eventstore.Recorded) eventstore.Recorded {
			r.Data = []byte(strings.ToValidUTF8(string(r.Data), "\uFFFD"))
			return r
		}
	})},
	{"shares the caller's buffers", []string{"BuffersNotShared"}, wrapMemory(func(m *memory.Store, b *broken) {
		var kept sync.Map // event id -> the caller's Data
		b.append = func(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
			res, err := m.Append(ctx, stream, exp, evs)
			if err == nil {
				for _, e := range evs {
					kept.Store(e.ID, e.Data)
				}
			}
			return res, err
		}
		b.mapRecord = func(r eventstore.Recorded) eventstore.Recorded {
			if d, ok := kept.Load(r.ID); ok {
				r.Data = d.([]byte)
			}
			return r
		}
	})},
	{"reads past open transactions", []string{"HeldTransaction"}, func() storetest.Harness { return gapHarness(true) }},
	{"HoldOpen commits at once", []string{"HeldTransaction"}, func() storetest.Harness {
		h := gapHarness(false)
		hold := h.HoldOpen
		h.HoldOpen = func(t *testing.T, s eventstore.Store) (func(context.Context, string, eventstore.Event) error, func() error) {
			appendInTx, commit := hold(t, s)
			return func(ctx context.Context, stream string, ev eventstore.Event) error {
				if err := appendInTx(ctx, stream, ev); err != nil {
					return err
				}
				return commit()
			}, func() error { return nil }
		}
		return h
	}},
}

// broken wraps a store; the functions that are set replace its methods.
type broken struct {
	eventstore.Store
	append     func(context.Context, string, eventstore.Expected, []eventstore.Event) (eventstore.AppendResult, error)
	readStream func(context.Context, string, eventstore.Version, int) ([]eventstore.Recorded, error)
	readAll    func(context.Context, eventstore.Position, int) ([]eventstore.Recorded, error)
	subscribe  func(context.Context, eventstore.Position, func(context.Context, eventstore.Recorded) error) error
	head       func(context.Context) (eventstore.Position, error)
	mapRecord  func(eventstore.Recorded) eventstore.Recorded // applied to every record read
}

func (b *broken) Append(ctx context.Context, stream string, exp eventstore.Expected, evs []eventstore.Event) (eventstore.AppendResult, error) {
	if b.append != nil {
		return b.append(ctx, stream, exp, evs)
	}
	return b.Store.Append(ctx, stream, exp, evs)
}

func (b *broken) ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
	f := b.Store.ReadStream
	if b.readStream != nil {
		f = b.readStream
	}
	recs, err := f(ctx, stream, from, limit)
	return b.mapRecords(recs), err
}

func (b *broken) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error) {
	f := b.Store.ReadAll
	if b.readAll != nil {
		f = b.readAll
	}
	recs, err := f(ctx, after, limit)
	return b.mapRecords(recs), err
}

func (b *broken) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
	f := b.Store.Subscribe
	if b.subscribe != nil {
		f = b.subscribe
	}
	return f(ctx, after, func(ctx context.Context, r eventstore.Recorded) error {
		return handle(ctx, b.mapRecords([]eventstore.Recorded{r})[0])
	})
}

func (b *broken) Head(ctx context.Context) (eventstore.Position, error) {
	if b.head != nil {
		return b.head(ctx)
	}
	return b.Store.Head(ctx)
}

func (b *broken) mapRecords(recs []eventstore.Recorded) []eventstore.Recorded {
	if b.mapRecord != nil {
		for i := range recs {
			recs[i] = b.mapRecord(recs[i])
		}
	}
	return recs
}

// wrapMemory makes a harness of memory stores broken by breakIt.
func wrapMemory(breakIt func(*memory.Store, *broken)) func() storetest.Harness {
	return func() storetest.Harness {
		return storetest.Harness{
			New: func(t *testing.T) eventstore.Store {
				m := memory.New()
				t.Cleanup(func() { _ = m.Close() })
				b := &broken{Store: m}
				breakIt(m, b)
				return b
			},
			Reopen: func(_ *testing.T, s eventstore.Store) eventstore.Store { return s },
		}
	}
}

const mutantEnv = "STORETEST_MUTANT"

// TestMutant runs the suite against the mutant named in $STORETEST_MUTANT;
// TestSuiteCatchesMutants starts it.
func TestMutant(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestSuiteCatchesMutants")
	}
	for _, m := range mutants {
		if m.name == name {
			storetest.Run(t, m.harness())
			return
		}
	}
	t.Fatalf("no mutant %q", name)
}

func TestSuiteCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test process per mutant")
	}
	if os.Getenv(mutantEnv) != "" {
		t.Skip("inside a mutant's process")
	}
	seen := make(map[string]bool)
	for _, m := range mutants {
		if seen[m.name] {
			t.Fatalf("two mutants named %q", m.name)
		}
		seen[m.name] = true
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			run := "^TestMutant$/^(" + strings.Join(m.fails, "|") + ")$"
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run="+run, "-test.v", "-test.count=1", "-test.timeout=60s")
			cmd.Env = append(os.Environ(), mutantEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("%v: want the suite to fail\n%s", err, out)
			}
			for _, sub := range m.fails {
				if !strings.Contains(string(out), "--- FAIL: TestMutant/"+sub+" (") {
					t.Errorf("subtest %s passed; want it to fail\n%s", sub, out)
				}
			}
		})
	}
}

// The mutants must not be broken in ways the suite cannot see: the plain
// wrapper passes.
func TestUnbrokenWrapperPasses(t *testing.T) {
	storetest.Run(t, wrapMemory(func(*memory.Store, *broken) {})())
}
