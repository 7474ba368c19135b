package demo_test

import (
	"strings"
	"testing"
	"time"

	"promiseledger/commands/demo"
	"promiseledger/domain"
)

// TestResponsibleDeputiesAreRegisteredDeputies guards the demo's one
// population: every deputy a roadmap names is a registered deputy of the
// roadmap territory's assembly, under the same name, in the faction, and
// answers for the roadmap on their own record (what their rating counts);
// a deputy released from a roadmap is released on their record too; and
// nobody else is registered as a deputy.
func TestResponsibleDeputiesAreRegisteredDeputies(t *testing.T) {
	t.Parallel()
	store, stats := load(t, config(11))
	events := decodeAll(t, readAll(t, store))
	territoryOf := map[string]string{} // roadmap → KATO
	kinds := map[string]domain.TerritoryKind{}
	type record struct {
		name       string
		assembly   domain.Assembly
		inFaction  bool
		answersFor map[string]bool
	}
	onRoadmaps := map[string]map[string]bool{} // deputy → roadmaps that name them now
	names := map[string]string{}
	records := map[string]*record{}
	for _, e := range events {
		switch ev := e.Event.(type) {
		case domain.TerritoryRegistered:
			kinds[ev.KATO] = ev.Kind
		case domain.RoadmapRegistered:
			territoryOf[ev.RoadmapID] = ev.TerritoryKATO
		case domain.RoadmapResponsibleAssigned:
			if ev.Role == domain.RoleDeputy {
				if onRoadmaps[ev.PersonID] == nil {
					onRoadmaps[ev.PersonID] = map[string]bool{}
				}
				onRoadmaps[ev.PersonID][ev.RoadmapID] = true
				names[ev.PersonID] = ev.DisplayName
			}
		case domain.RoadmapResponsibleUnassigned:
			delete(onRoadmaps[ev.PersonID], ev.RoadmapID)
		case domain.DeputyRegistered:
			records[ev.DeputyID] = &record{name: ev.DisplayName, assembly: ev.Assembly, answersFor: map[string]bool{}}
		case domain.DeputyFactionJoined:
			records[ev.DeputyID].inFaction = true
		case domain.DeputyFactionLeft:
			records[ev.DeputyID].inFaction = false
		case domain.DeputyResponsibilityAssigned:
			records[ev.DeputyID].answersFor[ev.SubjectID] = true
		case domain.DeputyResponsibilityReleased:
			delete(records[ev.DeputyID].answersFor, ev.SubjectID)
		}
	}
	if len(records) != len(names) || len(records) != stats.RegisteredDeputies || len(records) < 2500 {
		t.Errorf("%d deputies registered (stats %d), %d named by roadmaps", len(records), stats.RegisteredDeputies, len(names))
	}
	released := 0
	for id, rec := range records {
		if names[id] != rec.name {
			t.Errorf("deputy %s is %q on the roadmap and %q on their record", id, names[id], rec.name)
		}
		if len(onRoadmaps[id]) == 0 {
			released++
			if rec.inFaction || len(rec.answersFor) > 0 {
				t.Errorf("deputy %s left the roadmap but is still in the faction (%v) or answers for %v", id, rec.inFaction, rec.answersFor)
			}
			continue
		}
		for rm := range onRoadmaps[id] {
			kato := territoryOf[rm]
			want := domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: kato, Level: domain.LevelOfTerritory(kinds[kato])}
			if kato == domain.RepublicKATO {
				want = domain.Assembly{Kind: domain.AssemblyMazhilis, TerritoryKATO: kato, Level: domain.CouncilRepublican}
			}
			if rec.assembly != want || !rec.inFaction || !rec.answersFor[rm] {
				t.Errorf("deputy %s on roadmap %s: assembly %+v (want %+v), in faction %v, answers for it %v",
					id, rm, rec.assembly, want, rec.inFaction, rec.answersFor[rm])
			}
		}
	}
	if released == 0 {
		t.Error("no deputy was replaced after the 2023 elections")
	}
}

// TestDescribeMatchesLoad: what Describe says the demo holds is what Load
// wrote, ids included.
func TestDescribeMatchesLoad(t *testing.T) {
	t.Parallel()
	cfg := config(12)
	store, _ := load(t, cfg)
	desc, err := demo.Describe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	roadmaps, deputies, indicators := map[string]string{}, map[string]domain.DeputyRegistered{}, map[string]string{}
	left := map[string]time.Time{}
	lastRecorded := map[string]time.Time{}
	for _, e := range decodeAll(t, readAll(t, store)) {
		switch ev := e.Event.(type) {
		case domain.RoadmapRegistered:
			roadmaps[ev.RoadmapID] = ev.TerritoryKATO
		case domain.DeputyRegistered:
			deputies[ev.DeputyID] = ev
		case domain.DeputyFactionLeft:
			left[ev.DeputyID] = e.Meta.EffectiveAt
		case domain.IndicatorAdded:
			indicators[ev.IndicatorID] = ev.RoadmapID
		}
		if id, ok := strings.CutPrefix(e.Stream, "indicator-"); ok && e.Meta.RecordedAt.After(lastRecorded[id]) {
			lastRecorded[id] = e.Meta.RecordedAt
		}
	}
	if len(desc.Roadmaps) != len(roadmaps) {
		t.Fatalf("%d roadmaps described, %d loaded", len(desc.Roadmaps), len(roadmaps))
	}
	nDeputies, nMeasures := 0, 0
	for _, rm := range desc.Roadmaps {
		if roadmaps[rm.ID] != rm.Territory.KATO {
			t.Errorf("roadmap %s of %s described, loaded for %q", rm.ID, rm.Territory.KATO, roadmaps[rm.ID])
		}
		for _, d := range rm.Deputies {
			nDeputies++
			got, ok := deputies[d.ID]
			if !ok || got.DisplayName != d.Name || got.Assembly != d.Assembly || !left[d.ID].Equal(d.Left) {
				t.Errorf("deputy %+v described; loaded %+v (left %s)", d, got, left[d.ID])
			}
		}
		for _, m := range rm.Measures {
			nMeasures++
			if indicators[m.ID] != rm.ID || !lastRecorded[m.ID].Equal(m.LastRecorded) {
				t.Errorf("measure %s of %s last recorded %s described; loaded of %q, last recorded %s",
					m.ID, rm.ID, m.LastRecorded, indicators[m.ID], lastRecorded[m.ID])
			}
		}
	}
	if nDeputies != len(deputies) || nMeasures != len(indicators) {
		t.Errorf("described %d deputies and %d measures; loaded %d and %d", nDeputies, nMeasures, len(deputies), len(indicators))
	}
}
