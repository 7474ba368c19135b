package commands

import (
	"context"

	"promiseledger/domain"
)

// ReportProgress records where an indicator stood, with evidence: a Value
// for a numeric indicator, Done for a milestone. Header.EffectiveAt is the
// report's as_of (default now); the report's id is its event id.
type ReportProgress struct {
	Header
	IndicatorID string
	Value       *float64
	Done        bool
	Evidence    domain.Evidence
}

// ReportProgressHandler handles ReportProgress.
type ReportProgressHandler struct{ r *runner }

// Handle records indicator.progress_reported.v1.
func (h ReportProgressHandler) Handle(ctx context.Context, cmd ReportProgress) (Result, error) {
	reading := domain.Reading{Value: cmd.Value, Done: cmd.Done}
	return changeIndicator(ctx, h.r, cmd.Header, cmd.IndicatorID, domain.TypeProgressReported,
		func(a *domain.Indicator, m domain.Meta) error { return a.ReportProgress(reading, cmd.Evidence, m) })
}
