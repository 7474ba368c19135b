package demo

import (
	"context"
	"math/rand/v2"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
)

const cancelShare = 0.04 // measures dropped during the term

// indicatorPlan is one measure: what it is, and the outline of its fate
// that its history is drawn from.
type indicatorPlan struct {
	rm       *roadmapPlan
	add      *step
	kind     domain.IndicatorKind
	spec     measureSpec
	deadline domain.Date
	weight   float64
	official person
	// addedAt is the effective time of indicator.added.v1.
	addedAt time.Time
	// initial: in the roadmap from the start, so counted in the published
	// figures; the others are added later in the term.
	initial bool
	// cancelAt is when the measure is dropped; zero if it never is.
	cancelAt time.Time
	// early: done by calibrateAt; chosen by calibrate.
	early bool
	// finalTarget is the target in force at the end (numeric only): the
	// added one unless a re-target raises it.
	finalTarget float64
	// steps are the measure's history, add included, in recording order.
	steps []*step
}

func (ind *indicatorPlan) id() string { return ind.add.id() }

// templateCycle deals template indexes in a shuffled order, reshuffling
// when it runs out, so a roadmap repeats a template only after using all.
type templateCycle struct {
	order []int
	next  int
}

func (c *templateCycle) take(r *rand.Rand) int {
	if c.next == len(c.order) {
		r.Shuffle(len(c.order), func(i, j int) { c.order[i], c.order[j] = c.order[j], c.order[i] })
		c.next = 0
	}
	c.next++
	return c.order[c.next-1]
}

// indicators plans the roadmap's measures: n from the start and a few
// added later in the term.
func (pl *planner) indicators(rm *roadmapPlan, n int, regions []Territory) {
	r := rm.r
	cycles := map[domain.IndicatorKind]*templateCycle{}
	for _, k := range []domain.IndicatorKind{domain.KindMilestone, domain.KindNumeric} {
		order := capable(k)
		cycles[k] = &templateCycle{order: order, next: len(order)}
	}
	later := 0
	for range n {
		if chance(r, laterShare) {
			later++
		}
	}
	firstLater := addDays(pl.calibrateAt, 30)
	lastLater := noonUTC(pl.cfg.Start.AddDate(2, 6, 0))
	for i := range n + later {
		added, initial := pl.start, i < n
		if !initial {
			added = dayIn(r, firstLater, lastLater)
		}
		var region *Territory
		if len(regions) > 0 {
			region = &regions[i%len(regions)]
		}
		rm.indicators = append(rm.indicators, pl.indicator(rm, cycles, added, initial, region))
	}
}

// indicator plans one measure and its indicator.added.v1.
func (pl *planner) indicator(rm *roadmapPlan, cycles map[domain.IndicatorKind]*templateCycle, added time.Time, initial bool, region *Territory) *indicatorPlan {
	r := rm.r
	kind := domain.KindNumeric
	if chance(r, milestoneShare) {
		kind = domain.KindMilestone
	}
	m := measures[cycles[kind].take(r)]
	ind := &indicatorPlan{
		rm: rm, kind: kind, spec: m.concrete(r, kind, measureSize(rm, region)),
		deadline: pl.deadline(r, added), weight: float64(weightOf(r)),
		official: pick(r, rm.officials), addedAt: added, initial: initial,
	}
	if region != nil {
		ind.spec.title = inRegion(ind.spec.title, region.Name)
	}
	ind.finalTarget = ind.spec.target
	if chance(r, cancelShare) {
		ind.cancelAt = addDays(added, intIn(r, 60, 1000))
	}
	lag := intIn(r, 3, 20)
	if !initial {
		lag = intIn(r, 1, 14)
	}
	at := officeTime(r, added, lag)
	if !at.After(rm.activate.at) {
		at = officeTime(r, rm.activate.at, lag)
	}
	ind.add = &step{at: at, kind: kindIndicator, header: commands.Header{Actor: admin, EffectiveAt: added}, exec: addIndicator(ind)}
	return ind
}

func measureSize(rm *roadmapPlan, region *Territory) float64 {
	switch {
	case region != nil:
		return republicanMeasureSize
	case rm.t.depth() == 1:
		return regionRankMeasureSize
	}
	return localMeasureSize
}

// inRegion names the region a republican measure is for.
func inRegion(title, region domain.Text) domain.Text {
	return domain.Text{
		KK: title.KK + " (" + region.KK + ")",
		RU: title.RU + " (" + region.RU + ")",
		EN: title.EN + " (" + region.EN + ")",
	}
}

// weightOf is 1 for most measures, 2 or 3 for the priorities.
func weightOf(r *rand.Rand) int {
	switch x := r.Float64(); {
	case x < 0.6:
		return 1
	case x < 0.9:
		return 2
	}
	return 3
}

// deadline spreads deadlines over the term, most at year ends, none
// sooner than four months after the measure is added.
func (pl *planner) deadline(r *rand.Rand, added time.Time) domain.Date {
	yearShares := []float64{0.15, 0.2, 0.22, 0.22, 0.21}
	year, x := pl.term.Start.Year, r.Float64()
	for _, share := range yearShares {
		if x < share {
			break
		}
		x -= share
		year++
	}
	year = min(year, pl.term.End.Year)
	d := domain.NewDate(year, time.December, 31)
	switch x := r.Float64(); {
	case x < 0.25:
		d = domain.NewDate(year, time.June, 30)
	case x < 0.4:
		d = domain.NewDate(year, time.September, 30)
	}
	if earliest := domain.DateOf(addDays(added, 120)); d.Before(earliest) {
		d = quarterEnd(earliest, intIn(r, 0, 4))
	}
	if d.After(pl.term.End) {
		d = pl.term.End
	}
	return d
}

// quarterEnd is the last day of the quarter holding d, plus extra quarters.
func quarterEnd(d domain.Date, extra int) domain.Date {
	q := (int(d.Month)-1)/3 + extra
	first := time.Date(d.Year, time.Month(q*3+4), 1, 0, 0, 0, 0, time.UTC) // the month after the quarter ends
	return domain.DateOf(first.AddDate(0, 0, -1))
}

func addIndicator(ind *indicatorPlan) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		cmd := commands.AddIndicator{
			Header: hd, RoadmapID: ind.rm.register.id(), Title: ind.spec.title, Kind: ind.kind,
			Deadline: ind.deadline, Weight: ind.weight, ResponsibleID: ind.official.id,
		}
		if ind.kind == domain.KindNumeric {
			baseline, target := ind.spec.baseline, ind.spec.target
			cmd.Baseline, cmd.Target, cmd.Unit = &baseline, &target, ind.spec.unit
		}
		return h.AddIndicator.Handle(ctx, cmd)
	}
}
