package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"promiseledger/api/audit"
	"promiseledger/projections/translog"
)

// TestVerifySummary: `ledger verify` tells a person the outcome in plain
// lines; a wrong key is one line that says so.
func TestVerifySummary(t *testing.T) {
	t.Parallel()
	cp := audit.CheckpointRef{Origin: "ledger.example.kz", TreeSize: 900, RootHash: "ROOT="}
	for _, tc := range []struct {
		name string
		rep  audit.VerifyReport
		err  error
		want []string
	}{
		{"cold", audit.VerifyReport{Checkpoint: cp, EventsChecked: 900, Downloads: 9}, nil,
			[]string{"OK: checkpoint 900 of ledger.example.kz (root ROOT=); 900 events checked; 9 downloads in 1.5s"}},
		{"incremental", audit.VerifyReport{Checkpoint: cp, ConsistentWith: []int64{600}, FirstChecked: 600, EventsChecked: 300, Downloads: 4}, nil,
			[]string{"OK: checkpoint 900 of ledger.example.kz (root ROOT=); extends the 1 checkpoints seen before; 300 new events checked (leaves 600 to 899); 4 downloads in 1.5s"}},
		{"findings", audit.VerifyReport{Checkpoint: cp, Findings: []audit.Finding{{Kind: translog.KindChanged, LeafIndex: 700, Detail: "x"}}}, audit.ErrVerificationFailed,
			[]string{"FAILED: checkpoint 900 (root ROOT=): 1 findings", "  "}},
		{"download_error", audit.VerifyReport{}, errors.New("connection refused"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printVerifySummary(&b, tc.rep, tc.err, 1500*time.Millisecond)
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if b.Len() == 0 {
				lines = nil
			}
			if len(lines) != len(tc.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tc.want), b.String())
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d: %q, want %q", i, lines[i], w)
				}
			}
		})
	}
}

// TestVerifyWrongKeyIsOneLine: a checkpoint not signed by the key given
// makes one line that names the key.
func TestVerifyWrongKeyIsOneLine(t *testing.T) {
	t.Parallel()
	rep := audit.VerifyReport{Findings: []audit.Finding{{Kind: audit.KindSignature, LeafIndex: -1,
		Detail: "the checkpoint is not validly signed by the pinned key log: note has no verifiable signatures"}}}
	line, ok := wrongKey(rep, "log+01234567+AAAA")
	if !ok || strings.Contains(line, "\n") || !strings.HasPrefix(line, "WRONG KEY: ") || !strings.Contains(line, "log+01234567+AAAA") {
		t.Errorf("wrongKey = %q, %v", line, ok)
	}
	if _, ok := wrongKey(audit.VerifyReport{Findings: []audit.Finding{{Kind: translog.KindChanged}}}, "k"); ok {
		t.Error("a changed event is not a wrong key")
	}
}
