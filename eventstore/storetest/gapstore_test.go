package storetest_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
	"promiseledger/eventstore/storetest"
)

// gapStore is a minimal adapter with long transactions, to test the
// HeldTransaction subtest without a database. Like the postgres adapter it
// gives an event its position when a transaction writes it and makes it
// visible when the transaction commits, so events can become visible out of
// position order.
type gapStore struct {
	mu       sync.Mutex
	entries  []*gapEntry // entries[i] has position i+1
	ids      map[uuid.UUID]*gapEntry
	versions map[string]eventstore.Version // including uncommitted events
	changed  chan struct{}
	// readPastOpen is the bug HeldTransaction must catch: readers skip
	// uncommitted events instead of stopping before them.
	readPastOpen bool
}

type gapEntry struct {
	rec     eventstore.Recorded
	visible bool
}

var _ eventstore.Store = (*gapStore)(nil)

func newGapStore() *gapStore {
	return &gapStore{
		ids:      make(map[uuid.UUID]*gapEntry),
		versions: make(map[string]eventstore.Version),
		changed:  make(chan struct{}),
	}
}

func gapPosition(i int) eventstore.Position {
	return eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}
}

// gapHarness runs the suite against gapStore, holding transactions open.
func gapHarness(readPastOpen bool) storetest.Harness {
	return storetest.Harness{
		New: func(*testing.T) eventstore.Store {
			s := newGapStore()
			s.readPastOpen = readPastOpen
			return s
		},
		Reopen: func(_ *testing.T, s eventstore.Store) eventstore.Store { return s },
		HoldOpen: func(_ *testing.T, s eventstore.Store) (func(context.Context, string, eventstore.Event) error, func() error) {
			g := s.(*gapStore)
			var held *gapEntry
			appendInTx := func(_ context.Context, stream string, ev eventstore.Event) error {
				held = g.write(stream, ev, false)
				return nil
			}
			commit := func() error {
				if held == nil {
					return fmt.Errorf("nothing appended")
				}
				g.commit(held)
				return nil
			}
			return appendInTx, commit
		},
	}
}

func TestGapStore(t *testing.T) {
	storetest.Run(t, gapHarness(false))
}

// write appends ev to stream in a transaction that stays open until commit.
func (s *gapStore) write(stream string, ev eventstore.Event, visible bool) *gapEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(stream, ev, visible)
}

func (s *gapStore) commit(e *gapEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.visible = true
	s.wake()
}

// add gives ev the next position and version; s.mu is held.
func (s *gapStore) add(stream string, ev eventstore.Event, visible bool) *gapEntry {
	s.versions[stream]++
	e := &gapEntry{visible: visible, rec: eventstore.Recorded{
		ID: ev.ID, Stream: stream, Version: s.versions[stream], Position: gapPosition(len(s.entries)),
		Type: ev.Type, Data: slices.Clone(ev.Data), Metadata: slices.Clone(ev.Metadata), StoredAt: time.Now().UTC(),
	}}
	s.entries = append(s.entries, e)
	s.ids[ev.ID] = e
	if visible {
		s.wake()
	}
	return e
}

// wake tells waiting subscribers that something changed; s.mu is held.
func (s *gapStore) wake() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *gapStore) Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := make([]*eventstore.Recorded, len(events))
	known := false
	for i, e := range events {
		if f, ok := s.ids[e.ID]; ok {
			found[i], known = &f.rec, true
		}
	}
	if known {
		return eventstore.MatchDuplicate(stream, expected, events, found)
	}
	current := s.versions[stream]
	if !expected.IsAny() && expected.Version() != current {
		return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: current}
	}
	var res eventstore.AppendResult
	for i, ev := range events {
		e := s.add(stream, ev, true)
		if i == 0 {
			res.First = e.rec.Position
		}
		res.Last, res.Version = e.rec.Position, e.rec.Version
	}
	return res, nil
}

func (s *gapStore) ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []eventstore.Recorded
	for _, e := range s.entries {
		if len(out) == limit {
			break
		}
		if e.visible && e.rec.Stream == stream && e.rec.Version >= from {
			out = append(out, clone(e.rec))
		}
	}
	return out, nil
}

func (s *gapStore) StreamVersion(ctx context.Context, stream string) (eventstore.Version, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[stream], nil
}

func (s *gapStore) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error) {
	out, _, err := s.readAll(ctx, after, limit)
	return out, err
}

func (s *gapStore) readAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, <-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []eventstore.Recorded
	for i := int(min(after.Commit, uint64(len(s.entries)))); i < len(s.entries) && len(out) < limit; i++ {
		e := s.entries[i]
		if !e.visible {
			if s.readPastOpen {
				continue
			}
			break
		}
		out = append(out, clone(e.rec))
	}
	return out, s.changed, nil
}

func (s *gapStore) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
	for {
		page, changed, err := s.readAll(ctx, after, eventstore.DefaultPageSize)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := handle(ctx, r); err != nil {
				return err
			}
			after = r.Position
		}
		if len(page) == eventstore.DefaultPageSize {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (s *gapStore) Head(ctx context.Context) (eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Start, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	head := eventstore.Start
	for _, e := range s.entries {
		if !e.visible {
			if s.readPastOpen {
				continue
			}
			break
		}
		head = e.rec.Position
	}
	return head, nil
}

func clone(r eventstore.Recorded) eventstore.Recorded {
	r.Data = slices.Clone(r.Data)
	r.Metadata = slices.Clone(r.Metadata)
	return r
}
