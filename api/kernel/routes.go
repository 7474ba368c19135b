package kernel

import (
	"fmt"
	"net/http"

	"promiseledger/api/params"
)

// Handle registers h on mux under "METHOD pattern", behind the path and
// query check that the route's OpenAPI parameters describe: what the
// document says a route takes is what the server accepts, and a refused
// parameter is a 400 naming it, on every route group alike.
func (rs Responder) Handle(mux *http.ServeMux, method, pattern string, parameters any, h http.Handler) error {
	spec, err := params.FromOpenAPI(parameters)
	if err == nil {
		err = spec.Covers(pattern)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, pattern, err)
	}
	mux.Handle(method+" "+pattern, params.Guard(spec, h, func(w http.ResponseWriter, r *http.Request, e *params.Error) {
		rs.Error(w, r, e)
	}))
	return nil
}

// Routes serves mux, answering a request no route matches with a problem
// document: 405 with Allow when the path takes other methods, 404
// otherwise (the mux's own answers are plain text).
func Routes(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux knows the allowed methods: let it answer, and replace
		// its text with a problem.
		mux.ServeHTTP(&unmatched{ResponseWriter: w, r: r}, r)
	})
}

// unmatched turns the mux's plain-text 404 and 405 into problem
// documents, keeping its Allow header.
type unmatched struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (w *unmatched) WriteHeader(code int) {
	if w.replaced {
		return
	}
	switch code {
	case http.StatusNotFound:
		w.replaced = true
		WriteProblem(w.ResponseWriter, w.r, NotFound("no route matches "+RequestPath(w.r)+"; see /openapi.json"))
	case http.StatusMethodNotAllowed:
		w.replaced = true
		WriteProblem(w.ResponseWriter, w.r, MethodNotAllowed(w.r.Method, w.Header().Get("Allow")))
	default:
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *unmatched) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *unmatched) Unwrap() http.ResponseWriter { return w.ResponseWriter }
