package commands

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// runner is the machinery every handler shares.
type runner struct {
	deps    Deps
	streams *streamCache // nil: every command reads its stream
	turns   streamTurns
}

// aggregate is what execute needs of a domain aggregate.
type aggregate interface {
	Version() int64
	Changes() []domain.Envelope
}

// plan describes one command for execute.
type plan[A aggregate] struct {
	id        string // the target aggregate's id
	stream    string
	eventType string // the one event type the command records
	rebuild   func([]domain.Envelope) (A, error)
	// decide applies the command to the rebuilt aggregate. It may read
	// other streams (a roadmap's program, say); it runs after the duplicate
	// check, so a retry of a command that succeeded never fails on them.
	decide func(ctx context.Context, a A, m domain.Meta) error
}

// identified gives h an event id if the caller did not: done once per
// command, so internal retries reuse it.
func (r *runner) identified(h Header) Header {
	if h.EventID == uuid.Nil {
		h.EventID = r.deps.NewID()
	}
	return h
}

// execute runs a command against its stream. A command the caller did not
// pin to a version is tried again, from a fresh load, when another writer
// appended to the stream between load and append: the domain decides again
// on the new state, so no stale decision is ever stored. Retries pause for a
// random, growing moment, so that writers racing for one stream spread out
// instead of colliding again in step, and stop when Deps.RetryBudget is
// spent, with a *ContentionError. A command pinned with ExpectedVersion is
// never retried: the caller decided on what it saw.
func execute[A aggregate](ctx context.Context, r *runner, h Header, p plan[A]) (Result, error) {
	h = r.identified(h)
	began := time.Now()
	for attempt := 1; ; attempt++ {
		res, err := attemptOnce(ctx, r, h, p)
		if err == nil || h.ExpectedVersion != nil || !errors.Is(err, eventstore.ErrConflict) {
			return res, err
		}
		pause := retryPause(attempt)
		if r.deps.Attempts > 0 && attempt >= r.deps.Attempts || time.Since(began)+pause > r.deps.RetryBudget {
			return Result{}, &ContentionError{Stream: p.stream, Attempts: attempt, Spent: time.Since(began)}
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return Result{}, ctx.Err()
		case <-timer.C:
		}
	}
}

// attemptOnce is one try of the command, in its stream's turn when the stream
// cache is on: first on the cached state, and if that was stale, at once on
// a fresh read (not a lost race).
func attemptOnce[A aggregate](ctx context.Context, r *runner, h Header, p plan[A]) (Result, error) {
	if r.streams != nil {
		release, err := r.turns.take(ctx.Done(), ctx.Err, p.stream)
		if err != nil {
			return Result{}, err
		}
		defer release()
	}
	res, err := try(ctx, r, h, p, r.streams.get(p.stream))
	if errors.Is(err, errStale) {
		// The cached state was not the stream's: decide again on what the
		// store holds. Not a lost race.
		res, err = try(ctx, r, h, p, nil)
	}
	return res, err
}

// Retry pauses grow from retryBase to at most retryCap. With 20 writers on
// one stream, each attempt (load, decide, append) takes a few milliseconds;
// pauses of that order let most writers land within a few attempts.
const (
	retryBase = 2 * time.Millisecond
	retryCap  = 100 * time.Millisecond
)

// retryPause is a "full jitter" backoff: uniform in [0, min(cap, base·2^n)),
// which spreads racing writers best.
func retryPause(attempt int) time.Duration {
	ceiling := retryCap
	if attempt < 16 {
		ceiling = min(retryCap, retryBase<<attempt)
	}
	return rand.N(ceiling)
}

// ContentionError is the failure of a command sent without ExpectedVersion
// that lost the race for its stream to other writers at every attempt until
// Deps.RetryBudget was spent. Nothing was recorded. It matches
// eventstore.ErrConflict, but unlike *eventstore.ConflictError it does not
// mean "re-read and decide again": the caller pinned no version, so the
// same command, sent again, is the right answer.
type ContentionError struct {
	Stream   string
	Attempts int
	Spent    time.Duration
}

func (e *ContentionError) Error() string {
	return fmt.Sprintf("%s: other writes won the race for it at each of %d attempts over %v; nothing was recorded",
		e.Stream, e.Attempts, e.Spent.Round(time.Millisecond))
}

