package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes: the document describes exactly the routes the
// server registers, every $ref resolves, and every operation is complete.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var registered []string
	for _, rt := range e.srv.routes {
		registered = append(registered, rt.method+" "+rt.pattern)
	}
	slices.Sort(registered)

	var doc map[string]any
	if err := json.Unmarshal(e.srv.openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(documented)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is registered but not documented", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("route %s is documented but not registered", d)
		}
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	for _, r := range refs(doc) {
		if _, err := e.schemas.resolve(r); err != nil {
			t.Error(err)
		}
	}

	ids := map[string]string{}
	for _, route := range documented {
		method, path, _ := strings.Cut(route, " ")
		op, err := e.schemas.operation(path, method)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := op["operationId"].(string)
		if id == "" || op["summary"] == "" || op["description"] == "" {
			t.Errorf("%s: operationId, summary and description are required", route)
		}
		if other, dup := ids[id]; dup {
			t.Errorf("operationId %s used by %s and %s", id, other, route)
		}
		ids[id] = route
		// Every path parameter of the pattern is documented.
		var params []string
		for _, p := range op["parameters"].([]any) {
			p := p.(map[string]any)
			if p["in"] == "path" {
				params = append(params, p["name"].(string))
			}
		}
		for _, seg := range strings.Split(path, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				if name = strings.TrimSuffix(name, "}"); !slices.Contains(params, name) {
					t.Errorf("%s: path parameter %s is not documented", route, name)
				}
			}
		}
		// Writes document every status the write pipeline can answer.
		if method != "GET" {
			responses := op["responses"].(map[string]any)
			for _, status := range []string{"400", "401", "403", "404", "409", "413", "415", "422", "500"} {
				if _, ok := responses[status]; !ok {
					t.Errorf("%s: status %s is not documented", route, status)
				}
			}
			if _, ok := op["requestBody"]; !ok {
				t.Errorf("%s: no request body documented", route)
			}
		}
	}
}

// TestOpenAPIServed: the document is served, and is what the checker reads.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.must(http.StatusOK, req{method: "GET", path: "/openapi.json"})
	var doc map[string]any
	res.decode(t, &doc)
	if doc["info"].(map[string]any)["version"] != "test" {
		t.Errorf("info.version = %v", doc["info"].(map[string]any)["version"])
	}
	// The checker catches what it should: a missing required property, an
	// undocumented one, a wrong type.
	schema, err := e.schemas.resolve("#/components/schemas/WriteResult")
	if err != nil {
		t.Fatal(err)
	}
	var bad any
	if err := json.Unmarshal([]byte(`{"id":"x","stream":1,"version":1.5,"event_ids":["not-a-uuid"],"extra":true}`), &bad); err != nil {
		t.Fatal(err)
	}
	errs := e.schemas.validate(schema, bad, "$")
	for _, want := range []string{`"duplicate" is missing`, `"extra" is not documented`, "$.stream: is number", "$.version: is number", "not a UUID"} {
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("checker missed %q: %v", want, errs)
		}
	}
}

// TestRouteWithoutDescriptorIsRefused: the document is made from the
// route table's descriptors, so a route added without one stops the
// server from starting rather than being served undocumented.
func TestRouteWithoutDescriptorIsRefused(t *testing.T) {
	t.Parallel()
	s := &Server{}
	routes := append(s.routeTable(), route{"GET", "/v1/undocumented", http.NotFoundHandler()})
	if _, _, err := openAPIDocument("test", routes, nil); err == nil || !strings.Contains(err.Error(), "GET /v1/undocumented has no OpenAPI descriptor") {
		t.Fatalf("err = %v, want the undocumented route named", err)
	}
	// A descriptor left behind by a removed route is refused too.
	if _, _, err := openAPIDocument("test", s.routeTable()[1:], nil); err == nil || !strings.Contains(err.Error(), "names no route") {
		t.Fatalf("err = %v, want the orphan descriptor named", err)
	}
}

// TestWritePolicyIsDocumented: who may send a write is read from the
// policy the handler enforces.
func TestWritePolicyIsDocumented(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		method, path string
		roles        []any
	}{
		{"POST", "/v1/programs", []any{"admin"}},
		{"POST", "/v1/roadmaps/{id}/close", []any{"admin"}},
		{"POST", "/v1/roadmaps/{id}/indicators", []any{"admin", "officer"}},
		{"POST", "/v1/indicators/{id}/reports", []any{"admin", "officer"}},
	} {
		op, err := e.schemas.operation(tc.path, tc.method)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := op["x-roles"].([]any); !slices.Equal(got, tc.roles) {
			t.Errorf("%s %s: x-roles = %v, want %v", tc.method, tc.path, got, tc.roles)
		}
		if p, _ := op["x-policy"].(string); p == "" || !strings.Contains(op["description"].(string), p) {
			t.Errorf("%s %s: x-policy %q is not in the description", tc.method, tc.path, p)
		}
	}
}
