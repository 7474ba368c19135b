package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
)

// The demo is planned in full before anything is written: every command,
// its event id, its recorded and effective times. Planning is sequential
// and draws from seeded sources only, so the plan, and therefore the data
// set, depends on the Config alone; loading then runs the roadmaps
// concurrently without changing what is written.

// admin registers programs, territories and roadmaps and assigns people.
var admin = commands.Actor{ID: "demo-admin", Role: "admin"}

// officer is the actor of an indicator's history: its responsible official.
func officer(p person) commands.Actor { return commands.Actor{ID: p.id, Role: "officer"} }

// plan is the whole demo as phases that must run one after another (the
// programs; then the territories, a level at a time, parents first; then
// the roadmaps). Each phase is a set of jobs that may run concurrently; a
// job is a sequence of steps.
type plan struct {
	mainProgram *step
	phases      [][][]*step
	roadmaps    []*roadmapPlan
}

// planner holds what every part of the plan derives its dates from.
type planner struct {
	cfg Config
	// term is the programs' five-year period; the roadmaps run from Start
	// to its end.
	term domain.Period
	// termEnd is the effective time of the term's last day.
	termEnd time.Time
	// start is the effective time of the roadmaps' first day.
	start time.Time
	// calibrateAt is when the published figures were taken: five months
	// after Start (see calibrate.go).
	calibrateAt time.Time
}

func newPlanner(cfg Config) *planner {
	y := cfg.Start.UTC().Year()
	term := domain.Period{Start: domain.NewDate(y, time.January, 1), End: domain.NewDate(y+4, time.December, 31)}
	return &planner{
		cfg:         cfg,
		term:        term,
		termEnd:     time.Date(y+4, time.December, 31, 6, 0, 0, 0, time.UTC),
		start:       noonUTC(cfg.Start),
		calibrateAt: cfg.Start.AddDate(0, calibrationMonths, 0),
	}
}

// newPlan plans the demo for cfg over the territories.
func newPlan(cfg Config, territories []Territory) (*plan, error) {
	pl := newPlanner(cfg)
	setupRand := source(cfg.Seed, "setup")
	at := pl.setupAt(setupRand)
	mainProgram, programs := pl.programs(setupRand, at)
	p := &plan{mainProgram: mainProgram, phases: [][][]*step{{programs}}}
	p.phases = append(p.phases, pl.territorySteps(setupRand, at.Add(time.Hour), territories)...)
	roadmaps, err := pl.roadmaps(territories, mainProgram)
	if err != nil {
		return nil, err
	}
	pl.calibrate(source(cfg.Seed, "calibration"), roadmaps)
	jobs := make([][]*step, len(roadmaps))
	for i, rm := range roadmaps {
		jobs[i] = rm.finish(pl)
	}
	p.phases = append(p.phases, jobs)
	p.roadmaps = roadmaps
	return p, nil
}

// setupAt is when the programs, then the territories, are registered: ten
// days before the roadmaps take effect.
func (pl *planner) setupAt(r *rand.Rand) time.Time {
	return officeTime(r, addDays(pl.start, -11), 1)
}

// The two programs of the 2021 term.
var (
	mainProgramName = domain.Text{
		KK: "Өзгерістер жолы: Әрбір азаматқа лайықты өмір!",
		RU: "Путь перемен: Достойную жизнь каждому!",
		EN: "Path of Change: A Decent Life for Everyone!",
	}
	youthProgramName = domain.Text{KK: "Жастар – Отанға!", RU: "Жастар — Отанға!", EN: "Youth for the Motherland!"}
)

// programs plans the registration of both programs; the main one first,
// because its stream is what tells a loaded store.
func (pl *planner) programs(r *rand.Rand, at time.Time) (mainProgram *step, steps []*step) {
	for i, p := range []struct {
		name domain.Text
		kind domain.ProgramKind
	}{{mainProgramName, domain.ProgramMain}, {youthProgramName, domain.ProgramYouth}} {
		s := &step{at: at.Add(time.Duration(i) * time.Minute), kind: kindProgram, header: commands.Header{Actor: admin},
			exec: registerProgram(p.name, p.kind, pl.term)}
		s.header.EventID = newID(r, s.at)
		steps = append(steps, s)
	}
	return steps[0], steps
}

func registerProgram(name domain.Text, kind domain.ProgramKind, period domain.Period) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: hd, Name: name, Kind: kind, Period: period})
	}
}

// territorySteps plans one phase per level of the hierarchy, each territory
// a job of its own: units of one level do not depend on each other, so
// they can be registered concurrently once their parents are.
func (pl *planner) territorySteps(r *rand.Rand, at time.Time, territories []Territory) [][][]*step {
	var phases [][][]*step
	for i, t := range territories {
		if i == 0 || t.depth() != territories[i-1].depth() {
			phases = append(phases, nil)
		}
		s := &step{at: at.Add(time.Duration(i) * time.Second), kind: kindTerritory, header: commands.Header{Actor: admin},
			exec: registerTerritory(t)}
		s.header.EventID = newID(r, s.at)
		phases[len(phases)-1] = append(phases[len(phases)-1], []*step{s})
	}
	return phases
}

func registerTerritory(t Territory) execFunc {
	return func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error) {
		return h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{
			Header: hd, KATO: t.KATO, Name: t.Name, Kind: t.Kind, ParentKATO: t.ParentKATO,
		})
	}
}

// roadmaps plans the republican roadmap and one per local unit. The
// republican one comes first: it is the longest job, and should not be
// the last to start.
func (pl *planner) roadmaps(territories []Territory, mainProgram *step) ([]*roadmapPlan, error) {
	var republic Territory
	var local, regionRank []Territory
	for _, t := range territories {
		switch {
		case t.Kind == domain.TerritoryRepublic:
			republic = t
		case t.Local:
			local = append(local, t)
			if t.depth() == 1 {
				regionRank = append(regionRank, t)
			}
		}
	}
	if republic.KATO == "" || len(regionRank) == 0 {
		return nil, fmt.Errorf("demo: the territory list lacks the republic or its regions")
	}
	counts := pl.indicatorCounts(source(pl.cfg.Seed, "allocation"), local)
	rms := []*roadmapPlan{pl.roadmap(republic, domain.LevelRepublican, mainProgram, pl.scaled(republicanMeasures), regionRank)}
	for i, t := range local {
		rms = append(rms, pl.roadmap(t, domain.LevelRegional, mainProgram, counts[i], nil))
	}
	return rms, nil
}
