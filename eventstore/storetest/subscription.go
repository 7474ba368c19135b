package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"promiseledger/eventstore"
)

// errEnough is what a subscription's handler returns once it has all the
// events it waited for.
var errEnough = errors.New("storetest: the subscriber has every event it waited for")

// subscription runs Subscribe in the background and records what it delivers.
type subscription struct {
	mu     sync.Mutex
	got    []eventstore.Recorded
	arrive chan struct{} // receives (without blocking the handler) after each event
	done   chan struct{} // closed when Subscribe returned
	err    error         // what Subscribe returned, once done is closed
}

// subscribe starts s.Subscribe(ctx, after, ...). Its handler returns
// errEnough after want events; with want < 0 it runs until ctx ends.
func subscribe(ctx context.Context, s eventstore.Store, after eventstore.Position, want int) *subscription {
	sub := &subscription{arrive: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(sub.done)
		sub.err = s.Subscribe(ctx, after, func(_ context.Context, r eventstore.Recorded) error {
			sub.mu.Lock()
			sub.got = append(sub.got, r)
			n := len(sub.got)
			sub.mu.Unlock()
			select {
			case sub.arrive <- struct{}{}:
			default:
			}
			if want >= 0 && n >= want {
				return errEnough
			}
			return nil
		})
	}()
	return sub
}

// delivered returns a copy of what the handler has received so far.
func (sub *subscription) delivered() []eventstore.Recorded {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return slices.Clone(sub.got)
}

// collect waits up to waitTimeout until n events were delivered and returns
// what was delivered; it reports an error if that is fewer than n.
func (sub *subscription) collect(t *testing.T, n int) []eventstore.Recorded {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		if got := sub.delivered(); len(got) >= n {
			return got
		}
		select {
		case <-sub.arrive:
		case <-sub.done:
			got := sub.delivered()
			if len(got) < n {
				t.Errorf("Subscribe returned %v after delivering %d events, want %d", sub.err, len(got), n)
			}
			return got
		case <-deadline.C:
			got := sub.delivered()
			t.Errorf("subscriber delivered %d events in %v, want %d", len(got), waitTimeout, n)
			return got
		}
	}
}

// wait waits up to limit for Subscribe to return and returns its error.
func (sub *subscription) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case <-sub.done:
		return sub.err
	case <-time.After(limit):
		t.Fatalf("Subscribe did not return within %v", limit)
		return nil
	}
}
