package audit

import (
	"net/http"
	"strings"
	"testing"

	"promiseledger/api/apidoc"
)

// TestOpenAPIPathsMatchRoutes: the generated fragment documents exactly
// the routes the handler registers.
func TestOpenAPIPathsMatchRoutes(t *testing.T) {
	paths := OpenAPIPaths()
	documented := 0
	for _, item := range paths {
		documented += len(item.(apidoc.Schema))
	}
	routes := (&handler{}).routes()
	if documented != len(routes) {
		t.Errorf("%d operations documented, %d routes", documented, len(routes))
	}
	for _, r := range routes {
		item, ok := paths[openAPIPath(r.pattern)].(apidoc.Schema)
		if !ok {
			t.Errorf("%s %s is not documented", r.method, r.pattern)
			continue
		}
		if _, ok := item[strings.ToLower(r.method)]; !ok {
			t.Errorf("%s %s: the method is not documented", r.method, r.pattern)
		}
	}
}

// TestRouteWithoutDescriptorIsRefused: a route added to the table without
// a descriptor stops the handler from being built.
func TestRouteWithoutDescriptorIsRefused(t *testing.T) {
	routes := append((&handler{}).routes(), route{"GET", "/new", func(http.ResponseWriter, *http.Request) error { return nil }})
	if _, err := operations(routes); err == nil || !strings.Contains(err.Error(), "GET /new has no OpenAPI descriptor") {
		t.Fatalf("err = %v, want the undocumented route named", err)
	}
}
