package kurrentdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"promiseledger/eventstore"
)

func TestExpectedRevision(t *testing.T) {
	cases := []struct {
		name    string
		version eventstore.Version
		want    esdb.ExpectedRevision
	}{
		{"no stream", 0, esdb.NoStream{}},
		{"first event", 1, esdb.Revision(0)},
		{"second event", 2, esdb.Revision(1)},
		{"large", 1 << 40, esdb.Revision(1<<40 - 1)},
		{"largest", math.MaxInt64, esdb.Revision(math.MaxInt64 - 1)},
		{"negative is treated as no stream", -1, esdb.NoStream{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := expectedRevision(c.version); got != c.want {
				t.Errorf("expectedRevision(%d) = %#v, want %#v", c.version, got, c.want)
			}
		})
	}
}

func TestVersionsAndRevisions(t *testing.T) {
	cases := []struct {
		version  eventstore.Version
		revision uint64
	}{
		{1, 0},
		{2, 1},
		{100, 99},
		{math.MaxInt64, math.MaxInt64 - 1},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.version), func(t *testing.T) {
			if got := revisionOf(c.version); got != c.revision {
				t.Errorf("revisionOf(%d) = %d, want %d", c.version, got, c.revision)
			}
			if got := versionOf(c.revision); got != c.version {
				t.Errorf("versionOf(%d) = %d, want %d", c.revision, got, c.version)
			}
		})
	}
}

func TestPositions(t *testing.T) {
	cases := []struct {
		name   string
		p      eventstore.Position
		from   esdb.AllPosition
		beyond bool
	}{
		{"start", eventstore.Start, esdb.Start{}, false},
		{"an event", eventstore.Position{Commit: 4096, Prepare: 4160}, esdb.Position{Commit: 4096, Prepare: 4160}, false},
		{"commit only", eventstore.Position{Commit: 7}, esdb.Position{Commit: 7}, false},
		{"largest the server has", eventstore.Position{Commit: math.MaxInt64, Prepare: math.MaxInt64}, esdb.Position{Commit: math.MaxInt64, Prepare: math.MaxInt64}, false},
		{"commit beyond", eventstore.Position{Commit: math.MaxInt64 + 1}, esdb.Position{Commit: math.MaxInt64 + 1}, true},
		{"prepare beyond", eventstore.Position{Commit: 1, Prepare: math.MaxUint64}, esdb.Position{Commit: 1, Prepare: math.MaxUint64}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := allPosition(c.p); got != c.from {
				t.Errorf("allPosition(%v) = %#v, want %#v", c.p, got, c.from)
			}
			if got := beyondLog(c.p); got != c.beyond {
				t.Errorf("beyondLog(%v) = %v, want %v", c.p, got, c.beyond)
			}
			if ep, ok := c.from.(esdb.Position); ok {
				if got := toPosition(ep); got != c.p {
					t.Errorf("toPosition(%#v) = %v, want %v", ep, got, c.p)
				}
			}
		})
	}
}

func TestEventRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	cases := []struct {
		name string
		data []byte
		meta []byte
		json bool
	}{
		{"JSON", []byte(`{"a":1}`), []byte(`{"by":"alice"}`), true},
		{"JSON with odd spacing and a repeated key", []byte("{ \"b\" : 1,\"a\":2 ,\"a\":3}\n"), nil, true},
		{"JSON scalar", []byte(`42`), nil, true},
		{"not JSON", []byte("not json at all"), []byte("x"), false},
		{"byte order mark before JSON", []byte("\xef\xbb\xbf{}"), nil, false},
		{"invalid UTF-8", []byte{'a', 0xff, 0xfe}, []byte{0}, false},
		{"every byte value", all, all, false},
		{"empty", []byte{}, []byte{}, false},
		{"nil", nil, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := eventstore.Event{ID: uuid.New(), Type: "test.happened.v1", Data: c.data, Metadata: c.meta}
			ed := toEventData(ev)
			wantCT := esdb.ContentTypeBinary
			if c.json {
				wantCT = esdb.ContentTypeJson
			}
			if ed.ContentType != wantCT {
				t.Errorf("content type %v, want %v", ed.ContentType, wantCT)
			}
			if ed.EventID != ev.ID || ed.EventType != ev.Type || !bytes.Equal(ed.Data, c.data) || !bytes.Equal(ed.Metadata, c.meta) {
				t.Errorf("toEventData(%+v) = %+v", ev, ed)
			}
			stored := time.Date(2025, 3, 1, 12, 0, 0, 100, time.FixedZone("x", 3600))
			rec := toRecorded(&esdb.RecordedEvent{
				EventID: ed.EventID, EventType: ed.EventType, StreamID: "p-order-1", EventNumber: 4,
				Position: esdb.Position{Commit: 10, Prepare: 12}, CreatedDate: stored, Data: ed.Data, UserMetadata: ed.Metadata,
			}, "order-1")
			want := eventstore.Recorded{ID: ev.ID, Stream: "order-1", Version: 5, Position: eventstore.Position{Commit: 10, Prepare: 12},
				Type: ev.Type, Data: c.data, Metadata: c.meta, StoredAt: stored.UTC()}
			if rec.ID != want.ID || rec.Stream != want.Stream || rec.Version != want.Version || rec.Position != want.Position ||
				rec.Type != want.Type || !bytes.Equal(rec.Data, want.Data) || !bytes.Equal(rec.Metadata, want.Metadata) ||
				!rec.StoredAt.Equal(want.StoredAt) || rec.StoredAt.Location() != time.UTC {
				t.Errorf("toRecorded = %+v, want %+v", rec, want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	id := uuid.MustParse("0190d0a4-7e6c-7cc1-9d3f-3b1a2c4d5e6f")
	cases := []struct {
		name     string
		prefix   string
		stream   string
		full     string
		usable   bool
		claim    string
		serverID string // a server stream to map back
		port     string
		ours     bool
	}{
		{"no prefix", "", "roadmap-1", "roadmap-1", true, "ledger.event-id-" + id.String(), "roadmap-1", "roadmap-1", true},
		{"no prefix, system stream", "", "$stats", "$stats", false, "ledger.event-id-" + id.String(), "$stats", "$stats", true},
		{"no prefix, claim stream", "", "ledger.event-id-x", "ledger.event-id-x", false, "ledger.event-id-" + id.String(), "x", "x", true},
		{"prefix", "t1-", "roadmap-1", "t1-roadmap-1", true, "ledger.event-id-t1-" + id.String(), "t1-roadmap-1", "roadmap-1", true},
		{"prefix, other namespace", "t1-", "roadmap-1", "t1-roadmap-1", true, "ledger.event-id-t1-" + id.String(), "t2-roadmap-1", "", false},
		{"prefix, the prefix alone", "t1-", "x", "t1-x", true, "ledger.event-id-t1-" + id.String(), "t1-", "", false},
		{"prefix, $ name", "t1-", "$x", "t1-$x", false, "ledger.event-id-t1-" + id.String(), "$x", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := names{prefix: c.prefix}
			if got := n.stream(c.stream); got != c.full {
				t.Errorf("stream(%q) = %q, want %q", c.stream, got, c.full)
			}
			if got := n.usable(c.stream); got != c.usable {
				t.Errorf("usable(%q) = %v, want %v", c.stream, got, c.usable)
			}
			if got := n.claim(id); got != c.claim {
				t.Errorf("claim = %q, want %q", got, c.claim)
			}
			if got, ok := n.port(c.serverID); got != c.port || ok != c.ours {
				t.Errorf("port(%q) = %q, %v; want %q, %v", c.serverID, got, ok, c.port, c.ours)
			}
		})
	}
}

func TestValidateStreamPrefix(t *testing.T) {
	cases := []struct {
		prefix string
		ok     bool
	}{
		{"", true},
		{"tenant-a-", true},
		{"storetest-0123456789ab-", true},
		{"$system-", false},
		{"ledger.event-id-x", false}, // inside the claim namespace
		{"ledger.", false},           // claim streams would start with it
		{"l", false},
		{"ledger.event-id-", false},
		{"ledgers-", true},
	}
	for _, c := range cases {
		t.Run(c.prefix, func(t *testing.T) {
			if err := validateStreamPrefix(c.prefix); (err == nil) != c.ok {
				t.Errorf("validateStreamPrefix(%q) = %v, want ok %v", c.prefix, err, c.ok)
			}
			if c.ok { // the claim streams of a valid prefix lie outside its namespace
				claim := names{prefix: c.prefix}.claim(uuid.New())
				if c.prefix != "" && strings.HasPrefix(claim, c.prefix) {
					t.Errorf("claim stream %q lies in the namespace %q", claim, c.prefix)
				}
			}
		})
	}
}

// serverAccepts evaluates a subscription filter the way the server does:
// stream-name or event-type prefixes, or a regular expression.
func serverAccepts(t *testing.T, f *esdb.SubscriptionFilter, ev *esdb.RecordedEvent) bool {
	t.Helper()
	subject := ev.EventType
	if f.Type == esdb.StreamFilterType {
		subject = ev.StreamID
	}
	if f.Regex != "" {
		return regexp.MustCompile(f.Regex).MatchString(subject)
	}
	for _, p := range f.Prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}

func TestFilter(t *testing.T) {
	cases := []struct {
		name   string
		prefix string
		stream string
		typ    string
		match  bool
	}{
		{"an event", "", "roadmap-1", "roadmap.registered.v1", true},
		{"a server event", "", "$stats-127.0.0.1:2113", "$statsCollected", false},
		{"stream metadata", "", "$$roadmap-1", "$metadata", false},
		{"a link in a projection stream", "", "$ce-roadmap", "$>", false},
		{"a claim", "", "ledger.event-id-0190d0a4-7e6c-7cc1-9d3f-3b1a2c4d5e6f", claimEventType, false},
		{"a system type in a user stream", "", "roadmap-1", "$>", false},
		{"a user type in a system stream", "", "$custom", "x.v1", false},
		{"in the namespace", "t1-", "t1-roadmap-1", "roadmap.registered.v1", true},
		{"in another namespace", "t1-", "t2-roadmap-1", "roadmap.registered.v1", false},
		{"no namespace prefix at all", "t1-", "roadmap-1", "roadmap.registered.v1", false},
		{"a claim of the namespace", "t1-", "ledger.event-id-t1-0190d0a4-7e6c-7cc1-9d3f-3b1a2c4d5e6f", claimEventType, false},
		{"a server event with a namespace", "t1-", "$stats-127.0.0.1:2113", "$statsCollected", false},
		{"metadata of a namespaced stream", "t1-", "$$t1-roadmap-1", "$metadata", false},
		{"a link in a namespaced stream", "t1-", "t1-roadmap-1", "$>", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := filter{names: names{prefix: c.prefix}}
			ev := &esdb.RecordedEvent{StreamID: c.stream, EventType: c.typ}
			if got := f.match(ev); got != c.match {
				t.Errorf("match(%q, %q) = %v, want %v", c.stream, c.typ, got, c.match)
			}
			// The server-side filter must let through every event match
			// keeps, or subscribers would miss events ReadAll shows.
			if f.match(ev) && !serverAccepts(t, f.server(), ev) {
				t.Errorf("the server filter %+v drops %q/%q, which match keeps", f.server(), c.stream, c.typ)
			}
		})
	}
	t.Run("server filter of a namespace", func(t *testing.T) {
		got := filter{names: names{prefix: "t1-"}}.server()
		if got.Type != esdb.StreamFilterType || len(got.Prefixes) != 1 || got.Prefixes[0] != "t1-" || got.Regex != "" {
			t.Errorf("server() = %+v, want a stream prefix filter on t1-", got)
		}
	})
	t.Run("server filter without a namespace", func(t *testing.T) {
		got := filter{}.server()
		if want := esdb.ExcludeSystemEventsFilter(); got.Type != want.Type || got.Regex != want.Regex || len(got.Prefixes) != 0 {
			t.Errorf("server() = %+v, want %+v", got, want)
		}
	})
}

func TestParseCurrentRevision(t *testing.T) {
	cases := []struct {
		msg  string
		want int64
	}{
		{"[ErrorCodeWrongExpectedVersion] an append request failed the optimistic concurrency on the server: wrong expected version: expecting '1' but got '4'", 4},
		{"wrong expected version: expecting '0' but got 'no_stream'", -1},
		{"wrong expected version: expecting 'no_stream' but got '0'", 0},
		{"wrong expected version: expecting 'any' but got '18446744073709551615'", unknownRevision},
		{"wrong expected version: expecting '1' but got '-3'", unknownRevision},
		{"wrong expected version", unknownRevision},
		{"but got '12", unknownRevision},
		{"", unknownRevision},
	}
	for _, c := range cases {
		t.Run(c.msg, func(t *testing.T) {
			if got := parseCurrentRevision(c.msg); got != c.want {
				t.Errorf("parseCurrentRevision = %d, want %d", got, c.want)
			}
		})
	}
	t.Run("actual", func(t *testing.T) {
		for _, c := range []struct {
			current int64
			version eventstore.Version
			ok      bool
		}{{-1, 0, true}, {0, 1, true}, {41, 42, true}, {unknownRevision, 0, false}} {
			v, ok := (&conflictError{current: c.current}).actual()
			if v != c.version || ok != c.ok {
				t.Errorf("actual() of current %d = %d, %v; want %d, %v", c.current, v, ok, c.version, c.ok)
			}
		}
	})
}

func TestClassify(t *testing.T) {
	plain := errors.New("boom")
	unknown, _ := esdb.FromError(plain) // a *esdb.Error with ErrorCodeUnknown
	cases := []struct {
		name string
		err  error
		is   error // what the result must match
		same bool  // the result is err itself
	}{
		{"nil", nil, nil, true},
		{"not from the client", plain, plain, true},
		{"context", fmt.Errorf("read: %w", context.Canceled), context.Canceled, true},
		{"unknown client error", unknown, plain, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := classify(c.err)
			if c.same && got != c.err {
				t.Errorf("classify(%v) = %v, want it unchanged", c.err, got)
			}
			if c.is != nil && !errors.Is(got, c.is) {
				t.Errorf("classify(%v) = %v, want it to match %v", c.err, got, c.is)
			}
		})
	}
	// A closed client reports ErrorCodeConnectionClosed without a server,
	// wrapped by the library: classify must see through the wrapping.
	t.Run("closed client", func(t *testing.T) {
		cfg, err := esdb.ParseConnectionString("esdb://127.0.0.1:1?tls=false")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Logger = esdb.NoopLogging()
		client, err := esdb.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		client.Close()
		_, err = client.AppendToStream(context.Background(), "s", esdb.AppendToStreamOptions{}, esdb.EventData{EventID: uuid.New(), EventType: "t"})
		if got := classify(err); !errors.Is(got, errClientGone) {
			t.Errorf("classify(%v) = %v, want errClientGone", err, got)
		}
		_, err = client.SubscribeToAll(context.Background(), esdb.SubscribeToAllOptions{From: esdb.Start{}})
		if got := classify(err); !errors.Is(got, errClientGone) {
			t.Errorf("classify(%v) = %v, want errClientGone", err, got)
		}
	})
}

func TestRedactURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false"},
		{"esdb://admin:changeit@localhost:2113", "esdb://admin:xxxxx@localhost:2113"},
		{"esdb://admin:changeit@db1:2113,db2:2113,db3:2113?tls=true", "esdb://admin:xxxxx@db1:2113,db2:2113,db3:2113?tls=true"},
		{"esdb+discover://ledger:p%40ss@cluster:2113?tlsCAFile=/etc/ca.pem", "esdb+discover://ledger:xxxxx@cluster:2113?tlsCAFile=/etc/ca.pem"},
		{"esdb://ledger:a@b@host:2113", "esdb://ledger:xxxxx@host:2113"},
		{"esdb://admin@localhost:2113", "esdb://admin@localhost:2113"},
		{"esdb://host:2113?user=a@b", "esdb://host:2113?user=a@b"},
		{"not a url", "not a url"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := redactURL(c.in); got != c.want {
				t.Errorf("redactURL(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	var defaults Config
	defaults.URL = "esdb://localhost:2113"
	defaults.setDefaults()
	if err := defaults.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if defaults.Logger == nil || defaults.ReadPageSize != eventstore.DefaultPageSize || defaults.ConnectTimeout <= 0 ||
		defaults.ReconnectMinDelay <= 0 || defaults.ReconnectMaxDelay < defaults.ReconnectMinDelay || defaults.AnyRetries <= 0 {
		t.Errorf("setDefaults left %+v", defaults)
	}
	cases := []struct {
		name   string
		change func(*Config)
		want   string // part of the error; "" for none
	}{
		{"valid", func(*Config) {}, ""},
		{"no URL", func(c *Config) { c.URL = "" }, "URL is required"},
		{"wrong scheme", func(c *Config) { c.URL = "postgres://u:secret@host/db" }, "want esdb://"},
		{"wrong scheme hides the password", func(c *Config) { c.URL = "http://u:secret@host" }, "u:xxxxx@host"},
		{"system prefix", func(c *Config) { c.StreamPrefix = "$x" }, "belong to the server"},
		{"page size zero", func(c *Config) { c.ReadPageSize = -1 }, "ReadPageSize"},
		{"page size too large", func(c *Config) { c.ReadPageSize = maxReadPageSize + 1 }, "ReadPageSize"},
		{"delays reversed", func(c *Config) { c.ReconnectMaxDelay = c.ReconnectMinDelay / 2 }, "ReconnectMaxDelay"},
		{"negative retries", func(c *Config) { c.AnyRetries = -1 }, "AnyRetries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := defaults
			c.change(&cfg)
			err := cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, c.want)
			case err != nil && strings.Contains(err.Error(), "secret"):
				t.Errorf("Validate() = %v: shows the password", err)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	s := &Store{cfg: Config{ReconnectMinDelay: 100 * time.Millisecond, ReconnectMaxDelay: time.Second}}
	cases := []struct {
		failures int
		max      time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{50, time.Second},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.failures), func(t *testing.T) {
			for range 100 {
				if d := s.backoff(c.failures); d < c.max/2 || d > c.max {
					t.Fatalf("backoff(%d) = %v, want between %v and %v", c.failures, d, c.max/2, c.max)
				}
			}
		})
	}
}
