package api

import (
	"net/http"
	"testing"
)

// TestCouncilAndAuditAnswersMatchTheGeneratedDocument: the council and
// audit routes' answers validate against the schemas reflected from their
// Go types (objects closed: an undocumented field fails), as the main
// routes' do in every test.
func TestCouncilAndAuditAnswersMatchTheGeneratedDocument(t *testing.T) {
	t.Parallel()
	f := newFullEnv(t)
	rec := f.created(req{method: "POST", path: "/v1/councils/" + f.council + "/recommendations", token: "council", body: map[string]any{
		"title": text("More buses"), "proposal": text("Add a bus line"),
		"addressee": map[string]any{"id": "akimat-akmola", "name": text("Akimat")}}})
	f.catchUp()
	f.must(http.StatusOK, req{method: "POST", path: "/v1/recommendations/" + rec + "/submit", token: "council", body: map[string]any{}})
	f.catchUp()
	f.must(http.StatusOK, req{method: "POST", path: "/v1/recommendations/" + rec + "/acknowledge", token: "admin", body: map[string]any{"reference": "No 12"}})
	f.catchUp()
	for _, path := range []string{
		"/v1/councils", "/v1/councils/" + f.council, "/v1/councils/" + f.council + "/members",
		"/v1/councils/" + f.council + "/members?as_of=2030-01-01",
		"/v1/recommendations", "/v1/recommendations/" + rec, "/v1/councils/" + f.council + "/recommendations",
		"/v1/recommendations/overdue", "/v1/state-bodies/rates", "/v1/state-bodies/rates?as_of=2030-01-01",
		"/v1/assessments", "/v1/deputies", "/v1/rating-methods",
	} {
		f.must(http.StatusOK, req{method: "GET", path: path}) // do() validates the answer against /openapi.json
	}
	// The audit routes sit under a prefix mount, which the mux names by
	// its prefix: check them against their own path templates.
	for _, c := range []struct{ template, target string }{
		{"/v1/audit/key", "/v1/audit/key"},
		{"/v1/audit/events", "/v1/audit/events?limit=2"},
		{"/v1/audit/proof/inclusion", "/v1/audit/proof/inclusion?index=0"},
		{"/v1/audit/proof/consistency", "/v1/audit/proof/consistency?old=1"},
		{"/v1/audit/streams/{stream}/history", "/v1/audit/streams/program-" + f.w.programID + "/history"},
	} {
		res := f.raw("GET", c.target, "", "")
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %s", c.target, res)
		}
		if errs := f.conforms("GET "+c.template, "GET", res); len(errs) > 0 {
			t.Errorf("GET %s answered what the document does not describe: %v", c.target, errs)
		}
	}
	// Without a published rating method the league is a problem, documented too.
	f.must(http.StatusNotFound, req{method: "GET", path: "/v1/ratings/league?level=district"})
}
