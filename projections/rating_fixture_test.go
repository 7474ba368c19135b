package projections_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// councilProjectors are the projectors this issue adds.
var councilProjectors = []projections.Projector{projections.Councils{}, projections.Ratings{}}

var councilReadModels = map[string][]string{
	projections.CouncilsName: {"rm_council_events", "rm_councils", "rm_council_members", "rm_recommendations", "rm_assessments"},
	projections.RatingsName:  {"rm_rating_events", "rm_rating_deputies", "rm_rating_links", "rm_rating_indicators", "rm_deputy_ratings"},
}

// dumpTables returns the rows of a projector's active generation, without
// the generation column, in a stable order.
func dumpTables(t testing.TB, db *sqlx.DB, name string) string {
	t.Helper()
	var b strings.Builder
	for _, table := range councilReadModels[name] {
		var rows []string
		q := fmt.Sprintf(`SELECT (to_jsonb(t) - 'generation')::text FROM %s t
WHERE generation = (SELECT active_generation FROM projectors WHERE name = $1) ORDER BY 1`, table)
		if err := db.Select(&rows, q, name); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s (%d rows)\n%s\n", table, len(rows), strings.Join(rows, "\n"))
	}
	return b.String()
}

func mustDo(t testing.TB) func(commands.Result, error) commands.Result {
	return func(r commands.Result, err error) commands.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// ratingFixture is the worked example of docs/rating.md, written through
// the command handlers: four deputies of the Arshaly district maslikhat.
//
//   - A answers for roadmap R (I1 done 05-10, I2 cancelled 05-20, I3, I4 open):
//     done share 1/3; Q2 activity: 12 receptions, 40 appeals, 30 positive.
//   - B answers for nothing; Q2: 6 receptions, 10 appeals, 9 positive.
//   - C answers for indicator I5 of roadmap R2 (done 06-01); Q2: 3
//     receptions, no appeals.
//   - D joined the faction on 06-15 (16 days in Q2): not rated.
//
// Method faction-rating v1 is published on 2021-01-05 (effective from
// 2021-01-01); the test publishes v2 when it needs it.
type ratingFixture struct {
	roadmap, roadmap2  string
	i1, i2, i3, i4, i5 string
	reportA            string
}

const districtAssembly = "maslikhat-113200000"

var (
	ratingV1 = commands.PublishRatingMethod{Method: "faction-rating", Title: text("Faction rating"),
		Summary: "Receptions against peers, positive appeals, measures done.", EffectiveFrom: domain.NewDate(2021, 1, 1),
		Formula: domain.RatingFormula{
			Period: domain.RatingPeriod{Kind: domain.PeriodQuarter, From: domain.NewDate(2021, 1, 1)},
			Components: []domain.RatingComponent{
				{Key: "receptions", Title: text("Receptions"), Source: domain.MetricReceptionsHeld, Weight: 3,
					Normalization: domain.Normalization{Kind: domain.NormalizeMinMax, Scope: domain.ScopeLevel}},
				{Key: "positive", Title: text("Positive decisions"), Source: domain.MetricAppealsPositiveShare, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
				{Key: "done", Title: text("Measures done"), Source: domain.MetricIndicatorsDoneShare, Weight: 5,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
			},
			Minimum: domain.MinimumData{FactionDays: 30, Components: 2, Peers: 2},
		}}
	ratingV2 = commands.PublishRatingMethod{Method: "faction-rating", Title: text("Faction rating"),
		Summary: "Receptions against a target, positive appeals.", EffectiveFrom: domain.NewDate(2022, 1, 1),
		Formula: domain.RatingFormula{
			Period: domain.RatingPeriod{Kind: domain.PeriodQuarter, From: domain.NewDate(2021, 1, 1)},
			Components: []domain.RatingComponent{
				{Key: "receptions", Title: text("Receptions"), Source: domain.MetricReceptionsHeld, Weight: 1,
					Normalization: domain.Normalization{Kind: domain.NormalizeRatioToTarget, Target: f(6)}},
				{Key: "positive", Title: text("Positive decisions"), Source: domain.MetricAppealsPositiveShare, Weight: 3,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
			},
			Minimum: domain.MinimumData{FactionDays: 30, Components: 1, Peers: 2},
		}}
	q2 = domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)}
)

func (e *env) loadRatingFixture() ratingFixture {
	t, ctx := e.t, context.Background()
	do := mustDo(t)
	var fx ratingFixture
	e.at("2021-01-05")
	program := do(e.cmd.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: admin("2021-01-05"), Name: text("Path of change"),
		Kind: domain.ProgramMain, Period: domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}}))
	for _, terr := range []commands.RegisterTerritory{
		{KATO: republicKATO, Name: text("Kazakhstan"), Kind: domain.TerritoryRepublic},
		{KATO: regionKATO, Name: text("Akmola Region"), Kind: domain.TerritoryRegion, ParentKATO: republicKATO},
		{KATO: districtKATO, Name: text("Arshaly District"), Kind: domain.TerritoryDistrict, ParentKATO: regionKATO},
	} {
		terr.Header = admin("2021-01-05")
		do(e.cmd.RegisterTerritory.Handle(ctx, terr))
	}
	v1 := ratingV1
	v1.Header = admin("2021-01-05")
	do(e.cmd.PublishRatingMethod.Handle(ctx, v1))
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	fx.roadmap = do(e.cmd.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: admin("2021-01-05"), ProgramID: program.ID,
		TerritoryKATO: districtKATO, Level: domain.LevelRegional, Title: text("Arshaly roadmap"), Period: period})).ID
	fx.roadmap2 = do(e.cmd.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: admin("2021-01-05"), ProgramID: program.ID,
		TerritoryKATO: regionKATO, Level: domain.LevelRegional, Title: text("Akmola roadmap"), Period: period})).ID
	add := func(roadmap, title string) string {
		return do(e.cmd.AddIndicator.Handle(ctx, commands.AddIndicator{Header: admin("2021-01-05"), RoadmapID: roadmap, Title: text(title),
			Kind: domain.KindMilestone, Weight: 1, Deadline: domain.NewDate(2021, 12, 31)})).ID
	}
	fx.i1, fx.i2, fx.i3, fx.i4 = add(fx.roadmap, "I1"), add(fx.roadmap, "I2"), add(fx.roadmap, "I3"), add(fx.roadmap, "I4")
	fx.i5 = add(fx.roadmap2, "I5")

	e.at("2021-01-10")
	asm := domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: districtKATO, Level: domain.CouncilDistrict}
	for _, id := range []string{"A", "B", "C", "D"} {
		do(e.cmd.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: admin("2021-01-10"), DeputyID: "deputy-" + id,
			DisplayName: "Deputy " + id, Assembly: asm}))
	}
	e.at("2021-01-15")
	for _, id := range []string{"A", "B", "C"} {
		do(e.cmd.JoinFaction.Handle(ctx, commands.JoinFaction{Header: admin("2021-01-15"), DeputyID: "deputy-" + id, Faction: "nur-otan"}))
	}
	do(e.cmd.AssignDeputyResponsibility.Handle(ctx, commands.AssignDeputyResponsibility{Header: admin("2021-01-15"), DeputyID: "deputy-A",
		Subject: domain.ResponsibleForRoadmap, SubjectID: fx.roadmap}))
	do(e.cmd.AssignDeputyResponsibility.Handle(ctx, commands.AssignDeputyResponsibility{Header: admin("2021-01-15"), DeputyID: "deputy-C",
		Subject: domain.ResponsibleForIndicator, SubjectID: fx.i5}))

	ev := domain.Evidence{URL: "https://arshaly.example.kz/report"}
	e.at("2021-05-10")
	do(e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-05-10"), IndicatorID: fx.i1, Done: true, Evidence: ev}))
	e.at("2021-05-20")
	do(e.cmd.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: withReason(admin("2021-05-20"), "merged into I1"), IndicatorID: fx.i2}))
	e.at("2021-06-01")
	do(e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-06-01"), IndicatorID: fx.i5, Done: true, Evidence: ev}))
	e.at("2021-06-15")
	do(e.cmd.JoinFaction.Handle(ctx, commands.JoinFaction{Header: admin("2021-06-15"), DeputyID: "deputy-D", Faction: "nur-otan"}))

	e.at("2021-07-02")
	for _, a := range []struct {
		id     string
		counts domain.ActivityCounts
	}{
		{"A", domain.ActivityCounts{ReceptionsHeld: 12, PeopleReceived: 80, AppealsHandled: 40, Outcomes: domain.AppealOutcomes{Positive: 30, Explained: 6, Rejected: 2, Pending: 2}}},
		{"B", domain.ActivityCounts{ReceptionsHeld: 6, PeopleReceived: 25, AppealsHandled: 10, Outcomes: domain.AppealOutcomes{Positive: 9, Pending: 1}}},
		{"C", domain.ActivityCounts{ReceptionsHeld: 3, PeopleReceived: 10}},
		{"D", domain.ActivityCounts{ReceptionsHeld: 20, PeopleReceived: 90, AppealsHandled: 1, Outcomes: domain.AppealOutcomes{Positive: 1}}},
	} {
		r := do(e.cmd.ReportDeputyActivity.Handle(ctx, commands.ReportDeputyActivity{Header: admin("2021-07-02"), DeputyID: "deputy-" + a.id,
			Period: q2, Counts: a.counts}))
		if a.id == "A" {
			fx.reportA = r.EventIDs[0].String()
		}
	}
	return fx
}

