package councils_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"promiseledger/api/kernel/kerneltest"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore/postgres/pgtest"
)

// hostileJSON is the kernel's hostile text (kerneltest.HostileText) and a
// value of 1 MiB less room for the rest of the body, so it passes the 1 MiB
// body limit and reaches the field's rules.
var hostileJSON = append(slices.Clone(kerneltest.HostileText), struct{ Name, Literal string }{"about 1 MiB", `"` + strings.Repeat("a", 1<<20-8<<10) + `"`})

// rawDo sends a raw body as who.
func (e *env) rawDo(method, path, who string, body []byte) response {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+who)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	out := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &out.body)
	return out
}

// withField marshals body with the value at the dotted path (a "[0]"
// suffix names an array's first element) replaced by a raw JSON literal.
func withField(t *testing.T, body map[string]any, path, literal string) []byte {
	t.Helper()
	const mark = "@@hostile@@"
	var set func(v any, keys []string) any
	set = func(v any, keys []string) any {
		key, index, isIndex := strings.Cut(keys[0], "[")
		m := map[string]any{}
		if src, ok := v.(map[string]any); ok {
			for k, x := range src {
				m[k] = x
			}
		}
		if src, ok := v.(map[string]string); ok {
			for k, x := range src {
				m[k] = x
			}
		}
		if isIndex && index == "0]" {
			arr, _ := m[key].([]any)
			arr = append([]any(nil), arr...)
			if len(keys) == 1 {
				arr[0] = mark
			} else {
				arr[0] = set(arr[0], keys[1:])
			}
			m[key] = arr
			return m
		}
		if len(keys) == 1 {
			m[key] = mark
		} else {
			m[key] = set(m[key], keys[1:])
		}
		return m
	}
	raw, err := json.Marshal(set(body, strings.Split(path, ".")))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(raw, []byte(`"`+mark+`"`)) != 1 {
		t.Fatalf("no single mark in %s", raw)
	}
	return bytes.Replace(raw, []byte(`"`+mark+`"`), []byte(literal), 1)
}

