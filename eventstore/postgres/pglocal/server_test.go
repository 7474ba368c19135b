//go:build unix

package pglocal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// dataDir returns the path of a data dir that does not exist yet. Not
// t.TempDir: its parent is private to us, so when the tests run as root the
// unprivileged server user could not reach it.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	return filepath.Join(dir, "data")
}

func testConfig(t *testing.T, dir string) Config {
	return Config{
		DataDir: dir,
		Logger:  slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
}

// testWriter sends log lines to t.Log, so that they show up with the test
// that produced them.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return s
}

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStartStopRestartKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := dataDir(t)
	cfg := testConfig(t, dir)
	cfg.Settings = map[string]string{"application_name": "pglocal_test"}

	s := start(t, cfg)
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		t.Fatalf("no cluster created: %v", err)
	}
	// A name that needs quoting, to exercise QuoteIdentifier end to end.
	const name = `ledger "dev" db`
	if err := s.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	db := open(t, s.URL(name))
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	var fsync, appName string
	if err := db.QueryRowContext(ctx, `SELECT current_setting('fsync'), current_setting('application_name')`).Scan(&fsync, &appName); err != nil {
		t.Fatal(err)
	}
	if fsync != "on" || appName != "pglocal_test" {
		t.Errorf("fsync=%q application_name=%q, want on and pglocal_test", fsync, appName)
	}
	db.Close()

	// Stop is idempotent, also when called concurrently.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := s.Stop(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after a clean stop: %v", err)
	}
	if _, err := os.Stat(s.sockDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket dir after stop: %v", err)
	}
	if err := s.CreateDatabase(ctx, "after_stop"); err == nil {
		t.Error("CreateDatabase on a stopped server succeeded")
	}

	s2 := start(t, cfg)
	var got string
	if err := open(t, s2.URL(name)).QueryRowContext(ctx, `SELECT v FROM kept`).Scan(&got); err != nil {
		t.Fatalf("data lost across restart: %v", err)
	}
	if got != "still here" {
		t.Errorf("got %q", got)
	}
	log, err := os.ReadFile(s2.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "database system is ready to accept connections") {
		t.Errorf("server log %s lacks the startup message:\n%s", s2.LogPath(), log)
	}
}

func TestStartRefusesRunningDataDir(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, dataDir(t))
	start(t, cfg)
	s, err := Start(t.Context(), cfg)
	if err == nil {
		s.Stop(context.Background())
		t.Fatal("second server on the same data dir started")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "already running") {
		t.Errorf("error does not say the data dir is in use: %v", err)
	}
}

