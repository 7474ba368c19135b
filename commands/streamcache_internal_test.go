package commands

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

// TestStreamCacheHoldsWhatAReadGives: after commands with hostile text, the
// cached state of a stream is exactly what reading and decoding it gives.
func TestStreamCacheHoldsWhatAReadGives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	var n int64
	clock := func() time.Time {
		n++
		return time.Date(2021, 6, 1, 9, 0, int(n), 123456789, time.FixedZone("x", 5*3600))
	}
	h, err := New(Deps{Store: store, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	who := Header{Actor: Actor{ID: "officer-7", Role: "officer"}}
	text := domain.Text{KK: "жол", RU: "путь", EN: "path"}
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	step := func(res Result, err error) Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	step(h.RegisterTerritory.Handle(ctx, RegisterTerritory{Header: who, KATO: "0", Name: text, Kind: domain.TerritoryRepublic}))
	program := step(h.RegisterProgram.Handle(ctx, RegisterProgram{Header: who, Name: text, Kind: domain.ProgramMain, Period: period}))
	roadmap := step(h.RegisterRoadmap.Handle(ctx, RegisterRoadmap{Header: who, ProgramID: program.ID, TerritoryKATO: "0", Level: domain.LevelRepublican, Title: text, Period: period}))
	step(h.ActivateRoadmap.Handle(ctx, ActivateRoadmap{Header: who, RoadmapID: roadmap.ID}))
	v, target := 10.0, 110.0
	ind := step(h.AddIndicator.Handle(ctx, AddIndicator{Header: who, RoadmapID: roadmap.ID, Title: text, Kind: domain.KindNumeric,
		Baseline: &v, Target: &target, Unit: text, Deadline: domain.NewDate(2021, 12, 31)}))
	accepted := 0
	for _, s := range []string{"nul\x00byte", "bad \xff\xfe utf-8", "bidi \u202e\u2066 controls", strings.Repeat("é", 1<<19),
		"<script>\"quotes\" & \u2028 \U0001F600</script>", strings.Repeat("ж", 200), "plain"} {
		hdr := who
		hdr.Reason = s
		_, err := h.ReportProgress.Handle(ctx, ReportProgress{Header: hdr, IndicatorID: ind.ID, Value: &v,
			Evidence: domain.Evidence{URL: "https://akmola.gov.kz/r.pdf", Description: s}})
		if err == nil {
			accepted++
		} else {
			t.Logf("refused %.20q: %v", s, err)
		}
	}
	if accepted < 3 {
		t.Fatalf("only %d reports accepted", accepted)
	}
	stream := domain.IndicatorStream(ind.ID)
	cached := h.ReportProgress.r.streams.get(stream)
	records, err := store.ReadStream(ctx, stream, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	history, err := (*DecodeCache)(nil).decodeAll(records)
	if err != nil {
		t.Fatal(err)
	}
	want := stateOf(records, history)
	if cached == nil || !reflect.DeepEqual(cached, want) {
		t.Fatalf("cached state differs from a read:\n%+v\n%+v", cached, want)
	}
}

// TestStreamCacheBounds: the cache keeps at most its number of streams and
// its budget of events, and counts the events it holds right.
func TestStreamCacheBounds(t *testing.T) {
	t.Parallel()
	c := newStreamCache(40)
	state := func(n int) *streamState {
		return &streamState{version: int64(n), records: make([]cachedRecord, n), history: make([]domain.Envelope, n)}
	}
	sizes := []int{9_000, 10_000, 8_000, 5, 300}
	for i := range 200 {
		n := sizes[i%len(sizes)] + i%7
		c.put(fmt.Sprint("s", i%50), state(min(n, streamCacheMaxEvents)), i%3 == 0)
		c.drop(fmt.Sprint("s", (i+7)%50), int64(sizes[(i+2)%len(sizes)]))
		held := 0
		for _, e := range c.m {
			held += len(e.records)
		}
		if len(c.m) > 40 || c.events > streamCacheBudget || held != c.events {
			t.Fatalf("step %d: %d streams, %d events counted, %d held", i, len(c.m), c.events, held)
		}
	}
	c.put("long", state(streamCacheMaxEvents+1), true)
	if c.get("long") != nil {
		t.Fatal("a stream longer than streamCacheMaxEvents was kept")
	}
}

// TestStreamStateThenKeepsEachStateItsOwn: then shares a state's arrays
// with its first successor only. Two successors of one state (a stale
// cache entry extended twice) and the successors of those each hold
// exactly their own history; the states before them are unchanged.
func TestStreamStateThenKeepsEachStateItsOwn(t *testing.T) {
	t.Parallel()
	event := func(note string) eventstore.Event {
		e := domain.DeputyActivityReported{DeputyID: "d-1", ReportID: note}
		m := domain.Meta{EventID: uuid.New(), ActorID: "a", RecordedAt: time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)}
		typ, data, meta, err := domain.Encode(e, m)
		if err != nil {
			t.Fatal(err)
		}
		return eventstore.Event{ID: m.EventID, Type: typ, Data: data, Metadata: meta}
	}
	notes := func(st *streamState) string {
		var out []string
		for i, env := range st.history {
			out = append(out, env.Event.(domain.DeputyActivityReported).ReportID)
			if st.records[i].version != int64(i+1) {
				t.Errorf("record %d has version %d", i, st.records[i].version)
			}
		}
		if int64(len(st.history)) != st.version || len(st.records) != len(st.history) {
			t.Errorf("version %d, %d records, %d events", st.version, len(st.records), len(st.history))
		}
		return strings.Join(out, ",")
	}
	then := func(st *streamState, note string) *streamState {
		t.Helper()
		next, err := st.then([]eventstore.Event{event(note)}, st.version+1)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	base := &streamState{}
	for _, n := range []string{"a", "b", "c"} {
		base = then(base, n)
	}
	first, second := then(base, "first"), then(base, "second")
	firstNext, secondNext := then(first, "first-next"), then(second, "second-next")
	firstOther := then(first, "first-other")
	for _, tc := range []struct {
		st   *streamState
		want string
	}{
		{base, "a,b,c"},
		{first, "a,b,c,first"},
		{second, "a,b,c,second"},
		{firstNext, "a,b,c,first,first-next"},
		{secondNext, "a,b,c,second,second-next"},
		{firstOther, "a,b,c,first,first-other"},
	} {
		if got := notes(tc.st); got != tc.want {
			t.Errorf("history %q, want %q", got, tc.want)
		}
	}
}
