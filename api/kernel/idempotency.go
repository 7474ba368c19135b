package kernel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
)

// PlainToken reports whether s is 1..max printable ASCII characters without
// spaces, quotes or backslashes: safe to log, echo and store.
func PlainToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// IdempotencyKey reads the Idempotency-Key header: ok is false when there
// is none; a malformed one is a 400.
func IdempotencyKey(h http.Header) (key string, ok bool, err error) {
	values, ok := h[http.CanonicalHeaderKey("Idempotency-Key")]
	if !ok {
		return "", false, nil
	}
	key = strings.Trim(strings.TrimSpace(strings.Join(values, ",")), `"`)
	if !PlainToken(key, 255) {
		return "", true, BadRequest("Idempotency-Key must be 1 to 255 printable characters without spaces",
			FieldProblem{Field: "Idempotency-Key", Problem: "malformed"})
	}
	return key, true, nil
}

// IfMatch reads If-Match: "<version>" into the version a write is pinned
// to; nil when there is none or it is "*" (any version).
func IfMatch(h http.Header) (*int64, error) {
	values := h.Values("If-Match")
	if len(values) == 0 {
		return nil, nil
	}
	v := strings.TrimSpace(strings.Join(values, ","))
	if v == "*" {
		return nil, nil
	}
	bad := BadRequest(`If-Match must be one entity tag, the quoted version you read: If-Match: "7"`,
		FieldProblem{Field: "If-Match", Problem: "not a version"})
	if strings.HasPrefix(v, "W/") {
		return nil, bad
	}
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || n < 0 {
		return nil, bad
	}
	return &n, nil
}

// idempotencyNamespace derives event ids from Idempotency-Keys. Fixed
// forever: changing it would make every stored key mean a new event.
var idempotencyNamespace = uuid.MustParse("0b6f2d52-8f43-4b8e-a1f7-5c2e9d4a7b10")

// Idempotency is the one store of Idempotency-Keys (the table
// api_idempotency_keys, migrated by the api package): a key names one
// request of one token. The same key with the same request is a replay
// (the same event id, so the event store records it once); with another
// route, target, query or body it is refused with an error wrapping
// eventstore.ErrDuplicateEvent (422) before anything runs.
type Idempotency struct {
	DB *sqlx.DB
}

// Claim returns the event id the request records under key, claiming the
// key for this request the first time. owner is the token's id, route the
// matched mux pattern ("POST /v1/roadmaps"), body the request body as sent.
func (s Idempotency) Claim(ctx context.Context, owner uuid.UUID, route, key string, r *http.Request, body []byte) (uuid.UUID, error) {
	id := uuid.NewSHA1(idempotencyNamespace, []byte(owner.String()+"\n"+route+"\n"+key))
	fp := sha256.New()
	fmt.Fprintf(fp, "%s %s?%s\n", r.Method, RequestPath(r), r.URL.RawQuery)
	fp.Write(bytes.TrimSpace(body))
	fingerprint := fp.Sum(nil)

	// Claim the key, or read who claimed it. A concurrent claim of the same
	// key can hide the row from this statement's snapshot: look again.
	const q = `WITH ins AS (
	INSERT INTO api_idempotency_keys (token_id, key, route, fingerprint, event_id) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (token_id, key) DO NOTHING RETURNING fingerprint
)
SELECT fingerprint FROM ins UNION ALL SELECT fingerprint FROM api_idempotency_keys WHERE token_id = $1 AND key = $2`
	for range 3 {
		var stored []byte
		err := s.DB.QueryRowxContext(ctx, q, owner, key, route, fingerprint, id).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return uuid.Nil, fmt.Errorf("claim idempotency key: %w", err)
		case !bytes.Equal(stored, fingerprint):
			return uuid.Nil, fmt.Errorf("idempotency key %q was first used for another request: %w", key, eventstore.ErrDuplicateEvent)
		}
		return id, nil
	}
	return uuid.Nil, errors.New("claim idempotency key: the key's row did not appear")
}
