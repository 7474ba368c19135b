package demo

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
)

// How often the less common things happen in an indicator's history.
// Invented, to give every kind of event enough examples.
const (
	explicitStartShare  = 0.2  // work started with a status change before any report
	acceptShare         = 0.06 // numeric measure accepted as done short of its target
	raiseShare          = 0.12 // numeric target raised during the work
	falseDoneShare      = 0.04 // reported done, corrected back later
	reopenShare         = 0.04 // done, then reopened by an explicit change, then done again
	extensionShare      = 0.6  // of the late ones: deadline moved
	weightShare         = 0.02 // weight changed
	reassignShare       = 0.03 // handed to another official
	suspendShare        = 0.06 // of the stalled: work suspended, status back to not started
	correctionShare     = 0.05 // of the intermediate reports: corrected later
	evidenceFixShare    = 0.03 // of the final reports: evidence corrected
	chainShare          = 0.15 // of the corrections: corrected again
	maxReports          = 5
	daysBetweenReports  = 100
	stalledReportPeriod = 120
)

// variant is what sets a completed measure's history apart.
type variant uint8

const (
	plain     variant = iota
	accepted          // explicit done below target, with a reason
	raised            // target raised after the first report
	falseDone         // a report claims done; a later correction withdraws it
	reopened          // done, reopened with a reason, done again
)

// history plans what happens to one indicator after it is added. Primary
// events (reports, re-targets, status changes, the cancellation) are
// drafted with effective times and a recording lag and timed in order;
// corrections are timed after the reports they correct.
type history struct {
	pl     *planner
	r      *rand.Rand
	ind    *indicatorPlan
	drafts []*draft
	fixes  []fix
	// reassigned maps a reassignment step to the official who takes over.
	reassigned map[*step]person
}

type draft struct {
	s        *step
	eff      time.Time
	lag      [2]int // days from effective to recorded
	reported *report
}

// report is a progress report's reading, kept for its corrections.
type report struct {
	s *step
	// frac is how far the reading is from the baseline towards the final
	// target (or for a milestone, 1 when done); inForce is the target in
	// force when it was made, which a reading below 1 must not reach.
	frac    float64
	inForce float64
	// fixed: a correction is planned; a report is corrected at most once,
	// and a second fix would correct the correction instead.
	fixed bool
}

// fix is a planned correction of a report (or of another correction).
type fix struct {
	of      *report
	frac    float64
	lag     [2]int
	reasons []string
	chain   bool // may be corrected again
}

// history returns the indicator's steps, add included, in recording order.
func (pl *planner) history(r *rand.Rand, ind *indicatorPlan) []*step {
	h := &history{pl: pl, r: r, ind: ind, reassigned: map[*step]person{}}
	switch {
	case !ind.cancelAt.IsZero():
		h.cancelled()
	case ind.early:
		h.completed(h.earlyDone())
	case chance(r, pl.laterDoneShare(ind)):
		h.completed(h.laterDone())
	default:
		h.stalled()
	}
	return h.finish()
}

// laterDoneShare is the chance that a measure not done early is done in
// the end, so that the share done overall comes out as planned.
func (pl *planner) laterDoneShare(ind *indicatorPlan) float64 {
	if ind.rm.level == domain.LevelRepublican {
		return (doneShareRepublican - publishedRepublican) / (1 - publishedRepublican)
	}
	return (doneShareRegional - publishedRegional) / (1 - publishedRegional)
}

// earlyDone is when a measure chosen by calibrate is done: between three
// weeks after it was added and the day before the figures were taken. Its
// deadline moves into the first year, where such quick measures belong.
func (h *history) earlyDone() time.Time {
	done := dayIn(h.r, addDays(h.ind.addedAt, 21), addDays(h.pl.calibrateAt, -1))
	h.ind.deadline = quarterEnd(domain.DateOf(done), intIn(h.r, 0, 2))
	return done
}

