package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"promiseledger/api/kernel/kerneltest"
)

// hostileJSON is the kernel's hostile text (kerneltest.HostileText) and a
// value of 1 MiB, over the body limit with the rest of the body.
var hostileJSON = append(slices.Clone(kerneltest.HostileText), struct{ Name, Literal string }{"1 MiB", `"` + strings.Repeat("a", 1<<20) + `"`})

// withField returns body (marshalled) with the value at the dotted path
// replaced by a raw JSON literal.
func withField(t *testing.T, body map[string]any, path, literal string) []byte {
	t.Helper()
	const mark = "\"@@hostile@@\""
	var set func(m map[string]any, keys []string) map[string]any
	set = func(m map[string]any, keys []string) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		if len(keys) == 1 {
			out[keys[0]] = "@@hostile@@"
			return out
		}
		inner, _ := out[keys[0]].(map[string]any)
		if inner == nil {
			if texts, ok := out[keys[0]].(map[string]string); ok {
				inner = map[string]any{}
				for k, v := range texts {
					inner[k] = v
				}
			} else {
				inner = map[string]any{}
			}
		}
		out[keys[0]] = set(inner, keys[1:])
		return out
	}
	raw, err := json.Marshal(set(body, strings.Split(path, ".")))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(raw, []byte(mark)) != 1 {
		t.Fatalf("no single mark in %s", raw)
	}
	return bytes.Replace(raw, []byte(mark), []byte(literal), 1)
}

// TestEveryTextFieldOfEveryWriteRefusesHostileText: every text field of
// every write body, given NUL, control characters, invalid UTF-8, lone
// surrogate escapes, U+FFFD, bidirectional overrides or 1 MiB, answers 422
// naming the field and appends nothing.
func TestEveryTextFieldOfEveryWriteRefusesHostileText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 2 << 20 }) // room for a 1 MiB string
	w := e.world()
	var rep writeResult
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/reports", token: "admin",
		body: map[string]any{"value": 10, "evidence": evidence}}).decode(t, &rep)
	e.catchUp()

	cases := []struct {
		method, path string
		body         map[string]any
		fields       []string
	}{
		{"POST", "/v1/programs", map[string]any{"name": text("P"), "kind": "main", "period": period},
			[]string{"name.kk", "name.ru", "name.en", "reason"}},
		{"POST", "/v1/territories", map[string]any{"kato": "113000000", "name": text("T"), "kind": "district", "parent_kato": w.region},
			[]string{"name.kk", "name.ru", "name.en"}},
		{"POST", "/v1/roadmaps", map[string]any{"program_id": w.programID, "territory_kato": w.region, "level": "regional", "title": text("R"), "period": period},
			[]string{"title.kk", "title.ru", "title.en", "reason"}},
		{"POST", "/v1/roadmaps/" + w.rm2 + "/activate", map[string]any{}, []string{"reason"}},
		{"POST", "/v1/roadmaps/" + w.rm2 + "/close", map[string]any{}, []string{"reason"}},
		{"POST", "/v1/roadmaps/" + w.rm1 + "/responsibles", map[string]any{"person_id": "official-12", "role": "official", "display_name": "B. Official"},
			[]string{"person_id", "display_name", "reason"}},
		{"DELETE", "/v1/roadmaps/" + w.rm1 + "/responsibles/official-9", map[string]any{}, []string{"reason"}},
		{"POST", "/v1/roadmaps/" + w.rm1 + "/indicators", map[string]any{"title": text("I"), "kind": "numeric", "baseline": 0, "target": 5,
			"unit": text("km"), "deadline": "2021-12-31", "responsible_id": "official-9"},
			[]string{"title.kk", "title.ru", "title.en", "unit.kk", "unit.ru", "unit.en", "responsible_id", "reason"}},
		{"POST", "/v1/indicators/" + w.numeric + "/reports", map[string]any{"value": 20, "evidence": map[string]any{"url": "https://akmola.gov.kz/a.pdf", "description": "act"}},
			[]string{"evidence.url", "evidence.description", "reason"}},
		{"POST", "/v1/indicators/" + w.numeric + "/corrections", map[string]any{"corrects": rep.ReportID, "value": 11, "reason": "typo",
			"evidence": map[string]any{"url": "https://akmola.gov.kz/a.pdf", "description": "act"}},
			[]string{"evidence.url", "evidence.description", "reason"}},
		{"POST", "/v1/indicators/" + w.numeric + "/retarget", map[string]any{"target": 150, "reason": "x"}, []string{"reason"}},
		{"POST", "/v1/indicators/" + w.numeric + "/status", map[string]any{"status": "not_started"}, []string{"reason"}},
		{"POST", "/v1/indicators/" + w.numeric + "/cancel", map[string]any{}, []string{"reason"}},
		{"POST", "/v1/indicators/" + w.numeric + "/responsible", map[string]any{"person_id": "official-11"}, []string{"person_id", "reason"}},
	}
	for _, c := range cases {
		for _, field := range c.fields {
			for _, h := range hostileJSON {
				body := withField(t, c.body, field, h.Literal)
				e.appendsNothing(c.method+" "+c.path+" "+field+" "+h.Name, func() {
					res := e.do(req{method: c.method, path: c.path, token: "admin", body: body})
					var p problem
					res.decode(t, &p)
					if res.status != http.StatusUnprocessableEntity || !slices.ContainsFunc(p.Errors, func(f fieldProblem) bool { return f.Field == field }) {
						t.Errorf("%s %s with %s = %s: got %d %v, want 422 naming %s", c.method, c.path, field, h.Name, res.status, p.Errors, field)
					}
					if len(res.body) > 64<<10 {
						t.Errorf("%s %s with %s = %s: the answer echoes the text (%d bytes)", c.method, c.path, field, h.Name, len(res.body))
					}
				})
			}
		}
	}
}
