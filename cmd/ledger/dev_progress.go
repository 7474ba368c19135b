package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress prints what `ledger dev` does while it starts: one line per
// phase, with its count, its time and its rate, so a first start that
// takes a while says where it is. Phases that overlap (the demo is planned
// while PostgreSQL starts) print from their own goroutines, a whole line
// at a time.
type progress struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w, now: time.Now} }

// phase prints one finished phase: what it did, n units in the time since
// began, and the rate.
func (p *progress) phase(began time.Time, n int, unit, format string, args ...any) {
	spent := p.now().Sub(began)
	rate := ""
	if spent > 0 && n > 0 {
		rate = fmt.Sprintf(", %s %s/s", thousands(int(float64(n)/spent.Seconds())), unit)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s (%s %s in %s%s)\n", fmt.Sprintf(format, args...), thousands(n), unit, roundDuration(spent), rate)
}

// took prints one finished phase that has no count: what it did and its
// time since began.
func (p *progress) took(began time.Time, format string, args ...any) {
	spent := p.now().Sub(began)
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s (in %s)\n", fmt.Sprintf(format, args...), roundDuration(spent))
}

// line prints a line as it is.
func (p *progress) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

// thousands writes n with comma thousands separators: 110,482.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
