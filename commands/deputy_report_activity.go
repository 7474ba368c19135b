package commands

import (
	"context"

	"promiseledger/domain"
)

// ReportDeputyActivity records a deputy's activity counts for a period
// that has ended: receptions held, people received, appeals handled and
// their outcomes. Counts only; nobody is named. The report's id is its
// event id.
type ReportDeputyActivity struct {
	Header
	DeputyID string
	Period   domain.Period
	Counts   domain.ActivityCounts
}

// ReportDeputyActivityHandler handles ReportDeputyActivity.
type ReportDeputyActivityHandler struct{ r *runner }

// Handle records deputy.activity_reported.v1.
func (h ReportDeputyActivityHandler) Handle(ctx context.Context, cmd ReportDeputyActivity) (Result, error) {
	return changeDeputy(ctx, h.r, cmd.Header, cmd.DeputyID, domain.TypeDeputyActivityReported,
		func(_ context.Context, d *domain.Deputy, m domain.Meta) error {
			return d.ReportActivity(cmd.Period, cmd.Counts, m)
		})
}
