package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"promiseledger/eventstore"
)

// How Append keeps the port's promises on a server that does not keep them:
//
// KurrentDB compares event ids only with the events at the place an append
// expects in the target stream, only while the server runs (with esdb.Any,
// only against a cache), and never across streams. The port wants an id to
// be stored once in the whole store, a retry to be recognised whenever it
// comes, and a reused id to fail with ErrDuplicateEvent.
//
// So an id is claimed before its event is written: Append appends a claim
// naming the target stream to the id's own claim stream, expecting that
// stream not to exist. The first claim wins for good.
//   - All claims new: no event with these ids exists anywhere, so the
//     append writes (and only a concurrent twin of it could interfere).
//   - A claim names another stream: ErrDuplicateEvent, nothing written.
//   - A claim names this stream: an earlier attempt (maybe after a restart)
//     claimed it. Append looks for the ids in the stream, no further back
//     than the oldest claim (no event with the id can be older), and
//     answers with eventstore.MatchDuplicate if it finds any; if none is
//     stored, the earlier attempt failed and this one writes.
//
// Every write expects an exact version, also for eventstore.Any (Append
// reads the version first), so of two concurrent attempts with the same ids
// one fails with a conflict, finds the other's events and returns them as a
// duplicate. A claim whose append then fails stays: the id can later be
// appended to that stream only. docs/kurrentdb.md lists what this costs.

// maxParallelClaims bounds the claim requests one append sends at once.
const maxParallelClaims = 16

// appendPlan is one Append call.
type appendPlan struct {
	stream   string // the port's name
	full     string // the server's name
	expected eventstore.Expected
	events   []eventstore.Event
	data     []esdb.EventData
	// claimed: an id was claimed before this call, so events may be stored.
	claimed bool
	// floor: no event with one of the ids is stored before this position.
	floor eventstore.Position
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.validateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	ss, err := s.begin(ctx)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	defer ss.cancel()
	p := &appendPlan{stream: stream, full: s.names.stream(stream), expected: expected, events: events, data: make([]esdb.EventData, len(events))}
	for i, e := range events {
		p.data[i] = toEventData(e)
	}
	res, err := s.append(ss, p)
	if err != nil && !isPortError(err) {
		err = fmt.Errorf("kurrentdb: append to %q: %w", stream, err)
	}
	return res, err
}

// isPortError reports errors that already say what happened in the port's
// terms.
func isPortError(err error) bool {
	var ce *eventstore.ConflictError
	return errors.As(err, &ce) || errors.Is(err, eventstore.ErrDuplicateEvent) || errors.Is(err, eventstore.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// validateAppend adds the adapter's rules to eventstore.ValidateAppend.
func (s *Store) validateAppend(stream string, expected eventstore.Expected, events []eventstore.Event) error {
	if !s.names.usable(stream) {
		return fmt.Errorf("stream %q: names starting with $ or %q are reserved: %w", stream, claimStreamPrefix, eventstore.ErrInvalid)
	}
	if !expected.IsAny() && expected.Version() < 0 {
		return fmt.Errorf("expected version %d: %w", expected.Version(), eventstore.ErrInvalid)
	}
	for i, e := range events {
		if !usableType(e.Type) {
			return fmt.Errorf("event %d of %q: type %q: types starting with $ mark system events: %w", i, stream, e.Type, eventstore.ErrInvalid)
		}
	}
	return nil
}

func (s *Store) append(ss *session, p *appendPlan) (eventstore.AppendResult, error) {
	if err := s.claim(ss, p); err != nil {
		return eventstore.AppendResult{}, err
	}
	search := p.claimed
	reported, known := eventstore.Version(0), false // the version a conflict reported
	for attempt := 0; ; attempt++ {
		target := p.expected.Version()
		if search {
			found, head, err := s.locate(ss, p)
			if err != nil {
				return eventstore.AppendResult{}, err
			}
			for _, f := range found {
				if f != nil {
					return eventstore.MatchDuplicate(p.stream, p.expected, p.events, found)
				}
			}
			if p.expected.IsAny() {
				if attempt > s.cfg.AnyRetries {
					return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: p.stream, Expected: p.expected, Actual: head}
				}
				target = head
			} else if head != target {
				if !known {
					reported = head
				}
				return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: p.stream, Expected: p.expected, Actual: reported}
			}
		} else if p.expected.IsAny() {
			v, err := s.version(ss, p.full)
			if err != nil {
				return eventstore.AppendResult{}, err
			}
			target = v
		}
		res, err := s.write(ss, p, target)
		var ce *conflictError
		if !errors.As(err, &ce) {
			return res, err
		}
		// Another append got there first. It may have been a concurrent
		// attempt with these very events: look before answering.
		search = true
		reported, known = ce.actual()
	}
}

