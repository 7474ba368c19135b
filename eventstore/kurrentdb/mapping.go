package kurrentdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"promiseledger/eventstore"
)

// This file holds the pure translations between the port and KurrentDB:
// versions and revisions, positions, stream names, filters and events.

const defaultPageSize = eventstore.DefaultPageSize

// Versions count a stream's events (the first event has version 1, a missing
// stream version 0); KurrentDB revisions index them from 0.

// expectedRevision is the precondition for appending after version v: the
// stream must not exist (v == 0) or its last event must have revision v-1.
// The adapter never sends esdb.Any: an append with eventstore.Any reads the
// stream's version and appends with that exact expectation, so that two
// concurrent retries of one batch cannot both write it (see append.go).
func expectedRevision(v eventstore.Version) esdb.ExpectedRevision {
	if v <= 0 {
		return esdb.NoStream{}
	}
	return esdb.Revision(uint64(v - 1))
}

// versionOf is the version of the event at a revision.
func versionOf(revision uint64) eventstore.Version { return eventstore.Version(revision) + 1 }

// revisionOf is the revision of the event with version v (v >= 1).
func revisionOf(v eventstore.Version) uint64 { return uint64(v - 1) }

// Positions are the same pair on both sides.

func toPosition(p esdb.Position) eventstore.Position {
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// allPosition is where a read of $all starts so that it sees the events
// after p. KurrentDB reads forwards from a position inclusively, so readers
// skip the event at exactly p.
func allPosition(p eventstore.Position) esdb.AllPosition {
	if p == eventstore.Start {
		return esdb.Start{}
	}
	return esdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// beyondLog reports whether p lies after every position KurrentDB can hand
// out: the server keeps positions as signed 64-bit numbers, and a larger
// value sent to it would wrap around to a position before the end. A
// checkpoint parsed from input can be anything.
func beyondLog(p eventstore.Position) bool {
	return p.Commit > math.MaxInt64 || p.Prepare > math.MaxInt64
}

// Stream names. Claims of event ids (see append.go) live in streams of
// their own, outside every prefix namespace.

const (
	// claimStreamPrefix starts the stream that records which stream owns an
	// event id: claimStreamPrefix + StreamPrefix + id.
	claimStreamPrefix = "ledger.event-id-"
	// claimEventType starts with "$" so that the filter excluding system
	// events (the server's and ours) hides claims from ReadAll and Subscribe.
	claimEventType = "$ledger.event-id-claimed"
)

func validateStreamPrefix(prefix string) error {
	switch {
	case prefix == "":
		return nil
	case strings.HasPrefix(prefix, "$"):
		return fmt.Errorf("kurrentdb: StreamPrefix %q: names starting with $ belong to the server", prefix)
	case strings.HasPrefix(prefix, claimStreamPrefix) || strings.HasPrefix(claimStreamPrefix+prefix, prefix):
		// The second case: the claim streams of this prefix would start with
		// the prefix, so they would belong to the namespace.
		return fmt.Errorf("kurrentdb: StreamPrefix %q collides with the claim streams (named %q and a stream name)", prefix, claimStreamPrefix)
	}
	return nil
}

// names maps the port's stream names to the server's and back.
type names struct{ prefix string }

func (n names) stream(name string) string { return n.prefix + name }

func (n names) claim(id uuid.UUID) string { return claimStreamPrefix + n.prefix + id.String() }

// usable reports whether Append accepts the stream name: names starting with
// "$" belong to the server, and claim streams to the adapter.
func (n names) usable(name string) bool {
	return !strings.HasPrefix(name, "$") && !strings.HasPrefix(n.stream(name), claimStreamPrefix)
}

// port returns the port's name of a server stream, and false for a stream
// outside the namespace.
func (n names) port(streamID string) (string, bool) {
	if !strings.HasPrefix(streamID, n.prefix) || streamID == n.prefix {
		return "", false
	}
	return streamID[len(n.prefix):], true
}

// describe names a server stream in a message: the port's name if it is in
// the namespace, else the full name.
func (n names) describe(streamID string) string {
	if name, ok := n.port(streamID); ok {
		return name
	}
	return streamID
}

// filter decides which events of $all belong to the store's log.
type filter struct{ names names }

// match is the client-side rule: an event in the namespace, of a type that
// is not a system type, and not in a system or claim stream.
func (f filter) match(ev *esdb.RecordedEvent) bool {
	if ev == nil || strings.HasPrefix(ev.EventType, "$") || strings.HasPrefix(ev.StreamID, "$") || strings.HasPrefix(ev.StreamID, claimStreamPrefix) {
		return false
	}
	_, ours := f.names.port(ev.StreamID)
	return ours
}

// server is the filter sent with a subscription: a stream-name prefix when
// the store has a namespace, else the client library's filter excluding
// system event types. It lets through at least every event match accepts
// (filter_test.go checks that on a table); Subscribe applies match as well.
func (f filter) server() *esdb.SubscriptionFilter {
	if f.names.prefix != "" {
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{f.names.prefix}}
	}
	return esdb.ExcludeSystemEventsFilter()
}

// usableType reports whether Append accepts an event type: a type starting
// with "$" marks a system event, which every reader filters out.
func usableType(t string) bool { return !strings.HasPrefix(t, "$") }

// Events.

// toEventData encodes an event for the server. Data and metadata go as given:
// KurrentDB stores both as opaque bytes whatever the content type. JSON data
// is marked as JSON, so that server-side projections and the web UI can read
// it; anything else is binary.
func toEventData(e eventstore.Event) esdb.EventData {
	ct := esdb.ContentTypeBinary
	if len(e.Data) > 0 && json.Valid(e.Data) {
		ct = esdb.ContentTypeJson
	}
	return esdb.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: ct,
		Data:        e.Data,
		Metadata:    e.Metadata,
	}
}

