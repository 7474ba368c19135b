package commands

import (
	"context"

	"promiseledger/domain"
)

// RegisterRoadmap registers a program's roadmap for a territory. ID may be
// empty (see RegisterProgram). The program and the territory must be
// registered; only the republic has the republican roadmap.
type RegisterRoadmap struct {
	Header
	ID            string
	ProgramID     string
	TerritoryKATO string
	Level         domain.RoadmapLevel
	Title         domain.Text
	Period        domain.Period
}

// RegisterRoadmapHandler handles RegisterRoadmap.
type RegisterRoadmapHandler struct{ r *runner }

// Handle records roadmap.registered.v1.
func (h RegisterRoadmapHandler) Handle(ctx context.Context, cmd RegisterRoadmap) (Result, error) {
	cmd.Header = h.r.identified(cmd.Header)
	id := orEventID(cmd.ID, cmd.Header)
	if err := domain.ValidateID("id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.Roadmap]{
		id: id, stream: domain.RoadmapStream(id), eventType: domain.TypeRoadmapRegistered,
		rebuild: domain.RebuildRoadmap,
		decide: func(ctx context.Context, r *domain.Roadmap, m domain.Meta) error {
			program, territory, err := h.references(ctx, cmd)
			if err != nil {
				return err
			}
			e := domain.RoadmapRegistered{
				RoadmapID: id, ProgramID: cmd.ProgramID, TerritoryKATO: cmd.TerritoryKATO,
				Level: cmd.Level, Title: cmd.Title, Period: cmd.Period,
			}
			return r.Register(e, program, territory, m)
		},
	})
}

// references loads the program and the territory the roadmap names; a
// malformed reference is left nil for the domain to report with the rest.
func (h RegisterRoadmapHandler) references(ctx context.Context, cmd RegisterRoadmap) (*domain.Program, *domain.Territory, error) {
	var (
		program   *domain.Program
		territory *domain.Territory
		err       error
	)
	if domain.ValidateID("program_id", cmd.ProgramID) == nil {
		if program, err = load(ctx, h.r, domain.ProgramStream(cmd.ProgramID), domain.RebuildProgram); err != nil {
			return nil, nil, err
		}
	}
	if domain.ValidateKATO("territory_kato", cmd.TerritoryKATO) == nil {
		if territory, err = load(ctx, h.r, domain.TerritoryStream(cmd.TerritoryKATO), domain.RebuildTerritory); err != nil {
			return nil, nil, err
		}
	}
	return program, territory, nil
}
