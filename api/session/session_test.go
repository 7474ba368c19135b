package session_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"promiseledger/api"
	"promiseledger/api/session"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newDB(t *testing.T) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := api.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSessionLivesUntilExpirySignOutOrItsTokensRevocation(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	st, err := session.New(session.Config{DB: db, Lifetime: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := api.CreateToken(ctx, db, api.TokenSpec{Name: "officer", Role: api.RoleOfficer, PersonID: "official-1"})
	if err != nil {
		t.Fatal(err)
	}
	open := func() *session.Session {
		t.Helper()
		s, err := st.SignIn(ctx, "10.0.0.1", secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	live := func(s *session.Session) bool {
		t.Helper()
		got, err := st.Lookup(ctx, s.Cookie(false).Value)
		if err != nil {
			t.Fatal(err)
		}
		if got != nil && (got.TokenID != tok.ID || got.Role != api.RoleOfficer || got.PersonID != "official-1") {
			t.Fatalf("the session acts for %+v, want the token's holder", got.TokenHolder)
		}
		return got != nil
	}

	a, b := open(), open()
	if !live(a) || a.Cookie(false).Value == b.Cookie(false).Value || a.CSRF() == b.CSRF() {
		t.Fatal("two sign-ins should open two live sessions with their own ids and CSRF tokens")
	}
	if c := a.Cookie(true); !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie over TLS: %+v, want HttpOnly, Secure, SameSite=Strict", c)
	}
	if a.Actor().ID != "official-1" {
		t.Errorf("the session's actor is %q, want the token's person", a.Actor().ID)
	}

	clk.add(59 * time.Minute)
	if !live(a) {
		t.Error("a session died before its lifetime")
	}
	clk.add(2 * time.Minute)
	if live(a) {
		t.Error("an expired session is still live")
	}

	c := open()
	if err := st.SignOut(ctx, c.Cookie(false).Value); err != nil {
		t.Fatal(err)
	}
	if live(c) {
		t.Error("a signed-out session is still live")
	}

	d := open()
	if err := api.RevokeToken(ctx, db, tok.ID); err != nil {
		t.Fatal(err)
	}
	if live(d) {
		t.Error("a session outlived its token's revocation")
	}
	if _, err := st.SignIn(ctx, "10.0.0.1", secret); !errors.Is(err, session.ErrBadToken) {
		t.Errorf("sign in with a revoked token: %v, want ErrBadToken", err)
	}
	// a (expired), b and d are not marked revoked yet; c was signed out.
	if n, err := st.RevokeToken(ctx, tok.ID); err != nil || n != 3 {
		t.Errorf("revoke the token's sessions: marked %d (%v), want 3", n, err)
	}
}

func TestFailedSignInsAreLimitedPerClientForAWindow(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	st, err := session.New(session.Config{DB: db, MaxFailures: 3, FailWindow: 10 * time.Minute, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := api.CreateToken(ctx, db, api.TokenSpec{Name: "admin", Role: api.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := st.SignIn(ctx, "10.0.0.9", "plt_guess"); !errors.Is(err, session.ErrBadToken) {
			t.Fatalf("guess %d: %v, want ErrBadToken", i+1, err)
		}
	}
	if _, err := st.SignIn(ctx, "10.0.0.9", secret); !errors.Is(err, session.ErrRateLimited) {
		t.Fatalf("the right token after 3 failures: %v, want ErrRateLimited", err)
	}
	if _, err := st.SignIn(ctx, "10.0.0.10", secret); err != nil {
		t.Errorf("another client is limited too: %v", err)
	}
	clk.add(11 * time.Minute)
	if _, err := st.SignIn(ctx, "10.0.0.9", secret); err != nil {
		t.Errorf("after the window: %v, want a session", err)
	}
}

func TestCSRFTokenIsTheSessionsOwn(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	st, err := session.New(session.Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := api.CreateToken(ctx, db, api.TokenSpec{Name: "admin", Role: api.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.SignIn(ctx, "x", secret)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.SignIn(ctx, "x", secret)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.Lookup(ctx, a.Cookie(false).Value)
	if err != nil || again == nil {
		t.Fatal(err)
	}
	bent := []byte(a.CSRF())
	bent[0] ^= 1
	for name, tc := range map[string]struct {
		token string
		want  bool
	}{
		"its own":                 {a.CSRF(), true},
		"its own, read again":     {again.CSRF(), true},
		"another session's":       {b.CSRF(), false},
		"empty":                   {"", false},
		"its own with one change": {string(bent), false},
	} {
		if got := a.CheckCSRF(tc.token); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}
