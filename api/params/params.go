// Package params is where every route group of the HTTP API (the main
// routes, the council routes, the audit routes) reads the values of a
// request's path and query string. A route declares the parameters it
// takes in its OpenAPI operation; Spec.Check refuses, before any value
// reaches a query, what the declaration does not allow: a parameter the
// route does not take, one given twice, bytes that are not UTF-8 text,
// control characters (NUL among them, which PostgreSQL cannot hold in
// text), values longer than MaxValueBytes, and booleans other than true
// or false. The limit rule (Limit) and the page-size defaults live here
// too, so that every list pages the same way.
package params

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Page sizes shared by every paged list: DefaultPageSize when a request
// names none, never more than the server's configured maximum, whose
// default is DefaultMaxPageSize.
const (
	DefaultPageSize    = 50
	DefaultMaxPageSize = 500
)

// MaxValueBytes caps a path or query value unless the parameter's schema
// sets maxLength: ids, codes, dates and cursors are far shorter, and a
// longer value is a mistake or a probe.
const MaxValueBytes = 1024

// Problem is one fault with one parameter.
type Problem struct {
	Field   string `json:"field" doc:"The snake_case path of the field (title.kk, evidence.url), a query parameter or a header; empty for the request as a whole."`
	Problem string `json:"problem" doc:"What is wrong with it."`
}

// SchemaName names the type in the OpenAPI document.
func (Problem) SchemaName() string { return "FieldProblem" }

// Error is a request whose path or query cannot be read: every route group
// answers it with 400 and the problems as errors[].
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Problem
	}
	return "bad parameters: " + strings.Join(parts, "; ")
}

// Kind is how a parameter's value is read.
type Kind int

const (
	String Kind = iota
	Boolean
	Integer
)

// Param is one declared path or query parameter.
type Param struct {
	Name     string
	Kind     Kind
	MaxBytes int
}

// Spec is what one route takes: its path wildcards and query parameters.
type Spec struct {
	Path  []Param
	Query []Param
}

// FromOpenAPI reads the declaration of an OpenAPI operation's parameters
// (a list of parameter objects, as Go maps or as decoded JSON); header
// parameters are the handlers' business and are left out.
func FromOpenAPI(parameters any) (Spec, error) {
	var list []map[string]any
	switch ps := parameters.(type) {
	case nil:
	case []map[string]any:
		list = ps
	case []any:
		for _, p := range ps {
			m, ok := p.(map[string]any)
			if !ok {
				return Spec{}, fmt.Errorf("params: a parameter is a %T, not an object", p)
			}
			list = append(list, m)
		}
	default:
		return Spec{}, fmt.Errorf("params: parameters are a %T, not a list", parameters)
	}
	var s Spec
	for _, p := range list {
		name, _ := p["name"].(string)
		in, _ := p["in"].(string)
		if name == "" {
			return Spec{}, errors.New("params: a parameter has no name")
		}
		param := Param{Name: name, MaxBytes: MaxValueBytes}
		if schema, ok := p["schema"].(map[string]any); ok {
			switch schema["type"] {
			case "boolean":
				param.Kind = Boolean
			case "integer":
				param.Kind = Integer
			}
			if n, ok := number(schema["maxLength"]); ok && n > 0 {
				param.MaxBytes = n
			}
		}
		switch in {
		case "path":
			s.Path = append(s.Path, param)
		case "query":
			s.Query = append(s.Query, param)
		}
	}
	return s, nil
}

func number(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		return int(n), true
	}
	return 0, false
}

// Covers reports an error unless every wildcard of the mux pattern
// ("GET /v1/roadmaps/{id}") is a declared path parameter: a route whose
// path values went unchecked would defeat Check.
func (s Spec) Covers(pattern string) error {
	for rest := pattern; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("params: pattern %q has an unclosed wildcard", pattern)
		}
		name := strings.TrimSuffix(rest[i+1:i+j], "...")
		if name != "$" && !slices.ContainsFunc(s.Path, func(p Param) bool { return p.Name == name }) {
			return fmt.Errorf("params: %s: the path parameter %q is not declared", pattern, name)
		}
		rest = rest[i+j+1:]
	}
}