// publishV2 publishes version 2 on 2021-08-01.
func (e *env) publishV2() {
	e.t.Helper()
	e.at("2021-08-01")
	v2 := ratingV2
	v2.Header = admin("2021-08-01")
	mustDo(e.t)(e.cmd.PublishRatingMethod.Handle(context.Background(), v2))
}

// at9 is 09:00 UTC on a date: the effective time admin(date) gives.
func at9(s string) time.Time { return day(s).Add(9 * time.Hour) }

// settle catches the projectors up with every event in the store. The
// store shows an event only once every older transaction of the cluster
// has ended, so under parallel tests a catch-up can stop short: settle
// retries until each projector has applied as many events as the store
// holds.
func (e *env) settle(n int, ps ...projections.Projector) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e.catchUp(n, ps...)
		var total int64
		if err := e.db.Get(&total, `SELECT count(*) FROM events`); err != nil {
			e.t.Fatal(err)
		}
		behind := false
		for _, p := range ps {
			var applied int64
			if err := e.db.Get(&applied, `SELECT c.events_total FROM projectors p JOIN projector_checkpoints c
	ON c.name = p.name AND c.generation = p.active_generation WHERE p.name = $1`, p.Name()); err != nil {
				e.t.Fatal(err)
			}
			behind = behind || applied < total
		}
		if !behind {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the projectors did not catch up with the store")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
