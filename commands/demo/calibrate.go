package demo

import (
	"math"
	"math/rand/v2"

	"promiseledger/domain"
)

// The figures published five months into the term: 7% of the republican
// measures and 5% of the regional ones were done (seed 001; shared/DOMAIN.md
// explains that they count done measures over measures not cancelled).
const (
	calibrationMonths   = 5
	publishedRepublican = 0.07
	publishedRegional   = 0.05
)

// Shares of the measures that are done by the end of the demo's history,
// early ones included; the rest stall or are cancelled. Invented, chosen
// to leave a plausible two thirds done after the term.
const (
	doneShareRepublican = 0.72
	doneShareRegional   = 0.66
)

// calibrate picks, at each level, exactly the number of measures that the
// published share of the measures in force at calibrateAt makes, and marks
// them done before then. Drawing each measure's fate independently would
// leave the figure a few points off at random; choosing the count makes
// the data set reproduce the published figure, while which measures are
// done stays random. Every other measure's history keeps it short of done
// until after calibrateAt (see history.go).
func (pl *planner) calibrate(r *rand.Rand, roadmaps []*roadmapPlan) {
	for _, level := range []struct {
		level domain.RoadmapLevel
		share float64
	}{{domain.LevelRepublican, publishedRepublican}, {domain.LevelRegional, publishedRegional}} {
		var inForce int
		var candidates []*indicatorPlan
		for _, rm := range roadmaps {
			if rm.level != level.level {
				continue
			}
			for _, ind := range rm.indicators {
				if !pl.inForceAtCalibration(ind) {
					continue
				}
				inForce++
				if ind.cancelAt.IsZero() {
					candidates = append(candidates, ind)
				}
			}
		}
		done := min(len(candidates), int(math.Round(level.share*float64(inForce))))
		r.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
		for _, ind := range candidates[:done] {
			ind.early = true
		}
	}
}

// inForceAtCalibration: added by calibrateAt and not cancelled by then, as
// the published denominator counts.
func (pl *planner) inForceAtCalibration(ind *indicatorPlan) bool {
	return !ind.addedAt.After(pl.calibrateAt) && (ind.cancelAt.IsZero() || ind.cancelAt.After(pl.calibrateAt))
}
