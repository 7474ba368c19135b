package projections_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// The queries are tested on the worked-example fixture (fixture_test.go):
// a republican roadmap with A (done), B (in progress, corrected), C
// (cancelled) and D (in progress, re-targeted), and a district's roadmap
// with E (not started), every deadline 2021-12-31.

func roadmapIDsOf(p projections.RoadmapPage) []string {
	out := []string{}
	for _, r := range p.Items {
		out = append(out, r.ID)
	}
	return out
}

func indicatorIDsOf(p projections.IndicatorPage) []string {
	out := []string{}
	for _, i := range p.Items {
		out = append(out, i.ID)
	}
	return out
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestQueryRoadmaps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.load()
	ctx := context.Background()
	e.at("2021-05-02")
	r, err := e.cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: admin(""), RoadmapID: fx.regional,
		PersonID: "official-9", Role: domain.RoleOfficial, DisplayName: "A. Official"})
	must(t, r, err)
	r, err = e.cmd.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: admin(""), RoadmapID: fx.regional})
	must(t, r, err)
	e.catchUp(4)

	list := func(f projections.RoadmapFilter) projections.RoadmapPage {
		t.Helper()
		p, err := projections.ListRoadmaps(ctx, e.db, f)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	both := []string{fx.republican, fx.regional} // by territory code: 0, 113200000
	for _, c := range []struct {
		name string
		f    projections.RoadmapFilter
		want []string
	}{
		{"all", projections.RoadmapFilter{}, both},
		{"regional", projections.RoadmapFilter{Level: "regional"}, []string{fx.regional}},
		{"republican", projections.RoadmapFilter{Level: "republican"}, []string{fx.republican}},
		{"within the region", projections.RoadmapFilter{WithinKATO: regionKATO}, []string{fx.regional}},
		{"within the republic", projections.RoadmapFilter{WithinKATO: republicKATO}, both},
		{"the region exactly", projections.RoadmapFilter{TerritoryKATO: regionKATO}, []string{}},
		{"the district exactly", projections.RoadmapFilter{TerritoryKATO: districtKATO}, []string{fx.regional}},
		{"active", projections.RoadmapFilter{Status: "active"}, []string{fx.regional}},
		{"registered", projections.RoadmapFilter{Status: "registered"}, []string{fx.republican}},
		{"the program", projections.RoadmapFilter{ProgramID: fx.program}, both},
		{"another program", projections.RoadmapFilter{ProgramID: "0190a6a4-5e2b-7c3d-8e4f-000000000000"}, []string{}},
		{"an unknown territory", projections.RoadmapFilter{WithinKATO: "999999999"}, []string{}},
	} {
		if got := roadmapIDsOf(list(c.f)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}

	// Keyset paging.
	p1 := list(projections.RoadmapFilter{Limit: 1})
	if got := roadmapIDsOf(p1); !slices.Equal(got, both[:1]) || p1.NextCursor == "" {
		t.Fatalf("page 1: %v, cursor %q", got, p1.NextCursor)
	}
	p2 := list(projections.RoadmapFilter{Limit: 1, Cursor: p1.NextCursor})
	if got := roadmapIDsOf(p2); !slices.Equal(got, both[1:]) || p2.NextCursor != "" {
		t.Fatalf("page 2: %v, cursor %q", got, p2.NextCursor)
	}
	if p := list(projections.RoadmapFilter{Limit: 2}); p.NextCursor != "" {
		t.Errorf("a full last page has a cursor: %q", p.NextCursor)
	}
	ip, err := projections.ListIndicators(ctx, e.db, projections.IndicatorFilter{Today: domain.NewDate(2021, 6, 1), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"garbage!", "e30", ip.NextCursor} {
		if _, err := projections.ListRoadmaps(ctx, e.db, projections.RoadmapFilter{Cursor: bad}); !errors.Is(err, projections.ErrInvalidCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}

	// One roadmap, with its counts and responsibles.
	rep, err := projections.GetRoadmap(ctx, e.db, fx.republican)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Measures != 3 || rep.Done != 1 || rep.Cancelled != 1 || rep.Level != domain.LevelRepublican ||
		rep.Period.End != domain.NewDate(2025, 12, 31) || rep.Title.EN != "Republican roadmap" || len(rep.Responsibles) != 0 || rep.Version != 1 {
		t.Errorf("republican roadmap %+v", rep)
	}
	reg, err := projections.GetRoadmap(ctx, e.db, fx.regional)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Measures != 1 || reg.Done != 0 || reg.Status != domain.RoadmapStatusActive || reg.Version != 3 ||
		len(reg.Responsibles) != 1 || reg.Responsibles[0].PersonID != "official-9" {
		t.Errorf("regional roadmap %+v", reg)
	}
	if _, err := projections.GetRoadmap(ctx, e.db, "0190a6a4-5e2b-7c3d-8e4f-000000000000"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown roadmap: %v", err)
	}

	// The queries read the active generation: a rebuild changes nothing.
	before := list(projections.RoadmapFilter{})
	for _, p := range projections.All() {
		if _, err := projections.Rebuild(ctx, e.db, e.store, p); err != nil {
			t.Fatal(err)
		}
	}
	after := list(projections.RoadmapFilter{})
	if len(after.Items) != len(before.Items) {
		t.Fatalf("after a rebuild: %d roadmaps, before %d", len(after.Items), len(before.Items))
	}
	for i := range before.Items {
		b, a := before.Items[i], after.Items[i]
		if b.ID != a.ID || b.Measures != a.Measures || b.Done != a.Done || b.Version != a.Version || len(a.Responsibles) != len(b.Responsibles) {
			t.Errorf("after a rebuild: %+v, before %+v", a, b)
		}
	}
}

func TestQueryIndicators(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.load()
	ctx := context.Background()
	e.at("2021-05-02")
	r, err := e.cmd.AssignIndicatorResponsible.Handle(ctx, commands.AssignIndicatorResponsible{Header: admin(""), IndicatorID: fx.d, PersonID: "official-9"})
	must(t, r, err)
	r, err = e.cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: admin(""), RoadmapID: fx.regional,
		PersonID: "official-9", Role: domain.RoleOfficial, DisplayName: "A. Official"})
	must(t, r, err)
	e.catchUp(5)

	after := domain.NewDate(2022, 1, 15) // every deadline has passed
	list := func(f projections.IndicatorFilter) projections.IndicatorPage {
		t.Helper()
		if f.Today.IsZero() {
			f.Today = after
		}
		p, err := projections.ListIndicators(ctx, e.db, f)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	yes, no := true, false
	for _, c := range []struct {
		name string
		f    projections.IndicatorFilter
		want []string
	}{
		{"all", projections.IndicatorFilter{}, sorted(fx.a, fx.b, fx.c, fx.d, fx.e)},
		{"one roadmap", projections.IndicatorFilter{RoadmapID: fx.regional}, []string{fx.e}},
		{"in progress", projections.IndicatorFilter{Status: "in_progress"}, sorted(fx.b, fx.d)},
		{"overdue", projections.IndicatorFilter{Overdue: &yes}, sorted(fx.b, fx.d, fx.e)},
		{"not overdue", projections.IndicatorFilter{Overdue: &no}, sorted(fx.a, fx.c)},
		{"overdue before the deadline", projections.IndicatorFilter{Overdue: &yes, Today: domain.NewDate(2021, 12, 31)}, []string{}},
		{"without evidence", projections.IndicatorFilter{NoEvidence: true}, []string{fx.e}},
		{"responsible", projections.IndicatorFilter{ResponsibleID: "official-9"}, []string{fx.d}},
		{"roadmap responsible", projections.IndicatorFilter{RoadmapResponsibleID: "official-9"}, []string{fx.e}},
		{"combined", projections.IndicatorFilter{RoadmapID: fx.republican, Overdue: &yes, Status: "in_progress"}, sorted(fx.b, fx.d)},
	} {
		if got := indicatorIDsOf(list(c.f)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	for _, i := range list(projections.IndicatorFilter{}).Items {
		if wantOverdue := i.ID == fx.b || i.ID == fx.d || i.ID == fx.e; i.Overdue != wantOverdue {
			t.Errorf("%s overdue %v", i.Title.EN, i.Overdue)
		}
	}
	var pages []string
	f := projections.IndicatorFilter{Limit: 2}
	for range 5 {
		p := list(f)
		pages = append(pages, indicatorIDsOf(p)...)
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	if want := sorted(fx.a, fx.b, fx.c, fx.d, fx.e); !slices.Equal(pages, want) {
		t.Errorf("pages %v, want %v", pages, want)
	}
	if _, err := projections.ListIndicators(ctx, e.db, projections.IndicatorFilter{}); err == nil {
		t.Error("a listing without Today")
	}

	// B: a report and its correction, linked both ways.
	b, err := projections.GetIndicator(ctx, e.db, fx.b, after)
	if err != nil {
		t.Fatal(err)
	}
	if b.Kind != domain.KindNumeric || b.Status != domain.StatusInProgress || !b.Overdue || b.Version != 3 ||
		b.ReportCount != 1 || b.CorrectionCount != 1 || !b.HasEvidence || b.Weight != 2 ||
		b.LatestValue == nil || *b.LatestValue != 80 || b.Completion != 0.8 || *b.Target != 100 || b.Direction != domain.DirectionIncrease {
		t.Errorf("B %+v", b.IndicatorSummary)
	}
	if len(b.Reports) != 2 || b.Reports[0].ID != fx.reportB || b.Reports[0].CorrectedBy != b.Reports[1].ID ||
		b.Reports[1].Corrects != fx.reportB || b.Reports[1].Reason != "typo: 80, not 50" || b.Reports[1].AsOf != b.Reports[0].AsOf {
		t.Errorf("B reports %+v", b.Reports)
	}
	if b.LatestAsOf == nil || !b.LatestAsOf.Equal(b.Reports[0].AsOf) || b.AddedAt.IsZero() || b.CancelledAt != nil {
		t.Errorf("B times: latest %v added %v cancelled %v", b.LatestAsOf, b.AddedAt, b.CancelledAt)
	}
	if b, _ := projections.GetIndicator(ctx, e.db, fx.b, domain.NewDate(2021, 6, 1)); b.Overdue {
		t.Error("B overdue before its deadline")
	}
	// The stored states keep no reports: GetIndicator folds them from the
	// stored events, up to the row's version. An event stored past it (as
	// a batch committed between its two reads would leave) is not shown.
	var withReports int
	if err := e.db.Get(&withReports, `SELECT count(*) FROM rm_indicators WHERE jsonb_typeof(state->'reports') = 'array'`); err != nil {
		t.Fatal(err)
	}
	if withReports != 0 {
		t.Errorf("%d stored states keep their reports", withReports)
	}
	if _, err := e.db.Exec(`INSERT INTO rm_indicator_events (generation, indicator_id, version, event_id, type, data, metadata, effective_at, recorded_at)
SELECT generation, indicator_id, version + 1, gen_random_uuid(), type, data, metadata, effective_at, recorded_at FROM rm_indicator_events
WHERE indicator_id = $1 AND version = 3`, fx.b); err != nil {
		t.Fatal(err)
	}
	if again, err := projections.GetIndicator(ctx, e.db, fx.b, after); err != nil || !reflect.DeepEqual(again.Reports, b.Reports) {
		t.Errorf("B reports with an event past the row's version: %+v, %v", again.Reports, err)
	}
	c, err := projections.GetIndicator(ctx, e.db, fx.c, after)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != domain.StatusCancelled || c.CancelledAt == nil || c.Overdue || len(c.Reports) != 0 || c.Reports == nil {
		t.Errorf("C %+v", c)
	}
	d, err := projections.GetIndicator(ctx, e.db, fx.d, after)
	if err != nil {
		t.Fatal(err)
	}
	if *d.Target != 30 || *d.Baseline != 10 || d.ResponsibleID != "official-9" || d.Unit.EN != "units" {
		t.Errorf("D %+v", d.IndicatorSummary)
	}
	if _, err := projections.GetIndicator(ctx, e.db, "0190a6a4-5e2b-7c3d-8e4f-000000000000", after); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown indicator: %v", err)
	}
	got, err := projections.RoadmapIndicatorIDs(ctx, e.db, fx.republican)
	if err != nil {
		t.Fatal(err)
	}
	if want := sorted(fx.a, fx.b, fx.c, fx.d); !slices.Equal(got, want) {
		t.Errorf("republican indicators %v, want %v", got, want)
	}
}

func TestQueryTerritoriesAndPrograms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.load()
	e.catchUp(100)
	ctx := context.Background()

	all, err := projections.ListTerritories(ctx, e.db, "")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, x := range all {
		codes = append(codes, x.KATO)
	}
	if !slices.Equal(codes, []string{republicKATO, regionKATO, districtKATO}) || all[0].ParentKATO != "" || all[1].Name.EN != "Akmola Region" {
		t.Errorf("territories %+v", all)
	}
	children, err := projections.ListTerritories(ctx, e.db, regionKATO)
	if err != nil || len(children) != 1 || children[0].KATO != districtKATO || children[0].Kind != "district" {
		t.Errorf("children of the region: %+v %v", children, err)
	}
	chain, err := projections.TerritoryChain(ctx, e.db, districtKATO)
	if err != nil {
		t.Fatal(err)
	}
	codes = nil
	for _, x := range chain {
		codes = append(codes, x.KATO)
	}
	if !slices.Equal(codes, []string{districtKATO, regionKATO, republicKATO}) {
		t.Errorf("chain %v", codes)
	}
	if chain, err := projections.TerritoryChain(ctx, e.db, "999999999"); err != nil || len(chain) != 0 {
		t.Errorf("chain of an unknown territory: %v %v", chain, err)
	}
	programs, err := projections.ListPrograms(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	if len(programs) != 1 || programs[0].ID != fx.program || programs[0].Kind != "main" ||
		programs[0].Period.Start != domain.NewDate(2021, 1, 1) || programs[0].Name.RU != "Path of change (ru)" {
		t.Errorf("programs %+v", programs)
	}
}
