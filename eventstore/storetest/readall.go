package storetest

import (
	"fmt"
	"math"
	"testing"

	"promiseledger/eventstore"
)

// testReadAllPaging: paging through the global log with any limit yields the
// whole log in order, and Head is its last position.
func testReadAllPaging(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)

	if got := head(t, ctx, s); got != eventstore.Start {
		t.Errorf("Head of an empty store = %v, want Start", got)
	}
	if page, err := s.ReadAll(ctx, eventstore.Start, 10); err != nil || len(page) != 0 {
		t.Errorf("ReadAll of an empty store = %s, %v; want nothing", describe(page), err)
	}

	var appended []eventstore.Event
	streams := []string{streamName("a"), streamName("b"), streamName("c")}
	for i, n := range []int{1, 4, 2, 3, 1, 4, 2, 3, 1, 2} { // 23 events
		evs := newEvents(n, "paged")
		mustAppend(t, ctx, s, streams[i%len(streams)], eventstore.Any(), evs)
		appended = append(appended, evs...)
	}
	log := readLog(t, ctx, s, len(appended))
	if len(log) != len(appended) {
		t.Fatalf("ReadAll: %d events, want %d", len(log), len(appended))
	}
	for i, r := range log {
		if r.ID != appended[i].ID {
			t.Fatalf("ReadAll: event %d is %s, want %s (the order of the appends)", i, r.ID, appended[i].ID)
		}
	}
	assertGlobalOrder(t, "ReadAll", log)
	assertHead(t, ctx, s, log[len(log)-1].Position)

	for _, limit := range []int{1, 2, 3, 7, 22, 23, 100} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var paged []eventstore.Recorded
			after := eventstore.Start
			for range len(log) + 1 {
				page, err := s.ReadAll(ctx, after, limit)
				if err != nil {
					t.Fatalf("ReadAll(%v, %d): %v", after, limit, err)
				}
				if len(page) > limit {
					t.Fatalf("ReadAll(%v, %d) returned %d events", after, limit, len(page))
				}
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
				after = page[len(page)-1].Position
			}
			assertRecords(t, "pages", paged, log)
		})
	}

	t.Run("from the middle", func(t *testing.T) {
		page, err := s.ReadAll(ctx, log[10].Position, 5)
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		assertRecords(t, "ReadAll", page, log[11:16])
	})
	t.Run("far past the head", func(t *testing.T) {
		// A checkpoint parsed from input can be anything.
		page, err := s.ReadAll(ctx, eventstore.Position{Commit: math.MaxUint64, Prepare: math.MaxUint64}, 10)
		if err != nil || len(page) != 0 {
			t.Errorf("ReadAll from the largest position = %s, %v; want nothing", describe(page), err)
		}
	})
	t.Run("from the head", func(t *testing.T) {
		page, err := s.ReadAll(ctx, log[len(log)-1].Position, 10)
		if err != nil || len(page) != 0 {
			t.Errorf("ReadAll from the last event = %s, %v; want nothing", describe(page), err)
		}
	})
}
