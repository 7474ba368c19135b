package demo

import (
	"context"
	"math"

	"promiseledger/commands"
	"promiseledger/domain"
)

// The commands of an indicator's history. Ids of other steps (the
// indicator's, a corrected report's) are read when the command runs: they
// are assigned after planning, once every step's recorded time is known.

func reportProgress(ind *indicatorPlan, rep *report, ev domain.Evidence) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		value, done := ind.reading(rep)
		return h.ReportProgress.Handle(ctx, commands.ReportProgress{
			Header: hd, IndicatorID: ind.id(), Value: value, Done: done, Evidence: ev,
		})
	}
}

func correctReport(ind *indicatorPlan, of, fixed *report, ev domain.Evidence) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		value, done := ind.reading(fixed)
		return h.CorrectReport.Handle(ctx, commands.CorrectReport{
			Header: hd, IndicatorID: ind.id(), Corrects: of.s.id(), Value: value, Done: done, Evidence: ev,
		})
	}
}

func retargetIndicator(ind *indicatorPlan, change commands.RetargetIndicator) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		cmd := change
		cmd.Header, cmd.IndicatorID = hd, ind.id()
		return h.RetargetIndicator.Handle(ctx, cmd)
	}
}

func changeStatus(ind *indicatorPlan, to domain.IndicatorStatus) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.ChangeIndicatorStatus.Handle(ctx, commands.ChangeIndicatorStatus{Header: hd, IndicatorID: ind.id(), To: to})
	}
}

func cancelIndicator(ind *indicatorPlan) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: hd, IndicatorID: ind.id()})
	}
}

func assignIndicatorResponsible(ind *indicatorPlan, to person) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.AssignIndicatorResponsible.Handle(ctx, commands.AssignIndicatorResponsible{Header: hd, IndicatorID: ind.id(), PersonID: to.id})
	}
}

// reading is what a report says: for a milestone, done when frac reaches
// 1; for a numeric measure, the value frac of the way from the baseline to
// the final target. A reading below 1 is kept short of both the final
// target and the one in force when it was made, so only the reports meant
// to complete a measure do.
func (ind *indicatorPlan) reading(rep *report) (*float64, bool) {
	if ind.kind == domain.KindMilestone {
		return nil, rep.frac >= 1
	}
	v := ind.value(rep.frac, rep.inForce)
	return &v, false
}

func (ind *indicatorPlan) value(frac, inForce float64) float64 {
	base, target, q := ind.spec.baseline, ind.finalTarget, ind.spec.quantum
	if frac >= 1 {
		return target
	}
	span := target - base
	steps := math.Floor(frac * math.Abs(span) / q)
	v := quantize(base+math.Copysign(steps*q, span), q)
	for _, t := range []float64{target, inForce} {
		if reaches(v, base, t) {
			v = quantize(t-math.Copysign(q, t-base), q)
		}
	}
	return v
}

// reaches reports whether v meets target, in the direction from base.
func reaches(v, base, target float64) bool {
	if target > base {
		return v >= target
	}
	return v <= target
}
