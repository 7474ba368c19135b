// Package councildemo loads a demo data set of public councils, their
// recommendations to state bodies, their assessments of the roadmaps'
// measures with the replies of those responsible, the activity counts of
// the deputies answerable for the roadmaps, and two versions of the
// deputies' rating method, through the command handlers.
//
// The deputies are the roadmap demo's (package demo registers them with
// the roadmaps they answer for): one population, so a deputy's roadmaps,
// activity, assessments, replies and rating all meet on one id.
//
// The figures follow shared/DOMAIN.md: about 1,700 councils with about
// 12,000 members, 250+ recommendations in every state of their lifecycle,
// a few hundred assessments.
// The same Config gives the same data set, event ids included, so a second
// Load records nothing new (every command comes back as a duplicate).
package councildemo

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"promiseledger/commands/demo"
)

// Territory is one administrative unit, as the main demo lists them.
type Territory = demo.Territory

// Config describes the data set.
type Config struct {
	// Seed drives every random choice.
	Seed int64
	// Now is "today": nothing takes effect after it. Required. The
	// handlers' clock (the recorded time) must not be before it.
	Now time.Time
	// Start is when the councils begin their work. Default
	// demo.DefaultStart() (2021-03-01). Deputies are registered, and rating
	// periods start, on 1 January of Start's year.
	Start time.Time
	// Scale multiplies the number of councils, members, recommendations
	// and assessments; 1 is full size. Default 1. The deputies are the
	// roadmap demo's, whatever the scale.
	Scale float64
	// AnyScale lifts the bound on Scale, for benchmarks that want a
	// million events of the demo's shape.
	AnyScale bool
	// Demo describes the roadmap demo loaded in the same store
	// (demo.Describe with the demo's Config): its deputies get quarterly
	// activity reports, its measures council assessments, which its
	// deputies and officials reply to. Optional: without it there are no
	// deputies' activity reports and no assessments.
	Demo *demo.Description
	// RoadmapIDs are registered roadmaps that recommendations link to.
	// Default: the roadmaps of Demo. Without either, recommendations link
	// to topics only.
	RoadmapIDs []string
	// Territories are registered when missing (parents first). Default: the
	// 2021 list of package demo.
	Territories []Territory
	// Workers is how many councils or deputies load at once. Default 8.
	Workers int
	// Logger receives a line when loading starts and ends.
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.Start.IsZero() {
		c.Start = demo.DefaultStart()
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	if c.Workers == 0 {
		c.Workers = 8
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if len(c.RoadmapIDs) == 0 && c.Demo != nil {
		for _, rm := range c.Demo.Roadmaps {
			c.RoadmapIDs = append(c.RoadmapIDs, rm.ID)
		}
	}
	if c.Territories == nil {
		ts, err := demo.Territories()
		if err != nil {
			return err
		}
		c.Territories = ts
	}
	return nil
}

// maxScale bounds Scale.
const maxScale = 4

// Validate reports configuration errors.
func (c Config) Validate() error {
	var errs []error
	if c.Now.IsZero() {
		errs = append(errs, errors.New("councildemo: Config.Now is required"))
	} else if !c.Now.After(c.Start.AddDate(0, 1, 0)) {
		errs = append(errs, fmt.Errorf("councildemo: Config.Now %s must be at least a month after Start %s",
			c.Now.Format(time.RFC3339), c.Start.Format(time.RFC3339)))
	}
	if math.IsNaN(c.Scale) || c.Scale <= 0 || c.Scale > maxScale && !c.AnyScale {
		errs = append(errs, fmt.Errorf("councildemo: Config.Scale %g is not in (0, %d]", c.Scale, maxScale))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("councildemo: Config.Workers %d is not positive", c.Workers))
	}
	republic := false
	for _, t := range c.Territories {
		republic = republic || t.ParentKATO == ""
	}
	if !republic {
		errs = append(errs, errors.New("councildemo: Config.Territories has no republic"))
	}
	return errors.Join(errs...)
}

// Stats counts what Load did; on a repeated load the counts describe the
// data set and Duplicates says how much was already recorded.
type Stats struct {
	Territories     int
	Councils        int
	Members         int // joins, replacements included
	Departures      int
	Recommendations int
	// ByStatus counts recommendations by their final status.
	ByStatus          map[string]int
	Overdue           int // awaiting an answer past the deadline at Now
	AnswerCorrections int
	Dissents          int
	// Deputies counts the demo's deputies whose activity was reported.
	Deputies          int
	ActivityReports   int
	ActivityCorrected int
	MethodVersions    int
	// Assessments counts councils' assessments of measures, Disputes
	// those that disagree with the reported status, Withdrawn those
	// withdrawn, and Replies the respondents' replies to them.
	Assessments int
	Disputes    int
	Withdrawn   int
	Replies     int

	Events     int
	Duplicates int
	Elapsed    time.Duration
}

// LogValue lets slog print the counts as one group.
func (s Stats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("councils", s.Councils), slog.Int("members", s.Members), slog.Int("recommendations", s.Recommendations),
		slog.Int("overdue", s.Overdue), slog.Int("deputies", s.Deputies), slog.Int("activity_reports", s.ActivityReports),
		slog.Int("assessments", s.Assessments), slog.Int("replies", s.Replies),
		slog.Int("method_versions", s.MethodVersions), slog.Int("events", s.Events), slog.Int("duplicates", s.Duplicates),
		slog.Duration("elapsed", s.Elapsed),
	)
}