// Unwrap makes it match eventstore.ErrConflict, and not *ConflictError.
func (e *ContentionError) Unwrap() error { return eventstore.ErrConflict }

// errStale: an attempt made on a cached state found that the stream may
// have moved on; the command is decided again on a fresh read.
var errStale = errors.New("commands: cached stream state is stale")

// try makes one attempt: on cached, the stream as this process last knew it,
// or, when cached is nil, on a fresh read of the stream. An attempt on a
// cached state answers only what the store confirmed (its append succeeded
// at exactly the cached version); every other outcome is errStale.
func try[A aggregate](ctx context.Context, r *runner, h Header, p plan[A], cached *streamState) (Result, error) {
	st := cached
	if st == nil {
		records, err := r.read(ctx, p.stream)
		if err != nil {
			return Result{}, err
		}
		if res, found, err := duplicate(records, h.EventID, p); found || err != nil {
			return res, err
		}
		history, err := r.deps.Decoded.decodeAll(records)
		if err != nil {
			return Result{}, fmt.Errorf("load %s: %w", p.stream, err)
		}
		st = stateOf(records, history)
		r.streams.put(p.stream, st, true)
	} else if slices.ContainsFunc(st.records, func(rec cachedRecord) bool { return rec.id == h.EventID }) {
		return Result{}, errStale // a repeat: answered from the store's own records
	}
	stale := func(err error) error {
		if cached != nil {
			r.streams.drop(p.stream, cached.version)
			return errStale
		}
		return err
	}
	a, err := p.rebuild(st.history)
	if err != nil {
		return Result{}, stale(fmt.Errorf("load %s: %w", p.stream, err))
	}
	version := st.version
	if h.ExpectedVersion != nil && *h.ExpectedVersion != version {
		return Result{}, stale(&eventstore.ConflictError{Stream: p.stream, Expected: eventstore.Exactly(*h.ExpectedVersion), Actual: version})
	}
	if err := p.decide(ctx, a, h.meta(r.deps.Clock())); err != nil {
		return Result{}, stale(err)
	}
	events, ids, err := encodeAll(a.Changes())
	if err != nil {
		return Result{}, err
	}
	appended, err := r.deps.Store.Append(ctx, p.stream, eventstore.Exactly(version), events)
	switch {
	case err != nil && cached != nil && (errors.Is(err, eventstore.ErrConflict) || errors.Is(err, eventstore.ErrDuplicateEvent)):
		return Result{}, stale(err)
	case err != nil:
		// The state this attempt stored may be behind the stream now.
		r.streams.drop(p.stream, version)
		return Result{}, fmt.Errorf("append to %s: %w", p.stream, err)
	case appended.Duplicate && cached != nil:
		return Result{}, stale(nil)
	}
	if !appended.Duplicate && appended.Version == version+int64(len(events)) {
		if next, err := st.then(events, appended.Version); err == nil {
			r.streams.put(p.stream, next, false)
		} else {
			r.streams.drop(p.stream, version)
		}
	}
	return Result{ID: p.id, Stream: p.stream, Version: appended.Version, EventIDs: ids, Duplicate: appended.Duplicate}, nil
}

// duplicate looks for the command's event id in its stream. Found, the
// command already succeeded and its original result is returned; this must
// come before deciding, because the decision would now see the command's
// own effect (a second registration, a repeated assignment) and refuse.
func duplicate[A aggregate](records []eventstore.Recorded, id uuid.UUID, p plan[A]) (Result, bool, error) {
	i := slices.IndexFunc(records, func(rec eventstore.Recorded) bool { return rec.ID == id })
	if i < 0 {
		return Result{}, false, nil
	}
	rec := records[i]
	if rec.Type != p.eventType {
		return Result{}, true, fmt.Errorf("event id %s already records a %s in %s, not a %s: %w",
			id, rec.Type, p.stream, p.eventType, eventstore.ErrDuplicateEvent)
	}
	return Result{ID: p.id, Stream: p.stream, Version: rec.Version, EventIDs: []uuid.UUID{rec.ID}, Duplicate: true}, true, nil
}

// orEventID is the id of a new aggregate: the caller's, or else the event
// id, which makes registrations without an id idempotent too.
func orEventID(id string, h Header) string {
	if id != "" {
		return id
	}
	return h.EventID.String()
}

