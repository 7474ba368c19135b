// Package fakeserver imitates the part of KurrentDB's gRPC protocol that the
// kurrentdb adapter uses, so that its tests run the real client library
// (EventStore-Client-Go v4.1.0) end to end without a server: appends with
// expected revisions and the server's idempotency check, stream reads,
// reads of $all, and filtered catch-up subscriptions to $all.
//
// It is written from KurrentDB's documentation and source, not checked
// against a server; where KurrentDB's behaviour is uncertain or has changed
// between versions, Options picks one. Passing against it proves the
// adapter consistent with these assumptions, not with KurrentDB.
package fakeserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// Options choose between behaviours of KurrentDB versions.
type Options struct {
	// IdempotentNoPosition answers an append the server recognises as a
	// repeat of stored events without a log position, as EventStoreDB did
	// before KurrentDB 25; by default it answers with the stored events'
	// position, as KurrentDB 25 does.
	IdempotentNoPosition bool
	// SubscribeInclusive makes a subscription from a position deliver the
	// event at that position too. KurrentDB starts after it; the adapter
	// must cope with either.
	SubscribeInclusive bool
}

// Server is a fake KurrentDB node listening on 127.0.0.1.
type Server struct {
	opts Options

	mu       sync.Mutex
	records  []record         // the log, in position order
	streams  map[string][]int // stream -> indexes into records
	next     uint64           // next log position
	changed  chan struct{}    // closed and replaced on every write
	drops    map[chan struct{}]struct{}
	before   func(stream string) // called before each append is applied
	appends  int
	addr     string
	grpc     *grpc.Server
	stopped  bool
	streamsS *streamsServer
}

type record struct {
	id              uuid.UUID
	stream          string
	revision        uint64
	typ             string
	json            bool
	data, meta      []byte
	commit, prepare uint64
	created         time.Time
}

func (r *record) position() esdb.Position { return esdb.Position{Commit: r.commit, Prepare: r.prepare} }

// Start starts a server with an empty log (apart from a few system events,
// as a real node writes them).
func Start(opts Options) (*Server, error) {
	s := &Server{
		opts:    opts,
		streams: make(map[string][]int),
		next:    1 << 10, // the log starts with headers, as in KurrentDB
		changed: make(chan struct{}),
		drops:   make(map[chan struct{}]struct{}),
	}
	s.streamsS = &streamsServer{s: s}
	s.AppendSystemEvent("$settings", "$settings")
	s.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected")
	if err := s.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listen(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	g := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}))
	api.RegisterStreamsServer(g, s.streamsS)
	s.mu.Lock()
	s.addr, s.grpc, s.stopped = lis.Addr().String(), g, false
	s.mu.Unlock()
	go g.Serve(lis) //nolint:errcheck // Serve returns when the server stops
	return nil
}

// URL is a connection string for the server. The client gives up on a
// server it cannot reach after maxDiscoverAttempts; the low values make
// that quick in tests.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "esdb://" + s.addr + "?tls=false&maxDiscoverAttempts=2&discoveryInterval=50&gossipTimeout=1"
}

// Stop stops serving and drops every connection; the log stays.
func (s *Server) Stop() {
	s.mu.Lock()
	g := s.grpc
	s.stopped = true
	s.mu.Unlock()
	g.Stop()
}

// Restart serves the log again on the same address.
func (s *Server) Restart() error {
	s.mu.Lock()
	addr := s.addr
	s.mu.Unlock()
	return s.listen(addr)
}

// Close stops the server.
func (s *Server) Close() { s.Stop() }

// DropSubscriptions ends every active subscription with an error, as a
// server does when it restarts or loses leadership.
func (s *Server) DropSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range s.drops {
		close(d)
		delete(s.drops, d)
	}
}

// BeforeAppend sets a function called with the stream name before each
// append request is applied (nil: none).
func (s *Server) BeforeAppend(f func(stream string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = f
}

// Appends counts the append requests served.
func (s *Server) Appends() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appends
}

// AppendSystemEvent writes an event of type typ to stream, as the server
// writes its statistics and settings.
func (s *Server) AppendSystemEvent(stream, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.write(stream, []record{{id: uuid.New(), typ: typ, json: true, data: []byte(`{}`)}})
}

// Event is an event for Write.
type Event struct {
	ID         uuid.UUID
	Type       string
	Data, Meta []byte
}

