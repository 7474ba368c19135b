package domain_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
)

func f64(v float64) *float64 { return &v }

// The two versions of the worked example in docs/rating.md.
var (
	ratingV1 = domain.RatingMethodPublished{
		Method: "faction-rating", Version: 1,
		Title:         domain.Text{KK: "Фракция рейтингі", RU: "Рейтинг фракции", EN: "Faction rating"},
		Summary:       "Receptions against peers, positive appeals, measures done.",
		EffectiveFrom: domain.NewDate(2021, 1, 1),
		Formula: domain.RatingFormula{
			Period: domain.RatingPeriod{Kind: domain.PeriodQuarter, From: domain.NewDate(2021, 1, 1)},
			Components: []domain.RatingComponent{
				{Key: "receptions", Title: text3("Receptions"), Source: domain.MetricReceptionsHeld, Weight: 3,
					Normalization: domain.Normalization{Kind: domain.NormalizeMinMax, Scope: domain.ScopeLevel}},
				{Key: "positive", Title: text3("Positive decisions"), Source: domain.MetricAppealsPositiveShare, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
				{Key: "done", Title: text3("Measures done"), Source: domain.MetricIndicatorsDoneShare, Weight: 5,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
			},
			Minimum: domain.MinimumData{FactionDays: 30, Components: 2, Peers: 2},
		},
	}
	ratingV2 = domain.RatingMethodPublished{
		Method: "faction-rating", Version: 2,
		Title:         domain.Text{KK: "Фракция рейтингі", RU: "Рейтинг фракции", EN: "Faction rating"},
		Summary:       "Receptions against a target, positive appeals.",
		EffectiveFrom: domain.NewDate(2022, 1, 1),
		Formula: domain.RatingFormula{
			Period: domain.RatingPeriod{Kind: domain.PeriodQuarter, From: domain.NewDate(2021, 1, 1)},
			Components: []domain.RatingComponent{
				{Key: "receptions", Title: text3("Receptions"), Source: domain.MetricReceptionsHeld, Weight: 1,
					Normalization: domain.Normalization{Kind: domain.NormalizeRatioToTarget, Target: f64(6)}},
				{Key: "positive", Title: text3("Positive decisions"), Source: domain.MetricAppealsPositiveShare, Weight: 3,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
			},
			Minimum: domain.MinimumData{FactionDays: 30, Components: 1, Peers: 2},
		},
	}
)

func text3(en string) domain.Text { return domain.Text{KK: en + " (kk)", RU: en + " (ru)", EN: en} }

func TestRatingMethodPublish(t *testing.T) {
	t.Parallel()
	publish := func(e domain.RatingMethodPublished) func(*domain.RatingMethod, domain.Meta) error {
		return func(r *domain.RatingMethod, m domain.Meta) error { return r.Publish(e, m) }
	}
	with := func(e domain.RatingMethodPublished, edit func(*domain.RatingMethodPublished)) domain.RatingMethodPublished {
		e.Formula.Components = append([]domain.RatingComponent(nil), e.Formula.Components...)
		edit(&e)
		return e
	}
	runScenarios(t, domain.RebuildRatingMethod, []scenario[*domain.RatingMethod]{
		{name: "publishes version 1", when: publish(ratingV1), then: []domain.Event{ratingV1}},
		{name: "version 0 means the next", when: publish(with(ratingV1, func(e *domain.RatingMethodPublished) { e.Version = 0 })), then: []domain.Event{ratingV1}},
		{name: "publishes version 2 beside 1", given: history(ratingV1), when: publish(ratingV2), then: []domain.Event{ratingV2}},
		{name: "a published version never changes", given: history(ratingV1), when: publish(ratingV1), err: domain.ErrAlreadyExists},
		{name: "no gaps", given: history(ratingV1), when: publish(with(ratingV2, func(e *domain.RatingMethodPublished) { e.Version = 3 })), field: "version"},
		{name: "versions come into force in order", given: history(ratingV1), when: publish(with(ratingV2, func(e *domain.RatingMethodPublished) {
			e.EffectiveFrom = domain.NewDate(2020, 1, 1)
		})), field: "effective_from"},
		{name: "another method's stream", given: history(ratingV1), when: publish(with(ratingV2, func(e *domain.RatingMethodPublished) { e.Method = "other" })), field: "method"},
		{name: "an unknown source", when: publish(with(ratingV1, func(e *domain.RatingMethodPublished) { e.Formula.Components[0].Source = "speeches" })),
			field: "formula.components[0].source"},
		{name: "weights above zero", when: publish(with(ratingV1, func(e *domain.RatingMethodPublished) { e.Formula.Components[1].Weight = 0 })),
			field: "formula.components[1].weight"},
		{name: "identity is for shares", when: publish(with(ratingV1, func(e *domain.RatingMethodPublished) {
			e.Formula.Components[0].Normalization = domain.Normalization{Kind: domain.NormalizeIdentity}
		})), field: "formula.components[0].normalization.kind"},
		{name: "a target needs a value", when: publish(with(ratingV2, func(e *domain.RatingMethodPublished) {
			e.Version = 1
			e.Formula.Components[0].Normalization.Target = nil
		})), field: "formula.components[0].normalization.target"},
		{name: "min_max needs a scope", when: publish(with(ratingV1, func(e *domain.RatingMethodPublished) { e.Formula.Components[0].Normalization.Scope = "" })),
			field: "formula.components[0].normalization.scope"},
		{name: "keys are unique", when: publish(with(ratingV1, func(e *domain.RatingMethodPublished) { e.Formula.Components[1].Key = "receptions" })),
			field: "formula.components[1].key"},
		{name: "minimum components within the formula", when: publish(with(ratingV1, func(e *domain.RatingMethodPublished) { e.Formula.Minimum.Components = 4 })),
			field: "formula.minimum.components"},
		{name: "periods start on a first", when: publish(with(ratingV1, func(e *domain.RatingMethodPublished) { e.Formula.Period.From = domain.NewDate(2021, 1, 15) })),
			field: "formula.period.from"},
	})
}

func TestRatingPeriods(t *testing.T) {
	t.Parallel()
	got := ratingV1.Formula.Periods(domain.NewDate(2021, 7, 1))
	want := []domain.Period{
		{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2021, 3, 31)},
		{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)},
		{Start: domain.NewDate(2021, 7, 1), End: domain.NewDate(2021, 9, 30)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("periods: %v", got)
	}
	if got := ratingV1.Formula.Periods(domain.NewDate(2020, 12, 31)); got != nil {
		t.Fatalf("periods before the start: %v", got)
	}
	versions := []domain.RatingMethodPublished{ratingV1, ratingV2}
	if v := domain.VersionInForce(versions, want[1]); v != 1 {
		t.Errorf("in force in 2021-Q2: v%d", v)
	}
	if v := domain.VersionInForce(versions, domain.Period{Start: domain.NewDate(2022, 1, 1), End: domain.NewDate(2022, 3, 31)}); v != 2 {
		t.Errorf("in force in 2022-Q1: v%d", v)
	}
}

// workedExample is the data of docs/rating.md: four deputies of one
// district maslikhat in the second quarter of 2021.
func workedExample() []domain.RatingSubject {
	ev := func(s string) []uuid.UUID { return []uuid.UUID{uuid.NewSHA1(uuid.NameSpaceOID, []byte(s))} }
	count := func(n float64, s string) domain.MetricValue {
		return domain.MetricValue{Value: n, Numerator: n, Has: true, Events: ev(s)}
	}
	share := func(num, den float64, s string) domain.MetricValue {
		return domain.MetricValue{Value: num / den, Numerator: num, Denominator: den, Has: true, Events: ev(s)}
	}
	subject := func(id string, days int, m map[domain.MetricSource]domain.MetricValue) domain.RatingSubject {
		return domain.RatingSubject{DeputyID: id, DisplayName: id, AssemblyID: "maslikhat-113200000", Level: domain.CouncilDistrict, FactionDays: days, Metrics: m}
	}
	return []domain.RatingSubject{
		subject("A", 91, map[domain.MetricSource]domain.MetricValue{
			domain.MetricReceptionsHeld: count(12, "A"), domain.MetricAppealsPositiveShare: share(30, 40, "A"),
			domain.MetricIndicatorsDoneShare: share(1, 3, "A-ind")}),
		subject("B", 91, map[domain.MetricSource]domain.MetricValue{
			domain.MetricReceptionsHeld: count(6, "B"), domain.MetricAppealsPositiveShare: share(9, 10, "B")}),
		subject("C", 91, map[domain.MetricSource]domain.MetricValue{
			domain.MetricReceptionsHeld: count(3, "C"), domain.MetricIndicatorsDoneShare: share(1, 1, "C-ind")}),
		subject("D", 16, map[domain.MetricSource]domain.MetricValue{
			domain.MetricReceptionsHeld: count(20, "D"), domain.MetricAppealsPositiveShare: share(1, 1, "D")}),
		subject("E", 0, map[domain.MetricSource]domain.MetricValue{domain.MetricReceptionsHeld: count(50, "E")}),
	}
}

// TestRateDeputiesByHand checks RateDeputies against the worked example.
func TestRateDeputiesByHand(t *testing.T) {
	t.Parallel()
	q2 := domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)}
	cut := domain.EndOfPeriod(q2)
	type want struct {
		score      float64
		rank       int
		components int
	}
	for _, c := range []struct {
		method domain.RatingMethodPublished
		want   map[string]want
	}{
		// v1: receptions min-max over A, B, C (3..12): A 1, B 1/3, C 0.
		// A = 100 × (3×1 + 2×0.75 + 5×1/3) / 10 = 61.67
		// B = 100 × (3×1/3 + 2×0.9 + 0) / 10 = 28
		// C = 100 × (0 + 0 + 5×1) / 10 = 50
		{ratingV1, map[string]want{"A": {61.67, 1, 3}, "B": {28, 3, 3}, "C": {50, 2, 3}}},
		// v2: receptions ratio to 6: A 1, B 1, C 0.5.
		// A = 100 × (1 + 3×0.75) / 4 = 81.25; B = 100 × (1 + 3×0.9) / 4 = 92.5; C = 100 × 0.5 / 4 = 12.5
		{ratingV2, map[string]want{"A": {81.25, 2, 2}, "B": {92.5, 1, 2}, "C": {12.5, 3, 2}}},
	} {
		got := domain.RateDeputies(c.method, q2, cut, workedExample())
		if len(got) != 4 {
			t.Fatalf("v%d: %d ratings, want 4 (E was never in the faction)", c.method.Version, len(got))
		}
		for _, r := range got {
			if r.DeputyID == "D" {
				if r.Rated || r.Score != nil || r.RankLevel != nil || r.NotRated == "" {
					t.Errorf("v%d: D has 16 faction days and must not be rated: %+v", c.method.Version, r)
				}
				// Not rated, D still reads how many of its assembly and level were.
				if r.RankAssembly != nil || r.AssemblyRated != 3 || r.LevelRated != 3 {
					t.Errorf("v%d: D not rated shows rank %v of %d (assembly), %d (level); want no rank of 3 and 3",
						c.method.Version, r.RankAssembly, r.AssemblyRated, r.LevelRated)
				}
				continue
			}
			w := c.want[r.DeputyID]
			if !r.Rated || r.Score == nil || math.Abs(*r.Score-w.score) > 1e-9 {
				t.Errorf("v%d %s: score %v, want %v", c.method.Version, r.DeputyID, r.Score, w.score)
				continue
			}
			if r.RankLevel == nil || *r.RankLevel != w.rank || r.RankAssembly == nil || *r.RankAssembly != w.rank || r.LevelRated != 3 {
				t.Errorf("v%d %s: ranks %v/%v of %d, want %d", c.method.Version, r.DeputyID, r.RankAssembly, r.RankLevel, r.LevelRated, w.rank)
			}
			if len(r.Components) != w.components || r.Provisional {
				t.Errorf("v%d %s: %d components provisional=%v", c.method.Version, r.DeputyID, len(r.Components), r.Provisional)
			}
			var points float64
			for _, cs := range r.Components {
				points += cs.Points
				if cs.HasData && len(cs.Events) == 0 {
					t.Errorf("v%d %s %s: no events behind a component with data", c.method.Version, r.DeputyID, cs.Key)
				}
			}
			if math.Abs(points-*r.Score) > 0.01 {
				t.Errorf("v%d %s: points add to %v, score %v", c.method.Version, r.DeputyID, points, *r.Score)
			}
		}
	}
	// Provisional while the period runs; too few peers: no ranks.
	mid := time.Date(2021, 5, 15, 0, 0, 0, 0, time.UTC)
	v1 := ratingV1
	v1.Formula.Minimum.Peers = 4
	for _, r := range domain.RateDeputies(v1, q2, mid, workedExample()) {
		if !r.Provisional || r.RankLevel != nil {
			t.Errorf("%s: provisional=%v rank=%v", r.DeputyID, r.Provisional, r.RankLevel)
		}
	}
}

func TestRatingTiesShareARank(t *testing.T) {
	t.Parallel()
	q2 := domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)}
	subjects := workedExample()[:3]
	subjects[1].Metrics = subjects[0].Metrics // B equals A
	got := domain.RateDeputies(ratingV2, q2, domain.EndOfPeriod(q2), subjects)
	ranks := map[string]int{}
	for _, r := range got {
		ranks[r.DeputyID] = *r.RankLevel
	}
	if ranks["A"] != 1 || ranks["B"] != 1 || ranks["C"] != 3 {
		t.Fatalf("competition ranks: %v", ranks)
	}
}
