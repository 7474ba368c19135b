package councils

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

// problemTypePrefix starts every problem type URI; the main API uses the
// same, so a client sees one vocabulary.
const problemTypePrefix = "urn:promiseledger:problem:"

// fieldProblem is one entry of a problem's errors[].
type fieldProblem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// problem is an RFC 9457 problem detail, and an error so that request
// failures (auth, bad JSON) and domain errors take the same path.
type problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []fieldProblem `json:"errors,omitempty"`
	// Extensions for an illegal transition: where the record stands and
	// from where the move is allowed.
	State          string   `json:"state,omitempty"`
	AllowedFrom    []string `json:"allowed_from,omitempty"`
	CurrentVersion *int64   `json:"current_version,omitempty"`

	header http.Header
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
	p := newProblem(http.StatusBadRequest, "bad-request", "Bad request", detail)
	p.Errors = errs
	return p
}

func notFound(detail string) *problem {
	return newProblem(http.StatusNotFound, "not-found", "Not found", detail)
}

func unauthorized(detail string) *problem {
	p := newProblem(http.StatusUnauthorized, "unauthorized", "Authentication required", detail)
	p.header = http.Header{"Www-Authenticate": {`Bearer realm="promiseledger"`}}
	return p
}

func forbidden(detail string) *problem {
	return newProblem(http.StatusForbidden, "forbidden", "Forbidden", detail)
}

// classify maps an error to the problem the client sees: the one place
// where error kinds become statuses. Validation comes first, because field
// errors wrap ErrUnknownReference, ErrReportNotFound and friends.
func classify(err error) *problem {
	var p *problem
	var conflict *eventstore.ConflictError
	var transition *domain.TransitionError
	var contention *commands.ContentionError
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, domain.ErrValidation):
		p = newProblem(http.StatusUnprocessableEntity, "validation", "The request breaks a rule",
			"Fix the fields listed in errors and send the request again.")
		for _, fe := range domain.FieldErrors(err) {
			p.Errors = append(p.Errors, fieldProblem{Field: fe.Field, Problem: fe.Problem})
		}
		return p
	case errors.As(err, &contention):
		// Sent without a version: nothing to re-read, only to send again.
		p = newProblem(http.StatusConflict, "write-contention", "Too many simultaneous writes to this record",
			fmt.Sprintf("other writes to %s kept landing first (%d attempts over %v); nothing was recorded: send the same request again after Retry-After seconds",
				contention.Stream, contention.Attempts, contention.Spent.Round(time.Millisecond)))
		p.header = http.Header{"Retry-After": {"1"}}
		return p
	case errors.As(err, &conflict):
		p = newProblem(http.StatusConflict, "version-conflict", "The target changed since you read it", err.Error())
		v := conflict.Actual
		p.CurrentVersion = &v
		return p
	case errors.Is(err, eventstore.ErrConflict):
		return newProblem(http.StatusConflict, "version-conflict", "The target changed since you read it", err.Error())
	case errors.Is(err, domain.ErrNotMember):
		return forbidden(err.Error())
	case errors.Is(err, domain.ErrNotRespondent):
		return forbidden(err.Error())
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, projections.ErrNoSuchRecord):
		return notFound(err.Error())
	case errors.As(err, &transition):
		p = newProblem(http.StatusConflict, "invalid-transition", "Not allowed in the current state", err.Error())
		p.State, p.AllowedFrom = transition.State, transition.Allowed
		return p
	case errors.Is(err, domain.ErrInvalidTransition), errors.Is(err, domain.ErrNotFactionMember), errors.Is(err, domain.ErrWithdrawn):
		return newProblem(http.StatusConflict, "invalid-transition", "Not allowed in the current state", err.Error())
	case errors.Is(err, domain.ErrAlreadyExists), errors.Is(err, domain.ErrAlreadyMember):
		return newProblem(http.StatusConflict, "already-exists", "It already exists", err.Error())
	case errors.Is(err, domain.ErrAlreadyAssigned):
		return newProblem(http.StatusConflict, "already-assigned", "Already assigned", err.Error())
	case errors.Is(err, domain.ErrNotAssigned):
		return newProblem(http.StatusConflict, "not-assigned", "Not assigned", err.Error())
	case errors.Is(err, eventstore.ErrDuplicateEvent):
		return newProblem(http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency key reused for another request",
			"this Idempotency-Key was already used for a different request: use a new key for a new request")
	case errors.Is(err, projections.ErrNoRatings):
		return notFound(err.Error())
	case errors.Is(err, projections.ErrInvalidCursor):
		return newProblem(http.StatusBadRequest, "invalid-cursor", "Invalid cursor", "the cursor was not issued for this list; start again without a cursor")
	case pgerr.Unavailable(err):
		// A passing condition, not a bug: the same answer as the main API.
		p = newProblem(http.StatusServiceUnavailable, "unavailable", "Service temporarily unavailable",
			"the database cannot be reached just now; try again after Retry-After seconds (a write sent again with the same Idempotency-Key is recorded once)")
		p.header = http.Header{"Retry-After": {strconv.Itoa(int(pgerr.RetryAfter / time.Second))}}
		return p
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return newProblem(http.StatusServiceUnavailable, "unavailable", "Request cancelled or timed out", "try again")
	}
	return nil
}

// writeError answers with the problem err maps to; unexpected errors are
// logged here, once, and answered with a generic 500.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := classify(err)
	if p == nil {
		s.cfg.Logger.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path)
		p = newProblem(http.StatusInternalServerError, "internal", "Internal error", "something went wrong on our side")
	}
	out := *p
	out.Instance = r.URL.Path
	for k, vs := range p.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	writeBody(w, out.Status, "application/problem+json", out)
}

func writeJSON(w http.ResponseWriter, status int, v any) { writeBody(w, status, "application/json", v) }

func writeBody(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, contentType = http.StatusInternalServerError, "application/problem+json"
		b = []byte(`{"type":"` + problemTypePrefix + `internal","title":"Internal error","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away
}
