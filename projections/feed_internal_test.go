package projections

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

// TestFeedLetsAFastReplayReadAheadOfASlowOne: in a shared reading of the
// log, a replay that reads while another does not gets feedAhead pages
// without waiting for it (the catch-ups of a first start go at their own
// pace), the slow one then gets every page in order, and the reader
// stops at the head.
func TestFeedLetsAFastReplayReadAheadOfASlowOne(t *testing.T) {
	defer func(old int) { replayPageSize = old }(replayPageSize)
	replayPageSize = 3
	ctx := context.Background()
	store := memory.New()
	const pages = feedAhead + 3
	for i := range pages * replayPageSize {
		if _, err := store.Append(ctx, fmt.Sprintf("s-%d", i), eventstore.Any(),
			[]eventstore.Event{{ID: uuid.New(), Type: "t", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	var f feed
	fast, slow := f.subscribe(), f.subscribe()
	done := make(chan struct{})
	go func() { f.run(ctx, store); close(done) }()
	read := func(s *feedSub, n int) {
		t.Helper()
		for i := range n {
			got := make(chan error, 1)
			go func() { _, err := s.next(s.at); got <- err }()
			select {
			case err := <-got:
				if err != nil {
					t.Fatalf("page %d: %v", i+1, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("page %d of the fast replay waited for the slow one", i+1)
			}
		}
	}
	read(fast, feedAhead)
	read(slow, pages)
	read(fast, pages-feedAhead)
	for _, s := range []*feedSub{fast, slow} {
		if page, err := s.next(s.at); page != nil || err != nil {
			t.Fatalf("past the head: %d events, %v", len(page), err)
		}
	}
	<-done
}
