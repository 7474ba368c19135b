package main

import (
	"bytes"
	"testing"
	"time"
)

// TestProgressPhaseLineSaysCountTimeAndRate: each phase of a first start
// prints one line with what it did, its count, its time and its rate.
func TestProgressPhaseLineSaysCountTimeAndRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		n     int
		spent time.Duration
		want  string
	}{
		{"thousands", 111157, 2 * time.Second, "wrote (111,157 events in 2s, 55,578 events/s)\n"},
		{"nothing", 0, 1500 * time.Millisecond, "wrote (0 events in 1.5s)\n"},
		{"under a thousand", 999, 500 * time.Millisecond, "wrote (999 events in 500ms, 1,998 events/s)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			p := newProgress(&buf)
			p.now = func() time.Time { return time.Unix(100, 0).Add(tt.spent) }
			p.phase(time.Unix(100, 0), tt.n, "events", "wrote")
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
		})
	}
}
