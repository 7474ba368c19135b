package demo

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
)

// Sizes from the press reports of 2021 (see shared/DOMAIN.md).
const (
	// republicanMeasures and regionalMeasures are the measures the
	// roadmaps held when the 7% and 5% were published. More are added
	// later (laterShare), so the totals end a little higher.
	republicanMeasures = 362
	regionalMeasures   = 2300
	laterShare         = 0.03
	// republicanDeputies is the faction's seats in the Mazhilis after the
	// January 2021 election; with 10–14 deputies on each local roadmap it
	// gives about 2,700 responsible deputies in all.
	republicanDeputies       = 76
	localDeputiesMin         = 10
	localDeputiesMax         = 14
	rotationShare            = 0.1 // deputies replaced after the 2023 elections
	regionRankWeight         = 2.2 // a region carries about twice a district's measures
	milestoneShare           = 0.6
	republicanMeasureSize    = 4 // a republican measure for a region is bigger than the region's own
	regionRankMeasureSize    = 3
	localMeasureSize         = 1
	maxOfficialsPerRoadmap   = 3
	republicanOfficialsCount = 3
)

// electionDay is the early election of the Mazhilis and of every
// maslikhat, after which some responsible deputies changed.
func electionDay() time.Time { return time.Date(2023, time.March, 19, 6, 0, 0, 0, time.UTC) }

// roadmapPlan is one roadmap and everything recorded about it and its
// indicators.
type roadmapPlan struct {
	t          Territory
	level      domain.RoadmapLevel
	r          *rand.Rand
	register   *step
	activate   *step
	officials  []person
	deputies   int // deputies assigned so far, for numbering
	steps      []*step
	indicators []*indicatorPlan
}

// scaled is n measures at the configured scale.
func (pl *planner) scaled(n int) int { return int(math.Round(float64(n) * pl.cfg.Scale)) }

// indicatorCounts shares the regional measures among the local roadmaps:
// regions and the three big cities carry more than districts, and no two
// districts carry quite the same.
func (pl *planner) indicatorCounts(r *rand.Rand, local []Territory) []int {
	weights := make([]float64, len(local))
	for i, t := range local {
		weights[i] = floatIn(r, 0.75, 1.25)
		if t.depth() == 1 {
			weights[i] *= regionRankWeight
		}
	}
	return allocate(pl.scaled(regionalMeasures), weights)
}

// allocate splits total in proportion to weights, by largest remainder, so
// the parts add up to total exactly.
func allocate(total int, weights []float64) []int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	counts := make([]int, len(weights))
	rest := make([]int, len(weights))
	frac := make([]float64, len(weights))
	left := total
	for i, w := range weights {
		exact := float64(total) * w / sum
		counts[i] = int(exact)
		frac[i] = exact - float64(counts[i])
		left -= counts[i]
		rest[i] = i
	}
	slices.SortStableFunc(rest, func(a, b int) int { return cmp.Compare(frac[b], frac[a]) })
	for _, i := range rest[:left] {
		counts[i]++
	}
	return counts
}

// roadmap plans a roadmap's registration, activation, responsible people
// and indicators (their histories come later, after calibration). regions
// is set for the republican roadmap, whose measures are broken down by
// region.
func (pl *planner) roadmap(t Territory, level domain.RoadmapLevel, mainProgram *step, measures int, regions []Territory) *roadmapPlan {
	rm := &roadmapPlan{t: t, level: level, r: source(pl.cfg.Seed, "roadmap/"+t.KATO)}
	r := rm.r
	rm.register = rm.add(&step{at: officeTime(r, pl.start, intIn(r, 0, 2)), kind: kindRoadmap,
		header: commands.Header{Actor: admin, EffectiveAt: pl.start},
		exec:   registerRoadmap(mainProgram, t, level, pl.roadmapPeriod())})
	rm.activate = rm.add(&step{at: officeTime(r, rm.register.at, intIn(r, 1, 5)), kind: kindActivation,
		header: commands.Header{Actor: admin, EffectiveAt: pl.start},
		exec:   activateRoadmap(rm.register)})
	pl.responsibles(rm)
	pl.indicators(rm, measures, regions)
	return rm
}

func (pl *planner) roadmapPeriod() domain.Period {
	return domain.Period{Start: domain.DateOf(pl.cfg.Start.UTC()), End: pl.term.End}
}

func (rm *roadmapPlan) add(s *step) *step {
	rm.steps = append(rm.steps, s)
	return s
}

func registerRoadmap(mainProgram *step, t Territory, level domain.RoadmapLevel, period domain.Period) execFunc {
	title := roadmapTitle(t, level)
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{
			Header: hd, ProgramID: mainProgram.id(), TerritoryKATO: t.KATO, Level: level, Title: title, Period: period,
		})
	}
}

