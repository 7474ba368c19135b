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
	t         Territory
	level     domain.RoadmapLevel
	r         *rand.Rand
	register  *step
	activate  *step
	officials []person
	deputies  []*deputyTerm
	// deputyCount numbers the deputies.
	deputyCount int
	steps       []*step
	indicators  []*indicatorPlan
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
// replaced after the 2023 elections. Every responsible deputy is a
// registered deputy of the territory's assembly, in the faction from the
// start of the mandate, and answers for the roadmap on their own record
// too (deputy.responsibility_assigned.v1), which is what their public
// rating counts: the people on a roadmap and the people rated are one.
func (pl *planner) responsibles(rm *roadmapPlan) {
	r := rm.r
	deputies := republicanDeputies
	officials := republicanOfficialsCount
	if rm.level == domain.LevelRegional {
		deputies = intIn(r, localDeputiesMin, localDeputiesMax)
		officials = intIn(r, 1, maxOfficialsPerRoadmap)
	}
	var assigned []*deputyTerm
	for range deputies {
		d := rm.newDeputy(pl.mandateStart())
		assigned = append(assigned, d)
		rm.appoint(officeTime(r, rm.activate.at, intIn(r, 0, 10)), pl.start, d)
	}
	for i := range officials {
		p := person{id: fmt.Sprintf("official-%s-%d", rm.t.KATO, i+1), name: personName(r)}
		rm.officials = append(rm.officials, p)
		rm.assign(officeTime(r, rm.activate.at, intIn(r, 0, 10)), pl.start, p, domain.RoleOfficial)
	}
	pl.rotate(rm, assigned)
}

// mandateStart is when the deputies elected in January 2021 took office:
// six weeks before the roadmaps take effect.
func (pl *planner) mandateStart() time.Time { return addDays(pl.start, -mandateLead) }

const mandateLead = 45

// deputyTerm is one deputy on the roadmap: registered as a deputy of the
// territory's assembly and in the faction from registered (effective),
// answerable for the roadmap until left, if they leave.
type deputyTerm struct {
	person
	registered time.Time
	register   *step
	left       time.Time
	leave      *step
}

func (rm *roadmapPlan) newDeputy(registered time.Time) *deputyTerm {
	rm.deputyCount++
	d := &deputyTerm{person: person{id: fmt.Sprintf("deputy-%s-%02d", rm.t.KATO, rm.deputyCount), name: personName(rm.r)}, registered: registered}
	rm.deputies = append(rm.deputies, d)
	return d
}

// assembly is the assembly a territory's deputies sit in: the Mazhilis
// for the republic, the territory's maslikhat otherwise.
func assembly(t Territory) domain.Assembly {
	if t.Kind == domain.TerritoryRepublic {
		return domain.Assembly{Kind: domain.AssemblyMazhilis, TerritoryKATO: t.KATO, Level: domain.CouncilRepublican}
	}
	return domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: t.KATO, Level: domain.LevelOfTerritory(t.Kind)}
}

// appoint plans, recorded from at on, a deputy's registration and faction
// membership (effective when their mandate began), and their
// responsibility for the roadmap, on the roadmap and on their own record
// (effective from effective).
func (rm *roadmapPlan) appoint(at, effective time.Time, d *deputyTerm) {
	p, a, register := d.person, assembly(rm.t), rm.register
	d.register = rm.add(&step{at: at, kind: kindDeputyRegistration, header: commands.Header{Actor: admin, EffectiveAt: d.registered},
		exec: func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
			return h.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: hd, DeputyID: p.id, DisplayName: p.name, Assembly: a})
		}})
	rm.add(&step{at: at.Add(time.Second), kind: kindFaction, header: commands.Header{Actor: admin, EffectiveAt: d.registered},
		exec: func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
			return h.JoinFaction.Handle(ctx, commands.JoinFaction{Header: hd, DeputyID: p.id, Faction: Faction})
		}})
	rm.assign(at.Add(2*time.Second), effective, p, domain.RoleDeputy)
	rm.add(&step{at: at.Add(3 * time.Second), kind: kindDeputyResponsibility, header: commands.Header{Actor: admin, EffectiveAt: effective},
		exec: func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
			return h.AssignDeputyResponsibility.Handle(ctx, commands.AssignDeputyResponsibility{
				Header: hd, DeputyID: p.id, Subject: domain.ResponsibleForRoadmap, SubjectID: register.id()})
		}})
}

// Faction is the party faction the demo's deputies belong to.
const Faction = "amanat"

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
// convene, if that falls within the term: the one leaving is released from
// the roadmap and leaves the faction with the mandate; the one elected in
// their place is registered and takes the roadmap over.
func (pl *planner) rotate(rm *roadmapPlan, deputies []*deputyTerm) {
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
	for _, d := range deputies {
		if !chance(r, rotationShare) {
			continue
		}
		left := addDays(election, intIn(r, 5, 30))
		d.left = left
		released := rm.add(&step{at: officeTime(r, left, intIn(r, 0, 5)), kind: kindUnassignment,
			header: commands.Header{Actor: admin, Reason: reason, EffectiveAt: left},
			exec:   unassignRoadmapResponsible(rm.register, d.person)})
		rm.add(&step{at: released.at.Add(time.Second), kind: kindDeputyResponsibility,
			header: commands.Header{Actor: admin, Reason: reason, EffectiveAt: left},
			exec:   releaseDeputyResponsibility(rm.register, d.person)})
		d.leave = rm.add(&step{at: released.at.Add(2 * time.Second), kind: kindFaction,
			header: commands.Header{Actor: admin, Reason: reason, EffectiveAt: left},
			exec:   leaveFaction(d.person)})
		joined := addDays(left, intIn(r, 0, 10))
		at := officeTime(r, joined, intIn(r, 0, 7))
		if !at.After(released.at.Add(2 * time.Second)) {
			at = released.at.Add(time.Hour)
		}
		rm.appoint(at, joined, rm.newDeputy(joined))
	}
}

func releaseDeputyResponsibility(register *step, p person) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.ReleaseDeputyResponsibility.Handle(ctx, commands.ReleaseDeputyResponsibility{
			Header: hd, DeputyID: p.id, Subject: domain.ResponsibleForRoadmap, SubjectID: register.id(),
		})
	}
}

func leaveFaction(p person) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.LeaveFaction.Handle(ctx, commands.LeaveFaction{Header: hd, DeputyID: p.id})
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
		ind.steps = pl.history(rm.r, ind)
		steps = append(steps, ind.steps...)
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
