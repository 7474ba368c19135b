package commands

import (
	"context"

	"promiseledger/domain"
)

// UnassignRoadmapResponsible releases a person from a roadmap;
// Header.Reason is required.
type UnassignRoadmapResponsible struct {
	Header
	RoadmapID string
	PersonID  string
}

// UnassignRoadmapResponsibleHandler handles UnassignRoadmapResponsible.
type UnassignRoadmapResponsibleHandler struct{ r *runner }

// Handle records roadmap.responsible_unassigned.v1.
func (h UnassignRoadmapResponsibleHandler) Handle(ctx context.Context, cmd UnassignRoadmapResponsible) (Result, error) {
	return changeRoadmap(ctx, h.r, cmd.Header, cmd.RoadmapID, domain.TypeRoadmapResponsibleUnassigned,
		func(r *domain.Roadmap, m domain.Meta) error { return r.UnassignResponsible(cmd.PersonID, m) })
}
