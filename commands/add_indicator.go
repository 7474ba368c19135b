package commands

import (
	"context"

	"promiseledger/domain"
)

// AddIndicator adds a measure to a roadmap that exists and is not closed.
// ID may be empty (see RegisterProgram). Numeric indicators need Baseline,
// Target and Unit; Weight zero means 1.
type AddIndicator struct {
	Header
	ID            string
	RoadmapID     string
	Title         domain.Text
	Kind          domain.IndicatorKind
	Baseline      *float64
	Target        *float64
	Unit          domain.Text
	Deadline      domain.Date
	Weight        float64
	ResponsibleID string
}

// AddIndicatorHandler handles AddIndicator.
type AddIndicatorHandler struct{ r *runner }

// Handle records indicator.added.v1.
//
// The roadmap is read, not locked: a roadmap closed between that read and
// the append can still receive this indicator. Closing is rare and
// deliberate, and the indicator's history shows the order, so the ledger
// accepts the race rather than couple two streams in one transaction.
func (h AddIndicatorHandler) Handle(ctx context.Context, cmd AddIndicator) (Result, error) {
	cmd.Header = h.r.identified(cmd.Header)
	id := orEventID(cmd.ID, cmd.Header)
	if err := domain.ValidateID("id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.Indicator]{
		id: id, stream: domain.IndicatorStream(id), eventType: domain.TypeIndicatorAdded,
		rebuild: domain.RebuildIndicator,
		decide: func(ctx context.Context, a *domain.Indicator, m domain.Meta) error {
			var roadmap *domain.Roadmap
			if domain.ValidateID("roadmap_id", cmd.RoadmapID) == nil {
				var err error
				if roadmap, err = load(ctx, h.r, domain.RoadmapStream(cmd.RoadmapID), domain.RebuildRoadmap); err != nil {
					return err
				}
			}
			return a.Add(domain.IndicatorAdded{
				IndicatorID: id, RoadmapID: cmd.RoadmapID, Title: cmd.Title, Kind: cmd.Kind,
				Baseline: cmd.Baseline, Target: cmd.Target, Unit: cmd.Unit,
				Deadline: cmd.Deadline, Weight: cmd.Weight, ResponsibleID: cmd.ResponsibleID,
			}, roadmap, m)
		},
	})
}
