package kernel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"promiseledger/api/params"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgerr"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// TypePrefix starts every problem type URI. The types are stable
// identifiers (RFC 9457 §3.1.1); the OpenAPI document lists them.
const TypePrefix = "urn:promiseledger:problem:"

// Problem types, by slug.
const (
	SlugBadRequest         = "bad-request"
	SlugMalformedBody      = "malformed-body"
	SlugUnsupportedMedia   = "unsupported-media-type"
	SlugBodyTooLarge       = "body-too-large"
	SlugUnauthorized       = "unauthorized"
	SlugForbidden          = "forbidden"
	SlugNotFound           = "not-found"
	SlugMethodNotAllowed   = "method-not-allowed"
	SlugValidation         = "validation"
	SlugVersionConflict    = "version-conflict"
	SlugWriteContention    = "write-contention"
	SlugAlreadyExists      = "already-exists"
	SlugAlreadyAssigned    = "already-assigned"
	SlugNotAssigned        = "not-assigned"
	SlugInvalidTransition  = "invalid-transition"
	SlugRoadmapClosed      = "roadmap-closed"
	SlugIndicatorCancelled = "indicator-cancelled"
	SlugIdempotencyReused  = "idempotency-key-reused"
	SlugUnknownScope       = "unknown-scope"
	SlugInvalidCursor      = "invalid-cursor"
	SlugNotReady           = "not-ready"
	SlugUnavailable        = "unavailable"
	SlugInternal           = "internal"
)

// Slugs lists every problem slug, for the OpenAPI document.
var Slugs = []string{
	SlugBadRequest, SlugMalformedBody, SlugUnsupportedMedia, SlugBodyTooLarge, SlugUnauthorized, SlugForbidden,
	SlugNotFound, SlugMethodNotAllowed, SlugValidation, SlugVersionConflict, SlugWriteContention, SlugAlreadyExists,
	SlugAlreadyAssigned, SlugNotAssigned, SlugInvalidTransition, SlugRoadmapClosed, SlugIndicatorCancelled,
	SlugIdempotencyReused, SlugUnknownScope, SlugInvalidCursor, SlugNotReady, SlugUnavailable, SlugInternal,
}

// FieldProblem is one entry of a problem's errors[]: the same shape as a
// refused path or query parameter.
type FieldProblem = params.Problem

