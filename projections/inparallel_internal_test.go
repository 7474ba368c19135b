package projections

import (
	"sync/atomic"
	"testing"
)

// inParallel covers every index once, across goroutines, and a panic in
// one of them reaches the caller's goroutine (where the router or an HTTP
// handler recovers it) instead of ending the process.
func TestInParallelCoversAllAndRaisesPanicsInTheCaller(t *testing.T) {
	w, m := computeWorkers.Load(), parallelMin.Load()
	computeWorkers.Store(3)
	parallelMin.Store(1)
	t.Cleanup(func() { computeWorkers.Store(w); parallelMin.Store(m) })

	const n = 100
	var seen [n]atomic.Int32
	inParallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			seen[i].Add(1)
		}
	})
	for i := range seen {
		if c := seen[i].Load(); c != 1 {
			t.Fatalf("index %d visited %d times", i, c)
		}
	}

	got := func() (p any) {
		defer func() { p = recover() }()
		inParallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if i == 77 {
					panic("item 77")
				}
			}
		})
		return nil
	}()
	if got != "item 77" {
		t.Fatalf("recovered %v in the caller, want the worker's panic", got)
	}
}
