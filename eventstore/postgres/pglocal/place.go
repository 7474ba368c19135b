package pglocal

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// placeDataDir decides where the cluster of the requested data dir lives.
//
// Usually that is requested itself. A symbolic link there (left by an
// earlier relocation, or made by hand) is followed: postgres is given the
// real path, which it must be able to reach. When requested does not exist
// yet, we are root, fallbackParent is set and the unprivileged server user
// cannot reach requested's parent (a project under /root, say), the cluster
// goes under fallbackParent instead, in a directory named after requested
// and a hash of its path, so that each project keeps its own cluster; and
// requested becomes a link to it, which says where the data went and is
// followed by the next start.
func placeDataDir(requested, fallbackParent string, log *slog.Logger) (string, error) {
	info, err := os.Lstat(requested)
	switch {
	case err == nil && info.Mode()&fs.ModeSymlink != 0:
		real, err := filepath.EvalSymlinks(requested)
		if err != nil {
			return "", fmt.Errorf("pglocal: data dir %s is a link that leads nowhere: %w", requested, err)
		}
		return real, nil
	case err == nil:
		return requested, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("pglocal: data dir: %w", err)
	case fallbackParent == "":
		return requested, nil
	}
	parent := filepath.Dir(requested)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("pglocal: data dir: %w", err)
	}
	reachable, err := serverCanReach(parent)
	if err != nil || reachable {
		return requested, err
	}
	fallbackParent, err = filepath.Abs(fallbackParent)
	if err != nil {
		return "", fmt.Errorf("pglocal: fallback parent: %w", err)
	}
	sum := sha256.Sum256([]byte(requested))
	target := filepath.Join(fallbackParent, filepath.Base(requested)+"-"+hex.EncodeToString(sum[:6]))
	// A cluster there without the link is from an earlier run whose data
	// dir was removed: reusing it would pair old data with new keys and
	// tokens, and deleting it is not ours to do.
	if _, err := os.Stat(filepath.Join(target, "PG_VERSION")); err == nil {
		return "", fmt.Errorf("pglocal: %s holds the cluster of an earlier run for %s, but %s no longer links to it: link it back (ln -s %s %s) or remove %s",
			target, requested, requested, target, requested, target)
	}
	if err := os.MkdirAll(fallbackParent, 0o755); err != nil {
		return "", fmt.Errorf("pglocal: fallback parent: %w", err)
	}
	if err := os.Symlink(target, requested); err != nil {
		return "", fmt.Errorf("pglocal: link the data dir to where the cluster goes: %w", err)
	}
	log.Warn("the server user cannot reach the data dir, so the cluster lives elsewhere and the data dir links to it",
		"data_dir", requested, "cluster", target)
	return target, nil
}
