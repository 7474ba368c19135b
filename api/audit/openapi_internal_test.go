package audit

import (
	"strings"
	"testing"
)

// TestOpenAPIPathsMatchRoutes: the fragment documents exactly the routes
// the handler registers.
func TestOpenAPIPathsMatchRoutes(t *testing.T) {
	paths := OpenAPIPaths()
	documented := 0
	for _, item := range paths {
		documented += len(item.(obj))
	}
	routes := (&handler{}).routes()
	if documented != len(routes) {
		t.Errorf("%d operations documented, %d routes", documented, len(routes))
	}
	for _, r := range routes {
		item, ok := paths[openAPIPath(r.pattern)].(obj)
		if !ok {
			t.Errorf("%s %s is not documented", r.method, r.pattern)
			continue
		}
		if _, ok := item[strings.ToLower(r.method)]; !ok {
			t.Errorf("%s %s: the method is not documented", r.method, r.pattern)
		}
	}
}