// TestStartAfterCrash kills a server outright, leaving postmaster.pid
// behind, and makes its pid point at a live unrelated process, as happens
// when pids are reused. The next start must recover.
func TestStartAfterCrash(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := testConfig(t, dataDir(t))
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDatabase(ctx, "survivor"); err != nil {
		t.Fatal(err)
	}
	s.proc.kill()
	if err := s.Stop(ctx); err == nil {
		t.Error("Stop after a crash reported no error")
	}

	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		other.Process.Kill()
		other.Wait()
	}()
	pidFile := filepath.Join(cfg.DataDir, "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the crash left no postmaster.pid: %v", err)
	}
	_, rest, _ := strings.Cut(string(data), "\n")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(other.Process.Pid)+"\n"+rest), 0o600); err != nil {
		t.Fatal(err)
	}

	s2 := start(t, cfg)
	var n int
	if err := open(t, s2.URL("postgres")).QueryRowContext(ctx,
		`SELECT count(*) FROM pg_database WHERE datname = 'survivor'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("database lost after crash: n=%d err=%v", n, err)
	}
}

func TestFixedPort(t *testing.T) {
	t.Parallel()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, dataDir(t))
	cfg.Port = port
	s := start(t, cfg)
	if s.Port() != port {
		t.Errorf("Port() = %d, want %d", s.Port(), port)
	}
	want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable", port)
	if got := s.URL("x"); got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	for _, bad := range []string{"", strings.Repeat("x", 64), "a\x00b"} {
		if err := s.CreateDatabase(t.Context(), bad); err == nil {
			t.Errorf("CreateDatabase(%q) succeeded", bad)
		}
	}
}

func TestStartOnTakenPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := testConfig(t, dataDir(t))
	cfg.Port = l.Addr().(*net.TCPAddr).Port
	s, err := Start(t.Context(), cfg)
	if err == nil {
		s.Stop(context.Background())
		t.Fatal("started on a taken port")
	}
	t.Log(err)
	if !errors.Is(err, errPortInUse) {
		t.Errorf("a taken port is not recognised (so a picked port would not be retried): %v", err)
	}

	// Held by another PostgreSQL, which would answer our pings.
	other := start(t, testConfig(t, dataDir(t)))
	cfg.Port = other.Port()
	s, err = Start(t.Context(), cfg)
	if err == nil {
		s.Stop(context.Background())
		t.Fatal("started on a port held by another PostgreSQL")
	}
	t.Log(err)
	if !errors.Is(err, errPortInUse) {
		t.Errorf("a port held by another PostgreSQL is not recognised: %v", err)
	}
}

func TestStartFailsFastWithLogTail(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, dataDir(t))
	cfg.Settings = map[string]string{"shared_buffers": "not-a-size"}
	began := time.Now()
	s, err := Start(t.Context(), cfg)
	if err == nil {
		s.Stop(context.Background())
		t.Fatal("started with an invalid setting")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "shared_buffers") {
		t.Errorf("error lacks the server's complaint: %v", err)
	}
	if d := time.Since(began); d > 30*time.Second {
		t.Errorf("took %v to notice the server exited", d)
	}
}

func TestUnreachableDataDirAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the data dir to another user")
	}
	t.Parallel()
	private := filepath.Dir(dataDir(t))
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), testConfig(t, filepath.Join(private, "data")))
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+private) {
		t.Fatalf("want an error naming %s, got %v", private, err)
	}
}

func TestStartRefusesForeignDirectory(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), testConfig(t, dir))
	if err == nil || !strings.Contains(err.Error(), "neither empty nor a PostgreSQL cluster") {
		t.Fatalf("want a refusal, got %v", err)
	}
	owner, err := statOwner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if int(owner.uid) != os.Geteuid() {
		t.Errorf("%s was handed to %v", dir, owner)
	}
}

func TestStartRefusesFileAsDataDir(t *testing.T) {
	t.Parallel()
	file := dataDir(t)
	if err := os.WriteFile(file, []byte("not a cluster"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(t.Context(), testConfig(t, file)); err == nil {
		t.Fatal("started on a regular file")
	} else {
		t.Log(err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{DataDir: "d", Settings: map[string]string{"work_mem": "4MB"}}, ""},
		{"no data dir", Config{}, "DataDir"},
		{"negative port", Config{DataDir: "d", Port: -1}, "Port"},
		{"huge port", Config{DataDir: "d", Port: 70000}, "Port"},
		{"reserved", Config{DataDir: "d", Settings: map[string]string{"Listen_Addresses": "*"}}, "reserved"},
		{"bad name", Config{DataDir: "d", Settings: map[string]string{"a=b": "c"}}, "name contains"},
		{"NUL value", Config{DataDir: "d", Settings: map[string]string{"work_mem": "4\x00"}}, "NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestSettingArgsOverrideDefaults(t *testing.T) {
	got := settingArgs(map[string]string{"fsync": "off", "work_mem": "8MB"})
	want := []string{"-c", "fsync=off", "-c", "max_connections=200", "-c", "shared_buffers=128MB", "-c", "work_mem=8MB"}
	if !slices.Equal(got, want) {
		t.Errorf("settingArgs = %q, want %q", got, want)
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if !hasServerBinaries(dir) {
		t.Errorf("%s lacks initdb or postgres", dir)
	}
	t.Logf("found %s", dir)

	// Without PATH, only the install locations remain. (Not parallel:
	// t.Setenv changes the whole process.)
	t.Setenv("PATH", "")
	dir, err = FindBinDir()
	if err != nil {
		t.Fatalf("nothing found off PATH: %v", err)
	}
	t.Logf("found off PATH: %s", dir)

	_, err = findBinDir(nil)
	if !errors.Is(err, ErrNoBinaries) || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("want ErrNoBinaries with install instructions, got %v", err)
	}
}

func TestSortNewestFirst(t *testing.T) {
	dirs := []string{
		"/Applications/Postgres.app/Contents/Versions/latest/bin",
		"/usr/lib/postgresql/9.6/bin",
		"/usr/lib/postgresql/15/bin",
		"/opt/homebrew/opt/postgresql@16/bin",
		"/usr/lib/postgresql/10/bin",
	}
	sortNewestFirst(dirs)
	want := []string{
		"/opt/homebrew/opt/postgresql@16/bin",
		"/usr/lib/postgresql/15/bin",
		"/usr/lib/postgresql/10/bin",
		"/usr/lib/postgresql/9.6/bin",
		"/Applications/Postgres.app/Contents/Versions/latest/bin",
	}
	if !slices.Equal(dirs, want) {
		t.Errorf("order = %q, want %q", dirs, want)
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"", 3, ""},
	} {
		if got := string(lastLines([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
