package kurrentdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"promiseledger/eventstore"
)

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
	ss, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer ss.cancel()
	if limit <= 0 {
		return nil, fmt.Errorf("read stream %q: limit %d: %w", stream, limit, eventstore.ErrInvalid)
	}
	if stream == "" || !s.names.usable(stream) {
		return nil, nil // Append never writes such a stream
	}
	from = max(from, 1)
	r, err := s.readStream(ss, s.names.stream(stream), esdb.Forwards, esdb.Revision(revisionOf(from)), uint64(limit))
	if errors.Is(err, errStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, readError(fmt.Sprintf("read stream %q", stream), err)
	}
	out := make([]eventstore.Recorded, 0, len(r.events))
	for _, ev := range r.events {
		out = append(out, toRecorded(ev, stream))
	}
	return out, nil
}

// StreamVersion implements eventstore.Store.
func (s *Store) StreamVersion(ctx context.Context, stream string) (eventstore.Version, error) {
	ss, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer ss.cancel()
	if stream == "" || !s.names.usable(stream) {
		return 0, nil
	}
	v, err := s.version(ss, s.names.stream(stream))
	if err != nil {
		return 0, readError(fmt.Sprintf("version of stream %q", stream), err)
	}
	return v, nil
}

// ReadAll implements eventstore.Store.
//
// Client v4.1.0 cannot send a filter with a read of $all (only with a
// subscription), so ReadAll reads $all page by page and keeps the events of
// the store's log (filter.match): the server's own events, claims and other
// namespaces' events are read and dropped.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error) {
	ss, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer ss.cancel()
	if limit <= 0 {
		return nil, fmt.Errorf("read all: limit %d: %w", limit, eventstore.ErrInvalid)
	}
	if beyondLog(after) {
		return nil, nil
	}
	page := s.cfg.ReadPageSize
	var out []eventstore.Recorded
	cursor := after // the last position read; reads from it are inclusive
	for len(out) < limit {
		from := cursor
		accept := func(ev *esdb.RecordedEvent) bool { return from.Less(toPosition(ev.Position)) && s.filter.match(ev) }
		var r read
		err := s.run(ss, func(c *conn) error {
			var err error
			r, err = c.readAll(ss.ctx, esdb.Forwards, allPosition(from), uint64(page), accept, limit-len(out))
			return err
		})
		if err != nil {
			return nil, readError("read all", err)
		}
		for _, ev := range r.events {
			name, _ := s.names.port(ev.StreamID)
			out = append(out, toRecorded(ev, name))
		}
		if r.full || r.raw < page || !from.Less(toPosition(r.last.Position)) {
			break
		}
		cursor = toPosition(r.last.Position)
	}
	return out, nil
}

// Head implements eventstore.Store. It reads $all backwards until it meets
// an event of the store's log (see ReadAll).
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	ss, err := s.begin(ctx)
	if err != nil {
		return eventstore.Start, err
	}
	defer ss.cancel()
	page := s.cfg.ReadPageSize
	var (
		from    esdb.AllPosition    = esdb.End{}
		started bool                // false until the first page: from is the end
		below   eventstore.Position // after the first page: read only positions before it
	)
	for {
		first, limit := !started, below
		accept := func(ev *esdb.RecordedEvent) bool {
			return (first || toPosition(ev.Position).Less(limit)) && s.filter.match(ev)
		}
		var r read
		err := s.run(ss, func(c *conn) error {
			var err error
			r, err = c.readAll(ss.ctx, esdb.Backwards, from, uint64(page), accept, 1)
			return err
		})
		if err != nil {
			return eventstore.Start, readError("head", err)
		}
		if len(r.events) > 0 {
			return toPosition(r.events[0].Position), nil
		}
		if r.raw < page || (started && !toPosition(r.last.Position).Less(below)) {
			return eventstore.Start, nil
		}
		started, below = true, toPosition(r.last.Position)
		from = esdb.Position{Commit: below.Commit, Prepare: below.Prepare}
	}
}

// readError wraps the error of a read unless it already speaks the port's
// language.
func readError(what string, err error) error {
	if errors.Is(err, eventstore.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("kurrentdb: %s: %w", what, err)
}
