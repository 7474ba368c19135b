package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"promiseledger/api/audit"
)

// TestVerifyProgressOnlyOnATerminal: piped or redirected stderr gets no
// progress line, so scripts and logs stay clean.
func TestVerifyProgressOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, w := range map[string]io.Writer{"buffer": &bytes.Buffer{}, "file": f} {
		if p := verifyProgress(w, time.Now); p != nil {
			t.Errorf("%s: a progress callback for a non-terminal", name)
		}
	}
}

func TestProgressLineSaysCountRateAndTimeLeft(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p       audit.VerifyProgress
		elapsed time.Duration
		want    string
	}{
		{audit.VerifyProgress{Checked: 0, Total: 21000}, 0, "verifying: 0 of 21000 events checked"},
		{audit.VerifyProgress{Checked: 5000, Total: 21000}, time.Second, "verifying: 5000 of 21000 events checked, 5000 events/s, about 3s left"},
		{audit.VerifyProgress{Checked: 21000, Total: 21000, Done: true}, 3 * time.Second, "verifying: 21000 of 21000 events checked, 7000 events/s, in 3s"},
	} {
		if got := progressLine(tc.p, tc.elapsed); got != tc.want {
			t.Errorf("progressLine(%+v, %s) = %q, want %q", tc.p, tc.elapsed, got, tc.want)
		}
	}
}
