package main

import (
	"fmt"
	"io"
	"time"
)

// progress prints what `ledger dev` does while it starts: one line per
// phase, with its count, its time and its rate, so a first start that
// takes a while says where it is.
type progress struct {
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
	fmt.Fprintf(p.w, "%s (%s %s in %s%s)\n", fmt.Sprintf(format, args...), thousands(n), unit, roundDuration(spent), rate)
}

// line prints a line as it is.
func (p *progress) line(format string, args ...any) {
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
