package domain_test

import (
	"testing"

	"promiseledger/domain"
)

func TestProgram(t *testing.T) {
	t.Parallel()
	register := func(e domain.ProgramRegistered) func(*domain.Program, domain.Meta) error {
		return func(p *domain.Program, m domain.Meta) error { return p.Register(e, m) }
	}
	padded := programRegistered
	padded.Name = domain.Text{KK: " Өзгерістер жолы ", RU: "Путь перемен\n", EN: "\tPath of change"}
	youth := programRegistered
	youth.Kind = domain.ProgramYouth
	with := func(edit func(*domain.ProgramRegistered)) domain.ProgramRegistered {
		e := programRegistered
		edit(&e)
		return e
	}

	runScenarios(t, domain.RebuildProgram, []scenario[*domain.Program]{
		{name: "registers", when: register(programRegistered), then: []domain.Event{programRegistered}},
		{name: "registers the youth program", when: register(youth), then: []domain.Event{youth}},
		{name: "trims names", when: register(padded), then: []domain.Event{programRegistered}},
		{name: "exists already", given: history(programRegistered), when: register(programRegistered), err: domain.ErrAlreadyExists},
		{name: "needs every language", when: register(with(func(e *domain.ProgramRegistered) { e.Name.KK = "  " })), field: "name.kk"},
		{name: "needs a known kind", when: register(with(func(e *domain.ProgramRegistered) { e.Kind = "senior" })), field: "kind"},
		{name: "needs a period in order", when: register(with(func(e *domain.ProgramRegistered) {
			e.Period = domain.Period{Start: domain.NewDate(2025, 1, 1), End: domain.NewDate(2021, 1, 1)}
		})), field: "period.end"},
		{name: "needs real dates", when: register(with(func(e *domain.ProgramRegistered) { e.Period.Start = domain.NewDate(2021, 2, 30) })), field: "period.start"},
		{name: "needs a canonical uuid", when: register(with(func(e *domain.ProgramRegistered) { e.ProgramID = "0190A1B2-C3D4-7E5F-8A9B-000000000001" })), field: "program_id"},
		{name: "needs an actor", when: func(p *domain.Program, m domain.Meta) error {
			m.ActorID = ""
			return p.Register(programRegistered, m)
		}, field: "actor_id"},
		{name: "refuses a future effective time", effective: now.Add(1), when: register(programRegistered), field: "effective_at"},
	})
}
