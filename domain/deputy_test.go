package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
)

const deputyID = "deputy-17"

var (
	districtUnit     = domain.TerritoryRegistered{KATO: "113200000", Name: domain.Text{KK: "Аршалы", RU: "Аршалынский", EN: "Arshaly"}, Kind: domain.TerritoryDistrict, ParentKATO: "110000000"}
	maslikhat        = domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: "110000000", Level: domain.CouncilRegional}
	deputyRegistered = domain.DeputyRegistered{DeputyID: deputyID, DisplayName: "Айгерим Сейткали", Assembly: maslikhat}
	factionJoined    = domain.DeputyFactionJoined{DeputyID: deputyID, Faction: "nur-otan"}
	april            = domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 4, 30)}
	aprilCounts      = domain.ActivityCounts{ReceptionsHeld: 4, PeopleReceived: 37, AppealsHandled: 20,
		Outcomes: domain.AppealOutcomes{Positive: 15, Explained: 3, Rejected: 1, Pending: 1}}
	aprilReported = domain.DeputyActivityReported{DeputyID: deputyID, ReportID: "rep-1", Period: april, ActivityCounts: aprilCounts}
)

func TestDeputyRegister(t *testing.T) {
	t.Parallel()
	region := mustRebuild(t, domain.RebuildTerritory, akmola)
	rep := mustRebuild(t, domain.RebuildTerritory, republic)
	district := mustRebuild(t, domain.RebuildTerritory, districtUnit)
	register := func(e domain.DeputyRegistered, tr *domain.Territory) func(*domain.Deputy, domain.Meta) error {
		return func(d *domain.Deputy, m domain.Meta) error { return d.Register(e, tr, m) }
	}
	with := func(edit func(*domain.DeputyRegistered)) domain.DeputyRegistered {
		e := deputyRegistered
		edit(&e)
		return e
	}
	mazhilis := with(func(e *domain.DeputyRegistered) {
		e.Assembly = domain.Assembly{Kind: domain.AssemblyMazhilis, TerritoryKATO: "0", Level: domain.CouncilRepublican}
	})
	districtDeputy := with(func(e *domain.DeputyRegistered) {
		e.Assembly = domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: "113200000", Level: domain.CouncilDistrict}
	})
	runScenarios(t, domain.RebuildDeputy, []scenario[*domain.Deputy]{
		{name: "a deputy of a regional maslikhat", when: register(deputyRegistered, region), then: []domain.Event{deputyRegistered}},
		{name: "a deputy of a district maslikhat", when: register(districtDeputy, district), then: []domain.Event{districtDeputy}},
		{name: "a deputy of the Mazhilis", when: register(mazhilis, rep), then: []domain.Event{mazhilis}},
		{name: "the wrong level for the territory", when: register(with(func(e *domain.DeputyRegistered) { e.Assembly.Level = domain.CouncilDistrict }), region), field: "assembly.level"},
		{name: "the Mazhilis sits for the republic", when: register(with(func(e *domain.DeputyRegistered) { e.Assembly.Kind = domain.AssemblyMazhilis }), region),
			field: "assembly.territory_kato"},
		{name: "a maslikhat of the republic", when: register(with(func(e *domain.DeputyRegistered) {
			e.Assembly = domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: "0", Level: domain.CouncilRepublican}
		}), rep), field: "assembly.territory_kato"},
		{name: "territory not registered", when: register(deputyRegistered, nil), err: domain.ErrUnknownReference, field: "assembly.territory_kato"},
		{name: "a public name, not an e-mail", when: register(with(func(e *domain.DeputyRegistered) { e.DisplayName = "a.seitkali@maslikhat.kz" }), region),
			field: "display_name"},
		{name: "an opaque id", when: register(with(func(e *domain.DeputyRegistered) { e.DeputyID = "deputy 17" }), region), field: "deputy_id"},
		{name: "registered twice", given: history(deputyRegistered), when: register(deputyRegistered, region), err: domain.ErrAlreadyExists},
	})
}

