package commands

import (
	"context"

	"promiseledger/domain"
)

// CorrectReport records what an earlier report (or correction) should have
// said; Header.Reason is required. The correction takes effect when the
// corrected report did, so leave Header.EffectiveAt zero.
type CorrectReport struct {
	Header
	IndicatorID string
	Corrects    string // the id of the report to correct
	Value       *float64
	Done        bool
	Evidence    domain.Evidence
}

// CorrectReportHandler handles CorrectReport.
type CorrectReportHandler struct{ r *runner }

// Handle records indicator.report_corrected.v1.
func (h CorrectReportHandler) Handle(ctx context.Context, cmd CorrectReport) (Result, error) {
	reading := domain.Reading{Value: cmd.Value, Done: cmd.Done}
	return changeIndicator(ctx, h.r, cmd.Header, cmd.IndicatorID, domain.TypeReportCorrected,
		func(a *domain.Indicator, m domain.Meta) error {
			return a.CorrectReport(cmd.Corrects, reading, cmd.Evidence, m)
		})
}