// Write appends events to stream as if a client had (without checks).
func (s *Server) Write(stream string, events ...Event) {
	recs := make([]record, len(events))
	for i, e := range events {
		recs[i] = record{id: e.ID, typ: e.Type, data: e.Data, meta: e.Meta}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.write(stream, recs)
}

// write appends recs to stream. Events of one write share the commit
// position (that of the first) and have their own prepare positions, as in
// KurrentDB's log. s.mu is held.
func (s *Server) write(stream string, recs []record) (first, last int) {
	commit := s.next
	now := time.Now().UTC()
	first = len(s.records)
	for _, r := range recs {
		r.stream = stream
		r.revision = uint64(len(s.streams[stream]))
		r.commit, r.prepare = commit, s.next
		r.created = now
		s.next += uint64(64 + len(stream) + len(r.typ) + len(r.data) + len(r.meta))
		s.streams[stream] = append(s.streams[stream], len(s.records))
		s.records = append(s.records, r)
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return first, len(s.records) - 1
}

type streamsServer struct {
	api.UnimplementedStreamsServer
	s *Server
}

const (
	expectAny          = -2
	expectNoStream     = -1
	expectStreamExists = -4
)

func (g *streamsServer) Append(stream api.Streams_AppendServer) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := req.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "append: options first")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	expected := int64(expectAny)
	switch opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Revision:
		expected = int64(opts.GetRevision())
	case *api.AppendReq_Options_NoStream:
		expected = expectNoStream
	case *api.AppendReq_Options_StreamExists:
		expected = expectStreamExists
	}
	var recs []record
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		m := req.GetProposedMessage()
		if m == nil {
			return status.Error(codes.InvalidArgument, "append: proposed messages after the options")
		}
		id, err := fromProtoUUID(m.GetId())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		typ := m.GetMetadata()["type"]
		if typ == "" {
			return status.Error(codes.InvalidArgument, "append: event type missing")
		}
		recs = append(recs, record{id: id, typ: typ, json: m.GetMetadata()["content-type"] == "application/json", data: m.GetData(), meta: m.GetCustomMetadata()})
	}
	g.s.mu.Lock()
	before := g.s.before
	g.s.mu.Unlock()
	if before != nil {
		before(name)
	}
	return stream.SendAndClose(g.s.append(name, expected, recs))
}

// append applies one append request. Like KurrentDB, it recognises a repeat
// of stored events at the expected place (for an exact expectation) and
// answers it with success without writing; a partial repeat is a conflict.
func (s *Server) append(name string, expected int64, recs []record) *api.AppendResp {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appends++
	idxs := s.streams[name]
	current := int64(len(idxs)) - 1
	if expected >= expectNoStream && current > expected && len(recs) > 0 {
		matched := 0
		for i, r := range recs {
			at := expected + 1 + int64(i)
			if at <= current && s.records[idxs[at]].id == r.id {
				matched++
			}
		}
		switch matched {
		case len(recs):
			first := &s.records[idxs[expected+1]]
			last := expected + int64(len(recs))
			success := &api.AppendResp_Success{CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(last)}}
			if s.opts.IdempotentNoPosition {
				success.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
			} else {
				success.PositionOption = &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: first.commit, PreparePosition: first.commit}}
			}
			return &api.AppendResp{Result: &api.AppendResp_Success_{Success: success}}
		}
	}
	ok := expected == expectAny || expected == current || (expected == expectStreamExists && current >= 0)
	if !ok {
		return wrongExpectedVersion(expected, current)
	}
	if len(recs) == 0 {
		return &api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
			CurrentRevisionOption: &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
			PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
		}}}
	}
	first, last := s.write(name, recs)
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
		CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: s.records[last].revision},
		PositionOption: &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
			CommitPosition: s.records[first].commit, PreparePosition: s.records[first].commit,
		}},
	}}}
}

func wrongExpectedVersion(expected, current int64) *api.AppendResp {
	w := &api.AppendResp_WrongExpectedVersion{}
	if current < 0 {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(current)}
	}
	switch expected {
	case expectNoStream:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case expectStreamExists:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	case expectAny:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	default:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: uint64(expected)}
	}
	return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

func (g *streamsServer) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "read: no options")
	}
	if _, sub := o.GetCountOption().(*api.ReadReq_Options_Subscription); sub {
		if o.GetAll() == nil {
			return status.Error(codes.Unimplemented, "fake server: only subscriptions to $all")
		}
		return g.s.subscribe(o, srv)
	}
	if o.GetStream() != nil {
		return g.s.readStream(o, srv)
	}
	return g.s.readAll(o, srv)
}

func (s *Server) readStream(o *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	so := o.GetStream()
	name := string(so.GetStreamIdentifier().GetStreamName())
	s.mu.Lock()
	idxs := s.streams[name]
	var recs []*record
	if len(idxs) > 0 {
		n, count := int64(len(idxs)), o.GetCount()
		backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
		var at int64
		switch so.GetRevisionOption().(type) {
		case *api.ReadReq_Options_StreamOptions_Revision:
			at = int64(so.GetRevision())
		case *api.ReadReq_Options_StreamOptions_End:
			at = n
			if backwards {
				at = n - 1
			}
		}
		step := int64(1)
		if backwards {
			at, step = min(at, n-1), -1
		}
		for ; at >= 0 && at < n && uint64(len(recs)) < count; at += step {
			recs = append(recs, &s.records[idxs[at]])
		}
	}
	s.mu.Unlock()
	if len(idxs) == 0 {
		return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
		}}})
	}
	for _, r := range recs {
		if err := srv.Send(eventResp(r)); err != nil {
			return err
		}
	}
	return nil
}

