//go:build unix

package pglocal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond until it holds; the deadline only turns a hang into a
// failure, it is not what the test measures.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSuperviseRestartsKilledPostmasterOnSamePort(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := start(t, testConfig(t, dataDir(t)))
	db := open(t, s.URL("postgres"))
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before the crash')`); err != nil {
		t.Fatal(err)
	}
	supervised := make(chan error, 1)
	go func() { supervised <- s.Supervise(ctx, RestartPolicy{Backoff: 10 * time.Millisecond}) }()

	port, pid := s.Port(), s.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new postmaster", func() bool { return s.PID() != pid })
	var got string
	waitFor(t, "the restarted server to answer", func() bool {
		return db.QueryRowContext(ctx, `SELECT v FROM kept`).Scan(&got) == nil
	})
	if got != "before the crash" || s.Port() != port {
		t.Errorf("after the restart: %q on port %d, want the old row on port %d", got, s.Port(), port)
	}
	// Stop ends supervision without an error, and is not mistaken for a
	// death to recover from.
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-supervised; err != nil {
		t.Errorf("Supervise after Stop: %v", err)
	}
	if processAlive(s.PID()) {
		t.Errorf("postgres (pid %d) still runs after Stop", s.PID())
	}
}

func TestSuperviseGivesUpWhenRestartsFail(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := testConfig(t, dataDir(t))
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) }) //nolint:errcheck // it died on purpose
	// A setting postgres refuses, read at the next start only.
	auto := filepath.Join(cfg.DataDir, "postgresql.auto.conf")
	if err := os.WriteFile(auto, []byte("shared_buffers = 'not-a-size'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = s.Supervise(ctx, RestartPolicy{MaxRestarts: 2, Backoff: 10 * time.Millisecond})
	t.Log(err)
	if !errors.Is(err, ErrGaveUp) || !strings.Contains(err.Error(), "2 restarts") || !strings.Contains(err.Error(), "shared_buffers") {
		t.Fatalf("want ErrGaveUp naming the attempts and the server's complaint, got %v", err)
	}
}

func TestSuperviseReturnsWhenStoppedFirst(t *testing.T) {
	t.Parallel()
	s := start(t, testConfig(t, dataDir(t)))
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Supervise(t.Context(), RestartPolicy{}); err != nil {
		t.Fatalf("Supervise of a stopped server: %v", err)
	}
}

// TestUnreachableDataDirAsRootIsRelocated starts a cluster for a data dir
// inside a folder only root may enter (as a project under /root): it must
// start anyway, with the cluster under the fallback parent, the data dir a
// link to it, and the next start following the link.
func TestUnreachableDataDirAsRootIsRelocated(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to another user")
	}
	t.Parallel()
	ctx := t.Context()
	private := t.TempDir() // 0700, owned by root
	fallback := filepath.Dir(dataDir(t))
	requested := filepath.Join(private, "project", ".ledger", "postgres")
	cfg := testConfig(t, requested)
	cfg.FallbackParent = fallback

	s := start(t, cfg)
	if !strings.HasPrefix(s.DataDir(), fallback+string(filepath.Separator)) || s.LinkedFrom() != requested {
		t.Fatalf("cluster at %s linked from %q; want under %s, linked from %s", s.DataDir(), s.LinkedFrom(), fallback, requested)
	}
	if target, err := os.Readlink(requested); err != nil || target != s.DataDir() {
		t.Fatalf("%s links to %q (%v), want %s", requested, target, err, s.DataDir())
	}
	if err := s.CreateDatabase(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	again := start(t, cfg)
	if again.DataDir() != s.DataDir() {
		t.Errorf("second start used %s, first %s", again.DataDir(), s.DataDir())
	}
	var n int
	if err := open(t, again.URL("postgres")).QueryRowContext(ctx, `SELECT count(*) FROM pg_database WHERE datname = 'kept'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("database lost across the relocated restart: n=%d err=%v", n, err)
	}
	if err := again.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// Without the link, the old cluster is neither reused nor deleted.
	if err := os.Remove(requested); err != nil {
		t.Fatal(err)
	}
	_, err := Start(ctx, cfg)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "no longer links to it") {
		t.Fatalf("want a refusal naming the orphaned cluster, got %v", err)
	}
}
