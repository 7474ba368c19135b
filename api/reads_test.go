package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"promiseledger/eventstore"
	"promiseledger/projections"
)

type roadmapItem struct {
	ID            string `json:"id"`
	TerritoryKATO string `json:"territory_kato"`
	Status        string `json:"status"`
	Responsibles  []struct {
		PersonID string `json:"person_id"`
	} `json:"responsibles"`
	Version  int64 `json:"version"`
	Measures int   `json:"measures"`
	Done     int   `json:"done"`
}

type indicatorItem struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Overdue  bool   `json:"overdue"`
	Deadline string `json:"deadline"`
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = id(x)
	}
	return out
}

func roadmapIDs(p page[roadmapItem]) []string {
	return ids(p.Items, func(r roadmapItem) string { return r.ID })
}

func indicatorIDs(p page[indicatorItem]) []string {
	return ids(p.Items, func(i indicatorItem) string { return i.ID })
}

// readsWorld is the world with reports: the numeric indicator in progress
// (a report, then a correction), the milestone done, a third indicator
// without reports; today is 2022-01-15, so the numeric one is overdue.
func readsWorld(e *env) (world, string, string) {
	e.t.Helper()
	w := e.world()
	var rep writeResult
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/reports", token: "officer",
		body: map[string]any{"value": 40, "evidence": evidence}}).decode(e.t, &rep)
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/corrections", token: "officer",
		body: map[string]any{"corrects": rep.ReportID, "value": 42, "evidence": evidence, "reason": "misread"}})
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.milestone + "/reports", token: "admin",
		body: map[string]any{"done": true, "evidence": evidence}})
	bare := e.created(req{method: "POST", path: "/v1/roadmaps/" + w.rm1 + "/indicators", token: "officer",
		body: map[string]any{"title": text("Park"), "kind": "milestone", "deadline": "2023-01-01", "responsible_id": "official-9"}})
	e.catchUp()
	e.clock.set(time.Date(2022, 1, 15, 12, 0, 0, 0, time.UTC))
	return w, rep.ReportID, bare
}