// toRecorded decodes a stored event of stream (the port's name). The client
// decodes every message into fresh slices, so nothing is shared.
func toRecorded(ev *esdb.RecordedEvent, stream string) eventstore.Recorded {
	return eventstore.Recorded{
		ID:       ev.EventID,
		Stream:   stream,
		Version:  versionOf(ev.EventNumber),
		Position: toPosition(ev.Position),
		Type:     ev.EventType,
		Data:     ev.Data,
		Metadata: ev.UserMetadata,
		StoredAt: ev.CreatedDate.UTC(),
	}
}

// Errors.

// conflictError is a WrongExpectedVersion answer. current is the stream's
// last revision as the server reported it: -1 for no stream, and
// unknownRevision when the answer did not say.
type conflictError struct {
	current int64
	err     error
}

const unknownRevision = math.MinInt64

func (e *conflictError) Error() string { return e.err.Error() }
func (e *conflictError) Unwrap() error { return e.err }

// actual is the stream's version the server reported, if it did.
func (e *conflictError) actual() (eventstore.Version, bool) {
	if e.current == unknownRevision {
		return 0, false
	}
	return e.current + 1, true
}

var (
	// errStreamNotFound: a read of a stream that has no events.
	errStreamNotFound = errors.New("kurrentdb: stream not found")
	// errClientGone: the client gave up on the server (see conn) or was
	// closed; a new client may succeed.
	errClientGone = errors.New("kurrentdb: client closed")
	// errRefused: the server refuses the request for good (credentials,
	// permissions, an unsupported request); retrying cannot help.
	errRefused = errors.New("kurrentdb: request refused")
)

// classify turns the client library's errors into the adapter's. The
// library wraps some of its errors with fmt.Errorf, so this uses errors.As
// where esdb.FromError would see only the outer error (and FromError reports
// ok == true only for a nil error).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var e *esdb.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case esdb.ErrorCodeWrongExpectedVersion:
		return &conflictError{current: parseCurrentRevision(e.Error()), err: err}
	case esdb.ErrorCodeResourceNotFound:
		return fmt.Errorf("%w: %w", errStreamNotFound, err)
	case esdb.ErrorCodeConnectionClosed:
		return fmt.Errorf("%w: %w", errClientGone, err)
	case esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnsupportedFeature:
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	return err
}

// parseCurrentRevision reads the current revision out of the message the
// client library v4.1.0 builds for a WrongExpectedVersion answer:
// "wrong expected version: expecting '1' but got 'no_stream'". It returns -1
// for no stream and unknownRevision when the message has another form.
func parseCurrentRevision(msg string) int64 {
	const marker = "but got '"
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return unknownRevision
	}
	current, _, ok := strings.Cut(msg[i+len(marker):], "'")
	if !ok {
		return unknownRevision
	}
	if current == "no_stream" {
		return -1
	}
	r, err := strconv.ParseInt(current, 10, 64)
	if err != nil || r < 0 {
		return unknownRevision
	}
	return r
}