// laterDone is when any other completed measure is done: around its
// deadline, most on time, and always after the figures were taken.
func (h *history) laterDone() time.Time {
	r, deadline := h.r, atNoon(h.ind.deadline)
	done := addDays(deadline, -intIn(r, 0, 240))
	if chance(r, 0.3) {
		done = addDays(deadline, intIn(r, 1, 300))
	}
	return latest(done, addDays(h.pl.calibrateAt, intIn(r, 1, 60)), addDays(h.ind.addedAt, 30))
}

// completed plans the history of a measure done at done.
func (h *history) completed(done time.Time) {
	ind, r := h.ind, h.r
	work := h.workStart(done)
	final, v := done, plain
	if ind.kind == domain.KindNumeric && daysBetween(work, done) >= 40 && chance(r, acceptShare) {
		final, v = addDays(done, -intIn(r, 3, 20)), accepted
	}
	times := reportTimes(r, work, final, reportCount(work, final, daysBetweenReports))
	if v == plain {
		v = h.variant(done, work, times)
	}
	h.maybeStart(work, times[0])
	h.progress(times, 1, v)
	switch v {
	case accepted:
		h.status(done, 0, 3, domain.StatusDone, pick(r, acceptReasons))
	case falseDone:
		h.withdrawnDone(work, times)
	case reopened:
		h.reopen(done)
	}
	if domain.DateOf(done).After(ind.deadline) && chance(r, extensionShare) {
		h.extend(work, final, quarterEnd(domain.DateOf(done), intIn(r, 0, 1)))
	}
	h.extras(work, done)
}

// variant picks what sets a completed measure apart, if anything. The
// ones that touch done-ness happen well after calibrateAt, so they cannot
// move the calibrated figure.
func (h *history) variant(done, work time.Time, times []time.Time) variant {
	x := h.r.Float64()
	late := done.After(addDays(h.pl.calibrateAt, 120))
	switch {
	case x < raiseShare && h.ind.kind == domain.KindNumeric && len(times) >= 2 && daysBetween(times[0], times[1]) >= 2:
		return raised
	case x >= 1-falseDoneShare && late && h.falseDoneWindow(work, times) >= 14:
		return falseDone
	case x >= 1-falseDoneShare-reopenShare && late:
		return reopened
	}
	return plain
}

// workStart is when work on a measure done at done begins.
func (h *history) workStart(done time.Time) time.Time {
	added, r := h.ind.addedAt, h.r
	if h.ind.early {
		return addDays(added, intIn(r, 0, min(10, daysBetween(added, done)/3)))
	}
	return addDays(added, intIn(r, 7, max(7, min(120, daysBetween(added, done)-21))))
}

// maybeStart sometimes records the start of work as a status change before
// the first report.
func (h *history) maybeStart(work, firstReport time.Time) {
	if firstReport.After(work) && chance(h.r, explicitStartShare) {
		h.status(work, 0, 3, domain.StatusInProgress, pick(h.r, startReasons))
	}
}

// progress plans the reports at times, the last reaching share of the way
// to the final target (1: reached); a raised target is re-targeted between
// the first and second report.
func (h *history) progress(times []time.Time, share float64, v variant) {
	r, ind := h.r, h.ind
	inForce := ind.spec.target
	if v == raised {
		if target, ok := h.raisedTarget(); ok {
			ind.finalTarget = target
			h.retarget(dayIn(r, addDays(times[0], 1), addDays(times[1], -1)), commands.RetargetIndicator{Target: &target}, raiseReasons)
		}
	}
	for i, t := range times {
		frac := share * float64(i+1) / float64(len(times)) * floatIn(r, 0.8, 0.95)
		if i == len(times)-1 {
			frac = share
			if v == accepted {
				frac = floatIn(r, 0.9, 0.97)
			}
		}
		h.report(t, frac, inForce)
		if i == 0 {
			inForce = ind.finalTarget
		}
	}
}