func TestReadRoadmaps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w, _, bare := readsWorld(e)

	list := func(query string) page[roadmapItem] {
		t.Helper()
		var p page[roadmapItem]
		e.must(http.StatusOK, req{method: "GET", path: "/v1/roadmaps" + query}).decode(t, &p)
		return p
	}
	all := []string{w.republicRoadmap, w.rm1, w.rm2} // by territory code: 0, 111…, 112…
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", all},
		{"?within=110000000", []string{w.rm1, w.rm2}},
		{"?within=0", all},
		{"?territory=111000000", []string{w.rm1}},
		{"?territory=110000000", nil},
		{"?level=republican", []string{w.republicRoadmap}},
		{"?status=active", []string{w.rm1}},
		{"?program=" + w.programID + "&level=regional", []string{w.rm1, w.rm2}},
		{"?program=0190a6a4-5e2b-7c3d-8e4f-000000000000", nil},
	} {
		if got := roadmapIDs(list(c.query)); !slices.Equal(got, c.want) && (len(got) > 0 || len(c.want) > 0) {
			t.Errorf("GET /v1/roadmaps%s = %v, want %v", c.query, got, c.want)
		}
	}
	// Paging: follow next_cursor, and the Link header says the same.
	var got []string
	query := "?limit=2"
	for range 5 {
		res := e.must(http.StatusOK, req{method: "GET", path: "/v1/roadmaps" + query})
		var p page[roadmapItem]
		res.decode(t, &p)
		got = append(got, roadmapIDs(p)...)
		if p.NextCursor == nil {
			if res.header.Get("Link") != "" {
				t.Error("Link on the last page")
			}
			break
		}
		if link := res.header.Get("Link"); !strings.Contains(link, "cursor="+url.QueryEscape(*p.NextCursor)) || !strings.Contains(link, "limit=2") {
			t.Errorf("Link = %s", link)
		}
		query = "?limit=2&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if !slices.Equal(got, all) {
		t.Errorf("pages gave %v, want %v", got, all)
	}
	// Counts per roadmap.
	for _, r := range list("").Items {
		if r.ID == w.rm1 && (r.Measures != 2 || r.Done != 0 || len(r.Responsibles) != 1 || r.Responsibles[0].PersonID != "official-9") {
			t.Errorf("rm1 = %+v", r)
		}
		if r.ID == w.rm2 && (r.Measures != 1 || r.Done != 1) {
			t.Errorf("rm2 = %+v", r)
		}
	}

	// Bad parameters are a 400 naming them.
	var indicatorsCursor string
	{
		var p page[indicatorItem]
		e.must(http.StatusOK, req{method: "GET", path: "/v1/indicators?limit=1"}).decode(t, &p)
		indicatorsCursor = *p.NextCursor
	}
	for _, c := range []struct{ query, ptype, field string }{
		{"?limit=501", ptBadRequest, "limit"},
		{"?limit=0", ptBadRequest, "limit"},
		{"?limit=many", ptBadRequest, "limit"},
		{"?level=national", ptBadRequest, "level"},
		{"?status=open", ptBadRequest, "status"},
		{"?territory=11", ptBadRequest, "territory"},
		{"?program=abc", ptBadRequest, "program"},
		{"?cursor=not-a-cursor", ptInvalidCursor, ""},
		{"?cursor=" + indicatorsCursor, ptInvalidCursor, ""},
	} {
		res := e.must(http.StatusBadRequest, req{method: "GET", path: "/v1/roadmaps" + c.query})
		var p problem
		res.decode(t, &p)
		if res.problemType() != c.ptype || (c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field)) {
			t.Errorf("%s: %s", c.query, res.body)
		}
	}
	if p := list("?limit=500"); len(p.Items) != 3 {
		t.Errorf("limit=500 gave %d", len(p.Items))
	}

	// One roadmap, with its indicators, figures and territory chain.
	res := e.must(http.StatusOK, req{method: "GET", path: "/v1/roadmaps/" + w.rm1})
	var d struct {
		Roadmap    roadmapItem     `json:"roadmap"`
		Indicators []indicatorItem `json:"indicators"`
		Figures    []projections.Figure
		Chain      []struct {
			Territory projections.TerritoryInfo `json:"territory"`
			Figures   []projections.Figure      `json:"figures"`
		} `json:"territory_chain"`
	}
	res.decode(t, &d)
	if d.Roadmap.ID != w.rm1 || res.header.Get("ETag") != `"3"` || d.Roadmap.Version != 3 {
		t.Errorf("roadmap %+v, ETag %s", d.Roadmap, res.header.Get("ETag"))
	}
	if got := ids(d.Indicators, func(i indicatorItem) string { return i.ID }); !slices.Equal(got, []string{w.numeric, bare}) {
		t.Errorf("indicators %v", got)
	}
	if !d.Indicators[0].Overdue || d.Indicators[1].Overdue {
		t.Errorf("overdue flags: %+v", d.Indicators)
	}
	if len(d.Figures) != 2 || d.Figures[0].Method != "share-done" || d.Figures[0].Measures != 2 {
		t.Errorf("figures %+v", d.Figures)
	}
	chain := ids(d.Chain, func(c struct {
		Territory projections.TerritoryInfo `json:"territory"`
		Figures   []projections.Figure      `json:"figures"`
	}) string {
		return c.Territory.KATO
	})
	if !slices.Equal(chain, []string{w.north, w.region, w.republic}) {
		t.Fatalf("chain %v", chain)
	}
	// The district's share beside its region's and the republic's.
	wantMeasures := []int{2, 3, 3}
	wantDone := []int{0, 1, 1}
	for i, c := range d.Chain {
		f := c.Figures[0]
		if f.Measures != wantMeasures[i] || f.Done != wantDone[i] || f.Scope.ProgramID != w.programID {
			t.Errorf("chain %s: %+v", c.Territory.KATO, f)
		}
	}
	e.must(http.StatusNotFound, req{method: "GET", path: "/v1/roadmaps/0190a6a4-5e2b-7c3d-8e4f-000000000000"})
	e.must(http.StatusNotFound, req{method: "GET", path: "/v1/roadmaps/not-an-id"})

	// Territories and programs.
	var ts items[projections.TerritoryInfo]
	e.must(http.StatusOK, req{method: "GET", path: "/v1/territories"}).decode(t, &ts)
	if len(ts.Items) != 4 || ts.Items[0].KATO != "0" || ts.Items[0].ParentKATO != "" {
		t.Errorf("territories %+v", ts.Items)
	}
	e.must(http.StatusOK, req{method: "GET", path: "/v1/territories?parent=110000000"}).decode(t, &ts)
	if got := ids(ts.Items, func(t projections.TerritoryInfo) string { return t.KATO }); !slices.Equal(got, []string{w.north, w.south}) {
		t.Errorf("children %v", got)
	}
	e.must(http.StatusBadRequest, req{method: "GET", path: "/v1/territories?parent=region"})
	var ps items[projections.ProgramInfo]
	e.must(http.StatusOK, req{method: "GET", path: "/v1/programs"}).decode(t, &ps)
	if len(ps.Items) != 1 || ps.Items[0].ID != w.programID || ps.Items[0].Period.Start.String() != "2021-01-01" {
		t.Errorf("programs %+v", ps.Items)
	}
	var ms methodsResponse
	e.must(http.StatusOK, req{method: "GET", path: "/v1/methods"}).decode(t, &ms)
	if len(ms.Methods) != len(projections.Methods) {
		t.Errorf("methods %+v", ms)
	}
}

