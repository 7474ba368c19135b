package commands

import (
	"context"

	"promiseledger/domain"
)

// RecordAssessment records a public council's assessment of an indicator's
// reported status. The actor must be a current member. The event
// snapshots the status the ledger reports and who may reply: the
// indicator's responsible person and the roadmap's responsible deputies and
// officials. ID may be empty (see RegisterCouncil).
type RecordAssessment struct {
	Header
	ID          string
	CouncilID   string
	IndicatorID string
	// ReportID names the report assessed; empty means the latest in force.
	ReportID string
	Position domain.AssessmentPosition
	Comment  string
	Evidence domain.Evidence
}

// RecordAssessmentHandler handles RecordAssessment.
type RecordAssessmentHandler struct{ r *runner }

// Handle records assessment.recorded.v1.
func (h RecordAssessmentHandler) Handle(ctx context.Context, cmd RecordAssessment) (Result, error) {
	cmd.Header = h.r.identified(cmd.Header)
	id := orEventID(cmd.ID, cmd.Header)
	if err := domain.ValidateID("id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.Assessment]{
		id: id, stream: domain.AssessmentStream(id), eventType: domain.TypeAssessmentRecorded,
		rebuild: domain.RebuildAssessment,
		decide: func(ctx context.Context, a *domain.Assessment, m domain.Meta) error {
			council, err := loadCouncil(ctx, h.r, cmd.CouncilID)
			if err != nil {
				return err
			}
			var indicator domain.IndicatorState
			var roadmap *domain.Roadmap
			if domain.ValidateID("indicator_id", cmd.IndicatorID) == nil {
				ind, err := load(ctx, h.r, domain.IndicatorStream(cmd.IndicatorID), domain.RebuildIndicator)
				if err != nil {
					return err
				}
				indicator = ind.State()
				if indicator.RoadmapID != "" {
					if roadmap, err = load(ctx, h.r, domain.RoadmapStream(indicator.RoadmapID), domain.RebuildRoadmap); err != nil {
						return err
					}
				}
			}
			return a.Record(domain.AssessmentInput{AssessmentID: id, CouncilID: cmd.CouncilID, IndicatorID: cmd.IndicatorID,
				ReportID: cmd.ReportID, Position: cmd.Position, Comment: cmd.Comment, Evidence: cmd.Evidence},
				council, indicator, roadmap, m)
		},
	})
}
