package api

import (
	"context"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// tokenRevocations counts the revocations made through this process
// (RevokeToken). A cached verification made before the latest one is not
// trusted: revoking a token through this process takes effect at once.
var tokenRevocations atomic.Uint64

// tokenCacheMax bounds the cache; when full it is emptied (rebuilt as
// tokens are used again). Only tokens that verified are kept, so the bound
// is on live tokens, not on what clients send.
const tokenCacheMax = 4096

// tokenCache remembers the tokens a server verified, by the SHA-256 of the
// secret, for ttl: the authentication query (and its last_used_at touch)
// then runs once per token and ttl instead of once per request. Unknown and
// revoked tokens are never cached, so a new token works at once. A token
// revoked through this process is refused from the next request on; one
// revoked elsewhere (another server, the CLI) is accepted for at most ttl
// after the revocation committed. last_used_at stays right within a minute
// plus ttl.
type tokenCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	p           principal
	verified    time.Time // when the database said the token was live
	revocations uint64    // tokenRevocations before the query was sent
}

// newTokenCache returns a cache keeping verifications for ttl; ttl <= 0
// asks the database every time.
func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, now: time.Now, m: map[[sha256.Size]byte]cachedToken{}}
}

// authenticate is the package's authenticate, answered from the cache when
// the token was verified less than ttl ago and nothing was revoked through
// this process since.
func (c *tokenCache) authenticate(ctx context.Context, db sqlx.QueryerContext, secret string) (*principal, error) {
	if c == nil || c.ttl <= 0 {
		return authenticate(ctx, db, secret)
	}
	key := sha256.Sum256([]byte(secret))
	revoked := tokenRevocations.Load()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.revocations == revoked && c.now().Sub(e.verified) < c.ttl {
		p := e.p
		return &p, nil
	}
	// The clock is read before the query: the entry is trusted for ttl
	// from a moment when the token was certainly live.
	began := c.now()
	p, err := authenticate(ctx, db, secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || p == nil {
		delete(c.m, key)
		return p, err
	}
	if len(c.m) >= tokenCacheMax {
		clear(c.m)
	}
	c.m[key] = cachedToken{p: *p, verified: began, revocations: revoked}
	return p, nil
}
