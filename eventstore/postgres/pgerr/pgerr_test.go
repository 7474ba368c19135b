package pgerr_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"promiseledger/eventstore/postgres/pgerr"
	"promiseledger/eventstore/postgres/pglocal"
)

// privateServer starts a PostgreSQL server of the test's own, since these
// tests kill it. Its parent dir is 0755 so that, when the tests run as
// root, the unprivileged server user can reach it.
func privateServer(t *testing.T) *pglocal.Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgerr-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	srv, err := pglocal.Start(t.Context(), pglocal.Config{DataDir: filepath.Join(dir, "data"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) }) //nolint:errcheck // some tests kill it
	return srv
}

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkUnavailable asserts that err is unavailability and that its
// description gives away neither the port nor the address.
func checkUnavailable(t *testing.T, what string, err error, port int) {
	t.Helper()
	t.Logf("%s: %v (%T)", what, err, err)
	if !pgerr.Unavailable(err) {
		t.Errorf("%s: %v is not classified as unavailable", what, err)
	}
	d := pgerr.Describe(err)
	if !strings.HasPrefix(d, "unavailable") || strings.Contains(d, strconv.Itoa(port)) || strings.Contains(d, "127.0.0.1") {
		t.Errorf("%s: described as %q", what, d)
	}
}

// TestUnavailableOnRealFailures produces each failure with a real server:
// one backend terminated by an administrator, the server killed under
// open transactions and pooled connections, and the server stopped.
func TestUnavailableOnRealFailures(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := privateServer(t)
	port := srv.Port()
	db := open(t, srv.URL("postgres"))
	db.SetMaxIdleConns(4)

	// Errors of statements that reached the server are not unavailability.
	_, syntax := db.ExecContext(ctx, `SELEC 1`)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	_, unique := db.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
	_, nul := db.ExecContext(ctx, `SELECT $1::text`, "a\x00b")
	noRows := db.QueryRowContext(ctx, `SELECT id FROM t WHERE id = 2`).Scan(new(int))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, canceled := db.ExecContext(cancelled, `SELECT 1`)
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	_, timedOut := db.ExecContext(short, `SELECT pg_sleep(5)`)
	stop()
	for name, err := range map[string]error{"syntax error": syntax, "unique violation": unique, "NUL in text": nul,
		"no rows": noRows, "cancelled context": canceled, "statement timed out by the caller": timedOut} {
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if pgerr.Unavailable(err) {
			t.Errorf("%s: %v classified as unavailable", name, err)
		}
	}

	// 57P01 admin_shutdown: an administrator ends our backend.
	victim, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := victim.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	_, err = victim.ExecContext(ctx, `SELECT 1`)
	checkUnavailable(t, "terminated backend", err, port)
	victim.Close()

	// The server dies under an open transaction and idle pooled
	// connections.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (3)`); err != nil {
		t.Fatal(err)
	}
	srv.Kill() // the postmaster and every backend at once
	_, err = tx.ExecContext(ctx, `INSERT INTO t VALUES (4)`)
	checkUnavailable(t, "statement in a transaction of a killed server", err, port)
	checkUnavailable(t, "commit on a killed server", tx.Commit(), port)
	_, err = db.ExecContext(ctx, `SELECT 1`)
	checkUnavailable(t, "query after the server was killed", err, port)
	checkUnavailable(t, "ping after the server was killed", db.PingContext(ctx), port)
	_, err = db.BeginTx(ctx, nil)
	checkUnavailable(t, "begin after the server was killed", err, port)
}

func TestUnavailableOnStoppedServer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := privateServer(t)
	db := open(t, srv.URL("postgres"))
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := srv.Stop(ctx); err != nil { // a fast shutdown: 57P01 to every backend
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, `SELECT 1`)
	checkUnavailable(t, "connection of a stopped server", err, srv.Port())
	_, err = db.ExecContext(ctx, `SELECT 1`)
	checkUnavailable(t, "new connection to a stopped server", err, srv.Port())
}

// TestUnavailableOnSilentServer dials a port that accepts connections and
// never answers, as a hung server would: the connect timeout ends it.
func TestUnavailableOnSilentServer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	db := open(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable", port))
	err = db.PingContext(t.Context())
	checkUnavailable(t, "silent server", err, port)
}

func TestUnavailableCodes(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"57P01", true}, {"57P02", true}, {"57P03", true}, {"53300", true},
		{"08000", true}, {"08003", true}, {"08006", true}, {"08001", true},
		{"23505", false}, {"22P05", false}, {"40001", false}, {"57014", false}, {"42P01", false},
	} {
		err := fmt.Errorf("wrapped: %w", &pq.Error{Code: pqerror.Code(tc.code), Message: "m"})
		if got := pgerr.Unavailable(err); got != tc.want {
			t.Errorf("code %s: Unavailable = %v, want %v", tc.code, got, tc.want)
		}
	}
	if pgerr.Unavailable(nil) || pgerr.Unavailable(errors.New("something else")) {
		t.Error("nil or an unrelated error classified as unavailable")
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`dial tcp 127.0.0.1:5432: connect: connection refused`, `dial tcp <redacted>: connect: connection refused`},
		{`open postgres://ledger:s3cret@db.internal:5432/ledger?sslmode=disable: boom`, `open <redacted> boom`},
		{`host=db.internal port=5432 user=ledger password='a b' dbname=x`, `host=<redacted> port=<redacted> user=<redacted> password=<redacted> dbname=<redacted>`},
		{`dial tcp [::1]:5432: refused`, `dial tcp <redacted>: refused`},
		{`dial tcp db.internal:5432: i/o timeout`, `dial tcp <redacted>: i/o timeout`},
		{`dial unix /tmp/pgsock123/.s.PGSQL.5432: no such file`, `dial unix <redacted>: no such file`},
		{`stopped on event at 12:30 (catalog.v1)`, `stopped on event at 12:30 (catalog.v1)`},
	} {
		if got := pgerr.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
