package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestRelaxedGCPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live     uint64
		headroom int64
		want     int
	}{
		{0, 1024 * mib, relaxedGCMax},         // nothing live yet: the most
		{100 * mib, 1024 * mib, relaxedGCMax}, // 1024 % capped
		{256 * mib, 1024 * mib, 400},
		{300 * mib, 1024 * mib, 341},
		{1024 * mib, 1024 * mib, 100},
		{4096 * mib, 1024 * mib, relaxedGCMin}, // never below Go's default
		{300 * mib, 0, relaxedGCMin},
		{300 * mib, -1, relaxedGCMin},
	} {
		if got := relaxedGCPercent(c.live, c.headroom); got != c.want {
			t.Errorf("relaxedGCPercent(%d MiB, %d MiB) = %d, want %d", c.live/mib, c.headroom/mib, got, c.want)
		}
	}
}

// gcPercent reads the GC percent without setting it (which would race
// with relaxGC's own setting).
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// The relaxed pace follows the live heap after each collection and
// restore gives back the percent found; a user's GOGC or a headroom of 0
// leaves the pace alone.
func TestRelaxGCFollowsTheLiveHeapAndRestores(t *testing.T) {
	before := debug.SetGCPercent(137)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	noEnv := func(string) string { return "" }

	for name, restore := range map[string]func(){
		"GOGC set":       relaxGC(1<<30, func(k string) string { return map[string]string{"GOGC": "50"}[k] }),
		"GOMEMLIMIT set": relaxGC(1<<30, func(k string) string { return map[string]string{"GOMEMLIMIT": "900MiB"}[k] }),
		"headroom 0":     relaxGC(0, noEnv),
	} {
		if p := gcPercent(); p != 137 {
			t.Errorf("%s: GC percent %d, want it left at 137", name, p)
		}
		restore()
	}

	const headroom = 64 << 20
	restore := relaxGC(headroom, noEnv)
	if p := gcPercent(); p != relaxedGCMax {
		t.Errorf("at start: GC percent %d, want %d", p, relaxedGCMax)
	}
	// About 48 MiB live: the percent must come down to about 64/(48+the
	// test binary's own heap).
	ballast := make([][]byte, 48)
	for i := range ballast {
		ballast[i] = make([]byte, 1<<20)
	}
	deadline := time.Now().Add(10 * time.Second)
	var want, got int
	for time.Now().Before(deadline) {
		runtime.GC()
		want = relaxedGCPercent(liveHeap(), headroom)
		time.Sleep(5 * relaxGCEvery)
		if got = gcPercent(); got == want {
			break
		}
	}
	runtime.KeepAlive(ballast)
	if got != want || got >= relaxedGCMax {
		t.Errorf("after a collection with ~48 MiB live: GC percent %d, want %d (below %d)", got, want, relaxedGCMax)
	}
	restore()
	if p := gcPercent(); p != 137 {
		t.Errorf("after restore: GC percent %d, want 137", p)
	}
	restore() // a second call changes nothing
	if p := gcPercent(); p != 137 {
		t.Errorf("after a second restore: GC percent %d, want 137", p)
	}
}

// Overlapping relaxations (two dev starts in one process) share one: the
// first restore leaves the pace relaxed for the other, the last one
// restores Go's.
func TestRelaxGCNests(t *testing.T) {
	before := debug.SetGCPercent(137)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	noEnv := func(string) string { return "" }
	first := relaxGC(64<<20, noEnv)
	second := relaxGC(64<<20, noEnv)
	if p := gcPercent(); p == 137 {
		t.Fatal("not relaxed")
	}
	first()
	first() // twice changes nothing
	if p := gcPercent(); p == 137 {
		t.Error("the first restore ended the relaxation the second still uses")
	}
	second()
	if p := gcPercent(); p != 137 {
		t.Errorf("after the last restore: GC percent %d, want 137", p)
	}
	third := relaxGC(64<<20, noEnv) // a later start relaxes again
	if p := gcPercent(); p == 137 {
		t.Error("a relaxation after the last restore did not relax")
	}
	third()
}
