package pglocal

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// binDirGlobs are where packagers install the server binaries without putting
// them on PATH: Debian/Ubuntu, RHEL (PGDG), Homebrew's keg-only
// postgresql@N formulae (Apple silicon, Intel) and Postgres.app.
var binDirGlobs = []string{
	"/usr/lib/postgresql/*/bin",
	"/usr/pgsql-*/bin",
	"/opt/homebrew/opt/postgresql@*/bin",
	"/usr/local/opt/postgresql@*/bin",
	"/Applications/Postgres.app/Contents/Versions/*/bin",
}

// ErrNoBinaries is returned (wrapped) by FindBinDir and Start when no
// PostgreSQL server binaries can be found. Its message says how to install
// them.
var ErrNoBinaries = errors.New("pglocal: PostgreSQL server binaries (initdb, postgres) not found " +
	"(looked on PATH, in `pg_config --bindir`, in " + strings.Join(binDirGlobs, ", ") + "). " +
	"Install them: Debian/Ubuntu `apt-get install postgresql`, Fedora/RHEL `dnf install postgresql-server`, " +
	"macOS `brew install postgresql@15`; " +
	"or set LEDGER_TEST_DATABASE_URL (tests) / LEDGER_DATABASE_URL to an existing server")

// FindBinDir returns the directory holding initdb and postgres: from PATH,
// else from `pg_config --bindir`, else from the usual install locations,
// highest version first. Distributions such as Debian keep the server
// binaries off PATH, hence the fallbacks.
func FindBinDir() (string, error) {
	return findBinDir(binDirGlobs)
}

func findBinDir(globs []string) (string, error) {
	if dir, ok := binDirOnPath(); ok {
		return dir, nil
	}
	if dir, ok := binDirFromPgConfig(); ok {
		return dir, nil
	}
	for _, dir := range installedBinDirs(globs) {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

// binDirOnPath prefers the real directory when initdb on PATH is a symlink
// (as in /usr/local/bin -> /usr/lib/postgresql/15/bin): that is where the
// binaries find their libraries, and what logs and ps then show.
func binDirOnPath() (string, bool) {
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(initdb); err == nil && hasServerBinaries(filepath.Dir(real)) {
		return filepath.Dir(real), true
	}
	dir := filepath.Dir(initdb)
	return dir, hasServerBinaries(dir)
}

// binDirFromPgConfig asks pg_config, which may come from a client-only
// package: its bin dir is used only if the server binaries are really there.
func binDirFromPgConfig() (string, bool) {
	pgConfig, err := exec.LookPath("pg_config")
	if err != nil {
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pgConfig, "--bindir").Output()
	if err != nil {
		return "", false
	}
	dir := strings.TrimSpace(string(out))
	return dir, dir != "" && hasServerBinaries(dir)
}

// installedBinDirs lists the directories matching globs, highest PostgreSQL
// version first.
func installedBinDirs(globs []string) []string {
	var dirs []string
	for _, pattern := range globs {
		matches, _ := filepath.Glob(pattern) // only ErrBadPattern, and the patterns are constant
		dirs = append(dirs, matches...)
	}
	sortNewestFirst(dirs)
	return dirs
}

func sortNewestFirst(dirs []string) {
	slices.SortStableFunc(dirs, func(a, b string) int {
		return -slices.Compare(pathVersion(a), pathVersion(b))
	})
}

var versionRE = regexp.MustCompile(`\d+(\.\d+)*`)

// pathVersion extracts the version from an install path such as
// /usr/lib/postgresql/15/bin or /opt/homebrew/opt/postgresql@16/bin; nil when
// there is none, which sorts last.
func pathVersion(path string) []int {
	var version []int
	for part := range strings.SplitSeq(versionRE.FindString(path), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil
		}
		version = append(version, n)
	}
	return version
}

func hasServerBinaries(dir string) bool {
	return isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres"))
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}
