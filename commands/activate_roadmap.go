package commands

import (
	"context"

	"promiseledger/domain"
)

// ActivateRoadmap puts a registered roadmap in force.
type ActivateRoadmap struct {
	Header
	RoadmapID string
}

// ActivateRoadmapHandler handles ActivateRoadmap.
type ActivateRoadmapHandler struct{ r *runner }

// Handle records roadmap.activated.v1.
func (h ActivateRoadmapHandler) Handle(ctx context.Context, cmd ActivateRoadmap) (Result, error) {
	return changeRoadmap(ctx, h.r, cmd.Header, cmd.RoadmapID, domain.TypeRoadmapActivated, (*domain.Roadmap).Activate)
}
