package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEveryRouteGroupAnswersProblemsAlike: the main, council and audit
// routes, and the unknown paths under each, answer problems with the full
// request path as instance, the request id of the answer, and the same
// 404 and 405 documents; the 401 reads "Bearer <token>".
func TestEveryRouteGroupAnswersProblemsAlike(t *testing.T) {
	t.Parallel()
	f := newFullEnv(t)
	for _, tc := range []struct {
		method, target, token, body string
		status                      int
		slug                        string
	}{
		{"GET", "/v1/roadmaps/not-a-roadmap", "", "", 404, ptNotFound},
		{"GET", "/v1/councils/" + f.council + "?colour=red", "", "", 400, ptBadRequest},
		{"GET", "/v1/audit/events?colour=red", "", "", 400, ptBadRequest},
		{"GET", "/v1/audit/checkpoints/99999", "", "", 404, ptNotFound},
		{"GET", "/v1/audit/nothing-here", "", "", 404, ptNotFound},
		{"DELETE", "/v1/audit/checkpoint", "", "", 405, ptMethodNotAllowed},
		{"GET", "/v1/nothing-here", "", "", 404, ptNotFound},
		{"POST", "/v1/councils", "", `{}`, 401, ptUnauthorized},
		{"POST", "/v1/roadmaps", "", `{}`, 401, ptUnauthorized},
		{"POST", "/v1/councils", "admin", `{"name":1}`, 400, ptMalformedBody},
		{"POST", "/v1/roadmaps", "admin", `{"name":1} {}`, 400, ptMalformedBody},
	} {
		res := f.raw(tc.method, tc.target, tc.token, tc.body)
		var p struct {
			Instance  string `json:"instance"`
			RequestID string `json:"request_id"`
			Detail    string `json:"detail"`
		}
		if err := json.Unmarshal(res.body, &p); err != nil {
			t.Errorf("%s %s: %s", tc.method, tc.target, res)
			continue
		}
		path, _, _ := strings.Cut(tc.target, "?")
		switch {
		case res.status != tc.status || res.problemType() != tc.slug:
			t.Errorf("%s %s: %s; want %d %s", tc.method, tc.target, res, tc.status, tc.slug)
		case p.Instance != path:
			t.Errorf("%s %s: instance %q, want the full path %q", tc.method, tc.target, p.Instance, path)
		case p.RequestID == "" || p.RequestID != res.header.Get("X-Request-Id"):
			t.Errorf("%s %s: request_id %q, X-Request-Id %q", tc.method, tc.target, p.RequestID, res.header.Get("X-Request-Id"))
		case tc.status == http.StatusUnauthorized && !strings.Contains(string(res.body), "Bearer <token>"):
			t.Errorf("%s %s: the 401 does not read Bearer <token>: %s", tc.method, tc.target, res.body)
		}
	}
}
