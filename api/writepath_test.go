package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/commands"
	"promiseledger/domain"
)

// TestTokenCacheRevocation: a verified token is believed for the cache's
// ttl; a revocation by another process (here: SQL) takes effect within ttl,
// one through RevokeToken at once; unknown and revoked tokens are never
// cached.
func TestTokenCacheRevocation(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	c := newTokenCache(time.Second)
	c.now = func() time.Time { return now }
	secret, tok, err := CreateToken(e.ctx, e.db, TokenSpec{Name: "cached", Role: RoleAdmin, PersonID: "admin-9"})
	if err != nil {
		t.Fatal(err)
	}
	live := func(when string, want bool) {
		t.Helper()
		p, err := c.authenticate(e.ctx, e.db, secret)
		if err != nil {
			t.Fatal(err)
		}
		if got := p != nil; got != want {
			t.Fatalf("%s: token accepted %v, want %v", when, got, want)
		}
		if p != nil && (p.TokenID != tok.ID || p.PersonID != "admin-9" || p.Role != RoleAdmin) {
			t.Fatalf("%s: principal %+v", when, p)
		}
	}
	live("first use", true)
	revokeElsewhere := func() {
		t.Helper()
		if _, err := e.db.Exec(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, tok.ID); err != nil {
			t.Fatal(err)
		}
	}
	revokeElsewhere()
	now = now.Add(999 * time.Millisecond)
	live("revoked elsewhere, within the ttl", true)
	now = now.Add(time.Millisecond)
	live("revoked elsewhere, ttl over", false)
	if _, err := e.db.Exec(`UPDATE api_tokens SET revoked_at = NULL WHERE id = $1`, tok.ID); err != nil {
		t.Fatal(err)
	}
	live("unrevoked: refusals are not cached", true)
	if err := RevokeToken(e.ctx, e.db, tok.ID); err != nil {
		t.Fatal(err)
	}
	live("revoked through this process, at once", false)

	// Through a server: RevokeToken refuses the next request.
	w := e.world()
	report := req{method: "POST", path: "/v1/indicators/" + w.numeric + "/reports", token: "admin", body: map[string]any{"value": 1, "evidence": evidence}}
	e.must(http.StatusCreated, report)
	if err := RevokeToken(e.ctx, e.db, e.ids["admin"].ID); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusUnauthorized, report)
}

// TestConcurrentWritersWithStaleCaches: two servers over one database, each
// with its own command handlers (and so its own stream cache), take
// progress reports for one measure from many writers while one of them
// cancels it. Each server's cache is stale whenever the other wrote: every
// accepted report must be stored once, at the version it was told, versions
// without gaps, and no report after the cancellation.
func TestConcurrentWritersWithStaleCaches(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	other, err := commands.New(commands.Deps{Store: e.store, Clock: e.clock.tick, RetryBudget: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	second, err := New(Config{DB: e.db, Store: e.store, Commands: other, Now: e.clock.now, Logger: testLogger(t), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	handlers := []http.Handler{e.handler, second.Handler()}
	send := func(h http.Handler, path string, body any) (int, writeResult) {
		raw, _ := json.Marshal(body)
		r := httptest.NewRequestWithContext(e.ctx, "POST", path, bytes.NewReader(raw))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var res writeResult
		if rec.Code < 300 {
			json.Unmarshal(rec.Body.Bytes(), &res) //nolint:errcheck // checked below
		} else if rec.Code != http.StatusConflict {
			t.Errorf("answered %d %s", rec.Code, rec.Body)
		}
		return rec.Code, res
	}
	// Warm both caches.
	for i, h := range handlers {
		if code, _ := send(h, "/v1/indicators/"+w.numeric+"/reports", map[string]any{"value": i, "evidence": evidence}); code != http.StatusCreated {
			t.Fatalf("warm-up answered %d", code)
		}
	}
	const writers, each = 12, 6
	var (
		mu       sync.Mutex
		accepted = map[uuid.UUID]int64{}
		wg       sync.WaitGroup
	)
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				h := handlers[(g+i)%2]
				if g == 0 && i == each/2 {
					if code, _ := send(h, "/v1/indicators/"+w.numeric+"/cancel", map[string]any{"reason": "merged"}); code != http.StatusOK {
						t.Errorf("cancel answered %d", code)
					}
					continue
				}
				code, res := send(h, "/v1/indicators/"+w.numeric+"/reports", map[string]any{"value": g*100 + i, "evidence": evidence})
				if code == http.StatusCreated {
					mu.Lock()
					accepted[res.EventIDs[0]] = res.Version
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	records, err := e.store.ReadStream(e.ctx, domain.IndicatorStream(w.numeric), 1, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, reportsStored := false, 0
	for i, rec := range records {
		if rec.Version != int64(i+1) {
			t.Fatalf("version %d at index %d", rec.Version, i)
		}
		switch rec.Type {
		case domain.TypeIndicatorCancelled:
			cancelled = true
		case domain.TypeProgressReported:
			if cancelled {
				t.Errorf("a report (%s) was stored after the cancellation", rec.ID)
			}
			if v, ok := accepted[rec.ID]; ok {
				if v != rec.Version {
					t.Errorf("report %s told version %d, stored at %d", rec.ID, v, rec.Version)
				}
				reportsStored++
			}
		}
	}
	if !cancelled || reportsStored != len(accepted) || len(accepted) == 0 {
		t.Fatalf("cancelled %v; %d reports accepted, %d of them stored", cancelled, len(accepted), reportsStored)
	}
	t.Logf("%s", fmt.Sprintf("%d reports accepted of %d, %d events", len(accepted), writers*each-1, len(records)))
}
