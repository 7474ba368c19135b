package commands

import (
	"context"

	"promiseledger/domain"
)

// ReleaseDeputyResponsibility ends a deputy's responsibility for a roadmap
// or an indicator; it needs a reason.
type ReleaseDeputyResponsibility struct {
	Header
	DeputyID  string
	Subject   domain.ResponsibilityKind
	SubjectID string
}

// ReleaseDeputyResponsibilityHandler handles ReleaseDeputyResponsibility.
type ReleaseDeputyResponsibilityHandler struct{ r *runner }

// Handle records deputy.responsibility_released.v1.
func (h ReleaseDeputyResponsibilityHandler) Handle(ctx context.Context, cmd ReleaseDeputyResponsibility) (Result, error) {
	return changeDeputy(ctx, h.r, cmd.Header, cmd.DeputyID, domain.TypeDeputyResponsibilityReleased,
		func(_ context.Context, d *domain.Deputy, m domain.Meta) error {
			return d.ReleaseResponsibility(cmd.Subject, cmd.SubjectID, m)
		})
}