// raisedTarget moves the target 10–30% further from the baseline.
func (h *history) raisedTarget() (float64, bool) {
	s := h.ind.spec
	span := s.target - s.baseline
	delta := max(s.quantum, quantize(math.Abs(span)*floatIn(h.r, 0.1, 0.3), s.quantum))
	target := max(0, quantize(s.target+math.Copysign(delta, span), s.quantum))
	if s.unit == unitPercent {
		target = min(100, target)
	}
	return target, target != s.target
}

// falseDoneWindow is how many days lie between the last event before the
// final report (the report before it, or the start of work) or the
// calibration date, whichever is later, and the final report.
func (h *history) falseDoneWindow(work time.Time, times []time.Time) int {
	return daysBetween(h.falseDoneFrom(work, times), times[len(times)-1])
}

func (h *history) falseDoneFrom(work time.Time, times []time.Time) time.Time {
	before := work
	if len(times) >= 2 {
		before = times[len(times)-2]
	}
	return latest(before, h.pl.calibrateAt)
}

// withdrawnDone plans a report that claims the measure done before the
// final one, and the correction that withdraws it a few weeks later.
func (h *history) withdrawnDone(work time.Time, times []time.Time) {
	r := h.r
	claimed := dayIn(r, addDays(h.falseDoneFrom(work, times), 7), addDays(times[len(times)-1], -7))
	rep := h.report(claimed, 1, h.ind.finalTarget)
	rep.fixed = true
	h.fixes = append(h.fixes, fix{of: rep, frac: floatIn(r, 0.6, 0.9), lag: [2]int{10, 40}, reasons: falseDoneReasons})
}

// reopen plans a done measure sent back to work, then done again.
func (h *history) reopen(done time.Time) {
	r := h.r
	back := addDays(done, intIn(r, 20, 90))
	h.status(back, 0, 3, domain.StatusInProgress, pick(r, reopenReasons))
	h.report(addDays(back, intIn(r, 30, 120)), 1, h.ind.finalTarget)
}

// extend moves the deadline, some time before the work ends.
func (h *history) extend(work, end time.Time, to domain.Date) {
	ind := h.ind
	to = minDate(to, h.pl.term.End)
	if to == ind.deadline || !to.After(ind.deadline) {
		return
	}
	at := latest(addDays(atNoon(ind.deadline), -intIn(h.r, 0, 30)), addDays(work, 1))
	if !at.Before(end) {
		return
	}
	h.retarget(at, commands.RetargetIndicator{Deadline: &to}, extensionReasons)
}

// extras plans the rarer events that can happen to any measure in
// [from, to): a change of weight, a new responsible official.
func (h *history) extras(from, to time.Time) {
	r, ind := h.r, h.ind
	if daysBetween(from, to) < 30 {
		return
	}
	if chance(r, weightShare) {
		w := float64(1 + (int(ind.weight)+intIn(r, 0, 1))%3) // another of 1, 2, 3
		h.retarget(dayIn(r, addDays(from, 1), addDays(to, -1)), commands.RetargetIndicator{Weight: &w}, weightReasons)
	}
	if len(ind.rm.officials) > 1 && chance(r, reassignShare) {
		h.reassign(dayIn(r, addDays(from, 1), addDays(to, -1)))
	}
}

// stalled plans a measure that never gets done: reports that stop short of
// the target, perhaps a suspension and a moved deadline.
func (h *history) stalled() {
	r, ind := h.r, h.ind
	work := addDays(ind.addedAt, intIn(r, 7, 120))
	end := latest(earliest(addDays(atNoon(ind.deadline), intIn(r, 0, 180)), addDays(h.pl.termEnd, 90)), addDays(work, 30))
	times := reportTimes(r, work, end, reportCount(work, end, stalledReportPeriod))
	h.maybeStart(work, times[0])
	h.progress(times, floatIn(r, 0.05, 0.9), plain)
	if len(times) >= 2 && chance(r, suspendShare) {
		i := r.IntN(len(times) - 1)
		if daysBetween(times[i], times[i+1]) >= 3 {
			h.status(dayIn(r, addDays(times[i], 1), addDays(times[i+1], -1)), 0, 3, domain.StatusNotStarted, pick(r, suspendReasons))
		}
	}
	if atNoon(ind.deadline).Before(end) && chance(r, extensionShare/2) {
		to := ind.deadline
		to.Year++
		h.extend(work, end, quarterEnd(to, 0))
	}
	h.extras(work, end)
}

