// Package storetest is the conformance suite every eventstore adapter runs.
// An adapter's test calls Run with a Harness:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			New:    func(t *testing.T) eventstore.Store { ... },
//			Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store { ... },
//		})
//	}
//
// The subtests call t.Parallel: they run after the calling test function
// returns and before its Cleanup functions run.
package storetest

import (
	"context"
	"testing"
	"time"

	"promiseledger/eventstore"
)

// Harness tells the suite how to get stores of one adapter.
type Harness struct {
	// New returns a store over a fresh, empty log that nothing else writes
	// to: the suite asserts on ReadAll and Head, so it must see only its own
	// events (postgres: a new database or schema per call). New closes what
	// it opens with t.Cleanup. Subtests call it in parallel.
	New func(t *testing.T) eventstore.Store

	// Reopen returns a new store object over the same data as s, as a
	// restarted process would see it (postgres: a new connection pool on the
	// same database; kurrentdb: a new client). An adapter that keeps nothing
	// outside the store object (memory) returns s itself.
	Reopen func(t *testing.T, s eventstore.Store) eventstore.Store

	// HoldOpen begins a transaction in s's database. appendInOpenTx appends
	// ev to stream (as with eventstore.Any) inside it; commit commits it.
	// Until commit the event must be invisible to readers, yet its position
	// must come before events other writers append and commit meanwhile:
	// the case a reader of the global log must not skip. Other writers
	// must not block on the open transaction. The ctx given to
	// appendInOpenTx lasts until the test ends, so the transaction may be
	// bound to it. The suite calls commit exactly once, also when a test
	// fails early.
	//
	// Leave HoldOpen nil when the adapter has no such transactions (memory,
	// kurrentdb): the HeldTransaction subtest is then skipped.
	HoldOpen func(t *testing.T, s eventstore.Store) (appendInOpenTx func(ctx context.Context, stream string, ev eventstore.Event) error, commit func() error)
}

// Timeouts make a broken adapter fail instead of hang.
const (
	// testTimeout bounds every call a subtest makes. It only stops a hang:
	// under -race on 2 cores, with a shared server whose whole log every
	// ReadAll scans (kurrentdb's TestConformanceFakeShared) and other
	// packages' tests beside it, an honest case took over 30 s in CI.
	testTimeout = 2 * time.Minute
	// waitTimeout bounds a wait for a subscriber to deliver events.
	waitTimeout = 10 * time.Second
	// prompt is how soon Subscribe must return once its ctx is done.
	prompt = 2 * time.Second
	// settle is how long the suite gives a wrongly implemented subscriber
	// to run ahead before it looks at what was delivered.
	settle = 250 * time.Millisecond
)

var subtests = []struct {
	name string
	run  func(t *testing.T, h Harness)
}{
	{"AppendAndReadStream", testAppendAndReadStream},
	{"ExpectedVersion", testExpectedVersion},
	{"RacingAppendsRetryOnConflict", testRacingAppendsRetry},
	{"RacingNoStreamAppendsOneWins", testRacingNoStream},
	{"ConcurrentWritersAndReaders", testConcurrentWritersAndReaders},
	{"ManySingleEventWriters", testManySingleEventWriters},
	{"FailingNeighbours", testFailingNeighbours},
	{"HeldTransaction", testHeldTransaction},
	{"IdempotentRetry", testIdempotentRetry},
	{"InvalidAppend", testInvalidAppend},
	{"LargeEvent", testLargeEvent},
	{"CancelledContext", testCancelledContext},
	{"SubscribeStopsWhenContextEnds", testSubscribeStops},
	{"SubscribeResumesFromCheckpoint", testSubscribeResumes},
	{"ReadAllPaging", testReadAllPaging},
	{"BinaryData", testBinaryData},
	{"BuffersNotShared", testBuffersNotShared},
}

// Run runs the conformance suite against the adapter h describes.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Reopen == nil {
		t.Fatal("storetest: Harness.New and Harness.Reopen are required")
	}
	for _, st := range subtests {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			st.run(t, h)
		})
	}
}