func TestDeputyFactionAndResponsibility(t *testing.T) {
	t.Parallel()
	join := func(f string) func(*domain.Deputy, domain.Meta) error {
		return func(d *domain.Deputy, m domain.Meta) error { return d.JoinFaction(f, m) }
	}
	leave := func(d *domain.Deputy, m domain.Meta) error { return d.LeaveFaction(m) }
	left := domain.DeputyFactionLeft{DeputyID: deputyID, Faction: "nur-otan"}
	assign := func(kind domain.ResponsibilityKind, id string, exists bool) func(*domain.Deputy, domain.Meta) error {
		return func(d *domain.Deputy, m domain.Meta) error { return d.AssignResponsibility(kind, id, exists, m) }
	}
	release := func(kind domain.ResponsibilityKind, id string) func(*domain.Deputy, domain.Meta) error {
		return func(d *domain.Deputy, m domain.Meta) error { return d.ReleaseResponsibility(kind, id, m) }
	}
	assigned := domain.DeputyResponsibilityAssigned{DeputyID: deputyID, Subject: domain.ResponsibleForRoadmap, SubjectID: roadmapID}
	released := domain.DeputyResponsibilityReleased{DeputyID: deputyID, Subject: domain.ResponsibleForRoadmap, SubjectID: roadmapID}
	runScenarios(t, domain.RebuildDeputy, []scenario[*domain.Deputy]{
		{name: "joins the faction", given: history(deputyRegistered), when: join(" nur-otan "), then: []domain.Event{factionJoined}},
		{name: "joins once", given: history(deputyRegistered, factionJoined), when: join("nur-otan"), err: domain.ErrInvalidTransition},
		{name: "faction is a slug", given: history(deputyRegistered), when: join("Nur Otan"), field: "faction"},
		{name: "leaves with a reason", given: history(deputyRegistered, factionJoined), reason: "mandate ended", when: leave, then: []domain.Event{left}},
		{name: "leaving needs a reason", given: history(deputyRegistered, factionJoined), when: leave, err: domain.ErrReasonRequired},
		{name: "cannot leave without being in it", given: history(deputyRegistered), reason: "x", when: leave, err: domain.ErrNotFactionMember},
		{name: "rejoins", given: history(deputyRegistered, factionJoined, left), when: join("nur-otan"), then: []domain.Event{factionJoined}},
		{name: "answers for a roadmap", given: history(deputyRegistered), when: assign(domain.ResponsibleForRoadmap, roadmapID, true), then: []domain.Event{assigned}},
		{name: "the roadmap must exist", given: history(deputyRegistered), when: assign(domain.ResponsibleForRoadmap, roadmapID, false), err: domain.ErrUnknownReference, field: "subject_id"},
		{name: "assigned once", given: history(deputyRegistered, assigned), when: assign(domain.ResponsibleForRoadmap, roadmapID, true), err: domain.ErrAlreadyAssigned},
		{name: "an unknown subject", given: history(deputyRegistered), when: assign("program", roadmapID, true), field: "subject"},
		{name: "released with a reason", given: history(deputyRegistered, assigned), reason: "handed over", when: release(domain.ResponsibleForRoadmap, roadmapID), then: []domain.Event{released}},
		{name: "release something not assigned", given: history(deputyRegistered), reason: "x", when: release(domain.ResponsibleForRoadmap, roadmapID), err: domain.ErrNotAssigned},
		{name: "release needs a reason", given: history(deputyRegistered, assigned), when: release(domain.ResponsibleForRoadmap, roadmapID), err: domain.ErrReasonRequired},
		{name: "a missing deputy", when: join("nur-otan"), err: domain.ErrNotFound},
	})
}

