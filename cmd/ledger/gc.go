package main

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The first start of `ledger dev` plans the demo, writes ~111,000 events
// and catches every read model up: on the 2-core machine of
// docs/performance.md the process allocated at such a rate that the
// garbage collector took about a quarter of its CPU (GOGC=100 collects
// each time the heap doubles over a live heap of a few hundred MB). While
// dev starts, relaxGC lets the heap grow by a fixed headroom over the live
// data instead: fewer collections, the same work. Once the start is over
// (or dev returns early), Go's own setting comes back and the memory is
// handed back to the system.

// Bounds of the GC percent relaxGC sets: never below Go's default (a
// larger live heap than the headroom keeps GOGC=100), never so high that
// a small live heap balloons.
const (
	relaxedGCMin = 100
	relaxedGCMax = 800
)

// relaxedGCPercent is the GC percent that lets the heap grow by headroom
// bytes over live bytes before the next collection, within the bounds.
func relaxedGCPercent(live uint64, headroom int64) int {
	if headroom <= 0 {
		return relaxedGCMin
	}
	if live == 0 {
		return relaxedGCMax
	}
	p := uint64(headroom) * 100 / live
	return int(min(max(p, relaxedGCMin), relaxedGCMax))
}

// relaxGCEvery is how often relaxGC looks whether a collection ended (to
// set the percent from the live heap it measured).
const relaxGCEvery = 20 * time.Millisecond

// relaxGC sets the GC percent from the live heap after each collection,
// so that the heap may grow by headroom bytes over it, until restore is
// called; restore sets back the percent found and returns the memory
// freed since to the system. It does nothing (restore too) when headroom
// is not positive or when the user chose the GC's pace or bound (GOGC or
// GOMEMLIMIT set: Go reads them at start and the user's choice stands; a
// container capped near the default's ~0.5 GiB should not be pushed past
// its limit). The GC's pace is the process's: calls that overlap (two dev
// starts in one test binary) share one relaxation, begun by the first with
// its headroom and ended by the last restore.
func relaxGC(headroom int64, getenv func(string) string) (restore func()) {
	if headroom <= 0 || getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	relaxation.Lock()
	defer relaxation.Unlock()
	if relaxation.users == 0 {
		relaxation.end = startRelaxedGC(headroom)
	}
	relaxation.users++
	return sync.OnceFunc(func() {
		relaxation.Lock()
		defer relaxation.Unlock()
		if relaxation.users--; relaxation.users == 0 {
			relaxation.end()
		}
	})
}

// relaxation is the process's one relaxed GC pace and its users.
var relaxation struct {
	sync.Mutex
	users int
	end   func()
}

// startRelaxedGC relaxes the pace until end is called.
func startRelaxedGC(headroom int64) (end func()) {
	cur := relaxedGCPercent(0, headroom)
	prev := debug.SetGCPercent(cur)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		samples := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
		metrics.Read(samples)
		cycles := samples[0].Value.Uint64()
		t := time.NewTicker(relaxGCEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(samples)
			if c := samples[0].Value.Uint64(); c != cycles {
				cycles = c
				if p := relaxedGCPercent(samples[1].Value.Uint64(), headroom); p != cur {
					cur = p
					debug.SetGCPercent(p)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		debug.SetGCPercent(prev)
		// The start's garbage (the demo's plan, the replays' state) is
		// collected now and its memory returned, rather than kept until
		// the scavenger gets to it; beside the first requests, not
		// before them.
		go debug.FreeOSMemory()
	}
}
