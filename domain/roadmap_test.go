package domain_test

import (
	"reflect"
	"testing"

	"promiseledger/domain"
)

func TestRoadmapRegister(t *testing.T) {
	t.Parallel()
	program := mustRebuild(t, domain.RebuildProgram, programRegistered)
	rep := mustRebuild(t, domain.RebuildTerritory, republic)
	region := mustRebuild(t, domain.RebuildTerritory, akmola)
	register := func(e domain.RoadmapRegistered, p *domain.Program, tr *domain.Territory) func(*domain.Roadmap, domain.Meta) error {
		return func(r *domain.Roadmap, m domain.Meta) error { return r.Register(e, p, tr, m) }
	}
	with := func(edit func(*domain.RoadmapRegistered)) domain.RoadmapRegistered {
		e := roadmapRegistered
		edit(&e)
		return e
	}
	republican := with(func(e *domain.RoadmapRegistered) { e.TerritoryKATO, e.Level = "0", domain.LevelRepublican })

	runScenarios(t, domain.RebuildRoadmap, []scenario[*domain.Roadmap]{
		{name: "regional roadmap of a region", when: register(roadmapRegistered, program, region), then: []domain.Event{roadmapRegistered}},
		{name: "republican roadmap of the republic", when: register(republican, program, rep), then: []domain.Event{republican}},
		{name: "republican roadmap of a region", when: register(with(func(e *domain.RoadmapRegistered) { e.Level = domain.LevelRepublican }), program, region), field: "level"},
		{name: "regional roadmap of the republic", when: register(with(func(e *domain.RoadmapRegistered) { e.TerritoryKATO = "0" }), program, rep), field: "level"},
		{name: "unknown level", when: register(with(func(e *domain.RoadmapRegistered) { e.Level = "national" }), program, region), field: "level"},
		{name: "program not registered", when: register(roadmapRegistered, nil, region), err: domain.ErrUnknownReference, field: "program_id"},
		{name: "territory not registered", when: register(roadmapRegistered, program, &domain.Territory{}), err: domain.ErrUnknownReference, field: "territory_kato"},
		{name: "period outside the program's", when: register(with(func(e *domain.RoadmapRegistered) { e.Period.End = domain.NewDate(2026, 1, 1) }), program, region), field: "period"},
		{name: "needs a title", when: register(with(func(e *domain.RoadmapRegistered) { e.Title = domain.Text{} }), program, region), field: "title.ru"},
		{name: "exists already", given: history(roadmapRegistered), when: register(roadmapRegistered, program, region), err: domain.ErrAlreadyExists},
	})
}

