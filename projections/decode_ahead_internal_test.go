package projections

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// aheadLog is a log of n events in pages of size: program events, every
// third of them in a stream no replay decodes, and one whose data break
// the stored-event rules.
func aheadLog(t *testing.T, n, size int) [][]eventstore.Recorded {
	t.Helper()
	var pages [][]eventstore.Recorded
	for i := range n {
		id := uuid.New()
		typ, data, meta, err := domain.Encode(domain.ProgramRegistered{ProgramID: fmt.Sprint("p", i), Name: domain.Text{KK: "a", RU: "b", EN: "c"}},
			domain.Meta{EventID: id, ActorID: "t", RecordedAt: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		stream := domain.ProgramStream(fmt.Sprint("p", i))
		if i%3 == 2 {
			stream = "other-" + fmt.Sprint(i)
		}
		if i == 4 {
			data = []byte(`{"program_id": 7}`)
		}
		rec := eventstore.Recorded{ID: id, Stream: stream, Type: typ, Data: data, Metadata: meta, Version: 1,
			Position: eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}}
		if i%size == 0 {
			pages = append(pages, nil)
		}
		pages[len(pages)-1] = append(pages[len(pages)-1], rec)
	}
	return pages
}

// TestDecodeAheadHandsOnEachPageDecoded: the pages come in order, each
// with the events of the streams asked for decoded as decodeRecorded
// decodes them (errors included), the others left to the replay; an empty
// page ends them; a page asked for from anywhere but where the last one
// ended is an error.
func TestDecodeAheadHandsOnEachPageDecoded(t *testing.T) {
	pages := aheadLog(t, 10, 4)
	next := func(pos eventstore.Position) ([]eventstore.Recorded, error) {
		for _, p := range pages {
			if p[0].Position.Commit == pos.Commit+1 {
				return p, nil
			}
		}
		return nil, nil
	}
	wants := func(s string) bool { return strings.HasPrefix(s, domain.ProgramStream("")) }
	src, stop := decodeAhead(next, eventstore.Start, wants)
	defer stop()
	at := eventstore.Start
	for i, want := range pages {
		page, decoded, err := src(at)
		if err != nil || !reflect.DeepEqual(page, want) {
			t.Fatalf("page %d: %d events (%v), want %d", i, len(page), err, len(want))
		}
		for _, rec := range page {
			d := decoded[rec.Position]
			if !wants(rec.Stream) {
				if d != nil {
					t.Fatalf("%s was decoded; its stream was not asked for", rec.Stream)
				}
				continue
			}
			r, ev, m, err := decodeRecorded(rec)
			if d == nil || !reflect.DeepEqual(d.rec, r) || !reflect.DeepEqual(d.ev, ev) || !reflect.DeepEqual(d.meta, m) || fmt.Sprint(d.err) != fmt.Sprint(err) {
				t.Fatalf("%s decoded ahead as %+v, want %v %v %v", rec.Stream, d, ev, m, err)
			}
			if rec.Position.Commit == 5 && d.err == nil {
				t.Fatal("the event that breaks the rules decoded without an error")
			}
		}
		at = page[len(page)-1].Position
	}
	if page, _, err := src(at); len(page) != 0 || err != nil {
		t.Fatalf("after the last page: %d events (%v), want none", len(page), err)
	}
	src, stop = decodeAhead(next, eventstore.Start, wants)
	defer stop()
	if _, _, err := src(pages[1][0].Position); err == nil {
		t.Fatal("a page asked for from elsewhere came without an error")
	}
}

// TestDecodeAheadPassesOnTheErrorAndStops: an error reading the log comes
// back with its page; stop returns at once even while the goroutine waits
// in next, which then ends with next.
func TestDecodeAheadPassesOnTheErrorAndStops(t *testing.T) {
	failed := errors.New("read failed")
	src, stop := decodeAhead(func(eventstore.Position) ([]eventstore.Recorded, error) { return nil, failed }, eventstore.Start,
		func(string) bool { return true })
	if _, _, err := src(eventstore.Start); !errors.Is(err, failed) {
		t.Fatalf("got %v, want the read's error", err)
	}
	stop()

	waiting, release, ended := make(chan struct{}), make(chan struct{}), make(chan struct{})
	pages := aheadLog(t, 2, 1)
	calls := 0
	_, stop = decodeAhead(func(eventstore.Position) ([]eventstore.Recorded, error) {
		calls++
		if calls == 1 {
			return pages[0], nil
		}
		defer close(ended)
		close(waiting)
		<-release // waits as a feed waits for its next page
		return pages[1], nil
	}, eventstore.Start, func(string) bool { return true })
	<-waiting
	stopped := make(chan struct{})
	go func() { stop(); stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stop waited for next")
	}
	close(release)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the goroutine never returned from next")
	}
}
