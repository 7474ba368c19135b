package projections_test

import (
	"context"
	"errors"
	"testing"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

func member(id string, effective string) commands.Header {
	h := commands.Header{Actor: commands.Actor{ID: id, Role: "council"}}
	if effective != "" {
		h.EffectiveAt = at9(effective)
	}
	return h
}

type councilFixture struct {
	council, other string
	// recommendations: a drafted, b submitted (deadline 03-31, overdue
	// from 04-01), c answered accepted on time then judged implemented, d
	// answered rejected late, e withdrawn.
	a, b, c, d, w string
}

var (
	akimat   = domain.StateBody{ID: "akimat-110000000", Name: text("Akmola akimat")}
	ministry = domain.StateBody{ID: "ministry-of-trade", Name: text("Ministry of Trade")}
	letter   = domain.Evidence{URL: "https://akmola.gov.kz/letters/1.pdf"}
)

func (e *env) loadCouncils() councilFixture {
	t, ctx := e.t, context.Background()
	do := mustDo(t)
	var fx councilFixture
	e.at("2021-01-05")
	for _, terr := range []commands.RegisterTerritory{
		{KATO: republicKATO, Name: text("Kazakhstan"), Kind: domain.TerritoryRepublic},
		{KATO: regionKATO, Name: text("Akmola Region"), Kind: domain.TerritoryRegion, ParentKATO: republicKATO},
		{KATO: districtKATO, Name: text("Arshaly District"), Kind: domain.TerritoryDistrict, ParentKATO: regionKATO},
	} {
		terr.Header = admin("2021-01-05")
		do(e.cmd.RegisterTerritory.Handle(ctx, terr))
	}
	fx.council = do(e.cmd.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: admin("2021-01-05"), TerritoryKATO: regionKATO,
		Level: domain.CouncilRegional, Name: text("Akmola public council")})).ID
	fx.other = do(e.cmd.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: admin("2021-01-05"), TerritoryKATO: districtKATO,
		Level: domain.CouncilDistrict, Name: text("Arshaly public council")})).ID
	for _, m := range []commands.JoinCouncil{
		{CouncilID: fx.council, MemberID: "member-1", Role: domain.MemberChair, DisplayName: "Айгерим С."},
		{CouncilID: fx.council, MemberID: "member-2", Role: domain.MemberMember, DisplayName: "Ерлан Б."},
		{CouncilID: fx.other, MemberID: "member-3", Role: domain.MemberChair, DisplayName: "Дана К."},
	} {
		m.Header = admin("2021-01-05")
		do(e.cmd.JoinCouncil.Handle(ctx, m))
	}
	draft := func(council, by string, body domain.StateBody, title string) string {
		return do(e.cmd.DraftRecommendation.Handle(ctx, commands.DraftRecommendation{Header: member(by, "2021-02-01"), CouncilID: council,
			Title: text(title), Proposal: text(title + ": proposal"), Addressee: body,
			Links: domain.RecommendationLinks{Topics: []string{"food_prices"}}})).ID
	}
	e.at("2021-02-01")
	fx.a = draft(fx.council, "member-1", akimat, "A")
	fx.b = draft(fx.council, "member-1", akimat, "B")
	fx.c = draft(fx.council, "member-2", akimat, "C")
	fx.d = draft(fx.other, "member-3", ministry, "D")
	fx.w = draft(fx.council, "member-2", ministry, "W")
	e.at("2021-03-01")
	for _, s := range []struct{ id, by string }{{fx.b, "member-1"}, {fx.c, "member-1"}, {fx.d, "member-3"}, {fx.w, "member-2"}} {
		do(e.cmd.SubmitRecommendation.Handle(ctx, commands.SubmitRecommendation{Header: member(s.by, "2021-03-01"), RecommendationID: s.id,
			ResponseDeadline: domain.NewDate(2021, 3, 31)}))
	}
	e.at("2021-03-10")
	do(e.cmd.AcknowledgeRecommendation.Handle(ctx, commands.AcknowledgeRecommendation{Header: admin("2021-03-10"), RecommendationID: fx.c, Reference: "17"}))
	do(e.cmd.WithdrawRecommendation.Handle(ctx, commands.WithdrawRecommendation{Header: withReason(member("member-2", "2021-03-10"), "duplicate"), RecommendationID: fx.w}))
	e.at("2021-03-20")
	do(e.cmd.AnswerRecommendation.Handle(ctx, commands.AnswerRecommendation{Header: admin("2021-03-20"), RecommendationID: fx.c,
		Decision: domain.DecisionAccepted, Reply: "Accepted.", Evidence: letter}))
	e.at("2021-04-15")
	do(e.cmd.AnswerRecommendation.Handle(ctx, commands.AnswerRecommendation{Header: admin("2021-04-15"), RecommendationID: fx.d,
		Decision: domain.DecisionRejected, Reply: "Not within our powers.", Evidence: letter}))
	e.at("2021-05-01")
	do(e.cmd.JudgeRecommendation.Handle(ctx, commands.JudgeRecommendation{Header: member("member-2", "2021-05-01"), RecommendationID: fx.c,
		Verdict: domain.VerdictImplemented, Comment: "Done."}))
	do(e.cmd.AttachDissent.Handle(ctx, commands.AttachDissent{Header: member("member-2", "2021-05-01"), RecommendationID: fx.a, MemberID: "member-2",
		Opinion: "This draft asks for too little."}))
	e.at("2021-05-02")
	do(e.cmd.LeaveCouncil.Handle(ctx, commands.LeaveCouncil{Header: withReason(admin("2021-05-02"), "moved away"), CouncilID: fx.council, MemberID: "member-2"}))
	return fx
}

