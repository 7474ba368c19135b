package audit

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"

	"promiseledger/projections/translog"
)

// State is what a client or a witness remembers between runs: the signed
// checkpoints it has verified. Each is kept whole, signature included, so
// that two inconsistent checkpoints are evidence anyone can check.
type State struct {
	Origin      string           `json:"origin"`
	LogKey      string           `json:"log_key"`
	Checkpoints []SeenCheckpoint `json:"checkpoints"`
	// VerifiedLeaves is how many leaves, from the first, a whole-log
	// verification has re-hashed (in the largest checkpoint it verified):
	// a later tlog-tiles verification that proves that checkpoint a prefix
	// of the new one checks only the leaves after it.
	VerifiedLeaves int64 `json:"verified_leaves,omitempty"`
}

// SeenCheckpoint is one verified checkpoint.
type SeenCheckpoint struct {
	TreeSize int64     `json:"tree_size"`
	RootHash string    `json:"root_hash"`
	Note     string    `json:"note"`
	SeenAt   time.Time `json:"seen_at"`
}

// loadState reads a state file (none yet is an empty state) and checks
// every checkpoint in it against the pinned key: a state file written for
// another log, or edited by hand into nonsense, is refused.
func loadState(path string, log note.Verifier) (State, []translog.Checkpoint, error) {
	var st State
	if path == "" {
		return st, nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil, nil
	}
	if err != nil {
		return st, nil, fmt.Errorf("state file: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, nil, fmt.Errorf("state file %s: %w", path, err)
	}
	cps := make([]translog.Checkpoint, 0, len(st.Checkpoints))
	for _, s := range st.Checkpoints {
		_, cp, err := translog.OpenCheckpoint([]byte(s.Note), log)
		if err != nil {
			return st, nil, fmt.Errorf("state file %s: checkpoint %d: %w", path, s.TreeSize, err)
		}
		if st.Origin != "" && cp.Origin != st.Origin {
			return st, nil, fmt.Errorf("state file %s: checkpoint %d is of origin %q, the file of %q", path, s.TreeSize, cp.Origin, st.Origin)
		}
		cps = append(cps, cp)
	}
	return st, cps, nil
}

// remember adds a checkpoint to the state (once per tree size) and writes
// the file atomically. verified is how many leaves of cp were re-hashed
// from the first on (0: not the whole log).
func (st State) remember(path string, cp translog.Checkpoint, logKey string, now time.Time, verified int64) error {
	if path == "" {
		return nil
	}
	st.Origin, st.LogKey = cp.Origin, logKey
	st.VerifiedLeaves = max(st.VerifiedLeaves, verified)
	if !slices.ContainsFunc(st.Checkpoints, func(s SeenCheckpoint) bool { return s.TreeSize == cp.TreeSize }) {
		st.Checkpoints = append(st.Checkpoints, SeenCheckpoint{TreeSize: cp.TreeSize, RootHash: cp.RootHash.String(), Note: cp.Note, SeenAt: now.UTC()})
		slices.SortFunc(st.Checkpoints, func(a, b SeenCheckpoint) int { return cmp.Compare(a.TreeSize, b.TreeSize) })
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}
