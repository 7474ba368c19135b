// Package session keeps the pages' sign-in sessions: a person who holds an
// API token exchanges it once for a session, and the browser then carries
// only a random session id in an HttpOnly, SameSite=Strict cookie (Secure
// over TLS), never the token. Only the SHA-256 of the id is stored. A
// session expires, can be signed out or revoked, and dies with its token.
// Failed sign-ins are rate-limited per client.
package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/api"
)

// CookieName is the session cookie's name. The __Host- prefix is not used
// because it requires Secure, and `ledger dev` serves plain HTTP.
const CookieName = "ledger_session"

// Defaults of Config.
const (
	DefaultLifetime    = 12 * time.Hour
	DefaultMaxFailures = 5
	DefaultFailWindow  = 15 * time.Minute
)

// Errors of SignIn.
var (
	// ErrBadToken: the secret is not a live token.
	ErrBadToken = errors.New("session: the token is unknown or revoked")
	// ErrRateLimited: too many failed sign-ins from this client lately.
	ErrRateLimited = errors.New("session: too many failed sign-ins; wait and try again")
)

// Config configures a Store.
type Config struct {
	DB *sqlx.DB
	// Lifetime is how long a session lives after sign-in (default 12 h).
	Lifetime time.Duration
	// MaxFailures failed sign-ins from one client within FailWindow
	// refuse the next ones until the window has passed (defaults 5, 15 min).
	MaxFailures int
	FailWindow  time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Store keeps sessions in PostgreSQL (api_sessions, migrated by
// api.Migrate) and failed sign-ins in memory: a restart forgets them,
// which at worst gives one client MaxFailures more tries.
type Store struct {
	cfg Config
	mu  sync.Mutex
	// failures holds, per client, the times of its recent failed sign-ins.
	failures map[string][]time.Time
}

// New builds a Store.
func New(cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, errors.New("session: Config.DB is required")
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.FailWindow <= 0 {
		cfg.FailWindow = DefaultFailWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{cfg: cfg, failures: map[string][]time.Time{}}, nil
}

// Session is a live session: the token holder it acts for.
type Session struct {
	api.TokenHolder
	ExpiresAt time.Time
	// raw is the cookie's value, from which the CSRF token derives.
	raw string
}

// CSRF is the session's synchronizer token, put in every form: derived
// from the session id, which only the cookie holds (HttpOnly, never in a
// page), so another site can neither read nor forge it.
func (s *Session) CSRF() string {
	m := hmac.New(sha256.New, []byte(s.raw))
	m.Write([]byte("promiseledger csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether a form's token is this session's.
func (s *Session) CheckCSRF(token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(s.CSRF()))
}

// SignIn opens a session for the holder of a live token. client names the
// caller for rate limiting (its address). Failures answer ErrBadToken or,
// past the limit, ErrRateLimited, without looking the token up.
func (st *Store) SignIn(ctx context.Context, client, secret string) (*Session, error) {
	if !st.allowed(client) {
		return nil, ErrRateLimited
	}
	who, err := api.LookupToken(ctx, st.cfg.DB, strings.TrimSpace(secret))
	if err != nil {
		return nil, err
	}
	if who == nil {
		st.fail(client)
		return nil, ErrBadToken
	}
	raw := make([]byte, 32)
	rand.Read(raw) // never fails
	id := base64.RawURLEncoding.EncodeToString(raw)
	expires := st.cfg.Now().Add(st.cfg.Lifetime).UTC()
	const q = `INSERT INTO api_sessions (id_sha256, token_id, expires_at) VALUES ($1, $2, $3)`
	if _, err := st.cfg.DB.ExecContext(ctx, q, hash(id), who.TokenID, expires); err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	return &Session{TokenHolder: *who, ExpiresAt: expires, raw: id}, nil
}

// Lookup returns the live session a cookie value names, or nil: unknown,
// expired, signed out, revoked, or its token revoked.
func (st *Store) Lookup(ctx context.Context, raw string) (*Session, error) {
	if raw == "" || len(raw) > 100 {
		return nil, nil
	}
	const q = `SELECT t.id, t.name, t.role, t.person_id, s.expires_at
FROM api_sessions s JOIN api_tokens t ON t.id = s.token_id
WHERE s.id_sha256 = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND t.revoked_at IS NULL`
	var row struct {
		ID        uuid.UUID `db:"id"`
		Name      string    `db:"name"`
		Role      string    `db:"role"`
		PersonID  string    `db:"person_id"`
		ExpiresAt time.Time `db:"expires_at"`
	}
	err := sqlx.GetContext(ctx, st.cfg.DB, &row, q, hash(raw), st.cfg.Now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	return &Session{TokenHolder: api.TokenHolder{TokenID: row.ID, Name: row.Name, Role: api.Role(row.Role), PersonID: row.PersonID},
		ExpiresAt: row.ExpiresAt.UTC(), raw: raw}, nil
}

// FromRequest returns the live session of a request's cookie, or nil.
func (st *Store) FromRequest(r *http.Request) (*Session, error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil, nil
	}
	return st.Lookup(r.Context(), c.Value)
}

// SignOut ends the session a cookie value names; an unknown one is no
// error (signing out twice is fine).
func (st *Store) SignOut(ctx context.Context, raw string) error {
	const q = `UPDATE api_sessions SET revoked_at = now() WHERE id_sha256 = $1 AND revoked_at IS NULL`
	if _, err := st.cfg.DB.ExecContext(ctx, q, hash(raw)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// RevokeToken ends every session opened from a token. Revoking the token
// itself (api.RevokeToken) already makes them unusable; this also marks
// them, for whoever reads the table.
func (st *Store) RevokeToken(ctx context.Context, tokenID uuid.UUID) (int64, error) {
	const q = `UPDATE api_sessions SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL`
	res, err := st.cfg.DB.ExecContext(ctx, q, tokenID)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of token %s: %w", tokenID, err)
	}
	return res.RowsAffected()
}

// Cookie is the session's cookie: HttpOnly, SameSite=Strict, Secure when
// the page was reached over TLS, expiring with the session.
func (s *Session) Cookie(secure bool) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: s.raw, Path: "/", Expires: s.ExpiresAt, HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteStrictMode}
}

// ClearCookie removes the session cookie from the browser.
func ClearCookie(secure bool) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode}
}

// FailWindow is how long failed sign-ins count against a client: the
// longest a limited client waits (for Retry-After).
func (st *Store) FailWindow() time.Duration { return st.cfg.FailWindow }

// allowed reports whether a client may try to sign in now.
func (st *Store) allowed(client string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	recent := st.recent(client)
	return len(recent) < st.cfg.MaxFailures
}

func (st *Store) fail(client string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.failures[client] = append(st.recent(client), st.cfg.Now())
	if len(st.failures) > 10000 {
		// Bound the memory a flood of addresses can take: forget the
		// clients whose window has passed.
		for c := range st.failures {
			if len(st.recent(c)) == 0 {
				delete(st.failures, c)
			}
		}
	}
}

// recent keeps a client's failures within the window; st.mu is held.
func (st *Store) recent(client string) []time.Time {
	since := st.cfg.Now().Add(-st.cfg.FailWindow)
	kept := st.failures[client][:0]
	for _, t := range st.failures[client] {
		if t.After(since) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(st.failures, client)
		return nil
	}
	st.failures[client] = kept
	return kept
}

func hash(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}