// readAll reads $all: forwards from a position inclusively, backwards from
// a position exclusively, as KurrentDB does.
func (s *Server) readAll(o *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	ao := o.GetAll()
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	s.mu.Lock()
	n := len(s.records)
	var at int
	switch ao.GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Position:
		p := esdb.Position{Commit: ao.GetPosition().GetCommitPosition(), Prepare: ao.GetPosition().GetPreparePosition()}
		at = s.search(p) // first record at or after p
		if backwards {
			at--
		}
	case *api.ReadReq_Options_AllOptions_End:
		at = n
		if backwards {
			at = n - 1
		}
	}
	var recs []*record
	for count := o.GetCount(); at >= 0 && at < n && uint64(len(recs)) < count; {
		recs = append(recs, &s.records[at])
		if backwards {
			at--
		} else {
			at++
		}
	}
	s.mu.Unlock()
	for _, r := range recs {
		if err := srv.Send(eventResp(r)); err != nil {
			return err
		}
	}
	return nil
}

// search returns the index of the first record at or after p. s.mu is held.
func (s *Server) search(p esdb.Position) int {
	return sort.Search(len(s.records), func(i int) bool { return !less(s.records[i].position(), p) })
}

func less(a, b esdb.Position) bool {
	if a.Commit != b.Commit {
		return a.Commit < b.Commit
	}
	return a.Prepare < b.Prepare
}

// subscribe serves a catch-up subscription to $all: the stored events after
// the start, a caught-up message, then new events as they are written.
// Events the filter drops count towards checkpoints, as in KurrentDB.
func (s *Server) subscribe(o *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	match, window, err := compileFilter(o)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	drop := make(chan struct{})
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return status.Error(codes.Unavailable, "server stopping")
	}
	s.drops[drop] = struct{}{}
	var at int
	switch o.GetAll().GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Position:
		pp := o.GetAll().GetPosition()
		p := esdb.Position{Commit: pp.GetCommitPosition(), Prepare: pp.GetPreparePosition()}
		at = s.search(p)
		if !s.opts.SubscribeInclusive && at < len(s.records) && s.records[at].position() == p {
			at++
		}
	case *api.ReadReq_Options_AllOptions_End:
		at = len(s.records)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.drops, drop)
		s.mu.Unlock()
	}()
	if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}); err != nil {
		return err
	}
	caughtUp, skipped := false, 0
	for {
		s.mu.Lock()
		recs := s.records[at:len(s.records):len(s.records)]
		changed := s.changed
		s.mu.Unlock()
		for i := range recs {
			r := &recs[i]
			at++
			if !match(r) {
				if skipped++; window > 0 && skipped%window == 0 {
					if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{CommitPosition: r.commit, PreparePosition: r.prepare}}}); err != nil {
						return err
					}
				}
				continue
			}
			if err := srv.Send(eventResp(r)); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-drop:
			return status.Error(codes.Unavailable, "fake server: subscription dropped")
		case <-srv.Context().Done():
			return srv.Context().Err()
		}
	}
}

// compileFilter turns a subscription's filter into a predicate and the
// number of filtered-out events between checkpoints.
func compileFilter(o *api.ReadReq_Options) (func(*record) bool, int, error) {
	f := o.GetFilter()
	if f == nil {
		return func(*record) bool { return true }, 0, nil
	}
	window := int(f.GetMax()) * int(max(f.GetCheckpointIntervalMultiplier(), 1))
	expr, onType := f.GetStreamIdentifier(), false
	if expr == nil {
		expr, onType = f.GetEventType(), true
	}
	if expr == nil {
		return nil, 0, errors.New("filter without an expression")
	}
	var re *regexp.Regexp
	if expr.GetRegex() != "" {
		var err error
		if re, err = regexp.Compile(expr.GetRegex()); err != nil {
			return nil, 0, err
		}
	}
	prefixes := expr.GetPrefix()
	return func(r *record) bool {
		subject := r.stream
		if onType {
			subject = r.typ
		}
		if re != nil {
			return re.MatchString(subject)
		}
		for _, p := range prefixes {
			if strings.HasPrefix(subject, p) {
				return true
			}
		}
		return false
	}, window, nil
}

func eventResp(r *record) *api.ReadResp {
	ct := "application/octet-stream"
	if r.json {
		ct = "application/json"
	}
	most, least := esdb.UUIDAsInt64(r.id)
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.prepare,
			CommitPosition:   r.commit,
			Metadata: map[string]string{
				"type":         r.typ,
				"content-type": ct,
				"created":      strconv.FormatInt(r.created.UnixNano()/100, 10), // .NET ticks since the Unix epoch
			},
			CustomMetadata: r.meta,
			Data:           r.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.commit},
	}}}
}

func fromProtoUUID(u *shared.UUID) (uuid.UUID, error) {
	if st := u.GetStructured(); st != nil {
		return esdb.ParseUUIDFromInt64(st.GetMostSignificantBits(), st.GetLeastSignificantBits())
	}
	if u.GetString_() != "" {
		return uuid.Parse(u.GetString_())
	}
	return uuid.Nil, fmt.Errorf("event without an id")
}

var _ api.StreamsServer = (*streamsServer)(nil)
