package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"promiseledger/api/kernel/kerneltest"
	"promiseledger/commands"
	"promiseledger/eventstore/postgres/pgerr"
)

// TestDatabaseUnavailableAnswers503 sends a real error of an unreachable
// PostgreSQL through the error mapper: 503 unavailable with Retry-After,
// never the 500 kept for bugs.
func TestDatabaseUnavailableAnswers503(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dead, _ := kerneltest.DeadDatabase(t)
	err := dead.PingContext(t.Context())
	if !pgerr.Unavailable(err) {
		t.Fatalf("the dead database's error %v is not unavailability", err)
	}
	r := httptest.NewRequest(http.MethodGet, "/v1/roadmaps", nil)
	rec := httptest.NewRecorder()
	e.srv.writeError(rec, r, fmt.Errorf("list roadmaps: %w", err))
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if res.status != http.StatusServiceUnavailable || res.problemType() != ptUnavailable || res.header.Get("Retry-After") != "2" {
		t.Fatalf("answered %s with Retry-After %q; want 503 %s with Retry-After 2", res, res.header.Get("Retry-After"), ptUnavailable)
	}
	if strings.Contains(string(res.body), "127.0.0.1") {
		t.Errorf("the answer names the database's address: %s", res.body)
	}
}

// TestReadyzNamesTheDatabaseWithoutItsAddress: with the database gone,
// /readyz says which dependency fails and how, and nothing of where it is
// or how to log in; /healthz, a liveness check, stays 200.
func TestReadyzNamesTheDatabaseWithoutItsAddress(t *testing.T) {
	t.Parallel()
	dead, port := kerneltest.DeadDatabase(t)
	e := newEnv(t, func(c *Config) { c.DB = dead })
	res := e.do(req{method: "GET", path: "/readyz"})
	var body struct {
		Checks []readyCheck `json:"checks"`
	}
	res.decode(t, &body)
	if res.status != http.StatusServiceUnavailable || len(body.Checks) != 1 || body.Checks[0].Name != "database" ||
		body.Checks[0].OK || body.Checks[0].Detail != "unavailable: connection refused" {
		t.Fatalf("readyz answered %s", res)
	}
	for _, leak := range []string{"127.0.0.1", strconv.Itoa(port), "secret", "ledger:secret"} {
		if strings.Contains(string(res.body), leak) {
			t.Errorf("readyz shows %q: %s", leak, res.body)
		}
	}
	if res := e.do(req{method: "GET", path: "/healthz"}); res.status != http.StatusOK {
		t.Errorf("healthz answered %s while the database is away", res)
	}
}

// TestVersionlessWritesUnderContentionAllLand races 20 writers on one
// indicator, in several bursts, through the HTTP API against PostgreSQL.
// None sends a version, so none may be told to re-read one: every report
// lands, each at its own version.
func TestVersionlessWritesUnderContentionAllLand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.world()
	before, err := e.store.StreamVersion(e.ctx, "indicator-"+w.numeric)
	if err != nil {
		t.Fatal(err)
	}
	const writers, bursts = 20, 5
	landed := 0
	for b := range bursts {
		answers := make([]response, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				answers[i] = e.do(req{method: "POST", path: "/v1/indicators/" + w.numeric + "/reports", token: "officer",
					body: map[string]any{"value": b*writers + i, "evidence": evidence}})
			})
		}
		wg.Wait()
		for i, a := range answers {
			if a.status == http.StatusCreated {
				landed++
			} else {
				t.Errorf("burst %d, writer %d: %s", b, i, a)
			}
		}
	}
	t.Logf("%d of %d version-less writes landed", landed, writers*bursts)
	after, err := e.store.StreamVersion(e.ctx, "indicator-"+w.numeric)
	if err != nil {
		t.Fatal(err)
	}
	if after-before != writers*bursts {
		t.Errorf("the stream grew by %d events, want %d", after-before, writers*bursts)
	}
}

// TestWriteContentionAnswer: a version-less write that kept losing gets a
// 409 that says to send it again, not to re-read a version, with
// Retry-After.
func TestWriteContentionAnswer(t *testing.T) {
	t.Parallel()
	p := classify(fmt.Errorf("report progress: %w", &commands.ContentionError{Stream: "indicator-7", Attempts: 42, Spent: 5 * time.Second}))
	if p == nil || p.Status != http.StatusConflict || p.Type != problemTypePrefix+ptWriteContention || p.Header.Get("Retry-After") == "" ||
		strings.Contains(p.Detail, "read it again") || !strings.Contains(p.Detail, "send the same request again") || p.CurrentVersion != nil {
		t.Fatalf("contention answered %+v", p)
	}
}
