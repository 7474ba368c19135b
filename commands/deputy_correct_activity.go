package commands

import (
	"context"

	"promiseledger/domain"
)

// CorrectDeputyActivity records that an activity report (Corrects, the
// latest of its chain) should have said Counts. It needs a reason and takes
// effect when the report did.
type CorrectDeputyActivity struct {
	Header
	DeputyID string
	Corrects string
	Counts   domain.ActivityCounts
}

// CorrectDeputyActivityHandler handles CorrectDeputyActivity.
type CorrectDeputyActivityHandler struct{ r *runner }

// Handle records deputy.activity_corrected.v1.
func (h CorrectDeputyActivityHandler) Handle(ctx context.Context, cmd CorrectDeputyActivity) (Result, error) {
	return changeDeputy(ctx, h.r, cmd.Header, cmd.DeputyID, domain.TypeDeputyActivityCorrected,
		func(_ context.Context, d *domain.Deputy, m domain.Meta) error {
			return d.CorrectActivity(cmd.Corrects, cmd.Counts, m)
		})
}
