package commands

import (
	"context"

	"promiseledger/domain"
)

// RegisterProgram registers an election program. ID may be empty: the
// program then takes the event id, so a retry with the same EventID
// registers the same program.
type RegisterProgram struct {
	Header
	ID     string
	Name   domain.Text
	Kind   domain.ProgramKind
	Period domain.Period
}

// RegisterProgramHandler handles RegisterProgram.
type RegisterProgramHandler struct{ r *runner }

// Handle records program.registered.v1.
func (h RegisterProgramHandler) Handle(ctx context.Context, cmd RegisterProgram) (Result, error) {
	cmd.Header = h.r.identified(cmd.Header)
	id := orEventID(cmd.ID, cmd.Header)
	if err := domain.ValidateID("id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.Program]{
		id: id, stream: domain.ProgramStream(id), eventType: domain.TypeProgramRegistered,
		rebuild: domain.RebuildProgram,
		decide: func(_ context.Context, p *domain.Program, m domain.Meta) error {
			return p.Register(domain.ProgramRegistered{ProgramID: id, Name: cmd.Name, Kind: cmd.Kind, Period: cmd.Period}, m)
		},
	})
}
