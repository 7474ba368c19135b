package demo

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// DefaultStart is when the roadmaps of "Путь перемен: Достойную жизнь
// каждому!" take effect unless Config.Start says otherwise: the term began
// with the January 2021 elections and the 217 roadmaps were drawn up in the
// weeks after. A function, not a variable, so nobody can move it.
func DefaultStart() time.Time { return time.Date(2021, time.March, 1, 0, 0, 0, 0, time.UTC) }

// Config describes the demo data set. The same Config gives the same data
// set, event ids included.
type Config struct {
	// Seed drives every random choice. Zero is a seed like any other.
	Seed int64
	// Start is when the roadmaps take effect. Default DefaultStart(). The
	// programs run from 1 January of Start's year to 31 December four years
	// later.
	Start time.Time
	// Now is "today": history is generated from Start up to Now and nothing
	// is recorded after it. Required.
	Now time.Time
	// Scale multiplies the number of indicators (and so of reports); 1 is
	// full size: 362 republican and about 2,300 regional measures. Programs,
	// territories, roadmaps and their responsible people are not scaled.
	// Default 1.
	Scale float64
	// AnyScale lifts the bound on Scale, for benchmarks that want a
	// million events of the demo's shape.
	AnyScale bool
	// Workers is how many roadmaps load at once. Default 8.
	Workers int
	// Resume replays every command even when the demo's main program is
	// already in the store. Commands carry fixed event ids, so the ones
	// already recorded come back as duplicates: that completes a load that
	// was interrupted, and changes nothing after a complete one.
	Resume bool
	// Logger receives a line when loading starts and ends. Default: discard.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Start.IsZero() {
		c.Start = DefaultStart()
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
}

// maxScale bounds Scale: beyond it the generated roadmaps stop looking like
// anything a district could carry.
const maxScale = 4

// Validate reports configuration errors.
func (c Config) Validate() error {
	var errs []error
	if c.Now.IsZero() {
		errs = append(errs, errors.New("demo: Config.Now is required"))
	} else if !c.Now.After(c.Start) {
		errs = append(errs, fmt.Errorf("demo: Config.Now %s is not after Start %s", c.Now.Format(time.RFC3339), c.Start.Format(time.RFC3339)))
	}
	if math.IsNaN(c.Scale) || c.Scale <= 0 || c.Scale > maxScale && !c.AnyScale {
		errs = append(errs, fmt.Errorf("demo: Config.Scale %g is not in (0, %d]", c.Scale, maxScale))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("demo: Config.Workers %d is not positive", c.Workers))
	}
	if y := c.Start.Year(); y < 2000 || y > 9000 {
		errs = append(errs, fmt.Errorf("demo: Config.Start %s is out of range", c.Start.Format(time.RFC3339)))
	}
	return errors.Join(errs...)
}

// Stats counts what Load did. The counts describe the data set: on a
// resumed load they include commands found already recorded (Duplicates).
type Stats struct {
	// AlreadyLoaded: the store held the demo, so nothing was done.
	AlreadyLoaded bool

	Programs      int
	Territories   int
	Roadmaps      int // each is registered and activated
	Deputies      int // deputy assignments, replacements included
	Officials     int // official assignments
	Unassignments int // deputies released after the 2023 elections
	Indicators    int
	Reports       int
	Corrections   int
	Retargets     int
	StatusChanges int
	Cancellations int
	Reassignments int // indicators handed to another official
	// RegisteredDeputies counts the responsible deputies registered as
	// deputies of their assembly; FactionChanges their faction joins and
	// departures; DeputyResponsibilities the responsibilities recorded on
	// their own records (assignments and releases).
	RegisteredDeputies     int
	FactionChanges         int
	DeputyResponsibilities int

	// Events is how many events this call appended; Duplicates how many
	// commands found their event already stored.
	Events     int
	Duplicates int
	// Elapsed is the wall-clock time Load took.
	Elapsed time.Duration
}

// LogValue lets slog print the counts as one group.
func (s Stats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("programs", s.Programs), slog.Int("territories", s.Territories),
		slog.Int("roadmaps", s.Roadmaps), slog.Int("deputies", s.Deputies), slog.Int("registered_deputies", s.RegisteredDeputies),
		slog.Int("officials", s.Officials), slog.Int("indicators", s.Indicators),
		slog.Int("reports", s.Reports), slog.Int("corrections", s.Corrections),
		slog.Int("retargets", s.Retargets), slog.Int("status_changes", s.StatusChanges),
		slog.Int("cancellations", s.Cancellations), slog.Int("events", s.Events),
		slog.Int("duplicates", s.Duplicates), slog.Duration("elapsed", s.Elapsed),
	)
}
