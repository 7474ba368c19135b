// Package pglocal runs a private PostgreSQL server as a child process, for
// tests (see package pgtest) and for the zero-config `ledger dev` command.
//
// It needs the server binaries of an installed PostgreSQL (see FindBinDir)
// and nothing else: it creates its own cluster with trust authentication,
// listens on 127.0.0.1 only, and never touches a system cluster. When run as
// root it runs the server as an unprivileged user, because PostgreSQL
// refuses to run as root.
package pglocal

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

const (
	// readyTimeout bounds the wait for a started server to accept
	// connections; crash recovery after an unclean stop can take a while.
	readyTimeout = 60 * time.Second
	readyPoll    = 25 * time.Millisecond
	// stopTimeout is how long a fast shutdown may take before SIGKILL.
	stopTimeout = 30 * time.Second
	// portAttempts bounds retries when a port picked by freePort is taken
	// before postgres binds it.
	portAttempts = 3
)

var (
	// errPortInUse marks a start that failed because the port was taken.
	errPortInUse = errors.New("port already in use")
	// errForeignServer marks a port answered by a server other than ours.
	errForeignServer = errors.New("not our server")
)

// Server is a running private PostgreSQL server. Stop it with Stop.
type Server struct {
	dataDir    string
	linkedFrom string // the configured data dir, when it is a link to dataDir (see Config.FallbackParent)
	log        *slog.Logger
	sockDir    string
	logFile    *os.File
	// What a restart needs to start postgres the same way again.
	binDir   string
	settings map[string]string
	acct     *account

	mu       sync.Mutex // guards what a restart replaces
	port     int
	proc     *process
	admin    *sql.DB       // connected to database postgres, for CreateDatabase
	stopping chan struct{} // closed when Stop begins; supervisors stop restarting
	// supervisors counts running Supervise calls, which Stop waits for
	// before shutting the server down.
	supervisors sync.WaitGroup

	stopOnce sync.Once
	stopErr  error
}

// Start starts a server on cfg.DataDir, creating the cluster first if the
// directory holds none, and returns once it accepts connections. ctx bounds
// the start only, not the server's life.
//
// As root, the server runs as the owner of the data dir if that is an
// unprivileged user (a cluster from an earlier run), else as nobody, to
// whom a new, empty data dir is handed. Every directory above the data dir
// must then be searchable by that user.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	began := time.Now()
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	requested, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pglocal: data dir: %w", err)
	}
	binDir, err := resolveBinDir(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	dataDir, err := placeDataDir(requested, cfg.FallbackParent, cfg.Logger)
	if err != nil {
		return nil, err
	}
	acct, initialized, err := prepareDataDir(dataDir)
	if err != nil {
		return nil, err
	}
	var initOutput []byte
	if initialized {
		err = checkNotRunning(dataDir, cfg.Logger)
	} else {
		initOutput, err = initdb(ctx, binDir, dataDir, acct, cfg.Logger)
	}
	if err != nil {
		return nil, err
	}

	s := &Server{dataDir: dataDir, log: cfg.Logger, binDir: binDir, settings: cfg.Settings, acct: acct, stopping: make(chan struct{})}
	if dataDir != requested {
		s.linkedFrom = requested
	}
	if err := s.openFiles(acct, initOutput); err != nil {
		s.closeFiles()
		return nil, err
	}
	if err := s.startPostmaster(ctx, cfg, binDir, acct); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.log.Info("postgres ready", "url", s.URL("postgres"), "data_dir", dataDir, "pid", s.PID(),
		"log", s.LogPath(), "took", time.Since(began).Round(time.Millisecond))
	return s, nil
}

func resolveBinDir(dir string) (string, error) {
	if dir == "" {
		return FindBinDir()
	}
	if !hasServerBinaries(dir) {
		return "", fmt.Errorf("pglocal: BinDir %s does not hold initdb and postgres", dir)
	}
	return dir, nil
}