// changeRoadmap runs a command on an existing roadmap.
func changeRoadmap(ctx context.Context, r *runner, h Header, id, eventType string, change func(*domain.Roadmap, domain.Meta) error) (Result, error) {
	if err := domain.ValidateID("roadmap_id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, r, h, plan[*domain.Roadmap]{
		id: id, stream: domain.RoadmapStream(id), eventType: eventType,
		rebuild: domain.RebuildRoadmap,
		decide: func(_ context.Context, a *domain.Roadmap, m domain.Meta) error {
			return change(a, m)
		},
	})
}

// changeIndicator runs a command on an existing indicator.
func changeIndicator(ctx context.Context, r *runner, h Header, id, eventType string, change func(*domain.Indicator, domain.Meta) error) (Result, error) {
	if err := domain.ValidateID("indicator_id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, r, h, plan[*domain.Indicator]{
		id: id, stream: domain.IndicatorStream(id), eventType: eventType,
		rebuild: domain.RebuildIndicator,
		decide: func(_ context.Context, a *domain.Indicator, m domain.Meta) error {
			return change(a, m)
		},
	})
}

// read returns every event of stream, page by page.
func (r *runner) read(ctx context.Context, stream string) ([]eventstore.Recorded, error) {
	var all []eventstore.Recorded
	from := eventstore.Version(1)
	for {
		page, err := r.deps.Store.ReadStream(ctx, stream, from, r.deps.PageSize)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		all = append(all, page...)
		if len(page) < r.deps.PageSize {
			return all, nil
		}
		from = page[len(page)-1].Version + 1
	}
}

// load rebuilds an aggregate other than the command's target, for a check.
func load[A any](ctx context.Context, r *runner, stream string, rebuild func([]domain.Envelope) (A, error)) (A, error) {
	var zero A
	records, err := r.read(ctx, stream)
	if err != nil {
		return zero, err
	}
	history, err := r.deps.Decoded.decodeAll(records)
	if err != nil {
		return zero, fmt.Errorf("load %s: %w", stream, err)
	}
	a, err := rebuild(history)
	if err != nil {
		return zero, fmt.Errorf("load %s: %w", stream, err)
	}
	return a, nil
}

func streamVersion(records []eventstore.Recorded) int64 {
	if len(records) == 0 {
		return 0
	}
	return records[len(records)-1].Version
}

// DecodeCache remembers decoded events by id (see Deps.Decoded). Stored
// events never change, so an id always decodes the same. Safe for
// concurrent use; a nil cache decodes every time.
type DecodeCache struct{ m sync.Map }

// NewDecodeCache returns an empty cache.
func NewDecodeCache() *DecodeCache { return &DecodeCache{} }

func (c *DecodeCache) decodeAll(records []eventstore.Recorded) ([]domain.Envelope, error) {
	history := make([]domain.Envelope, len(records))
	for i, rec := range records {
		if c != nil {
			if env, ok := c.m.Load(rec.ID); ok {
				history[i] = env.(domain.Envelope)
				continue
			}
		}
		e, m, err := domain.Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			return nil, fmt.Errorf("event %s at version %d: %w", rec.ID, rec.Version, err)
		}
		history[i] = domain.Envelope{Event: e, Meta: m}
		if c != nil {
			c.m.Store(rec.ID, history[i])
		}
	}
	return history, nil
}

func encodeAll(changes []domain.Envelope) ([]eventstore.Event, []uuid.UUID, error) {
	events := make([]eventstore.Event, len(changes))
	ids := make([]uuid.UUID, len(changes))
	for i, c := range changes {
		typ, data, metadata, err := domain.Encode(c.Event, c.Meta)
		if err != nil {
			return nil, nil, err
		}
		events[i] = eventstore.Event{ID: c.Meta.EventID, Type: typ, Data: data, Metadata: metadata}
		ids[i] = c.Meta.EventID
	}
	return events, ids, nil
}

// meta is the metadata of the event a command records at now.
func (h Header) meta(now time.Time) domain.Meta {
	correlation := h.CorrelationID
	if correlation == uuid.Nil {
		correlation = h.EventID
	}
	return domain.Meta{
		EventID:       h.EventID,
		ActorID:       h.Actor.ID,
		ActorRole:     h.Actor.Role,
		Reason:        h.Reason,
		CorrelationID: correlation,
		CausationID:   h.CausationID,
		EffectiveAt:   h.EffectiveAt,
		RecordedAt:    now,
	}
}
