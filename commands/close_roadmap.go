package commands

import (
	"context"

	"promiseledger/domain"
)

// CloseRoadmap ends a roadmap; Header.Reason is required.
type CloseRoadmap struct {
	Header
	RoadmapID string
}

// CloseRoadmapHandler handles CloseRoadmap.
type CloseRoadmapHandler struct{ r *runner }

// Handle records roadmap.closed.v1.
func (h CloseRoadmapHandler) Handle(ctx context.Context, cmd CloseRoadmap) (Result, error) {
	return changeRoadmap(ctx, h.r, cmd.Header, cmd.RoadmapID, domain.TypeRoadmapClosed, (*domain.Roadmap).Close)
}
