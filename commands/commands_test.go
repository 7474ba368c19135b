package commands_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

var (
	start   = time.Date(2021, 6, 1, 9, 0, 0, 0, time.UTC)
	name    = domain.Text{KK: "Өзгерістер жолы", RU: "Путь перемен", EN: "Path of change"}
	period  = domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	officer = commands.Header{Actor: commands.Actor{ID: "officer-7", Role: "officer"}}
	link    = domain.Evidence{URL: "https://akmola.gov.kz/report.pdf"}
)

func num(f float64) *float64 { return &f }

// ticking is a clock that moves a second on every reading, safe for
// concurrent use.
func ticking() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Second) }
}

type fixture struct {
	h     *commands.Handlers
	store *memory.Store
}

func newFixture(t *testing.T, store commands.EventStore) *commands.Handlers {
	t.Helper()
	h, err := commands.New(commands.Deps{Store: store, Clock: ticking()})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func setup(t *testing.T) fixture {
	t.Helper()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	return fixture{h: newFixture(t, store), store: store}
}

// must fails the test if a handler fails: must(t)(h.X.Handle(ctx, cmd)).
func must(t *testing.T) func(commands.Result, error) commands.Result {
	return func(res commands.Result, err error) commands.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
}

func with(h commands.Header, edit func(*commands.Header)) commands.Header {
	edit(&h)
	return h
}

func because(reason string) commands.Header {
	return with(officer, func(h *commands.Header) { h.Reason = reason })
}

// world registers the republic, a region, a program and an active regional
// roadmap, and returns the roadmap's id.
func (f fixture) world(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	must(t)(f.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: officer, KATO: "0", Name: name, Kind: domain.TerritoryRepublic}))
	must(t)(f.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: officer, KATO: "110000000", Name: name, Kind: domain.TerritoryRegion, ParentKATO: "0"}))
	program := must(t)(f.h.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: officer, Name: name, Kind: domain.ProgramMain, Period: period}))
	roadmap := must(t)(f.h.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{
		Header: officer, ProgramID: program.ID, TerritoryKATO: "110000000",
		Level: domain.LevelRegional, Title: name, Period: period,
	}))
	must(t)(f.h.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: officer, RoadmapID: roadmap.ID}))
	return roadmap.ID
}

// indicator adds a numeric indicator (10 → 110 km) to roadmap.
func (f fixture) indicator(t *testing.T, roadmapID string) string {
	t.Helper()
	res := must(t)(f.h.AddIndicator.Handle(context.Background(), commands.AddIndicator{
		Header: with(officer, func(h *commands.Header) { h.EffectiveAt = start }), RoadmapID: roadmapID, Title: name, Kind: domain.KindNumeric,
		Baseline: num(10), Target: num(110), Unit: name, Deadline: domain.NewDate(2021, 12, 31),
	}))
	return res.ID
}

// history reads a stream back through the codec.
func (f fixture) history(t *testing.T, stream string) []domain.Envelope {
	t.Helper()
	records, err := f.store.ReadStream(context.Background(), stream, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]domain.Envelope, len(records))
	for i, r := range records {
		e, m, err := domain.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = domain.Envelope{Event: e, Meta: m}
	}
	return out
}

