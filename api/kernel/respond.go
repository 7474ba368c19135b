package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"promiseledger/eventstore/postgres/pgerr"
)

type requestIDKey struct{}

// WithRequestID records the request's id (X-Request-Id) for the problem
// documents answered further in.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id the edge gave the request: from the context, or the
// X-Request-Id response header the edge already set.
func RequestID(w http.ResponseWriter, r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok && id != "" {
		return id
	}
	return w.Header().Get("X-Request-Id")
}

// RequestPath is the path the client asked for, before any mount stripped
// a prefix from it (http.StripPrefix leaves RequestURI alone).
func RequestPath(r *http.Request) string {
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
			return u.Path
		}
	}
	return r.URL.Path
}

// Responder answers errors as problem documents. The zero value logs
// nothing.
type Responder struct {
	// Logger gets every unexpected error (answered 500), once.
	Logger *slog.Logger
	// Unavailable, if set, is told of each error answered 503 because the
	// database cannot be reached (the API logs outages once each).
	Unavailable func(ctx context.Context, err error)
}

// Error answers with the problem err maps to. Unexpected errors are logged
// here, once, and answered with a generic 500 that names the request id
// for support; their text never reaches the client.
func (rs Responder) Error(w http.ResponseWriter, r *http.Request, err error) {
	p := Classify(err)
	ctx := r.Context()
	switch {
	case p == nil:
		if rs.Logger != nil && ctx.Err() == nil {
			rs.Logger.ErrorContext(ctx, "request failed", "err", err,
				"request_id", RequestID(w, r), "method", r.Method, "path", RequestPath(r))
		}
		p = Internal()
	case pgerr.Unavailable(err):
		if rs.Unavailable != nil {
			rs.Unavailable(ctx, errors.New(pgerr.Describe(err)))
		}
	case p.Status == http.StatusServiceUnavailable && rs.Logger != nil:
		rs.Logger.InfoContext(ctx, "request not completed", "err", err, "request_id", RequestID(w, r))
	}
	WriteProblem(w, r, p)
}

// Wrap turns a handler that returns its error into an http.Handler that
// answers the error as a problem.
func (rs Responder) Wrap(f func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			rs.Error(w, r, err)
		}
	})
}

// WriteProblem answers with p, its instance the full request path and its
// request_id the edge's, whatever route group and mount it comes from.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	out := *p
	out.Instance = RequestPath(r)
	out.RequestID = RequestID(w, r)
	for k, vs := range p.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	if out.CurrentVersion != nil {
		w.Header().Set("ETag", ETag(*out.CurrentVersion))
	}
	WriteBody(w, out.Status, "application/problem+json", out)
}

// WriteJSON answers with a JSON document.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	WriteBody(w, status, "application/json", v)
}

// WriteBody answers with v as JSON, followed by a newline. HTML is not
// escaped: the answers are JSON, never embedded in a page, and "<token>"
// reads better than "\u003ctoken\u003e".
func WriteBody(w http.ResponseWriter, status int, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own response types get here, and they always marshal.
		status, contentType = http.StatusInternalServerError, "application/problem+json"
		buf.Reset()
		buf.WriteString(`{"type":"` + TypePrefix + SlugInternal + `","title":"Internal error","status":500}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away; nothing to do
}

// ETag is the entity tag of a stream version.
func ETag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }
