package demo_test

import (
	"testing"
	"time"

	"promiseledger/commands/demo"
	"promiseledger/domain"
)

// TestFullScale loads the full data set once and checks what the demo
// promises of it: the roadmap and measure counts of 2021, names in three
// languages, the domain's time rules, and the published figures five
// months in.
func TestFullScale(t *testing.T) {
	if testing.Short() {
		t.Skip("loads about 20,000 events; run without -short")
	}
	t.Parallel()
	began := time.Now()
	store, stats := load(t, demo.Config{Seed: 1, Now: now})
	t.Logf("loaded in %s: %+v", time.Since(began), stats)
	events := decodeAll(t, readAll(t, store))
	if stats.Events != len(events) {
		t.Errorf("stats count %d events, the store holds %d", stats.Events, len(events))
	}

	t.Run("roadmaps", func(t *testing.T) { checkRoadmaps(t, events) })
	t.Run("measures", func(t *testing.T) { checkMeasures(t, events) })
	t.Run("deputies", func(t *testing.T) { checkDeputies(t, events) })
	t.Run("names", func(t *testing.T) { checkNames(t, events) })
	t.Run("times", func(t *testing.T) { checkTimes(t, events) })
	t.Run("calibration", func(t *testing.T) {
		at := demo.DefaultStart().AddDate(0, 5, 0)
		fig := figures(t, store, events, at)
		rep, reg := fig[domain.LevelRepublican], fig[domain.LevelRegional]
		t.Logf("as of %s: republican %d/%d = %.2f%%, regional %d/%d = %.2f%%",
			at.Format(time.DateOnly), rep.done, rep.inForce, rep.percent(), reg.done, reg.inForce, reg.percent())
		if p := rep.percent(); p < 6 || p > 8 {
			t.Errorf("republican share done %.2f%%, want 6–8%% (published 7%%)", p)
		}
		if p := reg.percent(); p < 4 || p > 6 {
			t.Errorf("regional share done %.2f%%, want 4–6%% (published 5%%)", p)
		}
	})
	t.Run("figures now", func(t *testing.T) {
		fig := figures(t, store, events, now)
		for _, level := range []domain.RoadmapLevel{domain.LevelRepublican, domain.LevelRegional} {
			s := fig[level]
			t.Logf("as of %s: %s %d/%d = %.2f%%", now.Format(time.DateOnly), level, s.done, s.inForce, s.percent())
			if p := s.percent(); p < 40 || p > 80 {
				t.Errorf("%s share done %.2f%% after the term, want 40–80%%", level, p)
			}
		}
	})
}

func checkRoadmaps(t *testing.T, events []decoded) {
	levels := map[domain.RoadmapLevel]int{}
	territories := map[string]bool{}
	active := 0
	for _, e := range events {
		switch ev := e.Event.(type) {
		case domain.RoadmapRegistered:
			levels[ev.Level]++
			if territories[ev.TerritoryKATO] {
				t.Errorf("two roadmaps for territory %s", ev.TerritoryKATO)
			}
			territories[ev.TerritoryKATO] = true
		case domain.RoadmapActivated:
			active++
		}
	}
	if levels[domain.LevelRepublican] != 1 || levels[domain.LevelRegional] != 216 {
		t.Errorf("roadmaps by level %v, want 1 republican and 216 regional", levels)
	}
	if active != 217 {
		t.Errorf("%d roadmaps activated, want 217", active)
	}
}