// prepareDataDir makes sure dataDir exists and that whoever will run
// postgres owns and can reach it.
func prepareDataDir(dataDir string) (acct *account, initialized bool, err error) {
	// Parents get 0755 so that an unprivileged server user can traverse
	// them; the data dir itself must be private or postgres refuses it.
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		return nil, false, fmt.Errorf("pglocal: data dir: %w", err)
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, false, fmt.Errorf("pglocal: data dir: %w", err)
	}
	_, err = os.Stat(filepath.Join(dataDir, "PG_VERSION"))
	initialized = err == nil
	// initdb would refuse a non-empty directory anyway; saying so before
	// chownTo hands it to another user keeps a mistyped path unharmed.
	if !initialized {
		if err := checkEmpty(dataDir); err != nil {
			return nil, false, err
		}
	}
	if acct, err = chooseAccount(dataDir, initialized); err != nil {
		return nil, false, err
	}
	if err := checkReachable(acct, dataDir); err != nil {
		return nil, false, err
	}
	return acct, initialized, nil
}

func checkEmpty(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pglocal: data dir: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	switch {
	case len(names) > 0:
		return fmt.Errorf("pglocal: data dir %s is neither empty nor a PostgreSQL cluster (it has no PG_VERSION)", dir)
	case err != nil && !errors.Is(err, io.EOF):
		return fmt.Errorf("pglocal: data dir: %w", err)
	}
	return nil
}

// checkNotRunning inspects the postmaster.pid that a crashed or still
// running server leaves behind. postgres itself discards a pid file whose
// process is gone, but refuses to start when the pid now belongs to another
// live process, which is common in containers where pids are reused quickly.
func checkNotRunning(dataDir string, log *slog.Logger) error {
	path := filepath.Join(dataDir, "postmaster.pid")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	firstLine, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(firstLine))
	switch {
	case err != nil || pid <= 0:
		// A crash while the file was being written; postgres would refuse
		// to start ("lock file is empty").
		log.Warn("removing unreadable postmaster.pid", "path", path)
	case !processAlive(pid):
		// The postmaster is gone, but its backends may not be yet: while
		// they hold its shared memory a new postmaster refuses to start.
		killLeftovers(dataDir)
		return nil
	case servesDataDir(pid, dataDir):
		return fmt.Errorf("pglocal: postgres (pid %d) is already running on data dir %s; stop it (kill -INT %d) or use another data dir",
			pid, dataDir, pid)
	default:
		log.Warn("removing stale postmaster.pid: its pid now belongs to another process", "path", path, "pid", pid)
	}
	killLeftovers(dataDir)
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("pglocal: remove stale postmaster.pid: %w", err)
	}
	return nil
}

// initdb creates the cluster, returning initdb's output for the log.
func initdb(ctx context.Context, binDir, dataDir string, acct *account, log *slog.Logger) ([]byte, error) {
	log.Info("creating PostgreSQL cluster", "data_dir", dataDir)
	// --no-locale gives the C collation and messages whatever the machine's
	// locales: reproducible ordering in tests, and no dependency on
	// installed locales.
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
		"-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
	// A process running as another user may not be allowed into our
	// working directory.
	cmd.Dir = dataDir
	cmd.SysProcAttr = sysProcAttr(acct)
	// initdb removes what it created when interrupted. SIGKILL would leave a
	// half-made cluster that the next start would mistake for a real one,
	// since PG_VERSION is written early.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pglocal: initdb %s: %w\n%s", dataDir, errors.Join(err, ctx.Err()), lastLines(out, 20))
	}
	return out, nil
}

// openFiles creates the socket dir and opens the server log.
func (s *Server) openFiles(acct *account, initOutput []byte) error {
	sockDir, err := makeSocketDir(acct)
	if err != nil {
		return err
	}
	s.sockDir = sockDir
	s.logFile, err = os.OpenFile(s.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pglocal: server log: %w", err)
	}
	if err := chownTo(acct, s.LogPath()); err != nil {
		return err
	}
	if _, err := s.logFile.Write(initOutput); err != nil {
		return fmt.Errorf("pglocal: server log: %w", err)
	}
	return nil
}