func TestCouncilReadModels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.loadCouncils()
	e.settle(4, append(councilProjectors, projections.Catalog{})...) // the catalog knows which territories lie within which
	ctx := context.Background()
	on := at9("2021-06-01")

	page, err := projections.ListCouncils(ctx, e.db, projections.CouncilFilter{WithinKATO: regionKATO, Limit: 1})
	if err != nil || len(page.Items) != 1 || page.NextCursor == "" || page.Items[0].ID != fx.council || page.Items[0].Members != 1 {
		t.Fatalf("councils page 1: %v %+v", err, page)
	}
	page, err = projections.ListCouncils(ctx, e.db, projections.CouncilFilter{WithinKATO: regionKATO, Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 1 || page.NextCursor != "" || page.Items[0].ID != fx.other {
		t.Fatalf("councils page 2: %v %+v", err, page)
	}
	if _, err := projections.GetCouncil(ctx, e.db, "0190a1b2-c3d4-7e5f-8a9b-0000000000ff"); !errors.Is(err, projections.ErrNoSuchRecord) {
		t.Fatalf("missing council: %v", err)
	}

	// Members now, and as of April (member-2 left on 05-02).
	now, err := projections.CouncilMembers(ctx, e.db, fx.council, nil, false)
	if err != nil || len(now) != 1 || now[0].MemberID != "member-1" {
		t.Fatalf("members now: %v %+v", err, now)
	}
	april := at9("2021-04-30")
	then, err := projections.CouncilMembers(ctx, e.db, fx.council, &april, false)
	if err != nil || len(then) != 2 || then[1].LeftAt != nil {
		t.Fatalf("members as of April: %v %+v", err, then)
	}
	all, _ := projections.CouncilMembers(ctx, e.db, fx.council, nil, true)
	if len(all) != 2 || all[1].LeftAt == nil {
		t.Fatalf("every membership: %+v", all)
	}
	if ok, _ := projections.IsCouncilMember(ctx, e.db, fx.council, "member-2"); ok {
		t.Error("member-2 left")
	}

	// Recommendations by council, state body and status.
	count := func(f projections.RecommendationFilter) int {
		t.Helper()
		f.On = on
		p, err := projections.ListRecommendations(ctx, e.db, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Items)
	}
	for name, c := range map[string]struct {
		f    projections.RecommendationFilter
		want int
	}{
		"council":         {projections.RecommendationFilter{CouncilID: fx.council}, 4},
		"body":            {projections.RecommendationFilter{BodyID: akimat.ID}, 3},
		"status":          {projections.RecommendationFilter{Status: "implemented"}, 1},
		"overdue":         {projections.RecommendationFilter{OverdueOnly: true}, 1},
		"overdue as of":   {projections.RecommendationFilter{OverdueOnly: true, Axes: &projections.Axes{AsOf: ptr(at9("2021-04-10"))}}, 2},
		"drafted as of":   {projections.RecommendationFilter{Status: "drafted", Axes: &projections.Axes{AsOf: ptr(at9("2021-02-15"))}}, 5},
		"before anything": {projections.RecommendationFilter{Axes: &projections.Axes{AsOf: ptr(at9("2021-01-31"))}}, 0},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d recommendations, want %d", name, got, c.want)
		}
	}
	// Paging, newest draft first.
	p1, _ := projections.ListRecommendations(ctx, e.db, projections.RecommendationFilter{On: on, Limit: 3})
	p2, _ := projections.ListRecommendations(ctx, e.db, projections.RecommendationFilter{On: on, Limit: 3, Cursor: p1.NextCursor})
	if len(p1.Items) != 3 || len(p2.Items) != 2 || p2.NextCursor != "" {
		t.Fatalf("pages: %d, %d", len(p1.Items), len(p2.Items))
	}

	b, err := projections.GetRecommendation(ctx, e.db, fx.b, nil, on)
	if err != nil || !b.Overdue || b.Status != domain.RecommendationSubmittedStatus {
		t.Fatalf("b: %v %+v", err, b)
	}
	c, err := projections.GetRecommendation(ctx, e.db, fx.c, &projections.Axes{AsOf: ptr(at9("2021-03-15"))}, on)
	if err != nil || c.Status != domain.RecommendationAcknowledgedStatus || c.Version != 3 {
		t.Fatalf("c as of 03-15: %v %+v", err, c)
	}

	// Rates per state body: the akimat answered c on time (b is overdue);
	// the ministry answered d late; w was withdrawn.
	rates, err := projections.StateBodyRates(ctx, e.db, nil, on)
	if err != nil || len(rates) != 2 {
		t.Fatalf("rates: %v %+v", err, rates)
	}
	ak, mi := rates[0], rates[1]
	if ak.BodyID != akimat.ID || ak.Submitted != 2 || ak.Due != 2 || ak.Answered != 1 || ak.Overdue != 1 || *ak.AnswerPercent != 50 ||
		*ak.AcceptancePercent != 100 || *ak.ImplementationPercent != 100 || *ak.OnTimePercent != 50 {
		t.Errorf("akimat: %+v", ak)
	}
	if mi.Submitted != 1 || mi.Answered != 1 || mi.AnsweredOnTime != 0 || *mi.AcceptancePercent != 0 || mi.ImplementationPercent != nil {
		t.Errorf("ministry: %+v", mi)
	}
	// As of 03-25: only c answered; d not yet due... b and d are due on 03-31.
	early, err := projections.StateBodyRates(ctx, e.db, &projections.Axes{AsOf: ptr(at9("2021-03-25"))}, at9("2021-03-25"))
	if err != nil || early[0].Due != 1 || early[0].Answered != 1 || early[1].Due != 0 || early[1].AnswerPercent != nil {
		t.Errorf("rates as of 03-25: %v %+v", err, early)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCouncilsRebuildEqualsLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadCouncils()
	e.settle(1, projections.Councils{})
	live := dumpTables(t, e.db, projections.CouncilsName)
	if _, err := projections.Rebuild(context.Background(), e.db, e.store, projections.Councils{}); err != nil {
		t.Fatal(err)
	}
	e.settle(1000, projections.Councils{}) // a rebuild reads only what the store already shows
	if got := dumpTables(t, e.db, projections.CouncilsName); got != live {
		t.Errorf("rebuild differs:\nlive:\n%s\nrebuilt:\n%s", live, got)
	}
}
