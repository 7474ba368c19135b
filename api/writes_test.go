package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
)

// TestWriteRoutes walks every write route's success path, checks the
// answer (status, ETag, Location, body), and that the actor recorded is the
// token's person, never anything the body says.
func TestWriteRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.world() // POST territories, programs, roadmaps, activate, responsibles, indicators

	var res writeResult
	r := e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/reports", token: "officer",
		body: map[string]any{"value": 40, "evidence": evidence}})
	r.decode(t, &res)
	if res.ID != w.numeric || res.Stream != "indicator-"+w.numeric || res.Version != 2 || len(res.EventIDs) != 1 ||
		res.ReportID != res.EventIDs[0].String() || res.Duplicate {
		t.Errorf("report answered %+v", res)
	}
	if got := r.header.Get("ETag"); got != `"2"` {
		t.Errorf("ETag = %s", got)
	}
	report := res.ReportID

	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/corrections", token: "officer",
		body: map[string]any{"corrects": report, "value": 45, "evidence": evidence, "reason": "a typo in the protocol"}})
	e.must(http.StatusOK, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/retarget", token: "officer",
		body: map[string]any{"target": 120, "deadline": "2022-06-30", "reason": "the akimat extended the plan"}})
	e.must(http.StatusOK, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/status", token: "officer",
		body: map[string]any{"status": "done", "reason": "accepted by the commission"}})
	e.must(http.StatusOK, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/responsible", token: "officer",
		body: map[string]any{"person_id": "official-11"}})
	e.must(http.StatusOK, req{method: "POST", path: "/v1/indicators/" + w.milestone + "/cancel", token: "admin",
		body: map[string]any{"reason": "merged into another measure"}})

	// If-Match and expected_version pin writes to what was read.
	r = e.must(http.StatusOK, req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/activate", token: "admin",
		header: map[string]string{"If-Match": `"1"`}})
	if got := r.header.Get("ETag"); got != `"2"` {
		t.Errorf("activate: ETag = %s", got)
	}
	e.must(http.StatusOK, req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/close", token: "admin",
		body: map[string]any{"reason": "the district was merged", "expected_version": 2}})
	e.must(http.StatusOK, req{method: "DELETE", path: "/v1/roadmaps/" + w.rm1 + "/responsibles/official-9?reason=moved+to+another+post", token: "admin"})

	// A registration with an explicit id, effective in the past.
	id := "0190a6a4-5e2b-7c3d-8e4f-000000000001"
	r = e.must(http.StatusCreated, req{method: "POST", path: "/v1/roadmaps", token: "admin", body: map[string]any{
		"id": id, "program_id": w.programID, "territory_kato": w.region, "level": "regional", "title": text("Region"),
		"period": period, "effective_at": "2021-02-01T00:00:00Z"}})
	if got := r.header.Get("Location"); got != "/v1/roadmaps/"+id {
		t.Errorf("Location = %s", got)
	}

	// The actor is the token's person; the role the token's role.
	var h historyResponse
	e.must(http.StatusOK, req{method: "GET", path: "/v1/indicators/" + w.numeric + "/history"}).decode(t, &h)
	want := []struct{ typ, actor, role string }{
		{domain.TypeIndicatorAdded, "admin-1", "admin"},
		{domain.TypeProgressReported, "official-9", "officer"},
		{domain.TypeReportCorrected, "official-9", "officer"},
		{domain.TypeIndicatorRetargeted, "official-9", "officer"},
		{domain.TypeIndicatorStatusChanged, "official-9", "officer"},
		{domain.TypeIndicatorResponsibleAssigned, "official-9", "officer"},
	}
	if len(h.Items) != len(want) {
		t.Fatalf("history has %d events, want %d", len(h.Items), len(want))
	}
	for i, w := range want {
		got := h.Items[i]
		if got.Type != w.typ || got.ActorID != w.actor || got.ActorRole != w.role {
			t.Errorf("event %d: %s by %s/%s, want %s by %s/%s", i, got.Type, got.ActorID, got.ActorRole, w.typ, w.actor, w.role)
		}
	}
	if c := h.Items[2]; c.Corrects != report || c.Reason != "a typo in the protocol" {
		t.Errorf("correction: corrects %s reason %q", c.Corrects, c.Reason)
	}

	// A token without a person id acts as the token.
	secret, tok, err := CreateToken(e.ctx, e.db, TokenSpec{Name: "importer", Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	pid := e.created(req{method: "POST", path: "/v1/programs", token: "Bearer " + secret,
		body: map[string]any{"name": text("Youth"), "kind": "youth", "period": period}})
	recs, err := e.store.ReadStream(e.ctx, "program-"+pid, 1, 10)
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	hev, err := historyOf(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if hev.ActorID != "token:"+tok.ID.String() || hev.ActorRole != "admin" {
		t.Errorf("actor = %s/%s", hev.ActorID, hev.ActorRole)
	}
}

// fill replaces a pattern's path parameters with real ids.
func fill(pattern string, w world) string {
	p := pattern
	if strings.HasPrefix(p, "/v1/indicators/{id}") {
		p = strings.Replace(p, "{id}", w.numeric, 1)
	}
	p = strings.Replace(p, "{id}", w.rm1, 1)
	return strings.Replace(p, "{person_id}", "official-9", 1)
}

// TestWriteRejections: every refused write answers the documented status
// and problem type, and appends nothing.
func TestWriteRejections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 4 << 10 })
	w := e.world()
	// A cancelled indicator in a closed roadmap; a report to correct.
	e.must(http.StatusOK, req{method: "POST", path: "/v1/indicators/" + w.milestone + "/cancel", token: "admin", body: map[string]any{"reason": "dropped"}})
	e.must(http.StatusOK, req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/close", token: "admin", body: map[string]any{"reason": "merged"}})
	var rep writeResult
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/reports", token: "admin",
		body: map[string]any{"value": 10, "evidence": evidence}}).decode(t, &rep)
	revokedSecret, revoked, err := CreateToken(e.ctx, e.db, TokenSpec{Name: "old", Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if err := RevokeToken(e.ctx, e.db, revoked.ID); err != nil {
		t.Fatal(err)
	}
	e.catchUp()

	type tc struct {
		name   string
		r      req
		status int
		ptype  string
	}
	var cases []tc
	// Every write route: the request-level refusals.
	for _, rt := range e.srv.routes {
		if rt.method == "GET" {
			continue
		}
		route := rt.method + " " + rt.pattern
		path := fill(rt.pattern, w)
		cases = append(cases,
			tc{route + " without a token", req{method: rt.method, path: path, body: map[string]any{}}, 401, ptUnauthorized},
			tc{route + " with an unknown token", req{method: rt.method, path: path, token: "Bearer plt_unknown"}, 401, ptUnauthorized},
			tc{route + " with a revoked token", req{method: rt.method, path: path, token: "Bearer " + revokedSecret}, 401, ptUnauthorized},
			tc{route + " with a Basic header", req{method: rt.method, path: path, token: "Basic YWRtaW46YWRtaW4="}, 401, ptUnauthorized},
			tc{route + " by a council member", req{method: rt.method, path: path, token: "council", body: map[string]any{}}, 403, ptForbidden},
			tc{route + " by a deputy", req{method: rt.method, path: path, token: "deputy", body: map[string]any{}}, 403, ptForbidden},
			tc{route + " too large", req{method: rt.method, path: path, token: "admin",
				body: `{"reason":"` + strings.Repeat("x", 5<<10) + `"}`}, 413, ptBodyTooLarge},
			tc{route + " not JSON", req{method: rt.method, path: path, token: "admin", body: "reason=x",
				header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, ptUnsupportedMedia},
			tc{route + " malformed JSON", req{method: rt.method, path: path, token: "admin", body: `{"reason":`}, 400, ptMalformedBody},
			tc{route + " unknown field", req{method: rt.method, path: path, token: "admin", body: map[string]any{"actor_id": "someone-else"}}, 400, ptMalformedBody},
			tc{route + " wrong JSON type", req{method: rt.method, path: path, token: "admin", body: map[string]any{"reason": 7}}, 400, ptMalformedBody},
			tc{route + " not an object", req{method: rt.method, path: path, token: "admin", body: `[1]`}, 400, ptMalformedBody},
			tc{route + " trailing data", req{method: rt.method, path: path, token: "admin", body: `{} {}`}, 400, ptMalformedBody},
			tc{route + " bad If-Match", req{method: rt.method, path: path, token: "admin", header: map[string]string{"If-Match": `W/"3"`}}, 400, ptBadRequest},
			tc{route + " bad effective_at", req{method: rt.method, path: path, token: "admin", body: map[string]any{"effective_at": "yesterday"}}, 422, ptValidation},
		)
	}
	rm1, num, ms := "/v1/roadmaps/"+w.rm1, "/v1/indicators/"+w.numeric, "/v1/indicators/"+w.milestone
	unknown := "/v1/roadmaps/0190a6a4-5e2b-7c3d-8e4f-00000000dead"
	unknownInd := "/v1/indicators/0190a6a4-5e2b-7c3d-8e4f-00000000dead"
	cases = append(cases,
		// 403: officers outside their roadmaps, and outside indicator work.
		tc{"officer registers a program", req{method: "POST", path: "/v1/programs", token: "officer", body: map[string]any{"name": text("P"), "kind": "main", "period": period}}, 403, ptForbidden},
		tc{"officer registers a territory", req{method: "POST", path: "/v1/territories", token: "officer"}, 403, ptForbidden},
		tc{"officer registers a roadmap", req{method: "POST", path: "/v1/roadmaps", token: "officer"}, 403, ptForbidden},
		tc{"officer activates", req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/activate", token: "officer"}, 403, ptForbidden},
		tc{"officer closes own roadmap", req{method: "POST", path: rm1 + "/close", token: "officer", body: map[string]any{"reason": "x"}}, 403, ptForbidden},
		tc{"officer assigns", req{method: "POST", path: rm1 + "/responsibles", token: "officer"}, 403, ptForbidden},
		tc{"officer unassigns", req{method: "DELETE", path: rm1 + "/responsibles/official-9?reason=x", token: "officer"}, 403, ptForbidden},
		tc{"stranger adds to rm1", req{method: "POST", path: rm1 + "/indicators", token: "stranger", body: map[string]any{"title": text("x"), "kind": "milestone", "deadline": "2022-01-01"}}, 403, ptForbidden},
		tc{"officer adds to rm2", req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/indicators", token: "officer"}, 403, ptForbidden},
		tc{"stranger reports on rm1", req{method: "POST", path: num + "/reports", token: "stranger", body: map[string]any{"value": 50, "evidence": evidence}}, 403, ptForbidden},
		tc{"officer reports on rm2", req{method: "POST", path: ms + "/reports", token: "officer", body: map[string]any{"done": true, "evidence": evidence}}, 403, ptForbidden},
		tc{"stranger cancels", req{method: "POST", path: num + "/cancel", token: "stranger", body: map[string]any{"reason": "x"}}, 403, ptForbidden},
		// 404: the addressed roadmap or indicator does not exist.
		tc{"activate unknown", req{method: "POST", path: unknown + "/activate", token: "admin"}, 404, ptNotFound},
		tc{"activate malformed id", req{method: "POST", path: "/v1/roadmaps/NOPE/activate", token: "admin"}, 404, ptNotFound},
		tc{"close unknown", req{method: "POST", path: unknown + "/close", token: "admin", body: map[string]any{"reason": "x"}}, 404, ptNotFound},
		tc{"assign on unknown", req{method: "POST", path: unknown + "/responsibles", token: "admin", body: map[string]any{"person_id": "p", "role": "deputy", "display_name": "P"}}, 404, ptNotFound},
		tc{"unassign on unknown", req{method: "DELETE", path: unknown + "/responsibles/p?reason=x", token: "admin"}, 404, ptNotFound},
		tc{"add to unknown roadmap", req{method: "POST", path: unknown + "/indicators", token: "admin", body: map[string]any{"title": text("x"), "kind": "milestone", "deadline": "2022-01-01"}}, 404, ptNotFound},
		tc{"officer adds to unknown roadmap", req{method: "POST", path: unknown + "/indicators", token: "officer"}, 404, ptNotFound},
		tc{"report on unknown", req{method: "POST", path: unknownInd + "/reports", token: "admin", body: map[string]any{"value": 1, "evidence": evidence}}, 404, ptNotFound},
		tc{"officer reports on unknown", req{method: "POST", path: unknownInd + "/reports", token: "officer", body: map[string]any{"value": 1, "evidence": evidence}}, 404, ptNotFound},
		tc{"report on malformed id", req{method: "POST", path: "/v1/indicators/x/reports", token: "admin"}, 404, ptNotFound},
		tc{"correct on unknown", req{method: "POST", path: unknownInd + "/corrections", token: "admin", body: map[string]any{"corrects": rep.ReportID, "value": 1, "evidence": evidence, "reason": "x"}}, 404, ptNotFound},
		tc{"retarget unknown", req{method: "POST", path: unknownInd + "/retarget", token: "admin", body: map[string]any{"target": 5, "reason": "x"}}, 404, ptNotFound},
		tc{"status of unknown", req{method: "POST", path: unknownInd + "/status", token: "admin", body: map[string]any{"status": "done", "reason": "x"}}, 404, ptNotFound},
		tc{"cancel unknown", req{method: "POST", path: unknownInd + "/cancel", token: "admin", body: map[string]any{"reason": "x"}}, 404, ptNotFound},
		tc{"assign unknown indicator", req{method: "POST", path: unknownInd + "/responsible", token: "admin", body: map[string]any{"person_id": "p"}}, 404, ptNotFound},
		// 409: the target's state forbids it.
		tc{"stale If-Match", req{method: "POST", path: num + "/reports", token: "officer", body: map[string]any{"value": 50, "evidence": evidence},
			header: map[string]string{"If-Match": `"1"`}}, 409, ptVersionConflict},
		tc{"stale expected_version", req{method: "POST", path: rm1 + "/responsibles", token: "admin",
			body: map[string]any{"person_id": "p", "role": "deputy", "display_name": "P", "expected_version": 1}}, 409, ptVersionConflict},
		tc{"If-Match wins over expected_version", req{method: "POST", path: num + "/responsible", token: "admin",
			body: map[string]any{"person_id": "p", "expected_version": 2}, header: map[string]string{"If-Match": `"7"`}}, 409, ptVersionConflict},
		tc{"territory again", req{method: "POST", path: "/v1/territories", token: "admin", body: map[string]any{"kato": w.region, "name": text("Akmola"), "kind": "region", "parent_kato": "0"}}, 409, ptAlreadyExists},
		tc{"activate an active roadmap", req{method: "POST", path: rm1 + "/activate", token: "admin"}, 409, ptInvalidTransition},
		tc{"activate a closed roadmap", req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/activate", token: "admin"}, 409, ptRoadmapClosed},
		tc{"assign twice", req{method: "POST", path: rm1 + "/responsibles", token: "admin", body: map[string]any{"person_id": "official-9", "role": "official", "display_name": "A. Official"}}, 409, ptAlreadyAssigned},
		tc{"unassign a stranger", req{method: "DELETE", path: rm1 + "/responsibles/nobody?reason=x", token: "admin"}, 409, ptNotAssigned},
		tc{"add to a closed roadmap", req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/indicators", token: "admin", body: map[string]any{"title": text("x"), "kind": "milestone", "deadline": "2022-01-01"}}, 409, ptRoadmapClosed},
		tc{"report on a cancelled indicator", req{method: "POST", path: ms + "/reports", token: "admin", body: map[string]any{"done": true, "evidence": evidence}}, 409, ptIndicatorCancelled},
		tc{"status already so", req{method: "POST", path: num + "/status", token: "admin", body: map[string]any{"status": "in_progress"}}, 409, ptInvalidTransition},
		tc{"assign on a cancelled indicator", req{method: "POST", path: ms + "/responsible", token: "admin", body: map[string]any{"person_id": "official-10"}}, 409, ptIndicatorCancelled},
		// 422: the values break a rule.
		tc{"program without fields", req{method: "POST", path: "/v1/programs", token: "admin"}, 422, ptValidation},
		tc{"territory of unknown parent", req{method: "POST", path: "/v1/territories", token: "admin", body: map[string]any{"kato": "113000000", "name": text("x"), "kind": "district", "parent_kato": "119000000"}}, 422, ptValidation},
		tc{"roadmap without Kazakh title", req{method: "POST", path: "/v1/roadmaps", token: "admin", body: map[string]any{"program_id": w.programID, "territory_kato": w.north, "level": "regional",
			"title": map[string]string{"ru": "x", "en": "x"}, "period": period}}, 422, ptValidation},
		tc{"roadmap with a bad date", req{method: "POST", path: "/v1/roadmaps", token: "admin", body: map[string]any{"program_id": w.programID, "territory_kato": w.north, "level": "regional",
			"title": text("x"), "period": map[string]string{"start": "2021-13-01", "end": "2025-12-31"}}}, 422, ptValidation},
		tc{"close without reason", req{method: "POST", path: rm1 + "/close", token: "admin"}, 422, ptValidation},
		tc{"unassign without reason", req{method: "DELETE", path: rm1 + "/responsibles/official-9", token: "admin"}, 422, ptValidation},
		tc{"assign with unknown role", req{method: "POST", path: rm1 + "/responsibles", token: "admin", body: map[string]any{"person_id": "p", "role": "king", "display_name": "P"}}, 422, ptValidation},
		tc{"numeric without target", req{method: "POST", path: rm1 + "/indicators", token: "officer", body: map[string]any{"title": text("x"), "kind": "numeric", "baseline": 1, "unit": text("u"), "deadline": "2022-01-01"}}, 422, ptValidation},
		tc{"bad deadline", req{method: "POST", path: rm1 + "/indicators", token: "officer", body: map[string]any{"title": text("x"), "kind": "milestone", "deadline": "31.12.2022"}}, 422, ptValidation},
		tc{"report without evidence", req{method: "POST", path: num + "/reports", token: "officer", body: map[string]any{"value": 50}}, 422, ptValidation},
		tc{"report in the future", req{method: "POST", path: num + "/reports", token: "officer", body: map[string]any{"value": 50, "evidence": evidence, "as_of": "2030-01-01T00:00:00Z"}}, 422, ptValidation},
		tc{"as_of and effective_at differ", req{method: "POST", path: num + "/reports", token: "officer", body: map[string]any{"value": 50, "evidence": evidence,
			"as_of": "2021-03-01T09:00:30Z", "effective_at": "2021-03-01T09:00:31Z"}}, 422, ptValidation},
		tc{"correct an unknown report", req{method: "POST", path: num + "/corrections", token: "officer", body: map[string]any{"corrects": w.numeric, "value": 1, "evidence": evidence, "reason": "x"}}, 422, ptValidation},
		tc{"correct without reason", req{method: "POST", path: num + "/corrections", token: "officer", body: map[string]any{"corrects": rep.ReportID, "value": 1, "evidence": evidence}}, 422, ptValidation},
		tc{"retarget without reason", req{method: "POST", path: num + "/retarget", token: "officer", body: map[string]any{"target": 50}}, 422, ptValidation},
		tc{"retarget with empty deadline", req{method: "POST", path: num + "/retarget", token: "officer", body: map[string]any{"deadline": "", "reason": "x"}}, 422, ptValidation},
		tc{"status cancelled", req{method: "POST", path: num + "/status", token: "officer", body: map[string]any{"status": "cancelled", "reason": "x"}}, 422, ptValidation},
		tc{"cancel without reason", req{method: "POST", path: num + "/cancel", token: "officer"}, 422, ptValidation},
		tc{"assign nobody", req{method: "POST", path: num + "/responsible", token: "officer", body: map[string]any{"person_id": " "}}, 422, ptValidation},
		tc{"negative expected_version", req{method: "POST", path: num + "/cancel", token: "officer", body: map[string]any{"reason": "x", "expected_version": -1}}, 422, ptValidation},
	)
	for _, c := range cases {
		e.appendsNothing(c.name, func() {
			res := e.do(c.r)
			if res.status != c.status || res.problemType() != c.ptype {
				t.Errorf("%s: got %s, want %d %s", c.name, res, c.status, c.ptype)
				return
			}
			if ct := res.header.Get("Content-Type"); ct != problemMedia {
				t.Errorf("%s: Content-Type %s", c.name, ct)
			}
			if c.status == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: WWW-Authenticate = %q", c.name, res.header.Get("WWW-Authenticate"))
			}
		})
	}

	// A few answers in detail.
	res := e.do(req{method: "POST", path: num + "/reports", token: "officer", body: map[string]any{"value": 50, "evidence": evidence},
		header: map[string]string{"If-Match": `"1"`}})
	var p problem
	res.decode(t, &p)
	if p.CurrentVersion == nil || *p.CurrentVersion != 2 || res.header.Get("ETag") != `"2"` {
		t.Errorf("conflict: current_version %v, ETag %s", p.CurrentVersion, res.header.Get("ETag"))
	}
	res = e.do(req{method: "POST", path: "/v1/roadmaps", token: "admin", body: map[string]any{"program_id": w.programID, "territory_kato": w.north,
		"level": "republican", "title": map[string]string{"ru": "x", "en": "x"}, "period": period}})
	res.decode(t, &p)
	fields := map[string]bool{}
	for _, fe := range p.Errors {
		fields[fe.Field] = true
	}
	if !fields["title.kk"] || !fields["level"] || p.RequestID == "" || p.Instance != "/v1/roadmaps" {
		t.Errorf("422 answer: %s", res.body)
	}
	res = e.do(req{method: "POST", path: "/v1/programs", token: "admin", body: map[string]any{"nmae": text("x")}})
	res.decode(t, &p)
	if len(p.Errors) != 1 || p.Errors[0].Field != "nmae" {
		t.Errorf("unknown field answer: %s", res.body)
	}
	res = e.do(req{method: "POST", path: "/v1/programs", token: "admin", body: map[string]any{"period": map[string]any{"start": 2021}}})
	res.decode(t, &p)
	if len(p.Errors) != 1 || p.Errors[0].Field != "period.start" {
		t.Errorf("wrong type answer: %s", res.body)
	}
}

// TestIdempotencyKey: a retry answers as the first time and records
// nothing; the same key for another request is refused.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.world()
	path := "/v1/indicators/" + w.numeric + "/reports"
	e.clock.set(start.Add(time.Hour))
	report := map[string]any{"value": 30, "evidence": evidence, "as_of": start.Add(30 * time.Minute).Format(time.RFC3339)}
	key := map[string]string{"Idempotency-Key": "report-2021-03-01"}

	first := e.must(http.StatusCreated, req{method: "POST", path: path, token: "officer", body: report, header: key})
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Error("first answer says replayed")
	}
	var a, b writeResult
	first.decode(t, &a)
	e.appendsNothing("a retry", func() {
		again := e.must(http.StatusCreated, req{method: "POST", path: path, token: "officer", body: report, header: key})
		again.decode(t, &b)
		if again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("ETag") != first.header.Get("ETag") {
			t.Errorf("retry headers: %v", again.header)
		}
	})
	if !b.Duplicate || a.Duplicate {
		t.Errorf("duplicate: first %v, retry %v", a.Duplicate, b.Duplicate)
	}
	b.Duplicate = false
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("retry answered %+v, first %+v", b, a)
	}
	// The retry is a replay even after the stream moved on, and even with the
	// If-Match of the first attempt.
	e.must(http.StatusCreated, req{method: "POST", path: path, token: "officer", body: map[string]any{"value": 35, "evidence": evidence}})
	e.appendsNothing("a late retry", func() {
		e.must(http.StatusCreated, req{method: "POST", path: path, token: "officer", body: report,
			header: map[string]string{"Idempotency-Key": "report-2021-03-01", "If-Match": `"1"`}})
	})

	refused := []struct {
		name string
		r    req
	}{
		{"another body", req{method: "POST", path: path, token: "officer", body: map[string]any{"value": 31, "evidence": evidence}, header: key}},
		{"another target", req{method: "POST", path: "/v1/indicators/" + w.milestone + "/reports", token: "admin",
			body: map[string]any{"done": true, "evidence": evidence}, header: map[string]string{"Idempotency-Key": "admin-key"}}},
		{"another route", req{method: "POST", path: "/v1/indicators/" + w.numeric + "/cancel", token: "officer", body: map[string]any{"reason": "x"}, header: key}},
	}
	// "another target" needs the admin to have used the key first.
	e.must(http.StatusCreated, req{method: "POST", path: path, token: "admin", body: map[string]any{"value": 36, "evidence": evidence},
		header: map[string]string{"Idempotency-Key": "admin-key"}})
	for _, c := range refused {
		e.appendsNothing(c.name, func() {
			res := e.do(c.r)
			if res.status != http.StatusUnprocessableEntity || res.problemType() != ptIdempotencyReused {
				t.Errorf("%s: got %s", c.name, res)
			}
		})
	}
	// Keys are per token: the same key from another token is another request.
	e.must(http.StatusCreated, req{method: "POST", path: path, token: "admin", body: report, header: key})

	// A registration without an id takes the event's id, so a retry
	// registers the same program, and records nothing.
	prog := map[string]any{"name": text("Youth"), "kind": "youth", "period": period}
	pk := map[string]string{"Idempotency-Key": "youth-program"}
	id1 := e.created(req{method: "POST", path: "/v1/programs", token: "admin", body: prog, header: pk})
	e.appendsNothing("a registration retry", func() {
		if id2 := e.created(req{method: "POST", path: "/v1/programs", token: "admin", body: prog, header: pk}); id2 != id1 {
			t.Errorf("retry registered %s, first %s", id2, id1)
		}
	})
	// A failed request can be retried with its key: nothing was recorded.
	bad := map[string]any{"reason": ""}
	ck := map[string]string{"Idempotency-Key": "close-north"}
	e.must(http.StatusUnprocessableEntity, req{method: "POST", path: "/v1/roadmaps/" + w.rm1 + "/close", token: "admin", body: bad, header: ck})
	e.must(http.StatusUnprocessableEntity, req{method: "POST", path: "/v1/roadmaps/" + w.rm1 + "/close", token: "admin", body: bad, header: ck})
	// Malformed keys are a 400.
	e.appendsNothing("a malformed key", func() {
		e.must(http.StatusBadRequest, req{method: "POST", path: path, token: "officer", body: report,
			header: map[string]string{"Idempotency-Key": "has spaces in it"}})
	})
}

// TestOfficerScope: an officer writes to the roadmaps they are assigned to,
// and only while assigned.
func TestOfficerScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.world()
	ind := e.created(req{method: "POST", path: "/v1/roadmaps/" + w.rm1 + "/indicators", token: "officer", body: map[string]any{
		"title": text("Clinic built"), "kind": "milestone", "deadline": "2022-12-31"}})
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + ind + "/reports", token: "officer",
		body: map[string]any{"done": false, "evidence": evidence}})
	e.appendsNothing("officer outside their roadmap", func() {
		e.must(http.StatusForbidden, req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/indicators", token: "officer", body: map[string]any{
			"title": text("x"), "kind": "milestone", "deadline": "2022-12-31"}})
		e.must(http.StatusForbidden, req{method: "POST", path: "/v1/indicators/" + w.milestone + "/reports", token: "officer",
			body: map[string]any{"done": true, "evidence": evidence}})
	})
	// The stranger becomes responsible for rm2 and may write there.
	e.must(http.StatusOK, req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/responsibles", token: "admin",
		body: map[string]any{"person_id": "official-10", "role": "official", "display_name": "B. Official"}})
	e.catchUp()
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.milestone + "/reports", token: "stranger",
		body: map[string]any{"done": true, "evidence": evidence}})
	// Unassigned, official-9 may no longer write to rm1.
	e.must(http.StatusOK, req{method: "DELETE", path: "/v1/roadmaps/" + w.rm1 + "/responsibles/official-9", token: "admin",
		body: map[string]any{"reason": "moved to another post"}})
	e.catchUp()
	e.appendsNothing("unassigned officer", func() {
		e.must(http.StatusForbidden, req{method: "POST", path: "/v1/indicators/" + ind + "/reports", token: "officer",
			body: map[string]any{"done": true, "evidence": evidence}})
	})
	// A roadmap too new for the read model: refused, not guessed.
	fresh := e.created(req{method: "POST", path: "/v1/roadmaps", token: "admin", body: map[string]any{
		"program_id": w.programID, "territory_kato": w.region, "level": "regional", "title": text("Region"), "period": period}})
	e.must(http.StatusOK, req{method: "POST", path: "/v1/roadmaps/" + fresh + "/responsibles", token: "admin",
		body: map[string]any{"person_id": "official-9", "role": "official", "display_name": "A. Official"}})
	e.appendsNothing("unprojected roadmap", func() {
		res := e.must(http.StatusForbidden, req{method: "POST", path: "/v1/roadmaps/" + fresh + "/indicators", token: "officer",
			body: map[string]any{"title": text("x"), "kind": "milestone", "deadline": "2022-12-31"}})
		if !strings.Contains(string(res.body), "try again") {
			t.Errorf("answer: %s", res.body)
		}
	})
	e.catchUp()
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/roadmaps/" + fresh + "/indicators", token: "officer",
		body: map[string]any{"title": text("x"), "kind": "milestone", "deadline": "2022-12-31"}})
}

