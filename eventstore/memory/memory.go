// Package memory is an in-process event store with the same semantics as the
// postgres adapter. It is for fast unit tests; it keeps nothing on disk.
package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
)

// Store keeps every event in memory. The zero value is not usable: call New.
type Store struct {
	mu      sync.RWMutex
	log     []eventstore.Recorded // global order; log[i].Position.Commit == i+1
	streams map[string][]int      // stream -> indexes into log
	ids     map[uuid.UUID]int     // event id -> index into log
	changed chan struct{}         // closed and replaced on every append
	now     func() time.Time
	closed  bool
}

var _ eventstore.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		streams: make(map[string][]int),
		ids:     make(map[uuid.UUID]int),
		changed: make(chan struct{}),
		now:     func() time.Time { return time.Now().UTC() },
	}
}

// Close wakes subscribers and rejects further calls.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.changed)
	}
	return nil
}

func position(i int) eventstore.Position {
	return eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	if res, done, err := s.duplicate(stream, expected, events); done {
		return res, err
	}
	current := eventstore.Version(len(s.streams[stream]))
	if !expected.IsAny() && expected.Version() != current {
		return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: current}
	}
	at := s.now()
	for i, e := range events {
		idx := len(s.log)
		s.log = append(s.log, eventstore.Recorded{
			ID:       e.ID,
			Stream:   stream,
			Version:  current + int64(i) + 1,
			Position: position(idx),
			Type:     e.Type,
			Data:     slices.Clone(e.Data),
			Metadata: slices.Clone(e.Metadata),
			StoredAt: at,
		})
		s.streams[stream] = append(s.streams[stream], idx)
		s.ids[e.ID] = idx
	}
	close(s.changed)
	s.changed = make(chan struct{})
	n := len(s.log)
	return eventstore.AppendResult{
		Version: current + int64(len(events)),
		First:   position(n - len(events)),
		Last:    position(n - 1),
	}, nil
}

// duplicate decides whether events were already appended. done is false when
// none of the ids is known, so the append should go ahead.
func (s *Store) duplicate(stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, bool, error) {
	found := make([]*eventstore.Recorded, len(events))
	known := 0
	for i, e := range events {
		if idx, ok := s.ids[e.ID]; ok {
			found[i] = &s.log[idx]
			known++
		}
	}
	if known == 0 {
		return eventstore.AppendResult{}, false, nil
	}
	res, err := eventstore.MatchDuplicate(stream, expected, events, found)
	return res, true, err
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("read stream %q: limit %d: %w", stream, limit, eventstore.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	idxs := s.streams[stream]
	if from < 1 {
		from = 1
	}
	var out []eventstore.Recorded
	for v := from; v <= int64(len(idxs)) && len(out) < limit; v++ {
		out = append(out, clone(s.log[idxs[v-1]]))
	}
	return out, nil
}

// StreamVersion implements eventstore.Store.
func (s *Store) StreamVersion(ctx context.Context, stream string) (eventstore.Version, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return eventstore.Version(len(s.streams[stream])), nil
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error) {
	out, _, err := s.readAll(ctx, after, limit)
	return out, err
}

func (s *Store) readAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, <-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if limit <= 0 {
		return nil, nil, fmt.Errorf("read all: limit %d: %w", limit, eventstore.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, eventstore.ErrClosed
	}
	start := int(min(after.Commit, uint64(len(s.log)))) // log[after.Commit-1] is the last one read
	var out []eventstore.Recorded
	for i := start; i < len(s.log) && len(out) < limit; i++ {
		out = append(out, clone(s.log[i]))
	}
	return out, s.changed, nil
}

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
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

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Start, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.log) == 0 {
		return eventstore.Start, nil
	}
	return position(len(s.log) - 1), nil
}

func clone(r eventstore.Recorded) eventstore.Recorded {
	r.Data = slices.Clone(r.Data)
	r.Metadata = slices.Clone(r.Metadata)
	return r
}
