package audit

import (
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	_ "github.com/lib/pq"
)

// TestAuditAnswers503WhenTheDatabaseIsUnreachable sends the real error of
// a query to a port where no PostgreSQL listens any more through the audit
// routes' error mapper: 503 unavailable with Retry-After, not 500.
func TestAuditAnswers503WhenTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
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
	_, qerr := db.ExecContext(t.Context(), `SELECT 1`)
	if qerr == nil {
		t.Fatal("a query to a closed port succeeded")
	}
	h := &handler{cfg: Config{}}
	h.cfg.setDefaults()
	rec := httptest.NewRecorder()
	h.writeError(rec, httptest.NewRequest(http.MethodGet, PathPrefix+"/checkpoint", nil), fmt.Errorf("translog: checkpoint: %w", qerr))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" ||
		!strings.Contains(rec.Body.String(), problemTypePrefix+"unavailable") || strings.Contains(rec.Body.String(), "127.0.0.1") {
		t.Fatalf("answered %d (Retry-After %q): %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}