// TestCorrelationID: the request id is echoed and becomes the correlation
// id of the events the request records.
func TestCorrelationID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.world()
	for _, c := range []struct{ sent, want string }{
		{"0190a6a4-5e2b-7c3d-8e4f-0000000000aa", "0190a6a4-5e2b-7c3d-8e4f-0000000000aa"},
		{"import-batch-7", requestIDNamespaceUUID("import-batch-7")},
	} {
		res := e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/reports", token: "officer",
			body: map[string]any{"value": 1, "evidence": evidence}, header: map[string]string{"X-Request-Id": c.sent}})
		if got := res.header.Get("X-Request-Id"); got != c.sent {
			t.Errorf("X-Request-Id echoed %q, sent %q", got, c.sent)
		}
		var out writeResult
		res.decode(t, &out)
		recs, err := e.store.ReadStream(context.Background(), out.Stream, out.Version, 1)
		if err != nil || len(recs) != 1 {
			t.Fatal(recs, err)
		}
		h, err := historyOf(recs[0])
		if err != nil {
			t.Fatal(err)
		}
		if h.CorrelationID != c.want {
			t.Errorf("correlation id %s, want %s", h.CorrelationID, c.want)
		}
	}
	// An unusable request id is replaced.
	res := e.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "has spaces"}})
	if got := res.header.Get("X-Request-Id"); got == "" || got == "has spaces" {
		t.Errorf("X-Request-Id = %q", got)
	}
}

func requestIDNamespaceUUID(id string) string {
	return uuid.NewSHA1(requestIDNamespace, []byte(id)).String()
}
