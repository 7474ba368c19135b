// Package batch runs many commands as one unit: all of them are decided
// against an overlay of the event store, and their events are written
// together or not at all. Imports use it so that a file is never half
// imported, and so that a dry run decides exactly as the real run would.
package batch

import (
	"context"
	"slices"
	"sync"
	"time"

	"promiseledger/commands"
	"promiseledger/eventstore"
)

// Reader is what the overlay reads the committed history from.
type Reader interface {
	ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error)
}

// Append is the pending append of one stream: events to write at the end
// of Stream, which must still be at Expected.
type Append struct {
	Stream   string
	Expected eventstore.Version
	Events   []eventstore.Event
}

// Overlay is a commands.EventStore whose appends are held in memory on top
// of a committed history. It is safe for concurrent use.
type Overlay struct {
	base Reader
	now  func() time.Time

	mu      sync.Mutex
	streams map[string]*pending
	order   []string // streams in the order of their first append
	log     []Append // every append, in the order it was made
}

type pending struct {
	base      []eventstore.Recorded // committed events, read once
	baseRead  bool
	appended  []eventstore.Recorded
	newEvents []eventstore.Event
}

var _ commands.EventStore = (*Overlay)(nil)

// New returns an empty overlay over base.
func New(base Reader, now func() time.Time) *Overlay {
	return &Overlay{base: base, now: now, streams: map[string]*pending{}}
}

func (o *Overlay) load(ctx context.Context, stream string) (*pending, error) {
	p := o.streams[stream]
	if p == nil {
		p = &pending{}
		o.streams[stream] = p
	}
	if p.baseRead {
		return p, nil
	}
	for from := eventstore.Version(1); ; {
		page, err := o.base.ReadStream(ctx, stream, from, eventstore.DefaultPageSize)
		if err != nil {
			return nil, err
		}
		p.base = append(p.base, page...)
		if len(page) < eventstore.DefaultPageSize {
			break
		}
		from = page[len(page)-1].Version + 1
	}
	p.baseRead = true
	return p, nil
}

// ReadStream implements commands.EventStore: committed events, then pending.
func (o *Overlay) ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, err := o.load(ctx, stream)
	if err != nil {
		return nil, err
	}
	var out []eventstore.Recorded
	for _, part := range [2][]eventstore.Recorded{p.base, p.appended} {
		for _, r := range part {
			if r.Version >= from && len(out) < limit {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Append implements commands.EventStore, holding the events in memory.
func (o *Overlay) Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	p, err := o.load(ctx, stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	current := eventstore.Version(len(p.base) + len(p.appended))
	if !expected.IsAny() && expected.Version() != current {
		return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: current}
	}
	if len(p.newEvents) == 0 {
		o.order = append(o.order, stream)
	}
	for i, e := range events {
		p.appended = append(p.appended, eventstore.Recorded{
			ID: e.ID, Stream: stream, Version: current + int64(i) + 1, Type: e.Type,
			Data: e.Data, Metadata: e.Metadata, StoredAt: o.now(),
		})
	}
	p.newEvents = append(p.newEvents, events...)
	if n := len(o.log); n > 0 && o.log[n-1].Stream == stream {
		o.log[n-1].Events = append(o.log[n-1].Events, events...)
	} else {
		o.log = append(o.log, Append{Stream: stream, Expected: current, Events: slices.Clone(events)})
	}
	return eventstore.AppendResult{Version: current + int64(len(events))}, nil
}

// Pending returns what the commands decided to write, stream by stream, in
// the order the streams were first written.
func (o *Overlay) Pending() []Append {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Append, 0, len(o.order))
	for _, s := range o.order {
		p := o.streams[s]
		out = append(out, Append{Stream: s, Expected: eventstore.Version(len(p.base)), Events: slices.Clone(p.newEvents)})
	}
	return out
}

// Log returns what the commands decided to write in the order they
// decided it, consecutive appends to one stream merged. Writing it in this
// order gives the events the global order the commands saw (a roadmap's
// activation before its measures' reports), where Pending groups each
// stream's events together.
func (o *Overlay) Log() []Append {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Append, len(o.log))
	for i, a := range o.log {
		out[i] = Append{Stream: a.Stream, Expected: a.Expected, Events: slices.Clone(a.Events)}
	}
	return out
}

// LogFrom returns the appends of Log from the i-th on that no later
// append can change: all but the last, which the next append merges into
// when it writes the same stream. A writer takes them while the commands
// go on (Log after the commands are done gives the rest), so the log is
// written while it is made.
func (o *Overlay) LogFrom(i int) []Append {
	o.mu.Lock()
	defer o.mu.Unlock()
	if i >= len(o.log)-1 {
		return nil
	}
	out := make([]Append, len(o.log)-1-i)
	for k, a := range o.log[i : len(o.log)-1] {
		out[k] = Append{Stream: a.Stream, Expected: a.Expected, Events: slices.Clone(a.Events)}
	}
	return out
}

// NoHistory is a Reader of a store known to hold none of the streams the
// commands touch (a first load into an empty ledger): it saves reading
// each stream back. Writing the result still checks every stream's
// expected version, so a wrong guess fails the write and changes nothing.
type NoHistory struct{}

// ReadStream implements Reader: no stream has events.
func (NoHistory) ReadStream(context.Context, string, eventstore.Version, int) ([]eventstore.Recorded, error) {
	return nil, nil
}

// Events counts the pending events.
func Events(appends []Append) int {
	n := 0
	for _, a := range appends {
		n += len(a.Events)
	}
	return n
}
