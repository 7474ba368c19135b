package councils_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"promiseledger/api/councils"
)

// TestRolesInOpenAPIAreWhatTheServerAllows reads "who may call" (x-roles)
// from the OpenAPI document of every council route that is gated by role,
// and sends the route a token of every role: a role the document names
// must get past the policy (whatever comes next: 404, 422…), any other
// must get 403. The document and the server cannot disagree unseen.
func TestRolesInOpenAPIAreWhatTheServerAllows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.territories()
	allRoles := []string{"admin", "officer", "council", "deputy"}
	wildcard := regexp.MustCompile(`\{[^}]+\}`)
	gated := 0
	for path, item := range councils.OpenAPIPaths() {
		for method, op := range item.(map[string]any) {
			o := op.(map[string]any)
			xr, ok := o["x-roles"].([]string)
			if !ok {
				if _, secured := o["security"]; secured && !strings.Contains(o["description"].(string), "member") &&
					!strings.Contains(o["description"].(string), "respondent") && !strings.Contains(o["description"].(string), "deputy") {
					t.Errorf("%s %s needs credentials but its document names no x-roles and no membership: %s", method, path, o["description"])
				}
				continue
			}
			gated++
			if !strings.Contains(o["description"].(string), strings.Join(xr, " or ")) {
				t.Errorf("%s %s: the description %q does not say x-roles %v", method, path, o["description"], xr)
			}
			url := wildcard.ReplaceAllString(path, "00000000-0000-4000-8000-000000000001")
			for _, role := range allRoles {
				r := e.do(strings.ToUpper(method), url, "person-1/"+role, map[string]any{})
				allowed := slices.Contains(xr, role)
				switch {
				case allowed && (r.status == http.StatusForbidden || r.status == http.StatusUnauthorized):
					t.Errorf("%s %s: the document lets %s call, the server answered %d: %s", method, path, role, r.status, r.raw)
				case !allowed && r.status != http.StatusForbidden:
					t.Errorf("%s %s: the document does not let %s call, the server answered %d: %s", method, path, role, r.status, r.raw)
				}
			}
		}
	}
	if gated < 10 {
		t.Fatalf("only %d routes carry x-roles", gated)
	}
}