// cancelled plans a measure worked on for a while, then dropped.
func (h *history) cancelled() {
	r, ind := h.r, h.ind
	work, end := addDays(ind.addedAt, intIn(r, 7, 120)), addDays(ind.cancelAt, -7)
	if daysBetween(work, end) >= 14 {
		times := reportTimes(r, work, end, reportCount(work, end, stalledReportPeriod))
		h.progress(times, floatIn(r, 0.05, 0.6), plain)
		h.extras(work, end)
	}
	h.primary(kindCancellation, ind.cancelAt, 0, 7, pick(r, cancelReasons), cancelIndicator(ind))
}

// primary drafts a step of the indicator's own timeline.
func (h *history) primary(kind stepKind, eff time.Time, lagLo, lagHi int, reason string, exec execFunc) *draft {
	d := &draft{s: &step{kind: kind, header: commands.Header{Reason: reason, EffectiveAt: eff}, exec: exec}, eff: eff, lag: [2]int{lagLo, lagHi}}
	h.drafts = append(h.drafts, d)
	return d
}

func (h *history) status(eff time.Time, lagLo, lagHi int, to domain.IndicatorStatus, reason string) {
	h.primary(kindStatusChange, eff, lagLo, lagHi, reason, changeStatus(h.ind, to))
}

func (h *history) retarget(eff time.Time, change commands.RetargetIndicator, reasons []string) {
	h.primary(kindRetarget, eff, 0, 7, pick(h.r, reasons), retargetIndicator(h.ind, change))
}

func (h *history) reassign(eff time.Time) {
	ind := h.ind
	others := slices.DeleteFunc(slices.Clone(ind.rm.officials), func(p person) bool { return p == ind.official })
	to := pick(h.r, others)
	d := h.primary(kindReassignment, eff, 0, 5, "", assignIndicatorResponsible(ind, to))
	h.reassigned[d.s] = to
	d.s.assignee = to.id
}

// report drafts a progress report with its evidence; some are corrected
// later (see finish).
func (h *history) report(eff time.Time, frac, inForce float64) *report {
	rep := &report{frac: frac, inForce: inForce}
	ev := evidence(h.r, h.ind.rm.t.KATO, eff)
	d := h.primary(kindReport, eff, 1, 10, "", reportProgress(h.ind, rep, ev))
	rep.s, d.reported = d.s, rep
	return rep
}

// reportCount is how many reports a stretch of work gets: about one per
// period, at least one, at most maxReports, and no more than one a week.
func reportCount(from, to time.Time, period int) int {
	days := daysBetween(from, to)
	return max(1, min(maxReports, int(math.Round(float64(days)/float64(period))), days/7))
}

// reportTimes spreads n report dates over (from, to], the last on to,
// strictly increasing.
func reportTimes(r *rand.Rand, from, to time.Time, n int) []time.Time {
	span := daysBetween(from, to)
	times := make([]time.Time, n)
	prev := 0
	for i := range n - 1 {
		jitter := span / (4 * n)
		d := span*(i+1)/n + intIn(r, -jitter, jitter)
		d = min(max(d, prev+1), span-(n-1-i))
		times[i], prev = addDays(from, d), d
	}
	times[n-1] = to
	return times
}

