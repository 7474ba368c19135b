package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"

	"promiseledger/api/kernel"
)

// compressResponses gzips a response when the client accepts gzip, the
// body is at least gzhttp.DefaultMinSize bytes and its type is not already
// compressed (images, archives); a response that sets Content-Encoding
// itself (the metrics) is left alone. Streams stay streams: a Flush
// compresses and sends what was written so far. Only gzip: one encoding is
// one thing to test and document.
var compressResponses = func() func(http.Handler) http.HandlerFunc {
	wrap, err := gzhttp.NewWrapper(gzhttp.EnableZstd(false))
	if err != nil {
		panic(fmt.Sprintf("api: gzip wrapper: %v", err)) // fixed options: a programming error
	}
	return wrap
}()

// requestInfo is what the edge learns about a request and the handlers use.
type requestInfo struct {
	id          string    // X-Request-Id, the client's or ours
	correlation uuid.UUID // the request id as a UUID: the commands' correlation id
	route       string    // the matched mux pattern ("POST /v1/roadmaps"), or "unmatched"
	principal   *principal
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{}
}

// requestIDNamespace derives correlation ids from request ids that are not
// UUIDs. Fixed forever: the same request id always gives the same
// correlation id.
var requestIDNamespace = uuid.MustParse("6f1c2f0e-5b7a-4d4e-9a57-2f0b8c1d3e41")

// requestID accepts the client's X-Request-Id when it is short and plain
// (so it is safe to log and echo), and makes one otherwise.
func requestID(r *http.Request) (string, uuid.UUID) {
	id := r.Header.Get("X-Request-Id")
	if !kernel.PlainToken(id, 128) {
		u := uuid.Must(uuid.NewV7())
		return u.String(), u
	}
	if u, err := uuid.Parse(id); err == nil {
		return id, u
	}
	return id, uuid.NewSHA1(requestIDNamespace, []byte(id))
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ledger_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
	}
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serve is the edge: request id, authentication, routing, recovery, one
// access-log line and the metrics.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	id, correlation := requestID(r)
	_, pattern := s.mux.Handler(r)
	route := pattern
	if route == "" {
		route = "unmatched"
	}
	info := &requestInfo{id: id, correlation: correlation, route: route}
	r = r.WithContext(kernel.WithRequestID(context.WithValue(r.Context(), requestInfoKey{}, info), id))
	w.Header().Set("X-Request-Id", id)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// Reads change with every event: caches must ask again (a handler
		// may say otherwise).
		w.Header().Set("Cache-Control", "no-cache")
	}
	sw := &statusWriter{ResponseWriter: w}

	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Logger.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(v), "request_id", id, "route", route)
			if sw.status == 0 {
				s.writeProblem(sw, r, kernel.Internal())
			}
		}
		s.finish(r, info, sw, began)
	}()

	if authz := r.Header.Get("Authorization"); authz != "" {
		p, err := s.authenticate(r.Context(), authz)
		if err != nil {
			s.writeError(sw, r, err)
			return
		}
		info.principal = p
	}
	s.served.ServeHTTP(sw, r)
}

func (s *Server) finish(r *http.Request, info *requestInfo, sw *statusWriter, began time.Time) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	elapsed := time.Since(began)
	// The route label is the path pattern: bounded, unlike paths.
	_, label, ok := strings.Cut(info.route, " ")
	if !ok {
		label = info.route
	}
	s.metrics.requests.WithLabelValues(label, r.Method, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(label, r.Method).Observe(elapsed.Seconds())
	attrs := []any{"method", r.Method, "path", r.URL.Path, "route", info.route, "status", status,
		"bytes", sw.bytes, "duration_ms", float64(elapsed.Microseconds()) / 1000, "request_id", info.id}
	if info.principal != nil {
		attrs = append(attrs, "token_id", info.principal.TokenID.String(), "role", string(info.principal.Role))
	}
	s.cfg.Logger.InfoContext(r.Context(), "http request", attrs...)
}

// authenticate reads an Authorization header. A header that is there but
// not a live bearer token is refused outright (401), on reads too: a client
// that sends a token expects to act as its holder.
func (s *Server) authenticate(ctx context.Context, header string) (*principal, error) {
	scheme, secret, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, unauthorized("use Authorization: Bearer <token>", true)
	}
	p, err := s.tokens.authenticate(ctx, s.cfg.DB, strings.TrimSpace(secret))
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, unauthorized("the token is unknown or revoked", true)
	}
	return p, nil
}

// Caller returns the actor the request's token stands for, as recorded in
// events; ok is false for an anonymous request. Mounted handlers use it:
// the token was already checked at the edge (an invalid one never gets
// this far).
func Caller(r *http.Request) (actorID, role string, ok bool) {
	p := requestInfoFrom(r.Context()).principal
	if p == nil {
		return "", "", false
	}
	a := p.actor()
	return a.ID, a.Role, true
}
