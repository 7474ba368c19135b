package domain

import "fmt"

// ProgramKind tells the party's main election program from its youth program.
type ProgramKind string

const (
	ProgramMain  ProgramKind = "main"
	ProgramYouth ProgramKind = "youth"
)

// Valid reports whether k is a known kind.
func (k ProgramKind) Valid() bool { return k == ProgramMain || k == ProgramYouth }

// Program is an election program ("Путь перемен", "Жастар — Отанға!").
type Program struct {
	recorder
	id     string
	name   Text
	kind   ProgramKind
	period Period
}

// RebuildProgram folds a program's stored history; an empty history gives a
// program that does not exist yet and can be registered.
func RebuildProgram(history []Envelope) (*Program, error) {
	p := &Program{}
	if err := p.replay(history, p.apply); err != nil {
		return nil, fmt.Errorf("rebuild program: %w", err)
	}
	return p, nil
}

func (p *Program) ID() string        { return p.id }
func (p *Program) Name() Text        { return p.name }
func (p *Program) Kind() ProgramKind { return p.kind }
func (p *Program) Period() Period    { return p.period }

// Exists reports whether the program has been registered.
func (p *Program) Exists() bool { return p.id != "" }

// Register records that the program exists.
func (p *Program) Register(e ProgramRegistered, m Meta) error {
	if p.Exists() {
		return fmt.Errorf("program %s: %w", p.id, ErrAlreadyExists)
	}
	var v validator
	m = p.stamp(m, &v)
	e.Name = e.Name.trimmed()
	validateID(&v, "program_id", e.ProgramID)
	e.Name.validate(&v, "name")
	v.check(e.Kind.Valid(), "kind", `must be "main" or "youth"`)
	e.Period.validate(&v, "period")
	if err := v.err(); err != nil {
		return err
	}
	return p.record(e, m, p.apply)
}

func (p *Program) apply(ev Event, _ Meta) error {
	switch e := ev.(type) {
	case ProgramRegistered:
		if p.Exists() {
			return invalidHistory("program %s registered twice", p.id)
		}
		p.id, p.name, p.kind, p.period = e.ProgramID, e.Name, e.Kind, e.Period
		return nil
	default:
		return invalidHistory("%s does not apply to a program", ev.EventType())
	}
}
