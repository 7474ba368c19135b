package commands

import (
	"context"

	"promiseledger/domain"
)

// AssignDeputyResponsibility makes a deputy answer for a roadmap (all its
// measures) or one indicator, which must be registered.
type AssignDeputyResponsibility struct {
	Header
	DeputyID  string
	Subject   domain.ResponsibilityKind
	SubjectID string
}

// AssignDeputyResponsibilityHandler handles AssignDeputyResponsibility.
type AssignDeputyResponsibilityHandler struct{ r *runner }

// Handle records deputy.responsibility_assigned.v1.
func (h AssignDeputyResponsibilityHandler) Handle(ctx context.Context, cmd AssignDeputyResponsibility) (Result, error) {
	return changeDeputy(ctx, h.r, cmd.Header, cmd.DeputyID, domain.TypeDeputyResponsibilityAssigned,
		func(ctx context.Context, d *domain.Deputy, m domain.Meta) error {
			var exists bool
			var err error
			switch cmd.Subject {
			case domain.ResponsibleForRoadmap:
				exists, err = roadmapExists(ctx, h.r, cmd.SubjectID)
			case domain.ResponsibleForIndicator:
				exists, err = indicatorExists(ctx, h.r, cmd.SubjectID)
			}
			if err != nil {
				return err
			}
			return d.AssignResponsibility(cmd.Subject, cmd.SubjectID, exists, m)
		})
}