func (s *Server) closeFiles() {
	if s.logFile != nil {
		_ = s.logFile.Close() // opened for appending only; nothing buffered to lose
	}
	if s.sockDir != "" {
		if err := os.RemoveAll(s.sockDir); err != nil {
			s.log.Warn("cannot remove socket dir", "dir", s.sockDir, "err", err)
		}
	}
}

// makeSocketDir creates a private directory for the Unix socket. postgres
// insists on one, and socket paths are limited to about 100 bytes, so it
// avoids long temp dirs such as macOS's per-user $TMPDIR.
func makeSocketDir(acct *account) (string, error) {
	base := os.TempDir()
	if len(base) > 60 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "pgsock")
	if err != nil {
		return "", fmt.Errorf("pglocal: socket dir: %w", err)
	}
	if err := chownTo(acct, dir); err != nil {
		return dir, err
	}
	return dir, checkReachable(acct, dir)
}

// startPostmaster starts postgres, retrying with another port when a freely
// picked one was taken in the meantime: test binaries of several packages
// start servers at the same moment.
func (s *Server) startPostmaster(ctx context.Context, cfg Config, binDir string, acct *account) error {
	for attempt := 1; ; attempt++ {
		port := cfg.Port
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return err
			}
		}
		err := s.tryStart(ctx, binDir, port, cfg.Settings, acct)
		if err == nil || cfg.Port != 0 || attempt == portAttempts || !errors.Is(err, errPortInUse) {
			return err
		}
		s.log.Warn("port taken before postgres could bind it; retrying", "port", port)
	}
}

func (s *Server) tryStart(ctx context.Context, binDir string, port int, settings map[string]string, acct *account) error {
	args := []string{"-D", s.dataDir, "-p", strconv.Itoa(port), "-k", s.sockDir, "-c", "listen_addresses=127.0.0.1"}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), append(args, settingArgs(settings)...)...)
	cmd.Dir = s.dataDir
	cmd.Stdout, cmd.Stderr = s.logFile, s.logFile
	cmd.SysProcAttr = sysProcAttr(acct)
	proc, err := startProcess(cmd, s.logFile)
	if err != nil {
		return fmt.Errorf("pglocal: start postgres: %w", err)
	}
	// lib/pq bounds the startup handshake only by connect_timeout, not by
	// the context: without it, a foreign process that accepts on the port
	// and stays silent would hang the wait forever.
	admin, err := sql.Open("postgres", databaseURL(port, "postgres")+"&connect_timeout=2")
	if err != nil {
		proc.kill()
		return fmt.Errorf("pglocal: start postgres: %w", err)
	}
	if err := waitReady(ctx, proc, admin, s.dataDir); err != nil {
		proc.kill()
		_ = admin.Close() // it never held a connection
		tail := s.logTail(proc.logOffset)
		if errors.Is(err, errForeignServer) || strings.Contains(tail, "could not create any TCP/IP sockets") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("pglocal: start postgres on port %d: %w\n--- end of %s ---\n%s", port, err, s.LogPath(), tail)
	}
	s.mu.Lock()
	s.port, s.proc, s.admin = port, proc, admin
	s.mu.Unlock()
	return nil
}

// waitReady polls until the server answers, failing as soon as it exits.
// Pings run in the background, one at a time: a connection attempt can
// block for seconds, and an exit meanwhile should not wait for it.
func waitReady(ctx context.Context, proc *process, admin *sql.DB, dataDir string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	pinged := make(chan error, 1) // buffered: a ping still running when we return must not block
	next := time.NewTimer(0)
	defer next.Stop()
	var last error
	for {
		select {
		case <-next.C:
			go func() { pinged <- ping(ctx, admin, dataDir) }()
		case last = <-pinged:
			if last == nil || errors.Is(last, errForeignServer) {
				return last
			}
			next.Reset(readyPoll)
		case <-proc.exited:
			return fmt.Errorf("postgres exited during startup (%v)", proc.err)
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections: %w (last attempt: %v)", ctx.Err(), last)
		}
	}
}