func (f fixture) state(t *testing.T, indicatorID string) domain.IndicatorState {
	t.Helper()
	s, err := domain.FoldIndicator(f.history(t, domain.IndicatorStream(indicatorID)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIndicatorLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	roadmapID := f.world(t)
	id := f.indicator(t, roadmapID)

	asOf := start.Add(time.Second) // after the indicator took effect, before now
	first := must(t)(f.h.ReportProgress.Handle(ctx, commands.ReportProgress{
		Header: with(officer, func(h *commands.Header) { h.EffectiveAt = asOf }), IndicatorID: id, Value: num(110), Evidence: link,
	}))
	if first.Version != 2 || len(first.EventIDs) != 1 || first.Stream != domain.IndicatorStream(id) || first.Duplicate {
		t.Fatalf("report result %+v", first)
	}
	if s := f.state(t, id); s.Status != domain.StatusDone {
		t.Fatalf("after a report at target: %s", s.Status)
	}

	reportID := first.EventIDs[0].String()
	must(t)(f.h.CorrectReport.Handle(ctx, commands.CorrectReport{Header: because("110 was the plan, not the fact"), IndicatorID: id, Corrects: reportID, Value: num(60), Evidence: link}))
	s := f.state(t, id)
	if s.Status != domain.StatusInProgress || *s.LatestValue != 60 || s.Completion() != 0.5 {
		t.Fatalf("after the correction: %s %v %v", s.Status, *s.LatestValue, s.Completion())
	}
	if h := f.history(t, domain.IndicatorStream(id)); !h[2].Meta.EffectiveAt.Equal(asOf) {
		t.Fatalf("correction effective at %s, want the report's %s", h[2].Meta.EffectiveAt, asOf)
	}

	must(t)(f.h.RetargetIndicator.Handle(ctx, commands.RetargetIndicator{Header: because("budget cut"), IndicatorID: id, Target: num(60)}))
	if s := f.state(t, id); s.Status != domain.StatusDone {
		t.Fatalf("after lowering the target to the value: %s", s.Status)
	}
	must(t)(f.h.ChangeIndicatorStatus.Handle(ctx, commands.ChangeIndicatorStatus{Header: because("audit found gaps"), IndicatorID: id, To: domain.StatusInProgress}))
	must(t)(f.h.AssignIndicatorResponsible.Handle(ctx, commands.AssignIndicatorResponsible{Header: officer, IndicatorID: id, PersonID: "akim-1"}))
	last := must(t)(f.h.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: because("merged"), IndicatorID: id}))
	if last.Version != 7 {
		t.Fatalf("final version %d, want 7", last.Version)
	}

	_, err := f.h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: officer, IndicatorID: id, Value: num(1), Evidence: link})
	if !errors.Is(err, domain.ErrCancelled) {
		t.Fatalf("report after cancel: %v", err)
	}
}

func TestRoadmapLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	id := f.world(t)

	must(t)(f.h.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: officer, RoadmapID: id, PersonID: "d1", Role: domain.RoleDeputy, DisplayName: "Deputy One"}))
	_, err := f.h.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: officer, RoadmapID: id, PersonID: "d1", Role: domain.RoleDeputy, DisplayName: "Deputy One"})
	if !errors.Is(err, domain.ErrAlreadyAssigned) {
		t.Fatalf("second assignment: %v", err)
	}
	_, err = f.h.UnassignRoadmapResponsible.Handle(ctx, commands.UnassignRoadmapResponsible{Header: officer, RoadmapID: id, PersonID: "d1"})
	if !errors.Is(err, domain.ErrReasonRequired) {
		t.Fatalf("unassign without reason: %v", err)
	}
	must(t)(f.h.UnassignRoadmapResponsible.Handle(ctx, commands.UnassignRoadmapResponsible{Header: because("elected elsewhere"), RoadmapID: id, PersonID: "d1"}))
	closed := must(t)(f.h.CloseRoadmap.Handle(ctx, commands.CloseRoadmap{Header: because("term over"), RoadmapID: id}))
	if closed.Version != 5 {
		t.Fatalf("closed at version %d", closed.Version)
	}
	_, err = f.h.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: officer, RoadmapID: id})
	if !errors.Is(err, domain.ErrRoadmapClosed) {
		t.Fatalf("activate closed: %v", err)
	}
	_, err = f.h.AddIndicator.Handle(ctx, commands.AddIndicator{Header: officer, RoadmapID: id, Title: name, Kind: domain.KindMilestone, Deadline: domain.NewDate(2022, 1, 1)})
	if !errors.Is(err, domain.ErrRoadmapClosed) {
		t.Fatalf("add to closed roadmap: %v", err)
	}
	_, err = f.h.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: officer, RoadmapID: uuid.NewString()})
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("activate missing: %v", err)
	}
}

func TestReferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	roadmapID := f.world(t)
	cases := []struct {
		name  string
		run   func() (commands.Result, error)
		err   error
		field string
	}{
		{"territory under a missing parent", func() (commands.Result, error) {
			return f.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: officer, KATO: "150000000", Name: name, Kind: domain.TerritoryRegion, ParentKATO: "999999999"})
		}, domain.ErrUnknownReference, "parent_kato"},
		{"district under the republic", func() (commands.Result, error) {
			return f.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: officer, KATO: "113200000", Name: name, Kind: domain.TerritoryDistrict, ParentKATO: "0"})
		}, domain.ErrValidation, "parent_kato"},
		{"territory twice", func() (commands.Result, error) {
			return f.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: officer, KATO: "0", Name: name, Kind: domain.TerritoryRepublic})
		}, domain.ErrAlreadyExists, ""},
		{"roadmap of a missing program", func() (commands.Result, error) {
			return f.h.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: officer, ProgramID: uuid.NewString(), TerritoryKATO: "110000000", Level: domain.LevelRegional, Title: name, Period: period})
		}, domain.ErrUnknownReference, "program_id"},
		{"roadmap of a malformed program id and a missing territory", func() (commands.Result, error) {
			return f.h.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: officer, ProgramID: "p1", TerritoryKATO: "750000000", Level: domain.LevelRegional, Title: name, Period: period})
		}, domain.ErrUnknownReference, "territory_kato"},
		{"indicator of a missing roadmap", func() (commands.Result, error) {
			return f.h.AddIndicator.Handle(ctx, commands.AddIndicator{Header: officer, RoadmapID: uuid.NewString(), Title: name, Kind: domain.KindMilestone, Deadline: domain.NewDate(2022, 1, 1)})
		}, domain.ErrUnknownReference, "roadmap_id"},
		{"indicator with target at baseline", func() (commands.Result, error) {
			return f.h.AddIndicator.Handle(ctx, commands.AddIndicator{Header: officer, RoadmapID: roadmapID, Title: name, Kind: domain.KindNumeric, Baseline: num(1), Target: num(1), Unit: name, Deadline: domain.NewDate(2022, 1, 1)})
		}, domain.ErrTargetEqualsBaseline, "target"},
		{"malformed indicator id", func() (commands.Result, error) {
			return f.h.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: because("x"), IndicatorID: "../roadmap"})
		}, domain.ErrValidation, "indicator_id"},
		{"malformed KATO", func() (commands.Result, error) {
			return f.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: officer, KATO: "KZ-AKM", Name: name, Kind: domain.TerritoryRegion, ParentKATO: "0"})
		}, domain.ErrValidation, "kato"},
		{"no actor", func() (commands.Result, error) {
			return f.h.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{RoadmapID: roadmapID, PersonID: "d", Role: domain.RoleDeputy, DisplayName: "D"})
		}, domain.ErrValidation, "actor_id"},
	}
	for _, c := range cases {
		_, err := c.run()
		if !errors.Is(err, c.err) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			continue
		}
		if c.field != "" && !hasField(err, c.field) {
			t.Errorf("%s: %v has no problem with %s", c.name, err, c.field)
		}
	}
}

func hasField(err error, field string) bool {
	for _, fe := range domain.FieldErrors(err) {
		if fe.Field == field {
			return true
		}
	}
	return false
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	correlation, causation := uuid.New(), uuid.New()
	h := with(officer, func(h *commands.Header) { h.CorrelationID, h.CausationID = correlation, causation })
	must(t)(f.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: h, KATO: "0", Name: name, Kind: domain.TerritoryRepublic}))
	res := must(t)(f.h.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: officer, Name: name, Kind: domain.ProgramYouth, Period: period}))

	m := f.history(t, domain.TerritoryStream("0"))[0].Meta
	if m.ActorID != "officer-7" || m.ActorRole != "officer" || m.CorrelationID != correlation || m.CausationID != causation ||
		m.EffectiveAt.IsZero() || !m.EffectiveAt.Equal(m.RecordedAt) || m.RecordedAt.Before(start) {
		t.Fatalf("metadata %+v", m)
	}
	m = f.history(t, res.Stream)[0].Meta
	if m.CorrelationID != m.EventID || m.CausationID != uuid.Nil || res.ID != m.EventID.String() || m.EventID.Version() != 7 {
		t.Fatalf("defaults: %+v, result %+v", m, res)
	}
}

func TestPagedLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	h, err := commands.New(commands.Deps{Store: store, Clock: ticking(), PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{h: h, store: store}
	id := f.indicator(t, f.world(t))
	for i := range 5 {
		res := must(t)(h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: officer, IndicatorID: id, Value: num(float64(20 + i)), Evidence: link}))
		if res.Version != int64(i+2) {
			t.Fatalf("report %d at version %d", i, res.Version)
		}
	}
}

func TestNewValidatesDeps(t *testing.T) {
	t.Parallel()
	if _, err := commands.New(commands.Deps{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
	if _, err := commands.New(commands.Deps{Store: memory.New(), Attempts: -1}); err == nil {
		t.Fatal("New with negative attempts succeeded")
	}
}

var _ commands.EventStore = (*memory.Store)(nil)
var _ commands.EventStore = eventstore.Store(nil)