// finish times the drafts in effective order, each recorded a lag after
// its effective time and after the step before (a stream's recorded time
// never goes back), adds the corrections, cuts everything after a
// cancellation, and sets the actors.
func (h *history) finish() []*step {
	slices.SortStableFunc(h.drafts, func(a, b *draft) int { return a.eff.Compare(b.eff) })
	steps := []*step{h.ind.add}
	last := h.ind.add.at
	for _, d := range h.drafts {
		d.s.at = after(h.r, officeTime(h.r, d.eff, intIn(h.r, d.lag[0], d.lag[1])), last)
		last = d.s.at
		steps = append(steps, d.s)
		h.planFixes(d)
	}
	steps = append(steps, h.corrections()...)
	slices.SortStableFunc(steps, func(a, b *step) int { return a.at.Compare(b.at) })
	if i := slices.IndexFunc(steps, func(s *step) bool { return s.kind == kindCancellation }); i >= 0 {
		steps = steps[:i+1]
	}
	h.setActors(steps)
	return steps
}

// planFixes picks the reports to correct: some intermediate readings, a
// few final ones' evidence.
func (h *history) planFixes(d *draft) {
	rep, r := d.reported, h.r
	switch {
	case rep == nil || rep.fixed:
	case rep.frac < 1 && chance(r, correctionShare):
		h.fixes = append(h.fixes, fix{of: rep, frac: rep.frac * floatIn(r, 0.85, 0.99), lag: [2]int{14, 60}, reasons: correctionReasons, chain: true})
	case rep.frac >= 1 && chance(r, evidenceFixShare):
		h.fixes = append(h.fixes, fix{of: rep, frac: rep.frac, lag: [2]int{14, 60}, reasons: evidenceFixReasons})
	}
}

// corrections times the planned fixes after the reports they correct, and
// sometimes corrects a correction again.
func (h *history) corrections() []*step {
	var steps []*step
	for _, f := range h.fixes {
		s := h.correction(f.of, f.frac, f.lag, f.reasons)
		steps = append(steps, s.s)
		if f.chain && chance(h.r, chainShare) {
			again := h.correction(s, s.frac*floatIn(h.r, 0.97, 1), [2]int{7, 45}, f.reasons)
			steps = append(steps, again.s)
		}
	}
	return steps
}

// correction plans the correction of rep to frac, recorded lag days after
// it; it takes rep's effective time, so EffectiveAt stays zero.
func (h *history) correction(rep *report, frac float64, lag [2]int, reasons []string) *report {
	fixed := &report{frac: frac, inForce: rep.inForce}
	ev := evidence(h.r, h.ind.rm.t.KATO, rep.s.at)
	fixed.s = &step{
		at:     officeTime(h.r, rep.s.at, intIn(h.r, lag[0], lag[1])),
		kind:   kindCorrection,
		header: commands.Header{Reason: pick(h.r, reasons)},
		exec:   correctReport(h.ind, rep, fixed, ev),
	}
	return fixed
}

// setActors makes the responsible official of the moment the actor of the
// indicator's history; an administrator adds it and hands it over.
func (h *history) setActors(steps []*step) {
	current := h.ind.official
	for _, s := range steps {
		switch to, ok := h.reassigned[s]; {
		case s == h.ind.add:
		case ok:
			s.header.Actor = admin
			current = to
		default:
			s.header.Actor = officer(current)
		}
	}
}

// after returns at, or a moment just after last if at is not later.
func after(r *rand.Rand, at, last time.Time) time.Time {
	if at.After(last) {
		return at
	}
	return last.Add(time.Duration(1+r.IntN(600)) * time.Second)
}

func atNoon(d domain.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 6, 0, 0, 0, time.UTC)
}

func latest(t time.Time, more ...time.Time) time.Time {
	for _, u := range more {
		if u.After(t) {
			t = u
		}
	}
	return t
}

func earliest(t time.Time, more ...time.Time) time.Time {
	for _, u := range more {
		if u.Before(t) {
			t = u
		}
	}
	return t
}

func minDate(a, b domain.Date) domain.Date {
	if b.Before(a) {
		return b
	}
	return a
}
