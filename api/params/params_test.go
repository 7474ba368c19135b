package params

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckRefusesWhatARouteDoesNotDeclare(t *testing.T) {
	t.Parallel()
	spec, err := FromOpenAPI([]map[string]any{
		{"name": "id", "in": "path", "schema": map[string]any{"type": "string"}},
		{"name": "stream", "in": "query", "schema": map[string]any{"type": "string"}},
		{"name": "overdue", "in": "query", "schema": map[string]any{"type": "boolean"}},
		{"name": "code", "in": "query", "schema": map[string]any{"type": "string", "maxLength": 4}},
		{"name": "If-Match", "in": "header"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Covers("GET /things/{id}"); err != nil {
		t.Fatal(err)
	}
	if err := spec.Covers("GET /things/{id}/{other}"); err == nil {
		t.Fatal("an undeclared wildcard was not noticed")
	}
	long := strings.Repeat("x", 10<<10)
	for _, tc := range []struct {
		name, path, query string
		field             string // "" when the request is fine
	}{
		{"plain values", "abc", "stream=indicator-1&overdue=true", ""},
		{"empty values", "abc", "stream=&overdue=", ""},
		{"Kazakh text", "%D2%9B%D0%B0%D0%B7", "stream=%D2%9B%D0%B0%D0%B7", ""},
		{"NUL in the path", "%00", "", "id"},
		{"NUL inside a path value", "a%00b", "", "id"},
		{"a byte that is not UTF-8 in the path", "%FF", "", "id"},
		{"an overlong encoding of a slash in the path", "%C0%AF", "", "id"},
		{"a long path value", long, "", "id"},
		{"NUL in a query value", "abc", "stream=%00", "stream"},
		{"NUL inside a query value", "abc", "stream=a%00b", "stream"},
		{"invalid UTF-8 in a query value", "abc", "stream=%FF", "stream"},
		{"an overlong encoding in a query value", "abc", "stream=%C0%AF", "stream"},
		{"a C1 control character", "abc", "stream=%C2%85", "stream"},
		{"a tab", "abc", "stream=a%09b", "stream"},
		{"a long query value", "abc", "stream=" + long, "stream"},
		{"over the declared maxLength", "abc", "code=12345", "code"},
		{"an unknown parameter", "abc", "asof=2021-08-01", "asof"},
		{"a parameter given twice", "abc", "stream=a&stream=b", "stream"},
		{"a boolean that is not true or false", "abc", "overdue=banana", "overdue"},
		{"a boolean written 1", "abc", "overdue=1", "overdue"},
		{"a malformed escape", "abc", "stream=%ZZ", "query"},
		{"a semicolon separator", "abc", "stream=a;overdue=true", "query"},
		{"an unknown parameter whose name is not text", "abc", "a%00b=1", `a\x00b`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			var got error
			mux.HandleFunc("GET /things/{id}", func(_ http.ResponseWriter, r *http.Request) { got = spec.Check(r) })
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/things/"+tc.path+"?"+tc.query, nil))
			var pe *Error
			switch {
			case tc.field == "" && got != nil:
				t.Fatalf("refused: %v", got)
			case tc.field == "":
			case !errors.As(got, &pe):
				t.Fatalf("accepted, want a problem with %s", tc.field)
			case pe.Problems[0].Field != tc.field:
				t.Fatalf("problems %+v, want the field %q", pe.Problems, tc.field)
			}
		})
	}
}

func TestBoolAndLimit(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"true": true, "false": false} {
		if b, err := Bool(v); err != nil || b != want {
			t.Errorf("Bool(%q) = %v, %v", v, b, err)
		}
	}
	for _, v := range []string{"1", "0", "TRUE", "t", "yes", "banana", " true"} {
		if _, err := Bool(v); err == nil {
			t.Errorf("Bool(%q) was accepted", v)
		}
	}
	for _, tc := range []struct {
		v       string
		want    int
		refused bool
	}{{"", 50, false}, {"1", 1, false}, {"500", 500, false}, {"501", 0, true}, {"0", 0, true}, {"-1", 0, true}, {"1e3", 0, true}} {
		n, err := Limit(tc.v, DefaultPageSize, DefaultMaxPageSize)
		if (err != nil) != tc.refused || n != tc.want {
			t.Errorf("Limit(%q) = %d, %v", tc.v, n, err)
		}
	}
}
