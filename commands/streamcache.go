package commands

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// Stream cache. A command on a stream this process wrote or read a moment
// ago starts from the stream as it was then (decoded events and version)
// instead of reading and decoding the whole stream again. The cache is only
// ever a guess, checked by the store:
//
//   - the append expects exactly the cached version, so if anyone (another
//     request, another process) wrote to the stream since, the append fails
//     with a conflict, nothing is written, and the command runs again from a
//     fresh read, at once and without counting as a lost race;
//   - anything else the command would answer from a cached state that the
//     fresh state might answer differently (a pinned ExpectedVersion that
//     differs, a refusal by the domain, an idempotent repeat, an id stored
//     elsewhere) is also decided again from a fresh read.
//
// So a stale entry costs one wasted attempt, never a wrong event or a wrong
// answer. Entries hold the events as decoded from their stored bytes, exactly
// what a read would give.

// cachedRecord is what the duplicate check needs of a stored event.
type cachedRecord struct {
	id      uuid.UUID
	typ     string
	version int64
}

// streamState is a stream at a version: immutable once stored.
type streamState struct {
	version int64
	records []cachedRecord
	history []domain.Envelope
	// extended is set by the first then: that one state after this one
	// appends into the spare capacity of records and history, past their
	// length, which this state never reads; any other extension copies.
	extended atomic.Bool
}

// DefaultStreamCacheSize is Deps.StreamCache's default.
const DefaultStreamCacheSize = 4096

// streamCacheMaxEvents: longer streams are not kept (each command then
// reads them, as without the cache). streamCacheBudget bounds the events
// held by the whole cache: entries are evicted until it holds.
const (
	streamCacheMaxEvents = 10_000
	streamCacheBudget    = 200_000
)

type streamCache struct {
	max    int
	mu     sync.Mutex
	m      map[string]*streamState
	events int // events held by the entries of m
}

func newStreamCache(max int) *streamCache {
	if max <= 0 {
		return nil
	}
	return &streamCache{max: max, m: map[string]*streamState{}}
}

func (c *streamCache) get(stream string) *streamState {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[stream]
}

// put stores st for stream. A state read from the store replaces whatever
// is there (it is the truth of that moment); a state the command built by
// appending to a cached one only replaces an older entry.
func (c *streamCache) put(stream string, st *streamState, read bool) {
	if c == nil || len(st.records) > streamCacheMaxEvents {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[stream]
	if ok && !read && old.version >= st.version {
		return
	}
	if ok {
		c.events -= len(old.records)
		delete(c.m, stream)
	}
	for k, e := range c.m { // evict whichever entries the map gives
		if len(c.m) < c.max && c.events+len(st.records) <= streamCacheBudget {
			break
		}
		c.events -= len(e.records)
		delete(c.m, k)
	}
	c.m[stream] = st
	c.events += len(st.records)
}

// drop forgets stream if its entry is still the one at version.
func (c *streamCache) drop(stream string, version int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[stream]; ok && old.version == version {
		c.events -= len(old.records)
		delete(c.m, stream)
	}
}

// stateOf is the state of records, decoded into history.
func stateOf(records []eventstore.Recorded, history []domain.Envelope) *streamState {
	st := &streamState{version: streamVersion(records), history: history, records: make([]cachedRecord, len(records))}
	for i, rec := range records {
		st.records[i] = cachedRecord{id: rec.ID, typ: rec.Type, version: rec.Version}
	}
	return st
}

// then is st followed by events, stored from st.version+1: the events are
// decoded from their encoded bytes, as a read would decode them.
//
// A bulk load (the demo) runs command after command on one stream, each on
// the state the previous one left: sharing the arrays makes that linear in
// the stream's length, where copying them made it quadratic.
func (st *streamState) then(events []eventstore.Event, version int64) (*streamState, error) {
	next := &streamState{version: version, records: st.records, history: st.history}
	if !st.extended.CompareAndSwap(false, true) {
		next.records, next.history = slices.Clone(st.records), slices.Clone(st.history)
	}
	for i, e := range events {
		ev, m, err := domain.Decode(e.Type, e.Data, e.Metadata)
		if err != nil {
			return nil, err
		}
		next.records = append(next.records, cachedRecord{id: e.ID, typ: e.Type, version: st.version + int64(i) + 1})
		next.history = append(next.history, domain.Envelope{Event: ev, Meta: m})
	}
	return next, nil
}

// streamTurns lets one command at a time of this process work on a stream
// (load, decide, append). Without it, concurrent commands on one stream all
// decide on the same version and all but one lose the race and pause before
// trying again; with it, they wait their turn and each decides on the
// state its predecessor left in the cache. Other processes still race, and
// the store's expected-version check still settles it.
type streamTurns struct {
	mu sync.Mutex
	m  map[string]*turn
}

type turn struct {
	ch      chan struct{} // holds a token while a command has the turn
	waiters int           // commands holding or waiting for the turn
}

// take waits for stream's turn; release gives it back. It returns ctx's
// error if ctx ends first.
func (t *streamTurns) take(done <-chan struct{}, ctxErr func() error, stream string) (release func(), err error) {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]*turn{}
	}
	tu := t.m[stream]
	if tu == nil {
		tu = &turn{ch: make(chan struct{}, 1)}
		t.m[stream] = tu
	}
	tu.waiters++
	t.mu.Unlock()
	leave := func() {
		t.mu.Lock()
		if tu.waiters--; tu.waiters == 0 {
			delete(t.m, stream)
		}
		t.mu.Unlock()
	}
	select {
	case tu.ch <- struct{}{}:
		return func() { <-tu.ch; leave() }, nil
	case <-done:
		leave()
		return nil, ctxErr()
	}
}
