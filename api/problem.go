package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgerr"
	"promiseledger/projections"
)

// problemTypePrefix starts every problem type URI. The types are stable
// identifiers (RFC 9457 §3.1.1); the OpenAPI document lists them.
const problemTypePrefix = "urn:promiseledger:problem:"

// Problem types, by slug.
const (
	ptBadRequest         = "bad-request"
	ptMalformedBody      = "malformed-body"
	ptUnsupportedMedia   = "unsupported-media-type"
	ptBodyTooLarge       = "body-too-large"
	ptUnauthorized       = "unauthorized"
	ptForbidden          = "forbidden"
	ptNotFound           = "not-found"
	ptMethodNotAllowed   = "method-not-allowed"
	ptValidation         = "validation"
	ptVersionConflict    = "version-conflict"
	ptWriteContention    = "write-contention"
	ptAlreadyExists      = "already-exists"
	ptAlreadyAssigned    = "already-assigned"
	ptNotAssigned        = "not-assigned"
	ptInvalidTransition  = "invalid-transition"
	ptRoadmapClosed      = "roadmap-closed"
	ptIndicatorCancelled = "indicator-cancelled"
	ptIdempotencyReused  = "idempotency-key-reused"
	ptUnknownScope       = "unknown-scope"
	ptInvalidCursor      = "invalid-cursor"
	ptNotReady           = "not-ready"
	ptUnavailable        = "unavailable"
	ptInternal           = "internal"
)

// problemTypes lists every slug, for the OpenAPI document.
var problemTypes = []string{
	ptBadRequest, ptMalformedBody, ptUnsupportedMedia, ptBodyTooLarge, ptUnauthorized, ptForbidden,
	ptNotFound, ptMethodNotAllowed, ptValidation, ptVersionConflict, ptWriteContention, ptAlreadyExists, ptAlreadyAssigned,
	ptNotAssigned, ptInvalidTransition, ptRoadmapClosed, ptIndicatorCancelled, ptIdempotencyReused,
	ptUnknownScope, ptInvalidCursor, ptNotReady, ptUnavailable, ptInternal,
}

// fieldProblem is one entry of a problem's errors[].
type fieldProblem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// problem is an RFC 9457 problem detail, and an error so that handlers can
// return request-level failures (bad JSON, auth) through the same path as
// domain errors.
type problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []fieldProblem `json:"errors,omitempty"`
	// Extensions.
	RequestID      string       `json:"request_id,omitempty"`
	CurrentVersion *int64       `json:"current_version,omitempty"`
	Checks         []readyCheck `json:"checks,omitempty"`

	header http.Header // extra response headers (WWW-Authenticate, Allow)
}

func (p *problem) Error() string {
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}

func newProblem(status int, slug, title, detail string) *problem {
	return &problem{Type: problemTypePrefix + slug, Title: title, Status: status, Detail: detail}
}

func badRequest(detail string, errs ...fieldProblem) *problem {
	p := newProblem(http.StatusBadRequest, ptBadRequest, "Bad request", detail)
	p.Errors = errs
	return p
}

func notFound(detail string) *problem {
	return newProblem(http.StatusNotFound, ptNotFound, "Not found", detail)
}

func unauthorized(detail string, tokenGiven bool) *problem {
	p := newProblem(http.StatusUnauthorized, ptUnauthorized, "Authentication required", detail)
	challenge := `Bearer realm="promiseledger"`
	if tokenGiven {
		challenge += `, error="invalid_token"`
	}
	p.header = http.Header{"Www-Authenticate": {challenge}}
	return p
}

func forbidden(detail string) *problem {
	return newProblem(http.StatusForbidden, ptForbidden, "Forbidden", detail)
}