// Problem is an RFC 9457 problem detail, and an error so that handlers can
// return request-level failures (bad JSON, auth) through the same path as
// domain errors.
type Problem struct {
	Type     string         `json:"type" doc:"The kind of problem: a stable URN, urn:promiseledger:problem:<slug>."`
	Title    string         `json:"title" doc:"A short summary of the kind of problem."`
	Status   int            `json:"status" doc:"The HTTP status."`
	Detail   string         `json:"detail,omitempty" doc:"What went wrong this time."`
	Instance string         `json:"instance,omitempty" doc:"The request path."`
	Errors   []FieldProblem `json:"errors,omitempty" doc:"Each field at fault (400 and 422)."`
	// Extensions.
	RequestID      string `json:"request_id,omitempty" doc:"The request id (X-Request-Id): quote it when reporting a problem."`
	CurrentVersion *int64 `json:"current_version,omitempty" doc:"On a version conflict: the stream's current version."`
	// State and AllowedFrom explain an illegal transition: where the record
	// stands and from where the move is allowed.
	State       string   `json:"state,omitempty" doc:"On an invalid transition: where the record stands."`
	AllowedFrom []string `json:"allowed_from,omitempty" doc:"On an invalid transition: the states the move is allowed from."`
	// Checks are the readiness checks of a 503 from /readyz.
	Checks any `json:"checks,omitempty" doc:"On /readyz: what was checked."`

	// Header holds extra response headers (WWW-Authenticate, Retry-After).
	Header http.Header `json:"-"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}

// New returns a problem of the type slug.
func New(status int, slug, title, detail string) *Problem {
	return &Problem{Type: TypePrefix + slug, Title: title, Status: status, Detail: detail}
}

// BadRequest is a 400 naming the fields at fault.
func BadRequest(detail string, errs ...FieldProblem) *Problem {
	p := New(http.StatusBadRequest, SlugBadRequest, "Bad request", detail)
	p.Errors = errs
	return p
}

// NotFound is a 404.
func NotFound(detail string) *Problem {
	return New(http.StatusNotFound, SlugNotFound, "Not found", detail)
}

// Forbidden is a 403.
func Forbidden(detail string) *Problem {
	return New(http.StatusForbidden, SlugForbidden, "Forbidden", detail)
}

// Unauthorized is a 401 with its bearer challenge; tokenGiven marks a
// token that was sent but is not valid (RFC 6750 §3.1).
func Unauthorized(detail string, tokenGiven bool) *Problem {
	p := New(http.StatusUnauthorized, SlugUnauthorized, "Authentication required", detail)
	challenge := `Bearer realm="promiseledger"`
	if tokenGiven {
		challenge += `, error="invalid_token"`
	}
	p.Header = http.Header{"Www-Authenticate": {challenge}}
	return p
}

// MethodNotAllowed is a 405 naming the methods the path takes.
func MethodNotAllowed(method, allow string) *Problem {
	p := New(http.StatusMethodNotAllowed, SlugMethodNotAllowed, "Method not allowed",
		method+" is not allowed here; allowed: "+allow)
	p.Header = http.Header{"Allow": {allow}}
	return p
}

// Internal is the 500 answered for an unexpected error, whose text never
// reaches the client.
func Internal() *Problem {
	return New(http.StatusInternalServerError, SlugInternal, "Internal error",
		"something went wrong on our side; quote the request id when you report it")
}

// Unavailable is the answer while the database cannot be reached: a
// passing condition, not a bug, so 503 with when to try again. A write may
// or may not have been recorded when the connection broke; sent again with
// the same Idempotency-Key it is recorded once.
func Unavailable() *Problem {
	p := New(http.StatusServiceUnavailable, SlugUnavailable, "Service temporarily unavailable",
		"the database cannot be reached just now; try again after Retry-After seconds (a write sent again with the same Idempotency-Key is recorded once)")
	p.Header = http.Header{"Retry-After": {strconv.Itoa(int(pgerr.RetryAfter / time.Second))}}
	return p
}

// Classify maps any error to the problem the client sees, or nil for an
// unexpected one (a 500). This is the one place where error kinds become
// HTTP statuses; the order matters: validation before not-found, because a
// validation error may wrap ErrUnknownReference, ErrReportNotFound and
// friends.
func Classify(err error) *Problem {
	var p *Problem
	var perr *params.Error
	var conflict *eventstore.ConflictError
	var contention *commands.ContentionError
	var transition *domain.TransitionError
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &perr):
		return BadRequest("some path or query parameters are invalid", perr.Problems...)
	case errors.Is(err, domain.ErrValidation):
		p = New(http.StatusUnprocessableEntity, SlugValidation, "The request breaks a rule",
			"Fix the fields listed in errors and send the request again.")
		for _, fe := range domain.FieldErrors(err) {
			p.Errors = append(p.Errors, FieldProblem{Field: fe.Field, Problem: fe.Problem})
		}
		return p
	case errors.As(err, &contention):
		// Sent without a version: nothing to re-read, only to send again.
		p = New(http.StatusConflict, SlugWriteContention, "Too many simultaneous writes to this record",
			fmt.Sprintf("other writes to %s kept landing first (%d attempts over %v); nothing was recorded: send the same request again after Retry-After seconds",
				contention.Stream, contention.Attempts, contention.Spent.Round(time.Millisecond)))
		p.Header = http.Header{"Retry-After": {"1"}}
		return p
	case errors.As(err, &conflict):
		p = New(http.StatusConflict, SlugVersionConflict, "The target changed since you read it",
			fmt.Sprintf("expected %s, but it is at version %d: read it again and decide on what it says now", conflict.Expected, conflict.Actual))
		v := conflict.Actual
		p.CurrentVersion = &v
		return p
	case errors.Is(err, eventstore.ErrConflict):
		return New(http.StatusConflict, SlugVersionConflict, "The target changed since you read it", err.Error())
	case errors.Is(err, domain.ErrNotMember), errors.Is(err, domain.ErrNotRespondent):
		return Forbidden(err.Error())
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, projections.ErrNoSuchRecord),
		errors.Is(err, projections.ErrNoRatings), errors.Is(err, translog.ErrNotFound):
		return NotFound(err.Error())
	case errors.As(err, &transition):
		p = New(http.StatusConflict, SlugInvalidTransition, "Not allowed in the current state", err.Error())
		p.State, p.AllowedFrom = transition.State, transition.Allowed
		return p
	case errors.Is(err, domain.ErrInvalidTransition), errors.Is(err, domain.ErrNotFactionMember), errors.Is(err, domain.ErrWithdrawn):
		return New(http.StatusConflict, SlugInvalidTransition, "Not allowed in the current state", err.Error())
	case errors.Is(err, domain.ErrAlreadyExists), errors.Is(err, domain.ErrAlreadyMember):
		return New(http.StatusConflict, SlugAlreadyExists, "It already exists", err.Error())
	case errors.Is(err, domain.ErrAlreadyAssigned):
		return New(http.StatusConflict, SlugAlreadyAssigned, "Already assigned", err.Error())
	case errors.Is(err, domain.ErrNotAssigned):
		return New(http.StatusConflict, SlugNotAssigned, "Not assigned", err.Error())
	case errors.Is(err, domain.ErrRoadmapClosed):
		return New(http.StatusConflict, SlugRoadmapClosed, "The roadmap is closed", err.Error())
	case errors.Is(err, domain.ErrCancelled):
		return New(http.StatusConflict, SlugIndicatorCancelled, "The indicator is cancelled", err.Error())
	case errors.Is(err, eventstore.ErrDuplicateEvent):
		return New(http.StatusUnprocessableEntity, SlugIdempotencyReused, "Idempotency key reused for another request",
			"this Idempotency-Key was already used for a different request: use a new key for a new request")
	case errors.Is(err, projections.ErrUnknownScope):
		return New(http.StatusNotFound, SlugUnknownScope, "Unknown scope", err.Error())
	case errors.Is(err, projections.ErrInvalidCursor):
		return New(http.StatusBadRequest, SlugInvalidCursor, "Invalid cursor",
			"the cursor was not issued for this list; start again without a cursor")
	case errors.Is(err, translog.ErrInvalid):
		return BadRequest(err.Error())
	case pgerr.Unavailable(err):
		return Unavailable()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return New(http.StatusServiceUnavailable, SlugUnavailable, "Request cancelled or timed out", "try again")
	}
	return nil
}