func TestDeputyActivity(t *testing.T) {
	t.Parallel()
	report := func(p domain.Period, c domain.ActivityCounts) func(*domain.Deputy, domain.Meta) error {
		return func(d *domain.Deputy, m domain.Meta) error { return d.ReportActivity(p, c, m) }
	}
	correct := func(id string, c domain.ActivityCounts) func(*domain.Deputy, domain.Meta) error {
		return func(d *domain.Deputy, m domain.Meta) error { return d.CorrectActivity(id, c, m) }
	}
	may := domain.Period{Start: domain.NewDate(2021, 5, 1), End: domain.NewDate(2021, 5, 31)}
	counts := func(edit func(*domain.ActivityCounts)) domain.ActivityCounts {
		c := aprilCounts
		edit(&c)
		return c
	}
	fixed := counts(func(c *domain.ActivityCounts) { c.ReceptionsHeld = 5 })
	runScenarios(t, domain.RebuildDeputy, []scenario[*domain.Deputy]{
		{name: "reports April", given: history(deputyRegistered), when: report(april, aprilCounts),
			then: []domain.Event{domain.DeputyActivityReported{DeputyID: deputyID, ReportID: whenID.String(), Period: april, ActivityCounts: aprilCounts}}},
		{name: "outcomes add up to the appeals", given: history(deputyRegistered), when: report(april, counts(func(c *domain.ActivityCounts) { c.Outcomes.Pending = 7 })), field: "outcomes"},
		{name: "counts are not negative", given: history(deputyRegistered), when: report(april, counts(func(c *domain.ActivityCounts) { c.ReceptionsHeld = -1 })), field: "receptions_held"},
		{name: "no people without a reception", given: history(deputyRegistered), when: report(april, counts(func(c *domain.ActivityCounts) { c.ReceptionsHeld = 0 })), field: "people_received"},
		{name: "a period that has not ended", given: history(deputyRegistered), when: report(domain.Period{Start: domain.NewDate(2021, 6, 1), End: domain.NewDate(2021, 6, 30)}, aprilCounts),
			field: "period.end"},
		{name: "a period before registration", given: history(deputyRegistered), when: report(domain.Period{Start: domain.NewDate(2021, 2, 1), End: domain.NewDate(2021, 2, 28)}, aprilCounts),
			field: "period.start"},
		{name: "overlapping a report", given: history(deputyRegistered, aprilReported), when: report(domain.Period{Start: domain.NewDate(2021, 4, 15), End: domain.NewDate(2021, 5, 15)}, aprilCounts),
			err: domain.ErrPeriodOverlap, field: "period"},
		{name: "the next month", given: history(deputyRegistered, aprilReported), when: report(may, aprilCounts),
			then: []domain.Event{domain.DeputyActivityReported{DeputyID: deputyID, ReportID: whenID.String(), Period: may, ActivityCounts: aprilCounts}}},
		{name: "corrected with a reason", given: history(deputyRegistered, aprilReported), reason: "one reception missed", when: correct("rep-1", fixed),
			then: []domain.Event{domain.DeputyActivityCorrected{DeputyID: deputyID, ReportID: whenID.String(), Corrects: "rep-1", ActivityCounts: fixed}}},
		{name: "correction needs a reason", given: history(deputyRegistered, aprilReported), when: correct("rep-1", fixed), err: domain.ErrReasonRequired},
		{name: "correct an unknown report", given: history(deputyRegistered), reason: "x", when: correct("rep-1", fixed), err: domain.ErrReportNotFound},
		{name: "correct the latest of a chain", given: history(deputyRegistered, aprilReported,
			domain.DeputyActivityCorrected{DeputyID: deputyID, ReportID: "rep-2", Corrects: "rep-1", ActivityCounts: fixed}),
			reason: "x", when: correct("rep-1", aprilCounts), err: domain.ErrAlreadyCorrected},
	})
}

func TestDeputyFactionDaysAndActivity(t *testing.T) {
	t.Parallel()
	h := history(deputyRegistered, factionJoined, aprilReported)
	// Joined on 2021-03-01 (t0 + 1h); left on 2021-04-11: 10 April days.
	left := history(domain.DeputyFactionLeft{DeputyID: deputyID, Faction: "nur-otan"})[0]
	left.Meta.EventID = uuid.NewSHA1(uuid.NameSpaceOID, []byte("left"))
	left.Meta.EffectiveAt = time.Date(2021, 4, 11, 10, 0, 0, 0, time.UTC)
	left.Meta.RecordedAt = left.Meta.EffectiveAt
	h = append(h, left)
	s, err := domain.FoldDeputy(h, nil)
	if err != nil {
		t.Fatal(err)
	}
	end := domain.EndOfPeriod(april)
	if got := s.FactionDays(april, end); got != 10 {
		t.Errorf("faction days in April: %d, want 10", got)
	}
	if got := s.FactionDays(domain.Period{Start: domain.NewDate(2021, 3, 1), End: domain.NewDate(2021, 3, 31)}, end); got != 31 {
		t.Errorf("faction days in March: %d, want 31", got)
	}
	// As of 5 April, the leaving has not happened: 5 days so far.
	early, _ := domain.FoldDeputy(h, domain.EffectiveBy(time.Date(2021, 4, 5, 12, 0, 0, 0, time.UTC)))
	if got := early.FactionDays(april, time.Date(2021, 4, 5, 12, 0, 0, 0, time.UTC)); got != 5 {
		t.Errorf("faction days in April as of the 5th: %d, want 5", got)
	}
	c, events, ok := s.ActivityIn(domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)})
	if !ok || c != aprilCounts || len(events) != 1 || events[0] != h[2].Meta.EventID {
		t.Errorf("activity in Q2: %v %+v %v", ok, c, events)
	}
	if _, _, ok := s.ActivityIn(domain.Period{Start: domain.NewDate(2021, 5, 1), End: domain.NewDate(2021, 5, 31)}); ok {
		t.Error("May has no report")
	}
}