// classify maps any error to the problem the client sees. This is the one
// place where error kinds become HTTP statuses; the order matters:
// validation before not-found, because a validation error may wrap
// ErrUnknownReference, ErrReportNotFound and friends.
func classify(err error) *problem {
	var p *problem
	var conflict *eventstore.ConflictError
	var contention *commands.ContentionError
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, domain.ErrValidation):
		p = newProblem(http.StatusUnprocessableEntity, ptValidation, "The request breaks a rule",
			"Fix the fields listed in errors and send the request again.")
		for _, fe := range domain.FieldErrors(err) {
			p.Errors = append(p.Errors, fieldProblem{Field: fe.Field, Problem: fe.Problem})
		}
		return p
	case errors.As(err, &contention):
		return writeContention(contention)
	case errors.As(err, &conflict):
		p = newProblem(http.StatusConflict, ptVersionConflict, "The target changed since you read it",
			fmt.Sprintf("expected %s, but it is at version %d: read it again and decide on what it says now", conflict.Expected, conflict.Actual))
		v := conflict.Actual
		p.CurrentVersion = &v
		return p
	case errors.Is(err, eventstore.ErrConflict):
		return newProblem(http.StatusConflict, ptVersionConflict, "The target changed since you read it", err.Error())
	case errors.Is(err, domain.ErrNotFound):
		return notFound(err.Error())
	case errors.Is(err, domain.ErrAlreadyExists):
		return newProblem(http.StatusConflict, ptAlreadyExists, "It already exists", err.Error())
	case errors.Is(err, domain.ErrAlreadyAssigned):
		return newProblem(http.StatusConflict, ptAlreadyAssigned, "Already assigned", err.Error())
	case errors.Is(err, domain.ErrNotAssigned):
		return newProblem(http.StatusConflict, ptNotAssigned, "Not assigned", err.Error())
	case errors.Is(err, domain.ErrRoadmapClosed):
		return newProblem(http.StatusConflict, ptRoadmapClosed, "The roadmap is closed", err.Error())
	case errors.Is(err, domain.ErrCancelled):
		return newProblem(http.StatusConflict, ptIndicatorCancelled, "The indicator is cancelled", err.Error())
	case errors.Is(err, domain.ErrInvalidTransition):
		return newProblem(http.StatusConflict, ptInvalidTransition, "Not allowed in the current state", err.Error())
	case errors.Is(err, eventstore.ErrDuplicateEvent):
		return newProblem(http.StatusUnprocessableEntity, ptIdempotencyReused, "Idempotency key reused for another request",
			"this Idempotency-Key was already used for a different request: use a new key for a new request")
	case errors.Is(err, projections.ErrUnknownScope):
		return newProblem(http.StatusNotFound, ptUnknownScope, "Unknown scope", err.Error())
	case errors.Is(err, projections.ErrInvalidCursor):
		return newProblem(http.StatusBadRequest, ptInvalidCursor, "Invalid cursor",
			"the cursor was not issued for this list; start again without a cursor")
	case pgerr.Unavailable(err):
		return databaseUnavailable()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return newProblem(http.StatusServiceUnavailable, ptUnavailable, "Request cancelled or timed out", "try again")
	}
	return nil
}

// writeContention answers a write sent without a version that kept losing
// the race for its record to other writers: the client has nothing to
// re-read, only to send the same request again a moment later.
func writeContention(c *commands.ContentionError) *problem {
	p := newProblem(http.StatusConflict, ptWriteContention, "Too many simultaneous writes to this record",
		fmt.Sprintf("other writes to %s kept landing first (%d attempts over %v); nothing was recorded: send the same request again after Retry-After seconds",
			c.Stream, c.Attempts, c.Spent.Round(time.Millisecond)))
	p.header = http.Header{"Retry-After": {"1"}}
	return p
}

// databaseUnavailable is the answer while the database cannot be reached: a
// passing condition, not a bug, so 503 with when to try again. A write may
// or may not have been recorded when the connection broke; sent again with
// the same Idempotency-Key it is recorded once.
func databaseUnavailable() *problem {
	p := newProblem(http.StatusServiceUnavailable, ptUnavailable, "Service temporarily unavailable",
		"the database cannot be reached just now; try again after Retry-After seconds (a write sent again with the same Idempotency-Key is recorded once)")
	p.header = http.Header{"Retry-After": {strconv.Itoa(int(pgerr.RetryAfter / time.Second))}}
	return p
}

// writeError answers with the problem err maps to. Unexpected errors are
// logged here, once, and answered with a generic 500 that names the request
// id for support; their text never reaches the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := classify(err)
	info := requestInfoFrom(r.Context())
	switch {
	case p == nil:
		s.cfg.Logger.ErrorContext(r.Context(), "request failed", "err", err,
			"request_id", info.id, "method", r.Method, "route", info.route)
		p = newProblem(http.StatusInternalServerError, ptInternal, "Internal error",
			"something went wrong on our side; quote the request id when you report it")
	case pgerr.Unavailable(err):
		// Keyed on the kind of outage, not the query that met it.
		s.unavailable.Failed(r.Context(), "database unavailable; answering 503", errors.New(pgerr.Describe(err)))
	case p.Status == http.StatusServiceUnavailable:
		s.cfg.Logger.InfoContext(r.Context(), "request not completed", "err", err, "request_id", info.id)
	}
	s.writeProblem(w, r, p)
}

func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	out := *p
	out.Instance = r.URL.Path
	out.RequestID = requestInfoFrom(r.Context()).id
	for k, vs := range p.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if out.CurrentVersion != nil {
		w.Header().Set("ETag", etag(*out.CurrentVersion))
	}
	writeBody(w, out.Status, "application/problem+json", out)
}

// writeJSON answers with a JSON document.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeBody(w, status, "application/json", v)
}

func writeBody(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types get here, and they always marshal.
		status, contentType = http.StatusInternalServerError, "application/problem+json"
		b = []byte(`{"type":"` + problemTypePrefix + ptInternal + `","title":"Internal error","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away; nothing to do
}

// etag is the entity tag of a stream version.
func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }
