package api

import (
	"net/http"
	"slices"
	"testing"

	"promiseledger/projections"
)

// TestLevelWordsAreTheLeagues: roadmap lists and figures take the level
// words the councils and the league take (republican, regional,
// district), and local as another name of regional; district selects the
// regional roadmaps of district-rank territories, not a region's own.
func TestLevelWordsAreTheLeagues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.world()
	regionRoadmap := e.created(req{method: "POST", path: "/v1/roadmaps", token: "admin", body: map[string]any{
		"program_id": w.programID, "territory_kato": w.region, "level": "regional", "title": text("Region roadmap"), "period": period}})
	e.catchUp()

	list := func(query string) []string {
		t.Helper()
		var p page[roadmapItem]
		e.must(http.StatusOK, req{method: "GET", path: "/v1/roadmaps?" + query}).decode(t, &p)
		return roadmapIDs(p)
	}
	for _, c := range []struct {
		level string
		want  []string
	}{
		{"republican", []string{w.republicRoadmap}},
		{"regional", []string{regionRoadmap, w.rm1, w.rm2}},
		{"local", []string{regionRoadmap, w.rm1, w.rm2}},
		{"district", []string{w.rm1, w.rm2}},
	} {
		if got := list("level=" + c.level); !slices.Equal(got, c.want) {
			t.Errorf("GET /v1/roadmaps?level=%s = %v, want %v", c.level, got, c.want)
		}
	}
	e.must(http.StatusBadRequest, req{method: "GET", path: "/v1/roadmaps?level=county"})

	figure := func(level string) projections.Figure {
		t.Helper()
		var out struct {
			Figures []projections.Figure `json:"figures"`
		}
		e.must(http.StatusOK, req{method: "GET", path: "/v1/figures?scope=level&method=share-done&id=" + level}).decode(t, &out)
		if len(out.Figures) != 1 {
			t.Fatalf("level %s: %d figures", level, len(out.Figures))
		}
		return out.Figures[0]
	}
	for _, c := range []struct {
		level, id string
		roadmaps  int
	}{
		{"regional", "regional", 3},
		{"local", "regional", 3}, // answered under the canonical word
		{"district", "district", 2},
	} {
		f := figure(c.level)
		if f.Roadmaps != c.roadmaps || f.Scope.ID != c.id || f.Measures != 2 {
			t.Errorf("figures of level %s: roadmaps %d, measures %d, scope id %q; want %d, 2, %q", c.level, f.Roadmaps, f.Measures, f.Scope.ID, c.roadmaps, c.id)
		}
	}
	// As of a date, the figures are folded from the events: the same words.
	var out struct {
		Figures []projections.Figure `json:"figures"`
	}
	e.must(http.StatusOK, req{method: "GET", path: "/v1/figures?scope=level&id=district&method=share-done&as_of=2030-01-01"}).decode(t, &out)
	if len(out.Figures) != 1 || out.Figures[0].Roadmaps != 2 {
		t.Errorf("district figures as of a date: %+v", out.Figures)
	}
}
