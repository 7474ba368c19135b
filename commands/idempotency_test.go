package commands_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/google/uuid"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
)

// TestRetryWithSameEventIDIsIdempotent repeats commands with the event id a
// client derived from its Idempotency-Key. Several would be refused if
// decided again (a second registration, a second assignment, a cancelled
// indicator), so the handler must recognise its own event first.
func TestRetryWithSameEventIDIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	roadmapID := f.world(t)
	indicatorID := f.indicator(t, roadmapID)
	keyed := func(h commands.Header) commands.Header {
		return with(h, func(h *commands.Header) { h.EventID = uuid.New() })
	}

	cases := []struct {
		name   string
		run    func(commands.Header) (commands.Result, error)
		header commands.Header
		// between runs after the first attempt: the world moves on before
		// the retry arrives.
		between func()
	}{
		{name: "register a program without an id", header: keyed(officer), run: func(h commands.Header) (commands.Result, error) {
			return f.h.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: h, Name: name, Kind: domain.ProgramYouth, Period: period})
		}},
		{name: "register a territory", header: keyed(officer), run: func(h commands.Header) (commands.Result, error) {
			return f.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: h, KATO: "750000000", Name: name, Kind: domain.TerritoryCityOfRepublicanSignificance, ParentKATO: "0"})
		}},
		{name: "assign a deputy", header: keyed(officer), run: func(h commands.Header) (commands.Result, error) {
			return f.h.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: h, RoadmapID: roadmapID, PersonID: "d9", Role: domain.RoleDeputy, DisplayName: "D"})
		}},
		{name: "report progress, then another report lands", header: keyed(officer), run: func(h commands.Header) (commands.Result, error) {
			return f.h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: h, IndicatorID: indicatorID, Value: num(30), Evidence: link})
		}, between: func() {
			must(t)(f.h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: officer, IndicatorID: indicatorID, Value: num(35), Evidence: link}))
		}},
		{name: "add an indicator, then the roadmap closes", header: keyed(officer), run: func(h commands.Header) (commands.Result, error) {
			return f.h.AddIndicator.Handle(ctx, commands.AddIndicator{Header: h, RoadmapID: roadmapID, Title: name, Kind: domain.KindMilestone, Deadline: domain.NewDate(2022, 1, 1)})
		}, between: func() {
			must(t)(f.h.CloseRoadmap.Handle(ctx, commands.CloseRoadmap{Header: because("term over"), RoadmapID: roadmapID}))
		}},
		{name: "cancel", header: keyed(because("merged")), run: func(h commands.Header) (commands.Result, error) {
			return f.h.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: h, IndicatorID: indicatorID})
		}},
	}
	for _, c := range cases { // in order: later cases build on earlier ones
		t.Run(c.name, func(t *testing.T) {
			first := must(t)(c.run(c.header))
			if c.between != nil {
				c.between()
			}
			again, err := c.run(c.header)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			want := first
			want.Duplicate = true
			if !reflect.DeepEqual(again, want) {
				t.Fatalf("retry returned %+v, want %+v", again, want)
			}
			if n := count(f.history(t, first.Stream), c.header.EventID); n != 1 {
				t.Fatalf("event stored %d times", n)
			}
		})
	}
}

func count(h []domain.Envelope, id uuid.UUID) int {
	n := 0
	for _, e := range h {
		if e.Meta.EventID == id {
			n++
		}
	}
	return n
}

func TestEventIDReusedForAnotherCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	indicatorID := f.indicator(t, f.world(t))
	h := with(officer, func(h *commands.Header) { h.EventID = uuid.New() })
	must(t)(f.h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: h, IndicatorID: indicatorID, Value: num(20), Evidence: link}))

	h.Reason = "merged"
	_, err := f.h.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: h, IndicatorID: indicatorID})
	if !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Fatalf("same stream, other command: %v", err)
	}
	other := f.indicator(t, f.world2(t))
	_, err = f.h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: h, IndicatorID: other, Value: num(20), Evidence: link})
	if !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Fatalf("other stream: %v", err)
	}
}

// world2 registers a second roadmap in a world that world already made.
func (f fixture) world2(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	program := must(t)(f.h.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: officer, Name: name, Kind: domain.ProgramYouth, Period: period}))
	return must(t)(f.h.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{
		Header: officer, ProgramID: program.ID, TerritoryKATO: "0", Level: domain.LevelRepublican, Title: name, Period: period,
	})).ID
}

// TestConcurrentRetriesRecordOnce sends the same keyed command from many
// goroutines at once, as an impatient client would.
func TestConcurrentRetriesRecordOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	indicatorID := f.indicator(t, f.world(t))
	h := with(officer, func(h *commands.Header) { h.EventID = uuid.New() })

	var wg sync.WaitGroup
	results := make([]commands.Result, 10)
	errs := make([]error, 10)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = f.h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: h, IndicatorID: indicatorID, Value: num(20), Evidence: link})
		})
	}
	wg.Wait()
	fresh := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if results[i].Version != 2 {
			t.Fatalf("attempt %d at version %d", i, results[i].Version)
		}
		if !results[i].Duplicate {
			fresh++
		}
	}
	if fresh != 1 || len(f.history(t, domain.IndicatorStream(indicatorID))) != 2 {
		t.Fatalf("%d attempts wrote; stream has %d events", fresh, len(f.history(t, domain.IndicatorStream(indicatorID))))
	}
}
