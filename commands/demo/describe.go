package demo

import (
	"time"

	"promiseledger/domain"
)

// Description is what the demo loads for a Config, as planned: the
// roadmaps with their ids, the deputies answerable for them and their
// measures. It lets another data set (the councils demo) refer to the
// demo's people and measures without reading them back from the store.
// Only what is recorded by Config.Now is described.
type Description struct {
	Roadmaps []RoadmapInfo
}

// RoadmapInfo is one roadmap of the demo.
type RoadmapInfo struct {
	ID        string
	Territory Territory
	Level     domain.RoadmapLevel
	// Deputies are every deputy who has answered for the roadmap, in the
	// order they were appointed (those who left included).
	Deputies []DeputyInfo
	// Officials are the roadmap's responsible officials.
	Officials []PersonInfo
	Measures  []MeasureInfo
	// Settled is when the roadmap's responsible people last changed: its
	// latest recorded assignment or release.
	Settled time.Time
}

// PersonInfo is a responsible person: an opaque id and a display name.
type PersonInfo struct {
	ID   string
	Name string
}

// DeputyInfo is a deputy answerable for a roadmap: registered as a deputy
// of Assembly and in the faction from Registered (effective), until Left
// if they left (zero otherwise). The deputy's id is the person id the
// roadmap names.
type DeputyInfo struct {
	PersonInfo
	Assembly   domain.Assembly
	Registered time.Time
	Left       time.Time
}

// MeasureInfo is one measure (indicator) of a roadmap.
type MeasureInfo struct {
	ID string
	// Official is the person id of the official answerable for it.
	Official string
	// Reports is how many progress reports it has (corrections not
	// counted); Cancelled whether it was cancelled.
	Reports   int
	Cancelled bool
	// LastRecorded is when its latest event was recorded: the ledger's
	// state of the measure holds from then on.
	LastRecorded time.Time
}

// Describe plans the demo for cfg, as Load would, and describes it
// without loading anything. The same Config describes the same data set.
func Describe(cfg Config) (Description, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Description{}, err
	}
	territories, err := Territories()
	if err != nil {
		return Description{}, err
	}
	p, err := newPlan(cfg, territories)
	if err != nil {
		return Description{}, err
	}
	var d Description
	recorded := func(s *step) bool { return s != nil && !s.at.After(cfg.Now) }
	for _, rm := range p.roadmaps {
		if !recorded(rm.register) {
			continue
		}
		info := RoadmapInfo{ID: rm.register.id(), Territory: rm.t, Level: rm.level}
		for _, dep := range rm.deputies {
			if !recorded(dep.register) {
				continue
			}
			di := DeputyInfo{PersonInfo: PersonInfo{ID: dep.id, Name: dep.name}, Assembly: assembly(rm.t), Registered: dep.registered}
			if recorded(dep.leave) {
				di.Left = dep.left
			}
			info.Deputies = append(info.Deputies, di)
		}
		for _, o := range rm.officials {
			info.Officials = append(info.Officials, PersonInfo{ID: o.id, Name: o.name})
		}
		for _, s := range rm.steps {
			switch s.kind {
			case kindDeputy, kindOfficial, kindUnassignment, kindDeputyResponsibility:
				if recorded(s) && s.at.After(info.Settled) {
					info.Settled = s.at
				}
			}
		}
		for _, ind := range rm.indicators {
			if !recorded(ind.add) {
				continue
			}
			m := MeasureInfo{ID: ind.id(), Official: ind.official.id}
			for _, s := range ind.steps {
				if !recorded(s) {
					continue
				}
				switch s.kind {
				case kindReport:
					m.Reports++
				case kindCancellation:
					m.Cancelled = true
				case kindReassignment:
					m.Official = s.assignee
				}
				if s.at.After(m.LastRecorded) {
					m.LastRecorded = s.at
				}
			}
			info.Measures = append(info.Measures, m)
		}
		d.Roadmaps = append(d.Roadmaps, info)
	}
	return d, nil
}
