package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"promiseledger/api/audit"
)

// verifyProgress returns a Progress callback for audit.Verify that keeps
// one line on w up to date (events checked, rate, time left) when w is a
// terminal, and nil otherwise: piped or logged output stays clean.
func verifyProgress(w io.Writer, now func() time.Time) func(audit.VerifyProgress) {
	if !isTerminal(w) {
		return nil
	}
	start := now()
	var drawn time.Time
	return func(p audit.VerifyProgress) {
		t := now()
		if !p.Done && t.Sub(drawn) < 200*time.Millisecond {
			return // a terminal needs no more than five redraws a second
		}
		drawn = t
		fmt.Fprintf(w, "\r\033[K%s", progressLine(p, t.Sub(start)))
		if p.Done {
			fmt.Fprintln(w)
		}
	}
}

// progressLine says how far a verification has come after elapsed.
func progressLine(p audit.VerifyProgress, elapsed time.Duration) string {
	s := fmt.Sprintf("verifying: %d of %d events checked", p.Checked, p.Total)
	if p.Checked == 0 || elapsed <= 0 {
		return s
	}
	rate := float64(p.Checked) / elapsed.Seconds()
	s += fmt.Sprintf(", %.0f events/s", rate)
	switch {
	case p.Done:
		s += fmt.Sprintf(", in %s", elapsed.Round(10*time.Millisecond))
	case p.Total > p.Checked:
		left := time.Duration(float64(p.Total-p.Checked) / rate * float64(time.Second))
		s += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	return s
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
