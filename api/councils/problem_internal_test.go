package councils

import (
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"promiseledger/commands"
)

// unreachableDatabaseError is the real error of a query to a port where no
// PostgreSQL listens any more.
func unreachableDatabaseError(t *testing.T) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	db, err := sql.Open("postgres", fmt.Sprintf("postgres://x@127.0.0.1:%d/x?sslmode=disable&connect_timeout=2", port))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(t.Context(), `SELECT 1`)
	if err == nil {
		t.Fatal("a query to a closed port succeeded")
	}
	return fmt.Errorf("load council-1: %w", err)
}

func TestCouncilProblemsForOutagesAndContention(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		slug       string
		retryAfter string
	}{
		{"database unreachable", unreachableDatabaseError(t), http.StatusServiceUnavailable, "unavailable", "2"},
		{"version-less write kept losing", &commands.ContentionError{Stream: "recommendation-1", Attempts: 30, Spent: 5 * time.Second},
			http.StatusConflict, "write-contention", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := classify(tc.err)
			if p == nil || p.Status != tc.status || p.Type != problemTypePrefix+tc.slug || p.header.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("%v answered %+v", tc.err, p)
			}
			if strings.Contains(p.Detail, "127.0.0.1") || strings.Contains(p.Detail, "read it again") {
				t.Errorf("detail %q", p.Detail)
			}
		})
	}
}