// claim claims every event id of p for p's stream (see the top of the file).
func (s *Store) claim(ss *session, p *appendPlan) error {
	type outcome struct {
		claimed bool
		floor   eventstore.Position
		err     error
	}
	out := make([]outcome, len(p.events))
	sem := make(chan struct{}, maxParallelClaims)
	var wg sync.WaitGroup
	for i, e := range p.events {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i].claimed, out[i].floor, out[i].err = s.claimOne(ss, p.full, e.ID)
		})
	}
	wg.Wait()
	var firstErr error
	for i, o := range out {
		switch {
		case errors.Is(o.err, eventstore.ErrDuplicateEvent):
			return o.err
		case o.err != nil && firstErr == nil:
			firstErr = o.err
		}
		if o.claimed {
			p.claimed = true
		}
		if i == 0 || o.floor.Less(p.floor) {
			p.floor = o.floor
		}
	}
	return firstErr
}

// claimOne claims id for stream (the server's name). claimed reports that an
// earlier attempt had claimed it for the same stream; floor is a position
// that no event with this id can come before.
func (s *Store) claimOne(ss *session, stream string, id uuid.UUID) (claimed bool, floor eventstore.Position, err error) {
	claimStream := s.names.claim(id)
	claim := esdb.EventData{
		EventID:     uuid.New(), // a fresh id, so that the server's own idempotency never takes a second claim for the first
		EventType:   claimEventType,
		ContentType: esdb.ContentTypeBinary,
		Data:        []byte(stream),
	}
	var wr *esdb.WriteResult
	err = s.run(ss, func(c *conn) error {
		var err error
		wr, err = c.append(ss.ctx, claimStream, esdb.NoStream{}, claim)
		return err
	})
	var ce *conflictError
	switch {
	case err == nil:
		// Every event written after this claim lies after the position the
		// server reported for it (0/0 when it reported none).
		return false, eventstore.Position{Commit: wr.CommitPosition}, nil
	case !errors.As(err, &ce):
		return false, eventstore.Start, fmt.Errorf("claim event id %s: %w", id, err)
	}
	var r read
	err = s.run(ss, func(c *conn) error {
		var err error
		r, err = c.readStream(ss.ctx, claimStream, esdb.Forwards, esdb.Start{}, 1, nil, 0)
		return err
	})
	if err != nil {
		return false, eventstore.Start, fmt.Errorf("read the claim of event id %s: %w", id, err)
	}
	if len(r.events) == 0 {
		return false, eventstore.Start, fmt.Errorf("claim stream %s exists but has no claim", claimStream)
	}
	first := r.events[0]
	if owner := string(first.Data); owner != stream {
		return false, eventstore.Start, fmt.Errorf("event %s belongs to stream %q, not %q: %w",
			id, s.names.describe(owner), s.names.describe(stream), eventstore.ErrDuplicateEvent)
	}
	return true, toPosition(first.Position), nil
}

