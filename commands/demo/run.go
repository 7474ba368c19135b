package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"promiseledger/commands"
)

// stepKind says what a step records, for Stats.
type stepKind uint8

const (
	kindProgram stepKind = iota
	kindTerritory
	kindRoadmap
	kindActivation
	kindDeputy
	kindOfficial
	kindUnassignment
	kindIndicator
	kindReport
	kindCorrection
	kindRetarget
	kindStatusChange
	kindCancellation
	kindReassignment
	kindDeputyRegistration
	kindFaction
	kindDeputyResponsibility
	kindCount
)

// execFunc issues one command through the handlers.
type execFunc func(ctx context.Context, h *commands.Handlers, hd commands.Header) (commands.Result, error)

// step is one planned command. Its header carries the actor, the reason,
// the effective time and the event id; at is when the ledger records it.
type step struct {
	at     time.Time
	kind   stepKind
	header commands.Header
	exec   execFunc
	// assignee is the person a hand-over (kindReassignment) gives the
	// measure to.
	assignee string
}

// id is the id of the aggregate a registration step creates: the command
// leaves the aggregate id empty, so it takes the event id.
func (s *step) id() string { return s.header.EventID.String() }

// tally is what a run of steps did.
type tally struct {
	kinds      [kindCount]int
	events     int
	duplicates int
}

func (t *tally) add(o tally) {
	for i, n := range o.kinds {
		t.kinds[i] += n
	}
	t.events += o.events
	t.duplicates += o.duplicates
}

// stats turns a tally into Stats.
func (t tally) stats() Stats {
	k := t.kinds
	return Stats{
		Programs: k[kindProgram], Territories: k[kindTerritory], Roadmaps: k[kindRoadmap],
		Deputies: k[kindDeputy], Officials: k[kindOfficial], Unassignments: k[kindUnassignment],
		Indicators: k[kindIndicator], Reports: k[kindReport], Corrections: k[kindCorrection],
		Retargets: k[kindRetarget], StatusChanges: k[kindStatusChange],
		Cancellations: k[kindCancellation], Reassignments: k[kindReassignment],
		RegisteredDeputies: k[kindDeputyRegistration], FactionChanges: k[kindFaction],
		DeputyResponsibilities: k[kindDeputyResponsibility],
		Events:                 t.events, Duplicates: t.duplicates,
	}
}

// simClock is the recorded-time clock of one sequential run of steps: it
// reads whatever the step being issued says, so recorded times look like
// the history they describe. Each run has its own, used by one goroutine.
type simClock struct{ now time.Time }

func (c *simClock) Now() time.Time { return c.now }

// noID is the handlers' id source. Every demo command names its event id;
// one that forgot would get the nil id and fail validation instead of
// quietly taking a random id and breaking determinism.
func noID() uuid.UUID { return uuid.Nil }

// runSteps issues steps in order, with handlers whose clock follows them.
func runSteps(ctx context.Context, store commands.EventStore, decoded *commands.DecodeCache, steps []*step) (tally, error) {
	var t tally
	clock := &simClock{}
	h, err := commands.New(commands.Deps{Store: store, Clock: clock.Now, NewID: noID, Decoded: decoded})
	if err != nil {
		return t, err
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return t, err
		}
		clock.now = s.at
		res, err := s.exec(ctx, h, s.header)
		if err != nil {
			return t, fmt.Errorf("%s event %s recorded at %s: %w", kindNames[s.kind], s.header.EventID, s.at.Format(time.RFC3339), err)
		}
		t.kinds[s.kind]++
		if res.Duplicate {
			t.duplicates++
		} else {
			t.events++
		}
	}
	return t, nil
}

var kindNames = [kindCount]string{
	kindProgram: "program", kindTerritory: "territory", kindRoadmap: "roadmap",
	kindActivation: "activation", kindDeputy: "deputy", kindOfficial: "official",
	kindUnassignment: "unassignment", kindIndicator: "indicator", kindReport: "report",
	kindCorrection: "correction", kindRetarget: "retarget", kindStatusChange: "status change",
	kindCancellation: "cancellation", kindReassignment: "reassignment",
	kindDeputyRegistration: "deputy registration", kindFaction: "faction membership",
	kindDeputyResponsibility: "deputy responsibility",
}

// runJobs runs each job (a sequence of steps) on one of workers goroutines.
// The first failure cancels the rest and is returned. The handlers share
// decoded: a roadmap's stream is read back for each of its measures.
func runJobs(ctx context.Context, store commands.EventStore, decoded *commands.DecodeCache, workers int, jobs [][]*step) (tally, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan []*step)
	done := make([]tally, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for job := range next {
				t, err := runSteps(ctx, store, decoded, job)
				done[w].add(t)
				if err != nil {
					cancel(err)
				}
			}
		})
	}
	feed(ctx, next, jobs)
	wg.Wait()
	var total tally
	for _, t := range done {
		total.add(t)
	}
	return total, context.Cause(ctx)
}

// feed hands out jobs until they run out or ctx ends, then closes next.
func feed(ctx context.Context, next chan<- []*step, jobs [][]*step) {
	defer close(next)
	for _, job := range jobs {
		select {
		case next <- job:
		case <-ctx.Done():
			return
		}
	}
}
