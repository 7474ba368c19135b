package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
)

// Role is what a token's holder may do through the API.
type Role string

// Roles. Reading is public; a token is needed to write.
const (
	// RoleAdmin may issue every command.
	RoleAdmin Role = "admin"
	// RoleOfficer may add indicators to, and change the indicators of, the
	// roadmaps their PersonID is an assigned responsible of.
	RoleOfficer Role = "officer"
	// RoleCouncil is a member of a public council: reads now, council
	// assessments later.
	RoleCouncil Role = "council"
	// RoleDeputy is a deputy of a maslikhat or of the Mazhilis: reads now,
	// replies on the record later.
	RoleDeputy Role = "deputy"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleOfficer, RoleCouncil, RoleDeputy:
		return true
	}
	return false
}

// TokenSpec describes a token to create. PersonID is the person the token
// acts for, recorded as the actor of every event it writes; an officer's
// token needs one, because an officer's rights follow their assignments.
type TokenSpec struct {
	Name     string
	Role     Role
	PersonID string
}

// Token is a stored token, without its secret.
type Token struct {
	ID         uuid.UUID  `json:"id" db:"id"`
	Name       string     `json:"name" db:"name"`
	Role       Role       `json:"role" db:"role"`
	PersonID   string     `json:"person_id,omitempty" db:"person_id"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty" db:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" db:"last_used_at"`
}

// TokenPrefix starts every secret, so that a leaked one is easy to
// recognise (and to scan for).
const TokenPrefix = "plt_"

// ErrTokenNotFound: RevokeToken was given an id no token has.
var ErrTokenNotFound = errors.New("api: no such token")

// CreateToken stores a new token and returns its secret, which is shown
// this once: only its SHA-256 is kept. Invalid specs fail with an error
// matching domain.ErrValidation.
func CreateToken(ctx context.Context, db sqlx.ExtContext, spec TokenSpec) (string, Token, error) {
	spec.Name = strings.TrimSpace(spec.Name)
	spec.PersonID = strings.TrimSpace(spec.PersonID)
	var errs domain.ValidationErrors
	if spec.Name == "" {
		errs = append(errs, &domain.ValidationError{Field: "name", Problem: "is required"})
	}
	if !spec.Role.Valid() {
		errs = append(errs, &domain.ValidationError{Field: "role", Problem: `must be "admin", "officer", "council" or "deputy"`})
	}
	if spec.Role == RoleOfficer && spec.PersonID == "" {
		errs = append(errs, &domain.ValidationError{Field: "person_id", Problem: "an officer's token acts for a person: give their person id"})
	}
	if len(errs) > 0 {
		return "", Token{}, errs
	}
	raw := make([]byte, 32)
	rand.Read(raw) // never fails
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	t := Token{ID: uuid.Must(uuid.NewV7()), Name: spec.Name, Role: spec.Role, PersonID: spec.PersonID}
	const q = `INSERT INTO api_tokens (id, name, role, person_id, secret_sha256) VALUES ($1, $2, $3, $4, $5) RETURNING created_at`
	if err := sqlx.GetContext(ctx, db, &t.CreatedAt, q, t.ID, t.Name, t.Role, t.PersonID, secretHash(secret)); err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return secret, t, nil
}

// ListTokens returns every token, revoked ones included, oldest first.
func ListTokens(ctx context.Context, db sqlx.QueryerContext) ([]Token, error) {
	const q = `SELECT id, name, role, person_id, created_at, revoked_at, last_used_at FROM api_tokens ORDER BY created_at, id`
	out := []Token{}
	if err := sqlx.SelectContext(ctx, db, &out, q); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken makes a token unusable from now on. Revoking a revoked token
// does nothing; an unknown id fails with ErrTokenNotFound.
func RevokeToken(ctx context.Context, db sqlx.ExtContext, id uuid.UUID) error {
	const q = `WITH t AS (SELECT id FROM api_tokens WHERE id = $1),
u AS (UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL)
SELECT count(*) FROM t`
	var n int
	err := sqlx.GetContext(ctx, db, &n, q, id)
	// Whatever the outcome (a commit may have happened before an error
	// reached us), the servers of this process forget the tokens they
	// verified: the next request with the token reads api_tokens again.
	tokenRevocations.Add(1)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("revoke token %s: %w", id, ErrTokenNotFound)
	}
	return nil
}

func secretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// principal is who a request acts as: the holder of a valid token.
type principal struct {
	TokenID  uuid.UUID `db:"id"`
	Name     string    `db:"name"`
	Role     Role      `db:"role"`
	PersonID string    `db:"person_id"`
}

// actor is the actor recorded in the events the principal's commands
// write: never taken from a request body.
func (p *principal) actor() commands.Actor {
	id := p.PersonID
	if id == "" {
		id = "token:" + p.TokenID.String()
	}
	return commands.Actor{ID: id, Role: string(p.Role)}
}

// authenticate finds the live token a secret belongs to, or nil. It notes
// when the token was last used, at most once a minute, in the same
// statement.
func authenticate(ctx context.Context, db sqlx.QueryerContext, secret string) (*principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return nil, nil
	}
	const q = `WITH t AS (
	SELECT id, name, role, person_id, last_used_at FROM api_tokens WHERE secret_sha256 = $1 AND revoked_at IS NULL
), touch AS (
	UPDATE api_tokens SET last_used_at = now() FROM t
	WHERE api_tokens.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
)
SELECT id, name, role, person_id FROM t`
	var p principal
	err := sqlx.GetContext(ctx, db, &p, q, secretHash(secret))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return &p, nil
}

// TokenHolder is who a live token acts for: what another way in (the
// pages' sessions, opened from a token) needs to act exactly as the token
// would through the API.
type TokenHolder struct {
	TokenID  uuid.UUID
	Name     string
	Role     Role
	PersonID string
}

// Actor is the actor recorded in the events the holder's commands write,
// as for the API's own writes.
func (t TokenHolder) Actor() commands.Actor {
	p := principal(t)
	return p.actor()
}

// LookupToken returns the holder of a live (known, unrevoked) token, or nil.
func LookupToken(ctx context.Context, db sqlx.QueryerContext, secret string) (*TokenHolder, error) {
	p, err := authenticate(ctx, db, secret)
	if p == nil || err != nil {
		return nil, err
	}
	t := TokenHolder(*p)
	return &t, nil
}

// MayChangeIndicator is the API's own policy for the writes to an
// indicator (POST /v1/indicators/{id}/reports, corrections, retarget,
// cancel…), for other ways in to ask rather than copy: nil when the holder
// may write to it, otherwise an error whose PolicyStatus is 403 or 404.
func MayChangeIndicator(ctx context.Context, db *sqlx.DB, store eventstore.Store, who TokenHolder, indicatorID string) error {
	s := &Server{cfg: Config{DB: db, Store: store}}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
	if err != nil {
		return err
	}
	r.SetPathValue("id", indicatorID)
	p := principal(who)
	return s.indicatorWrite("change this measure").allow(ctx, r, &p)
}

// PolicyStatus is the HTTP status a policy's refusal answers (403, 404),
// or 0 when err is not a refusal (nil, or an unexpected error).
func PolicyStatus(err error) int {
	var p *problem
	if errors.As(err, &p) {
		return p.Status
	}
	return 0
}