// locate finds the events of p already stored in p's stream: found[i] is the
// stored event with the id of p.events[i], or nil. When it finds none, head
// is the stream's version.
func (s *Store) locate(ss *session, p *appendPlan) (found []*eventstore.Recorded, head eventstore.Version, err error) {
	want := make(map[uuid.UUID]int, len(p.events))
	for i, e := range p.events {
		want[e.ID] = i
	}
	found = make([]*eventstore.Recorded, len(p.events))
	missing := len(p.events)
	take := func(ev *esdb.RecordedEvent) {
		if i, ok := want[ev.EventID]; ok && found[i] == nil {
			r := toRecorded(ev, p.stream)
			found[i] = &r
			missing--
		}
	}

	// A retry with an exact expectation usually finds its events right where
	// it expects them.
	if !p.expected.IsAny() {
		r, err := s.readStream(ss, p.full, esdb.Forwards, esdb.Revision(uint64(p.expected.Version())), uint64(len(p.events)))
		if err != nil && !errors.Is(err, errStreamNotFound) {
			return nil, 0, err
		}
		for _, ev := range r.events {
			take(ev)
		}
		if missing == 0 {
			return found, 0, nil
		}
	}

	// Otherwise scan backwards from the end down to the floor. Pages overlap
	// by one event whether the server reads from a revision inclusively or
	// not; the overlap is skipped.
	page := uint64(s.cfg.ReadPageSize)
	var from esdb.StreamPosition = esdb.End{}
	below := uint64(0) // read only revisions below this one; 0 until the first page
	for first := true; ; first = false {
		r, err := s.readStream(ss, p.full, esdb.Backwards, from, page)
		if errors.Is(err, errStreamNotFound) {
			return found, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if first && len(r.events) > 0 {
			head = versionOf(r.events[0].EventNumber)
		}
		progressed := false
		for _, ev := range r.events {
			if !first && ev.EventNumber >= below {
				continue
			}
			progressed = true
			if toPosition(ev.Position).Less(p.floor) {
				return found, head, nil
			}
			take(ev)
			if missing == 0 {
				return found, head, nil
			}
		}
		if !progressed || r.raw < int(page) || r.last.EventNumber == 0 {
			return found, head, nil
		}
		below = r.last.EventNumber
		from = esdb.Revision(below)
	}
}

// write appends p's events after version target and reads them back for
// their positions.
func (s *Store) write(ss *session, p *appendPlan, target eventstore.Version) (eventstore.AppendResult, error) {
	var wr *esdb.WriteResult
	err := s.run(ss, func(c *conn) error {
		var err error
		wr, err = c.append(ss.ctx, p.full, expectedRevision(target), p.data...)
		return err
	})
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	n := len(p.events)
	r, err := s.readStream(ss, p.full, esdb.Forwards, esdb.Revision(uint64(target)), uint64(n))
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("read back the appended events: %w", err)
	}
	if len(r.events) != n {
		return eventstore.AppendResult{}, fmt.Errorf("read back %d events after version %d, want %d", len(r.events), target, n)
	}
	for i, ev := range r.events {
		if ev.EventID != p.events[i].ID {
			return eventstore.AppendResult{}, fmt.Errorf("version %d holds event %s, not the appended %s", versionOf(ev.EventNumber), ev.EventID, p.events[i].ID)
		}
	}
	return eventstore.AppendResult{
		Version: target + eventstore.Version(n),
		First:   toPosition(r.events[0].Position),
		Last:    toPosition(r.events[n-1].Position),
		// The server accepts a repeated append of the events it holds at the
		// expected place without writing them. Only a concurrent twin of
		// this append gets here that way (see the top of the file); servers
		// that answer it without a position give it away.
		Duplicate: wr.CommitPosition == 0 && wr.PreparePosition == 0,
	}, nil
}

// readStream reads a stream with the current client; see conn.readStream.
func (s *Store) readStream(ss *session, stream string, dir esdb.Direction, from esdb.StreamPosition, count uint64) (read, error) {
	var r read
	err := s.run(ss, func(c *conn) error {
		var err error
		r, err = c.readStream(ss.ctx, stream, dir, from, count, nil, 0)
		return err
	})
	return r, err
}

// version is the version of stream (the server's name): 0 if it is missing.
func (s *Store) version(ss *session, stream string) (eventstore.Version, error) {
	r, err := s.readStream(ss, stream, esdb.Backwards, esdb.End{}, 1)
	if errors.Is(err, errStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if r.last == nil {
		return 0, nil
	}
	return versionOf(r.last.EventNumber), nil
}
