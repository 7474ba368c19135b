package kernel

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"promiseledger/api/params"
	"promiseledger/domain"
)

// Query reads a request's query values by one set of rules, collecting
// every problem for one 400 (Err). Which parameters a route takes at all
// is checked before, from its OpenAPI operation (Responder.Handle).
type Query struct {
	values url.Values
	errs   []FieldProblem
}

// NewQuery reads r's query.
func NewQuery(r *http.Request) *Query { return &Query{values: r.URL.Query()} }

// Bad records a problem with the parameter name.
func (q *Query) Bad(name, problem string) {
	q.errs = append(q.errs, FieldProblem{Field: name, Problem: problem})
}

// Str is the parameter's value, trimmed; "" when absent.
func (q *Query) Str(name string) string { return strings.TrimSpace(q.values.Get(name)) }

// Enum reads a parameter that must be one of allowed (or absent: "").
func (q *Query) Enum(name string, allowed ...string) string {
	v := q.Str(name)
	if v == "" {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	q.Bad(name, "must be one of "+strings.Join(allowed, ", "))
	return ""
}

// Bool reads true or false (params.Bool); absent is nil.
func (q *Query) Bool(name string) *bool {
	v := q.Str(name)
	if v == "" {
		return nil
	}
	b, err := params.Bool(v)
	if err != nil {
		q.Bad(name, err.Error())
		return nil
	}
	return &b
}

// Int reads an integer from lo to hi; absent is 0.
func (q *Query) Int(name string, lo, hi int) int {
	v := q.Str(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		q.Bad(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return 0
	}
	return n
}

// Date reads a date YYYY-MM-DD; absent is nil.
func (q *Query) Date(name string) *domain.Date {
	v := q.Str(name)
	if v == "" {
		return nil
	}
	d, err := domain.ParseDate(v)
	if err != nil || !d.Valid() {
		q.Bad(name, "must be a date YYYY-MM-DD")
		return nil
	}
	return &d
}

// Limit reads the page size (params.Limit): def when absent, at most max.
func (q *Query) Limit(def, max int) int {
	n, err := params.Limit(q.Str("limit"), def, max)
	if err != nil {
		q.Bad("limit", err.Error())
	}
	return n
}

// Err is the 400 naming every parameter at fault, or nil.
func (q *Query) Err() error {
	if len(q.errs) == 0 {
		return nil
	}
	return BadRequest("some query parameters are invalid", q.errs...)
}