// TestEveryTextFieldOfEveryCouncilWriteRefusesHostileText: every text
// field of every write body of the councils' routes, given NUL, control
// characters, invalid UTF-8, lone surrogate escapes, U+FFFD,
// bidirectional overrides or about 1 MiB, answers 422 naming the field
// and appends nothing.
func TestEveryTextFieldOfEveryCouncilWriteRefusesHostileText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.territories()
	ctx := context.Background()
	h := commands.Header{Actor: commands.Actor{ID: "admin-1", Role: "admin"}}
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	program, err := e.cmd.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: h, Name: domain.Text{KK: "a", RU: "a", EN: "a"}, Kind: domain.ProgramMain, Period: period})
	if err != nil {
		t.Fatal(err)
	}
	roadmap, err := e.cmd.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: h, ProgramID: program.ID, TerritoryKATO: "110000000",
		Level: domain.LevelRegional, Title: domain.Text{KK: "r", RU: "r", EN: "r"}, Period: period})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: h, RoadmapID: roadmap.ID, PersonID: "deputy-1",
		Role: domain.RoleDeputy, DisplayName: "Айгерим Сейткали"}); err != nil {
		t.Fatal(err)
	}
	ind, err := e.cmd.AddIndicator.Handle(ctx, commands.AddIndicator{Header: h, RoadmapID: roadmap.ID, Title: domain.Text{KK: "i", RU: "i", EN: "i"},
		Kind: domain.KindMilestone, Deadline: domain.NewDate(2021, 12, 31)})
	if err != nil {
		t.Fatal(err)
	}
	cid := e.expect(e.do("POST", "/v1/councils", admin, map[string]any{"territory_kato": "110000000", "level": "regional", "name": text("Council")}), 201).body["id"].(string)
	for _, m := range []string{"member-1", "member-2"} {
		e.expect(e.do("POST", "/v1/councils/"+cid+"/members", admin, map[string]any{"member_id": m, "role": "member", "display_name": "Дана К."}), 201)
	}
	e.catchUp()
	evidence := map[string]any{"url": "https://akmola.gov.kz/a.pdf", "description": "letter"}
	draft := map[string]any{"title": text("Food prices"), "proposal": text("Publish weekly prices"),
		"addressee": map[string]any{"id": "akimat-110000000", "name": text("Akmola akimat")}, "links": map[string]any{"topics": []any{"food_prices"}}}
	recDraft := e.expect(e.do("POST", "/v1/councils/"+cid+"/recommendations", "member-1/council", draft), 201).body["id"].(string)
	recSubmitted := e.expect(e.do("POST", "/v1/councils/"+cid+"/recommendations", "member-1/council", draft), 201).body["id"].(string)
	recAnswered := e.expect(e.do("POST", "/v1/councils/"+cid+"/recommendations", "member-1/council", draft), 201).body["id"].(string)
	aid := e.expect(e.do("POST", "/v1/councils/"+cid+"/assessments", "member-1/council", map[string]any{"indicator_id": ind.ID, "position": "disagree",
		"comment": "Nothing was done."}), 201).body["id"].(string)
	e.catchUp()
	for _, rec := range []string{recSubmitted, recAnswered} {
		e.expect(e.do("POST", "/v1/recommendations/"+rec+"/submit", "member-1/council", map[string]any{}), 200)
	}
	e.catchUp()
	answer := e.expect(e.do("POST", "/v1/recommendations/"+recAnswered+"/answer", admin, map[string]any{"decision": "accepted", "reply": "Yes.", "evidence": evidence}), 200)
	answerID := answer.body["event_ids"].([]any)[0].(string)
	e.expect(e.do("POST", "/v1/deputies", admin, map[string]any{"deputy_id": "deputy-1", "display_name": "Айгерим Сейткали",
		"assembly": map[string]any{"kind": "maslikhat", "territory_kato": "110000000", "level": "regional"}}), 201)
	e.catchUp()

	method := map[string]any{"method": "faction-rating", "title": text("Faction rating"), "summary": "Receptions.", "effective_from": "2021-01-01",
		"formula": map[string]any{"period": map[string]any{"kind": "quarter", "from": "2021-01-01"},
			"components": []any{map[string]any{"key": "receptions", "title": text("Receptions"), "source": "receptions_held", "weight": 1,
				"normalization": map[string]any{"kind": "ratio_to_target", "target": 10}}},
			"minimum": map[string]any{"faction_days": 1, "components": 1, "peers": 1}}}
	langs := func(field string) []string { return []string{field + ".kk", field + ".ru", field + ".en"} }
	cases := []struct {
		method, path, who string
		body              map[string]any
		fields            []string
	}{
		{"POST", "/v1/councils", admin, map[string]any{"territory_kato": "110000000", "level": "regional", "name": text("C")},
			append(langs("name"), "reason")},
		{"POST", "/v1/councils/" + cid + "/members", admin, map[string]any{"member_id": "member-3", "role": "member", "display_name": "Ерлан Б."},
			[]string{"member_id", "display_name", "reason"}},
		{"DELETE", "/v1/councils/" + cid + "/members/member-2", admin, map[string]any{}, []string{"reason"}},
		{"POST", "/v1/councils/" + cid + "/recommendations", "member-1/council", draft,
			append(append(append(langs("title"), langs("proposal")...), langs("addressee.name")...), "addressee.id", "links.topics[0]", "reason")},
		{"POST", "/v1/councils/" + cid + "/assessments", "member-1/council", map[string]any{"indicator_id": ind.ID, "position": "agree", "comment": "Done.", "evidence": evidence},
			[]string{"comment", "evidence.url", "evidence.description", "reason"}},
		{"POST", "/v1/recommendations/" + recDraft + "/submit", "member-1/council", map[string]any{}, []string{"reason"}},
		{"POST", "/v1/recommendations/" + recSubmitted + "/acknowledge", admin, map[string]any{"reference": "вх-1"}, []string{"reference", "reason"}},
		{"POST", "/v1/recommendations/" + recSubmitted + "/answer", admin, map[string]any{"decision": "accepted", "reply": "Yes.", "evidence": evidence},
			[]string{"reply", "evidence.url", "evidence.description", "reason"}},
		{"POST", "/v1/recommendations/" + recSubmitted + "/withdraw", "member-1/council", map[string]any{}, []string{"reason"}},
		{"POST", "/v1/recommendations/" + recSubmitted + "/dissents", "member-2/council", map[string]any{"opinion": "Weekly is not often enough."},
			[]string{"opinion", "reason"}},
		{"POST", "/v1/recommendations/" + recAnswered + "/answer/corrections", admin, map[string]any{"corrects": answerID, "decision": "rejected",
			"reply": "No.", "evidence": evidence, "reason": "misread"}, []string{"reply", "evidence.description", "reason"}},
		{"POST", "/v1/recommendations/" + recAnswered + "/judgement", "member-1/council", map[string]any{"verdict": "implemented", "comment": "ok", "evidence": evidence},
			[]string{"comment", "evidence.url", "evidence.description", "reason"}},
		{"POST", "/v1/assessments/" + aid + "/replies", "deputy-1/deputy", map[string]any{"reply": "Work starts in May.", "evidence": evidence},
			[]string{"reply", "evidence.url", "evidence.description", "reason"}},
		{"POST", "/v1/assessments/" + aid + "/withdraw", "member-1/council", map[string]any{}, []string{"reason"}},
		{"POST", "/v1/deputies", admin, map[string]any{"deputy_id": "deputy-2", "display_name": "Ерлан Беков",
			"assembly": map[string]any{"kind": "maslikhat", "territory_kato": "110000000", "level": "regional"}}, []string{"deputy_id", "display_name", "reason"}},
		{"POST", "/v1/deputies/deputy-1/faction", admin, map[string]any{"faction": "nur-otan"}, []string{"faction", "reason"}},
		{"POST", "/v1/rating-methods", admin, method, append(append(langs("title"), "summary", "method", "reason"), langs("formula.components[0].title")...)},
	}
	for _, c := range cases {
		for _, field := range c.fields {
			for _, hj := range hostileJSON {
				before := pgtest.Head(t, e.store)
				res := e.rawDo(c.method, c.path, c.who, withField(t, c.body, field, hj.Literal))
				if res.status != 422 || !strings.Contains(res.raw, `"field":"`+field+`"`) {
					t.Errorf("%s %s with %s = %s: got %d, want 422 naming %s: %.300s", c.method, c.path, field, hj.Name, res.status, field, res.raw)
				}
				if len(res.raw) > 64<<10 {
					t.Errorf("%s %s with %s = %s: the answer echoes the text (%d bytes)", c.method, c.path, field, hj.Name, len(res.raw))
				}
				if after := pgtest.Head(t, e.store); after != before {
					t.Errorf("%s %s with %s = %s appended: head %v → %v", c.method, c.path, field, hj.Name, before, after)
				}
			}
		}
	}
}