func TestReadIndicators(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w, report, bare := readsWorld(e)

	list := func(query string) []string {
		t.Helper()
		var p page[indicatorItem]
		e.must(http.StatusOK, req{method: "GET", path: "/v1/indicators" + query}).decode(t, &p)
		return indicatorIDs(p)
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{w.numeric, w.milestone, bare}}, // by deadline
		{"?roadmap=" + w.rm1, []string{w.numeric, bare}},
		{"?status=done", []string{w.milestone}},
		{"?status=in_progress", []string{w.numeric}},
		{"?overdue=true", []string{w.numeric}},
		{"?overdue=false", []string{w.milestone, bare}},
		{"?no_evidence=true", []string{bare}},
		{"?no_evidence=false", []string{w.numeric, w.milestone, bare}},
		{"?responsible=official-9", []string{bare}},
		{"?roadmap_responsible=official-9", []string{w.numeric, bare}},
		{"?roadmap_responsible=official-9&overdue=true", []string{w.numeric}},
		{"?roadmap_responsible=nobody", []string{}},
	} {
		if got := list(c.query); !slices.Equal(got, c.want) {
			t.Errorf("GET /v1/indicators%s = %v, want %v", c.query, got, c.want)
		}
	}
	var got []string
	cursor := ""
	for range 5 {
		var p page[indicatorItem]
		e.must(http.StatusOK, req{method: "GET", path: "/v1/indicators?limit=1&cursor=" + url.QueryEscape(cursor)}).decode(t, &p)
		got = append(got, indicatorIDs(p)...)
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if !slices.Equal(got, []string{w.numeric, w.milestone, bare}) {
		t.Errorf("pages %v", got)
	}
	for _, q := range []string{"?overdue=maybe", "?status=late", "?roadmap=x", "?no_evidence=1x", "?limit=1000"} {
		e.must(http.StatusBadRequest, req{method: "GET", path: "/v1/indicators" + q})
	}

	// One indicator: reports with their corrections linked both ways.
	res := e.must(http.StatusOK, req{method: "GET", path: "/v1/indicators/" + w.numeric})
	var d projections.IndicatorDetail
	res.decode(t, &d)
	if res.header.Get("ETag") != `"3"` || d.Version != 3 || !d.Overdue || d.Status != "in_progress" ||
		d.ReportCount != 1 || d.CorrectionCount != 1 || !d.HasEvidence {
		t.Errorf("indicator %+v (ETag %s)", d.IndicatorSummary, res.header.Get("ETag"))
	}
	if d.LatestValue == nil || *d.LatestValue != 42 || d.Completion != 0.42 {
		t.Errorf("latest %v, completion %v", d.LatestValue, d.Completion)
	}
	if len(d.Reports) != 2 || d.Reports[0].ID != report || d.Reports[0].CorrectedBy != d.Reports[1].ID ||
		d.Reports[1].Corrects != report || d.Reports[1].Reason != "misread" || d.Reports[0].ActorID != "official-9" {
		t.Errorf("reports %+v", d.Reports)
	}
	// Overdue follows the clock.
	e.clock.set(time.Date(2021, 12, 31, 17, 0, 0, 0, time.UTC)) // 22:00 or 23:00 in Almaty (UTC+5 now, +6 in 2021): still the deadline day
	e.must(http.StatusOK, req{method: "GET", path: "/v1/indicators/" + w.numeric}).decode(t, &d)
	if d.Overdue {
		t.Error("overdue on the deadline day")
	}
	e.clock.set(time.Date(2021, 12, 31, 20, 0, 0, 0, time.UTC)) // 01:00 or 02:00 on Jan 1 in Almaty
	e.must(http.StatusOK, req{method: "GET", path: "/v1/indicators/" + w.numeric}).decode(t, &d)
	if !d.Overdue {
		t.Error("not overdue the day after the deadline in Kazakhstan")
	}
	e.must(http.StatusNotFound, req{method: "GET", path: "/v1/indicators/0190a6a4-5e2b-7c3d-8e4f-000000000000"})
	e.must(http.StatusNotFound, req{method: "GET", path: "/v1/indicators/42"})
}

func TestHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w, report, _ := readsWorld(e)

	var h historyResponse
	e.must(http.StatusOK, req{method: "GET", path: "/v1/roadmaps/" + w.rm1 + "/history"}).decode(t, &h)
	var types []string
	var prev eventstore.Position
	for i, ev := range h.Items {
		types = append(types, ev.Type)
		pos, err := eventstore.ParsePosition(ev.Position)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && !prev.Less(pos) {
			t.Errorf("event %d at %s is not after %s", i, pos, prev)
		}
		prev = pos
		if ev.ActorID == "" || ev.RecordedAt.IsZero() || ev.EffectiveAt.IsZero() || len(ev.Data) == 0 {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
	want := []string{"roadmap.registered.v1", "roadmap.activated.v1", "roadmap.responsible_assigned.v1", "indicator.added.v1",
		"indicator.progress_reported.v1", "indicator.report_corrected.v1", "indicator.added.v1"}
	if !slices.Equal(types, want) {
		t.Errorf("types %v\nwant  %v", types, want)
	}
	for _, ev := range h.Items {
		switch ev.Type {
		case "indicator.progress_reported.v1":
			if ev.ReportID != report || ev.ActorRole != "officer" {
				t.Errorf("report %+v", ev)
			}
		case "indicator.report_corrected.v1":
			if ev.Corrects != report || ev.Reason != "misread" || ev.ReportID == "" || !strings.Contains(string(ev.Data), `"corrects":"`+report) {
				t.Errorf("correction %+v", ev)
			}
		}
	}
	e.must(http.StatusOK, req{method: "GET", path: "/v1/indicators/" + w.milestone + "/history"}).decode(t, &h)
	if len(h.Items) != 2 || h.Items[0].Stream != "indicator-"+w.milestone {
		t.Errorf("milestone history %+v", h.Items)
	}
	for _, p := range []string{"/v1/roadmaps/0190a6a4-5e2b-7c3d-8e4f-000000000000/history", "/v1/roadmaps/x/history",
		"/v1/indicators/0190a6a4-5e2b-7c3d-8e4f-000000000000/history", "/v1/indicators/x/history"} {
		e.must(http.StatusNotFound, req{method: "GET", path: p})
	}
}