func TestRoadmapLifecycle(t *testing.T) {
	t.Parallel()
	activated := domain.RoadmapActivated{RoadmapID: roadmapID}
	closed := domain.RoadmapClosed{RoadmapID: roadmapID}
	deputy := domain.Responsible{PersonID: "deputy-1", Role: domain.RoleDeputy, DisplayName: "Айгерим Сейткали"}
	assigned := domain.RoadmapResponsibleAssigned{RoadmapID: roadmapID, Responsible: deputy}
	unassigned := domain.RoadmapResponsibleUnassigned{RoadmapID: roadmapID, PersonID: "deputy-1"}
	activate := func(r *domain.Roadmap, m domain.Meta) error { return r.Activate(m) }
	closeIt := func(r *domain.Roadmap, m domain.Meta) error { return r.Close(m) }
	assign := func(p domain.Responsible) func(*domain.Roadmap, domain.Meta) error {
		return func(r *domain.Roadmap, m domain.Meta) error { return r.AssignResponsible(p, m) }
	}
	unassign := func(id string) func(*domain.Roadmap, domain.Meta) error {
		return func(r *domain.Roadmap, m domain.Meta) error { return r.UnassignResponsible(id, m) }
	}
	official := domain.Responsible{PersonID: " official-9 ", Role: domain.RoleOfficial, DisplayName: " Аким "}

	runScenarios(t, domain.RebuildRoadmap, []scenario[*domain.Roadmap]{
		{name: "activates", given: history(roadmapRegistered), when: activate, then: []domain.Event{activated}},
		{name: "activates once", given: history(roadmapRegistered, activated), when: activate, err: domain.ErrInvalidTransition},
		{name: "activate missing", when: activate, err: domain.ErrNotFound},
		{name: "activate closed", given: history(roadmapRegistered, closed), when: activate, err: domain.ErrRoadmapClosed},
		{name: "closes with a reason", given: history(roadmapRegistered, activated), reason: "term ended", when: closeIt, then: []domain.Event{closed}},
		{name: "closes a registered roadmap", given: history(roadmapRegistered), reason: "withdrawn", when: closeIt, then: []domain.Event{closed}},
		{name: "close needs a reason", given: history(roadmapRegistered), when: closeIt, err: domain.ErrReasonRequired, field: "reason"},
		{name: "close twice", given: history(roadmapRegistered, closed), reason: "again", when: closeIt, err: domain.ErrRoadmapClosed},
		{name: "assigns a deputy", given: history(roadmapRegistered), when: assign(deputy), then: []domain.Event{assigned}},
		{name: "assigns a trimmed official", given: history(roadmapRegistered), when: assign(official), then: []domain.Event{
			domain.RoadmapResponsibleAssigned{RoadmapID: roadmapID, Responsible: domain.Responsible{PersonID: "official-9", Role: domain.RoleOfficial, DisplayName: "Аким"}},
		}},
		{name: "assigns twice", given: history(roadmapRegistered, assigned), when: assign(deputy), err: domain.ErrAlreadyAssigned},
		{name: "reassigns after unassignment", given: history(roadmapRegistered, assigned, unassigned), when: assign(deputy), then: []domain.Event{assigned}},
		{name: "assign needs a role", given: history(roadmapRegistered), when: assign(domain.Responsible{PersonID: "p", DisplayName: "P"}), field: "role"},
		{name: "assign needs a name", given: history(roadmapRegistered), when: assign(domain.Responsible{PersonID: "p", Role: domain.RoleDeputy}), field: "display_name"},
		{name: "assign needs a person", given: history(roadmapRegistered), when: assign(domain.Responsible{Role: domain.RoleDeputy, DisplayName: "P"}), field: "person_id"},
		{name: "assign on closed", given: history(roadmapRegistered, closed), when: assign(deputy), err: domain.ErrRoadmapClosed},
		{name: "unassigns with a reason", given: history(roadmapRegistered, assigned), reason: "left the maslikhat", when: unassign("deputy-1"), then: []domain.Event{unassigned}},
		{name: "unassign needs a reason", given: history(roadmapRegistered, assigned), when: unassign("deputy-1"), err: domain.ErrReasonRequired, field: "reason"},
		{name: "unassign someone not assigned", given: history(roadmapRegistered), reason: "x", when: unassign("deputy-1"), err: domain.ErrNotAssigned},
		{name: "unassign on closed", given: history(roadmapRegistered, assigned, closed), reason: "x", when: unassign("deputy-1"), err: domain.ErrRoadmapClosed},
		{name: "no change effective before registration", given: history(roadmapRegistered), effective: t0.Add(-1), when: activate, field: "effective_at"},
	})
}

func TestRoadmapResponsibles(t *testing.T) {
	t.Parallel()
	a := domain.Responsible{PersonID: "a", Role: domain.RoleDeputy, DisplayName: "A"}
	b := domain.Responsible{PersonID: "b", Role: domain.RoleOfficial, DisplayName: "B"}
	r := mustRebuild(t, domain.RebuildRoadmap, roadmapRegistered,
		domain.RoadmapResponsibleAssigned{RoadmapID: roadmapID, Responsible: a},
		domain.RoadmapResponsibleAssigned{RoadmapID: roadmapID, Responsible: b},
		domain.RoadmapResponsibleUnassigned{RoadmapID: roadmapID, PersonID: "a"},
		domain.RoadmapActivated{RoadmapID: roadmapID},
	)
	if got := r.Responsibles(); !reflect.DeepEqual(got, []domain.Responsible{b}) {
		t.Errorf("Responsibles() = %v", got)
	}
	if r.Status() != domain.RoadmapStatusActive || r.Version() != 5 {
		t.Errorf("status %s version %d", r.Status(), r.Version())
	}
}

func TestRoadmapRefusesForeignHistory(t *testing.T) {
	t.Parallel()
	for name, h := range map[string][]domain.Envelope{
		"event before registration": history(domain.RoadmapActivated{RoadmapID: roadmapID}),
		"another roadmap's event":   history(roadmapRegistered, domain.RoadmapActivated{RoadmapID: otherID}),
		"an indicator event":        history(roadmapRegistered, domain.IndicatorCancelled{IndicatorID: indicatorID}),
		"registered twice":          history(roadmapRegistered, roadmapRegistered),
	} {
		if _, err := domain.RebuildRoadmap(h); !errorsIs(err, domain.ErrInvalidHistory) {
			t.Errorf("%s: err = %v, want ErrInvalidHistory", name, err)
		}
	}
}
