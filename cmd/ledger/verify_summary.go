package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"promiseledger/api/audit"
)

// wrongKey returns the one line that says the checkpoint is not signed
// by the key given, when that is what Verify found.
func wrongKey(rep audit.VerifyReport, key string) (string, bool) {
	for _, f := range rep.Findings {
		if f.Kind == audit.KindSignature {
			return fmt.Sprintf("WRONG KEY: the log's checkpoint is not signed by the key you gave (%s): %s", key, f.Detail), true
		}
	}
	return "", false
}

// printVerifySummary tells a person what `ledger verify` found: one line
// when all is well, and one line per finding otherwise (a wrong key is
// wrongKey's one line instead). --json prints the whole report instead.
func printVerifySummary(w io.Writer, rep audit.VerifyReport, err error, took time.Duration) {
	if err != nil && len(rep.Findings) == 0 {
		return // not a finding: main prints the error
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintf(w, "FAILED: checkpoint %d (root %s): %d findings\n", rep.Checkpoint.TreeSize, rep.Checkpoint.RootHash, len(rep.Findings))
		for _, f := range rep.Findings {
			fmt.Fprintf(w, "  %s\n", f)
		}
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "OK: checkpoint %d of %s (root %s)", rep.Checkpoint.TreeSize, rep.Checkpoint.Origin, rep.Checkpoint.RootHash)
	if len(rep.Witnesses) > 0 {
		fmt.Fprintf(&b, ", cosigned by %s", strings.Join(rep.Witnesses, ", "))
	}
	if n := len(rep.ConsistentWith); n > 0 {
		fmt.Fprintf(&b, "; extends the %d checkpoints seen before", n)
	}
	switch {
	case rep.EventsChecked == 0 && rep.FirstChecked > 0:
		fmt.Fprintf(&b, "; no new events since leaf %d", rep.FirstChecked)
	case rep.FirstChecked > 0:
		fmt.Fprintf(&b, "; %d new events checked (leaves %d to %d)", rep.EventsChecked, rep.FirstChecked, rep.FirstChecked+rep.EventsChecked-1)
	default:
		fmt.Fprintf(&b, "; %d events checked", rep.EventsChecked)
	}
	fmt.Fprintf(&b, "; %d downloads in %s", rep.Downloads, took.Round(time.Millisecond))
	fmt.Fprintln(w, b.String())
}
