// Package eventstore is the port between PromiseLedger and the databases that
// keep its events. It stores opaque records (stream, version, type, bytes,
// metadata) and knows nothing of the domain: the codec between domain events
// and records lives in package domain.
//
// Adapters: postgres (the default), kurrentdb (clusters) and memory (fast
// unit tests). Every adapter passes the conformance suite in
// eventstore/storetest.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Version is the number of events in a stream after an event was appended:
// the first event of a stream has version 1. A stream that does not exist has
// version 0.
type Version = int64

// Expected is the optimistic-concurrency precondition of an append.
type Expected struct {
	kind    expectedKind
	version Version
}

type expectedKind uint8

const (
	expectExact expectedKind = iota
	expectAny
)

// Any appends whatever the stream's current version is.
func Any() Expected { return Expected{kind: expectAny} }

// NoStream appends only if the stream has no events yet.
func NoStream() Expected { return Expected{kind: expectExact, version: 0} }

// Exactly appends only if the stream is at version v (0 means no stream).
func Exactly(v Version) Expected { return Expected{kind: expectExact, version: v} }

// IsAny reports whether the expectation is Any.
func (e Expected) IsAny() bool { return e.kind == expectAny }

// Version returns the exact version expected; it is meaningless for Any.
func (e Expected) Version() Version { return e.version }

func (e Expected) String() string {
	if e.kind == expectAny {
		return "any"
	}
	if e.version == 0 {
		return "no stream"
	}
	return fmt.Sprintf("version %d", e.version)
}

// Position is a place in the global log. Positions are totally ordered by
// (Commit, Prepare). The postgres adapter uses (transaction id, row sequence),
// KurrentDB its (commit, prepare) log positions, and the memory adapter the
// same number twice. The zero Position is before the first event.
type Position struct {
	Commit  uint64 `json:"commit"`
	Prepare uint64 `json:"prepare"`
}

// Start is the position before the first event of the global log.
var Start = Position{}

// Less reports whether p comes strictly before q.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Commit, p.Prepare) }

// ParsePosition reads the form written by Position.String.
func ParsePosition(s string) (Position, error) {
	var p Position
	if s == "" {
		return Start, nil
	}
	if _, err := fmt.Sscanf(s, "%d/%d", &p.Commit, &p.Prepare); err != nil {
		return Start, fmt.Errorf("position %q: want COMMIT/PREPARE: %w", s, ErrInvalid)
	}
	return p, nil
}

// Event is a record to append.
type Event struct {
	ID       uuid.UUID // unique across the whole store; the idempotency key of the append
	Type     string    // a stable name with a version suffix, e.g. indicator.progress_reported.v1
	Data     []byte
	Metadata []byte
}

// Recorded is an event as stored.
type Recorded struct {
	ID       uuid.UUID
	Stream   string
	Version  Version
	Position Position
	Type     string
	Data     []byte
	Metadata []byte
	StoredAt time.Time // the store's clock at commit (UTC)
}

// AppendResult describes a successful (or idempotently repeated) append.
type AppendResult struct {
	// Version is the stream's version after the append: the version of the
	// last event appended.
	Version Version
	// First and Last are the global positions of the first and last event.
	First, Last Position
	// Duplicate is true when every event was already stored at this place by
	// an earlier append and nothing was written now.
	Duplicate bool
}

// Errors every adapter reports, matched with errors.Is.
var (
	// ErrConflict: the stream is not at the expected version.
	ErrConflict = errors.New("eventstore: wrong expected version")
	// ErrDuplicateEvent: an event id is already stored elsewhere (another
	// stream, another place, or a different batch).
	ErrDuplicateEvent = errors.New("eventstore: event id already stored elsewhere")
	// ErrInvalid: the request itself is malformed (empty stream name, no
	// events, missing id or type, ...).
	ErrInvalid = errors.New("eventstore: invalid request")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("eventstore: store closed")
)

// ConflictError carries the versions of a failed optimistic-concurrency check.
// It matches ErrConflict with errors.Is.
type ConflictError struct {
	Stream   string
	Expected Expected
	Actual   Version
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("eventstore: stream %q: expected %s, actual version %d", e.Stream, e.Expected, e.Actual)
}

func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Store is the port. Implementations are safe for concurrent use.
type Store interface {
	// Append writes events at the end of stream if the stream satisfies
	// expected. All events are written or none. Appending events whose ids
	// are all already stored, in the same stream at the same place, writes
	// nothing and returns the original result with Duplicate set.
	Append(ctx context.Context, stream string, expected Expected, events []Event) (AppendResult, error)
	// ReadStream returns up to limit events of stream with version >= from,
	// in version order. A missing stream yields no events and no error.
	ReadStream(ctx context.Context, stream string, from Version, limit int) ([]Recorded, error)
	// StreamVersion returns the current version of stream (0 if missing).
	StreamVersion(ctx context.Context, stream string) (Version, error)
	// ReadAll returns up to limit events strictly after position, in global
	// order. It never returns an event while an event before it may still
	// become visible, so a reader that advances its position past what it
	// has read never skips an event.
	ReadAll(ctx context.Context, after Position, limit int) ([]Recorded, error)
	// Subscribe calls handle for every event strictly after position, in
	// global order, then waits for new events, until ctx is done (it returns
	// ctx.Err()) or handle returns an error (it returns that error).
	Subscribe(ctx context.Context, after Position, handle func(context.Context, Recorded) error) error
	// Head returns the position of the last event a reader can see now
	// (Start if none).
	Head(ctx context.Context) (Position, error)
}

// ValidateAppend checks the arguments of an append; adapters call it first.
func ValidateAppend(stream string, events []Event) error {
	if stream == "" {
		return fmt.Errorf("empty stream name: %w", ErrInvalid)
	}
	if len(stream) > 512 {
		return fmt.Errorf("stream name longer than 512 bytes: %w", ErrInvalid)
	}
	if len(events) == 0 {
		return fmt.Errorf("no events to append to %q: %w", stream, ErrInvalid)
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		if e.ID == uuid.Nil {
			return fmt.Errorf("event %d of %q has no id: %w", i, stream, ErrInvalid)
		}
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("event id %s repeated in one append: %w", e.ID, ErrInvalid)
		}
		seen[e.ID] = struct{}{}
		if e.Type == "" {
			return fmt.Errorf("event %d of %q has no type: %w", i, stream, ErrInvalid)
		}
	}
	return nil
}

// DefaultPageSize is used by Subscribe implementations and by callers that
// have no better idea.
const DefaultPageSize = 500