// ping checks that the server answers, and that it is ours: when our
// postgres cannot bind the port, whoever holds it may be another PostgreSQL
// that happily answers too.
func ping(ctx context.Context, admin *sql.DB, dataDir string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var got string
	if err := admin.QueryRowContext(ctx, "SELECT current_setting('data_directory')").Scan(&got); err != nil {
		return err
	}
	if got != dataDir {
		return fmt.Errorf("%w: another PostgreSQL (data directory %s) answers", errForeignServer, got)
	}
	return nil
}

// logTail returns the end of what the server wrote to its log from offset
// on, for error messages.
func (s *Server) logTail(offset int64) string {
	f, err := os.Open(s.LogPath())
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.NewSectionReader(f, offset, 1<<30))
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	return string(lastLines(data, 20))
}

// lastLines returns at most n trailing lines of text.
func lastLines(text []byte, n int) []byte {
	text = bytes.TrimRight(text, "\n")
	for i := len(text) - 1; i >= 0; i-- {
		if text[i] == '\n' {
			if n--; n == 0 {
				return text[i+1:]
			}
		}
	}
	return text
}

// freePort asks the kernel for a free port. It is free only until someone
// else takes it, hence the retries in startPostmaster.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglocal: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL returns the URL of database dbname on the server, as the superuser
// postgres (no password: the cluster trusts local connections).
func (s *Server) URL(dbname string) string { return databaseURL(s.Port(), dbname) }

func databaseURL(port int, dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on. A restart by Supervise
// keeps it.
func (s *Server) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port
}

// PID returns the process id of the postmaster now running (it changes when
// Supervise restarts it).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.cmd.Process.Pid
}

// DataDir returns where the cluster is: Config.DataDir made absolute, or,
// when that was out of the server user's reach, the directory under
// Config.FallbackParent that Config.DataDir links to.
func (s *Server) DataDir() string { return s.dataDir }

// LinkedFrom returns the configured data dir when the cluster was placed
// elsewhere (see Config.FallbackParent) and it is a symbolic link to
// DataDir; "" otherwise.
func (s *Server) LinkedFrom() string { return s.linkedFrom }

// LogPath returns the file that receives the server's log.
func (s *Server) LogPath() string { return filepath.Join(s.dataDir, LogFileName) }

// CreateDatabase creates an empty database (a copy of template1).
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	if err := checkDatabaseName(name); err != nil {
		return err
	}
	s.mu.Lock()
	admin := s.admin
	s.mu.Unlock()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		return fmt.Errorf("pglocal: create database %q: %w", name, err)
	}
	return nil
}

// checkDatabaseName rejects names that PostgreSQL would silently alter:
// QuoteIdentifier cuts at NUL, and identifiers are truncated to 63 bytes,
// after which URL(name) would name another database.
func checkDatabaseName(name string) error {
	switch {
	case name == "":
		return errors.New("pglocal: database name is empty")
	case len(name) > 63:
		return fmt.Errorf("pglocal: database name %q is longer than PostgreSQL's 63 bytes", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("pglocal: database name %q contains a NUL byte", name)
	}
	return nil
}

// Stop shuts the server down (fast shutdown: clients are disconnected,
// data is checkpointed), killing it if it takes longer than 30s or ctx ends
// first. It is safe to call more than once and from several goroutines; all
// calls return the first call's result.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *Server) stop(ctx context.Context) error {
	s.mu.Lock()
	close(s.stopping)
	s.mu.Unlock()
	s.supervisors.Wait() // a restart in progress ends first, so that we stop what it started
	s.mu.Lock()
	proc, admin := s.proc, s.admin
	s.mu.Unlock()
	_ = admin.Close() // the server is going away; its connections with it
	err := proc.shutdown(ctx, stopTimeout)
	s.closeFiles()
	if err != nil {
		return fmt.Errorf("pglocal: stop postgres on %s: %w", s.dataDir, err)
	}
	s.log.Info("postgres stopped", "data_dir", s.dataDir)
	return nil
}