// checkMeasures counts the measures in force from the start: exactly the
// 362 republican and 2,300 regional ones of the press reports, about 60%
// of them milestones.
func checkMeasures(t *testing.T, events []decoded) {
	levels := map[string]domain.RoadmapLevel{}
	initial := map[domain.RoadmapLevel]int{}
	milestones, all := 0, 0
	start := demo.DefaultStart()
	for _, e := range events {
		switch ev := e.Event.(type) {
		case domain.RoadmapRegistered:
			levels[ev.RoadmapID] = ev.Level
		case domain.IndicatorAdded:
			all++
			if ev.Kind == domain.KindMilestone {
				milestones++
			}
			if e.Meta.EffectiveAt.Before(start.AddDate(0, 0, 1)) {
				initial[levels[ev.RoadmapID]]++
			}
			if ev.Weight < 1 || ev.Weight > 3 {
				t.Errorf("indicator %s has weight %g, want 1–3", ev.IndicatorID, ev.Weight)
			}
		}
	}
	if initial[domain.LevelRepublican] != 362 || initial[domain.LevelRegional] != 2300 {
		t.Errorf("measures from the start by level %v, want 362 republican and 2300 regional", initial)
	}
	if share := float64(milestones) / float64(all); share < 0.55 || share > 0.65 {
		t.Errorf("%.0f%% milestones, want about 60%%", 100*share)
	}
}

func checkDeputies(t *testing.T, events []decoded) {
	start := demo.DefaultStart().AddDate(0, 0, 1)
	deputies, officials := 0, map[string]int{}
	for _, e := range events {
		ev, ok := e.Event.(domain.RoadmapResponsibleAssigned)
		switch {
		case !ok:
		case ev.Role == domain.RoleDeputy && e.Meta.EffectiveAt.Before(start):
			deputies++
		case ev.Role == domain.RoleOfficial:
			officials[ev.RoadmapID]++
		}
	}
	if deputies < 2500 || deputies > 2900 {
		t.Errorf("%d deputies responsible from the start, want about 2,700", deputies)
	}
	for roadmap, n := range officials {
		if n < 1 || n > 3 {
			t.Errorf("roadmap %s has %d officials, want 1–3", roadmap, n)
		}
	}
	if len(officials) != 217 {
		t.Errorf("%d roadmaps have officials, want 217", len(officials))
	}
}

// checkNames checks that every name and title is given in Kazakh, Russian
// and English, and every responsible person has a display name.
func checkNames(t *testing.T, events []decoded) {
	check := func(e decoded, field string, text domain.Text) {
		t.Helper()
		if err := text.Validate(field); err != nil {
			t.Errorf("%s in %s: %v", e.Type, e.Stream, err)
		}
	}
	for _, e := range events {
		switch ev := e.Event.(type) {
		case domain.ProgramRegistered:
			check(e, "name", ev.Name)
		case domain.TerritoryRegistered:
			check(e, "name", ev.Name)
		case domain.RoadmapRegistered:
			check(e, "title", ev.Title)
		case domain.IndicatorAdded:
			check(e, "title", ev.Title)
			if ev.Kind == domain.KindNumeric {
				check(e, "unit", ev.Unit)
			}
		case domain.RoadmapResponsibleAssigned:
			if ev.DisplayName == "" {
				t.Errorf("%s has no display name", ev.PersonID)
			}
		}
	}
}

// checkTimes checks the history against the rules of docs/events.md (the
// handlers enforce them; this guards the demo's own clock): nothing is
// recorded after Now, nothing takes effect after it is recorded or before
// its stream's first event, and recorded times never go back in a stream.
func checkTimes(t *testing.T, events []decoded) {
	type head struct{ created, recorded time.Time }
	streams := map[string]head{}
	for _, e := range events {
		m := e.Meta
		h, seen := streams[e.Stream]
		switch {
		case m.RecordedAt.After(now):
			t.Errorf("%s %s recorded %s, after Now", e.Type, e.ID, m.RecordedAt)
		case m.EffectiveAt.After(m.RecordedAt):
			t.Errorf("%s %s effective %s, after it was recorded", e.Type, e.ID, m.EffectiveAt)
		case seen && m.EffectiveAt.Before(h.created):
			t.Errorf("%s %s effective %s, before its stream began", e.Type, e.ID, m.EffectiveAt)
		case seen && m.RecordedAt.Before(h.recorded):
			t.Errorf("%s %s recorded %s, before the event before it", e.Type, e.ID, m.RecordedAt)
		}
		if !seen {
			h.created = m.EffectiveAt
		}
		h.recorded = m.RecordedAt
		streams[e.Stream] = h
	}
}
