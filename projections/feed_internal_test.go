package projections

import (
	"context"
	"fmt"
	"sync/atomic"
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

// countingStore counts the pages read from a store.
type countingStore struct {
	eventstore.Store
	reads atomic.Int32
}

func (c *countingStore) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error) {
	c.reads.Add(1)
	return c.Store.ReadAll(ctx, after, limit)
}

// TestLoneReplayFeedReadsOnePageAhead: the feed of a replay alone (a
// rebuild's) starts where the replay starts and reads the next page while
// the replay applies one, but no further.
func TestLoneReplayFeedReadsOnePageAhead(t *testing.T) {
	defer func(old int) { replayPageSize = old }(replayPageSize)
	replayPageSize = 3
	ctx := context.Background()
	mem := memory.New()
	for i := range 10 * replayPageSize {
		if _, err := mem.Append(ctx, fmt.Sprintf("s-%d", i), eventstore.Any(),
			[]eventstore.Event{{ID: uuid.New(), Type: "t", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := mem.ReadAll(ctx, eventstore.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: mem}
	from := all[4].Position // the replay starts after the fifth event
	f := feed{from: from}
	sub := f.subscribeAhead(1)
	done := make(chan struct{})
	go func() { f.run(ctx, store); close(done) }()
	waitReads := func(want int32) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); store.reads.Load() < want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the feed read %d pages, want %d", store.reads.Load(), want)
			}
		}
		time.Sleep(50 * time.Millisecond)
		if got := store.reads.Load(); got != want {
			t.Fatalf("the feed read %d pages, want %d and no more", got, want)
		}
	}
	// One page waits in the channel, the next one is read and waits to be
	// sent.
	waitReads(2)
	page, err := sub.next(from)
	if err != nil || len(page) != replayPageSize || page[0].ID != all[5].ID {
		t.Fatalf("first page: %d events (%v), want %d from the sixth event", len(page), err, replayPageSize)
	}
	waitReads(3)
	close(sub.quit)
	<-done
}