// QueryNames lists the query parameters the route takes.
func (s Spec) QueryNames() []string {
	names := make([]string, len(s.Query))
	for i, p := range s.Query {
		names[i] = p.Name
	}
	return names
}

// Check refuses a request whose path values or query string the
// declaration does not allow; it returns an *Error naming each parameter
// at fault, or nil.
func (s Spec) Check(r *http.Request) error {
	var probs []Problem
	bad := func(field, problem string) { probs = append(probs, Problem{Field: field, Problem: problem}) }
	for _, p := range s.Path {
		if msg := textProblem(r.PathValue(p.Name), p.MaxBytes); msg != "" {
			bad(p.Name, msg)
		}
	}
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		// What the standard library would silently drop is refused instead.
		bad("query", "is not a valid URL-encoded query string (name=value pairs joined by &, with %XX escapes)")
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // a stable order of errors[]
	for _, name := range names {
		vs := values[name]
		i := slices.IndexFunc(s.Query, func(p Param) bool { return p.Name == name })
		if i < 0 {
			took := "no query parameters"
			if len(s.Query) > 0 {
				took = strings.Join(s.QueryNames(), ", ")
			}
			bad(fieldName(name), "this route does not take this parameter; it takes "+took)
			continue
		}
		p := s.Query[i]
		if len(vs) > 1 {
			bad(name, "is given more than once")
			continue
		}
		if msg := textProblem(vs[0], p.MaxBytes); msg != "" {
			bad(name, msg)
			continue
		}
		if p.Kind == Boolean && vs[0] != "" {
			if _, err := Bool(vs[0]); err != nil {
				bad(name, err.Error())
			}
		}
	}
	if len(probs) > 0 {
		return &Error{Problems: probs}
	}
	return nil
}

// Text reports what is wrong with a path or query value, or "" when it is
// fine: it must be UTF-8 text without control characters and at most
// maxBytes long.
func Text(v string, maxBytes int) string { return textProblem(v, maxBytes) }

func textProblem(v string, maxBytes int) string {
	if maxBytes <= 0 {
		maxBytes = MaxValueBytes
	}
	if len(v) > maxBytes {
		return fmt.Sprintf("is %d bytes long; at most %d", len(v), maxBytes)
	}
	if !utf8.ValidString(v) {
		return "is not valid UTF-8 text"
	}
	for _, c := range v {
		if unicode.IsControl(c) {
			return fmt.Sprintf("holds the control character %U", c)
		}
	}
	return ""
}

// fieldName is a parameter name fit to be quoted back: bad bytes escaped,
// cut short.
func fieldName(name string) string {
	if len(name) > 64 {
		name = name[:64] + "…"
	}
	if textProblem(name, 0) != "" || !utf8.ValidString(name) {
		q := strconv.QuoteToASCII(name)
		return q[1 : len(q)-1]
	}
	return name
}

// Bool reads a boolean: exactly true or false. Anything else (1, yes,
// banana) is refused rather than guessed.
func Bool(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("must be true or false")
}

// Limit reads a page size: def when v is empty, else a whole number from 1
// to max.
func Limit(v string, def, max int) (int, error) {
	if v == "" {
		return min(def, max), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("must be a whole number from 1 to %d", max)
	}
	return n, nil
}

// Guard wraps h so that Check runs first; refuse answers the *Error (each
// route group writes its own problem documents).
func Guard(s Spec, h http.Handler, refuse func(http.ResponseWriter, *http.Request, *Error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Check(r); err != nil {
			refuse(w, r, err.(*Error))
			return
		}
		h.ServeHTTP(w, r)
	})
}
