package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"promiseledger/domain"
	"promiseledger/projections"
)

// TestFiguresOnBothAxes: a report on June 1 says the numeric measure is
// done (100 of 100); a correction recorded on July 1 says it was 50. As it
// stood on June 30 (known today) the measure is half done; as the ledger
// reported it on June 15, it was done.
func TestFiguresOnBothAxes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.world()
	e.clock.set(time.Date(2021, 6, 2, 10, 0, 0, 0, time.UTC))
	var rep writeResult
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/reports", token: "officer",
		body: map[string]any{"value": 100, "evidence": evidence, "as_of": "2021-06-01T12:00:00Z"}}).decode(t, &rep)
	e.clock.set(time.Date(2021, 7, 1, 10, 0, 0, 0, time.UTC))
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/corrections", token: "officer",
		body: map[string]any{"corrects": rep.ReportID, "value": 50, "evidence": evidence, "reason": "the protocol counted planned roads"}})
	e.catchUp()

	figures := func(query string) map[string]projections.Figure {
		t.Helper()
		var out figuresResponse
		e.must(http.StatusOK, req{method: "GET", path: "/v1/figures?" + query}).decode(t, &out)
		m := map[string]projections.Figure{}
		for _, f := range out.Figures {
			m[f.Method] = f
		}
		return m
	}
	pct := func(f projections.Figure) float64 {
		if f.Percent == nil {
			return -1
		}
		return *f.Percent
	}
	rm1 := "scope=roadmap&id=" + w.rm1
	for _, c := range []struct {
		name, query     string
		share, weighted float64
		done            int
	}{
		{"now", rm1, 0, 50, 0},
		{"as of June 30, known now: the correction counts", rm1 + "&as_of=2021-06-30", 0, 50, 0},
		{"as of June 30, known on June 15: it does not", rm1 + "&as_of=2021-06-30&known_at=2021-06-15", 100, 100, 1},
		{"known on June 15", rm1 + "&known_at=2021-06-15", 100, 100, 1},
		{"known on July 1 (end of day)", rm1 + "&known_at=2021-07-01", 0, 50, 0},
		{"known just before the correction", rm1 + "&known_at=2021-07-01T09:59:59Z", 100, 100, 1},
		{"as of May 31: no report yet", rm1 + "&as_of=2021-05-31", 0, 0, 0},
		{"as of a second before the report", rm1 + "&as_of=2021-06-01T11:59:59Z", 0, 0, 0},
		{"as of the report's moment", rm1 + "&as_of=2021-06-01T17:00:00%2B05:00", 0, 50, 0},
	} {
		f := figures(c.query)
		share, weighted := f["share-done"], f["weighted-progress"]
		if pct(share) != c.share || pct(weighted) != c.weighted || share.Done != c.done || share.Measures != 1 {
			t.Errorf("%s: share-done %v%% (done %d of %d), weighted %v%%; want %v%%, %v%%", c.name,
				pct(share), share.Done, share.Measures, pct(weighted), c.share, c.weighted)
		}
	}
	f := figures(rm1 + "&as_of=2021-06-30&known_at=2021-06-15")["share-done"]
	if f.AsOf == nil || !f.AsOf.Time().Equal(projections.EndOfDay(mustDate(t, "2021-06-30"))) || f.KnownAt == nil || f.Scope.ID != w.rm1 {
		t.Errorf("axes echoed: %+v", f)
	}

	// Other scopes, and one method only.
	if got := figures("scope=territory&id=" + w.region); got["share-done"].Measures != 2 || got["share-done"].Roadmaps != 2 {
		t.Errorf("region: %+v", got["share-done"])
	}
	if got := figures("scope=level&id=republican"); got["share-done"].Measures != 0 || got["share-done"].Percent != nil {
		t.Errorf("republican level: %+v", got["share-done"])
	}
	// numeric: weight 2 × completion 0.5; milestone: weight 1 × 0: 1 of 3.
	if got := figures("scope=program&id=" + w.programID + "&method=weighted-progress"); len(got) != 1 || pct(got["weighted-progress"]) != 33.33 {
		t.Errorf("program, weighted only: %+v", got)
	}
	if got := figures(""); got["share-done"].Measures != 2 || got["share-done"].Scope.Kind != "all" {
		t.Errorf("all: %+v", got)
	}
	for _, q := range []string{"scope=nation", "scope=roadmap", "scope=level&id=county", "scope=territory&id=abc", "scope=roadmap&id=nope",
		"as_of=yesterday", "known_at=2021-02-30", "method=median", "program=x"} {
		e.must(http.StatusBadRequest, req{method: "GET", path: "/v1/figures?" + q})
	}
	for _, q := range []string{"scope=territory&id=999999999", "scope=roadmap&id=0190a6a4-5e2b-7c3d-8e4f-000000000000",
		"scope=program&id=0190a6a4-5e2b-7c3d-8e4f-000000000000"} {
		if res := e.must(http.StatusNotFound, req{method: "GET", path: "/v1/figures?" + q}); res.problemType() != ptUnknownScope {
			t.Errorf("%s: %s", q, res)
		}
	}

	// The daily series shows the same two stories, in compact rows.
	type day struct {
		date string
		done int
	}
	series := func(query string) []day {
		t.Helper()
		var out struct {
			Scope   projections.Scope `json:"scope"`
			Columns []string          `json:"columns"`
			Rows    [][]any           `json:"rows"`
		}
		e.must(http.StatusOK, req{method: "GET", path: "/v1/figures/series?" + rm1 + "&method=share-done&" + query}).decode(t, &out)
		want := []string{"date", "measures", "done", "cancelled", "share-done.numerator", "share-done.denominator", "share-done.percent"}
		if strings.Join(out.Columns, ",") != strings.Join(want, ",") || out.Scope.ID != w.rm1 {
			t.Fatalf("series columns %v scope %+v, want %v", out.Columns, out.Scope, want)
		}
		var days []day
		for _, r := range out.Rows {
			if len(r) != len(want) {
				t.Fatalf("row %v: %d values, want %d", r, len(r), len(want))
			}
			days = append(days, day{date: r[0].(string), done: int(r[2].(float64))})
		}
		return days
	}
	now := series("from=2021-05-31&to=2021-06-02")
	known := series("from=2021-05-31&to=2021-06-02&known_at=2021-06-15")
	if len(now) != 3 || len(known) != 3 || now[0].date != "2021-05-31" || now[2].date != "2021-06-02" {
		t.Fatalf("series %+v / %+v", now, known)
	}
	for i, want := range []struct{ now, known int }{{0, 0}, {0, 1}, {0, 1}} {
		if now[i].done != want.now || known[i].done != want.known {
			t.Errorf("%s: done now %d, known then %d; want %d, %d", now[i].date, now[i].done, known[i].done, want.now, want.known)
		}
	}
	// As CSV: the provenance line, the columns, one line per day.
	res := e.must(http.StatusOK, req{method: "GET", path: "/v1/figures/series?" + rm1 + "&from=2021-05-31&to=2021-06-02&known_at=2021-06-15&format=csv"})
	lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "# provenance basis=live ") || !strings.Contains(lines[0], "known_at=2021-06-15 ") ||
		!strings.Contains(lines[0], "methods=share-done/1,weighted-progress/1") ||
		lines[1] != "date,measures,done,cancelled,share-done.numerator,share-done.denominator,share-done.percent,weighted-progress.numerator,weighted-progress.denominator,weighted-progress.percent" ||
		lines[3] != "2021-06-01,1,1,0,1,1,100,2,2,100" || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
		t.Errorf("series as CSV:\n%s", res.body)
	}
	for _, q := range []string{"from=2021-06-02&to=2021-06-01", "to=2021-06-01", "from=2021-06-01", "from=2000-01-01&to=2021-01-01", "from=2021-06-01&to=tomorrow"} {
		e.must(http.StatusBadRequest, req{method: "GET", path: "/v1/figures/series?" + rm1 + "&" + q})
	}
}

func mustDate(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