func roadmapTitle(t Territory, level domain.RoadmapLevel) domain.Text {
	if level == domain.LevelRepublican {
		return domain.Text{
			KK: "«" + mainProgramName.KK + "» сайлауалды бағдарламасын іске асырудың республикалық жол картасы",
			RU: "Республиканская дорожная карта по реализации предвыборной программы «" + mainProgramName.RU + "»",
			EN: "Republican roadmap for the election program “" + mainProgramName.EN + "”",
		}
	}
	return domain.Text{
		KK: t.Name.KK + ": сайлауалды бағдарламаны іске асыру жол картасы",
		RU: t.Name.RU + ": дорожная карта по реализации предвыборной программы",
		EN: t.Name.EN + ": roadmap for the election program",
	}
}

func activateRoadmap(register *step) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: hd, RoadmapID: register.id()})
	}
}

// responsibles plans the deputies and officials answerable for the
// roadmap, assigned in the days after it is activated, and the deputies
// replaced after the 2023 elections.
func (pl *planner) responsibles(rm *roadmapPlan) {
	r := rm.r
	deputies := republicanDeputies
	officials := republicanOfficialsCount
	if rm.level == domain.LevelRegional {
		deputies = intIn(r, localDeputiesMin, localDeputiesMax)
		officials = intIn(r, 1, maxOfficialsPerRoadmap)
	}
	var assigned []person
	for range deputies {
		p := rm.newDeputy()
		assigned = append(assigned, p)
		rm.assign(officeTime(r, rm.activate.at, intIn(r, 0, 10)), pl.start, p, domain.RoleDeputy)
	}
	for i := range officials {
		p := person{id: fmt.Sprintf("official-%s-%d", rm.t.KATO, i+1), name: personName(r)}
		rm.officials = append(rm.officials, p)
		rm.assign(officeTime(r, rm.activate.at, intIn(r, 0, 10)), pl.start, p, domain.RoleOfficial)
	}
	pl.rotate(rm, assigned)
}

func (rm *roadmapPlan) newDeputy() person {
	rm.deputies++
	return person{id: fmt.Sprintf("deputy-%s-%02d", rm.t.KATO, rm.deputies), name: personName(rm.r)}
}

func (rm *roadmapPlan) assign(at, effective time.Time, p person, role domain.ResponsibleRole) *step {
	kind := kindDeputy
	if role == domain.RoleOfficial {
		kind = kindOfficial
	}
	register := rm.register
	return rm.add(&step{at: at, kind: kind, header: commands.Header{Actor: admin, EffectiveAt: effective},
		exec: func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
			return h.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{
				Header: hd, RoadmapID: register.id(), PersonID: p.id, Role: role, DisplayName: p.name,
			})
		}})
}

// rotate replaces some deputies once the councils elected in March 2023
// convene, if that falls within the term.
func (pl *planner) rotate(rm *roadmapPlan, deputies []person) {
	election := electionDay()
	if !election.After(pl.start) || !election.Before(pl.termEnd) {
		return
	}
	council := "маслихата"
	if rm.level == domain.LevelRepublican {
		council = "Мажилиса"
	}
	reason := fmt.Sprintf("Полномочия депутата прекращены: избран новый состав %s (выборы 19 марта 2023 года)", council)
	r := rm.r
	for _, p := range deputies {
		if !chance(r, rotationShare) {
			continue
		}
		left := addDays(election, intIn(r, 5, 30))
		released := rm.add(&step{at: officeTime(r, left, intIn(r, 0, 5)), kind: kindUnassignment,
			header: commands.Header{Actor: admin, Reason: reason, EffectiveAt: left},
			exec:   unassignRoadmapResponsible(rm.register, p)})
		joined := addDays(left, intIn(r, 0, 10))
		at := officeTime(r, joined, intIn(r, 0, 7))
		if !at.After(released.at) {
			at = released.at.Add(time.Hour)
		}
		rm.assign(at, joined, rm.newDeputy(), domain.RoleDeputy)
	}
}

func unassignRoadmapResponsible(register *step, p person) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.UnassignRoadmapResponsible.Handle(ctx, commands.UnassignRoadmapResponsible{
			Header: hd, RoadmapID: register.id(), PersonID: p.id,
		})
	}
}

// finish plans the indicators' histories and returns the roadmap's job:
// every step in order of recording, cut at Now, with event ids. Ids come
// from a source of their own, drawn in that order, so a later Now extends
// the same history rather than changing it.
func (rm *roadmapPlan) finish(pl *planner) []*step {
	steps := slices.Clone(rm.steps)
	for _, ind := range rm.indicators {
		steps = append(steps, pl.history(rm.r, ind)...)
	}
	slices.SortStableFunc(steps, func(a, b *step) int { return a.at.Compare(b.at) })
	ids := source(pl.cfg.Seed, "ids/"+rm.t.KATO)
	for i, s := range steps {
		if s.at.After(pl.cfg.Now) {
			return steps[:i]
		}
		s.header.EventID = newID(ids, s.at)
	}
	return steps
}
