package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
)

// Fixtures shared by the given/when/then tables.
const (
	programID   = "0190a1b2-c3d4-7e5f-8a9b-000000000001"
	roadmapID   = "0190a1b2-c3d4-7e5f-8a9b-000000000002"
	indicatorID = "0190a1b2-c3d4-7e5f-8a9b-000000000003"
	otherID     = "0190a1b2-c3d4-7e5f-8a9b-0000000000ff"
)

var (
	// t0 is when the given history starts; events in it are an hour apart.
	t0 = time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC)
	// now is when the command under test is recorded.
	now = time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC)
	// whenID is the event id the command under test records.
	whenID = uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-00000000aaaa")

	name  = domain.Text{KK: "Өзгерістер жолы", RU: "Путь перемен", EN: "Path of change"}
	title = domain.Text{KK: "Жолдар", RU: "Дороги", EN: "Roads"}
	km    = domain.Text{KK: "шақырым", RU: "км", EN: "km"}

	programPeriod = domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	deadline      = domain.NewDate(2021, 12, 31)
	evidence      = domain.Evidence{URL: "https://example.kz/report.pdf"}
)

func num(f float64) *float64 { return &f }

// history gives events the metadata of a plausible past: recorded an hour
// apart from t0, effective when recorded, or at AsOf for progress reports
// (a zero AsOf becomes the recording time).
func history(events ...domain.Event) []domain.Envelope {
	out := make([]domain.Envelope, len(events))
	for i, e := range events {
		m := domain.Meta{
			EventID:    uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "given-%d", i)),
			ActorID:    "seed",
			RecordedAt: t0.Add(time.Duration(i) * time.Hour),
		}
		m.EffectiveAt = m.RecordedAt
		if r, ok := e.(domain.ProgressReported); ok {
			if r.AsOf.IsZero() {
				r.AsOf = m.RecordedAt
				e = r
			}
			m.EffectiveAt = r.AsOf
		}
		out[i] = domain.Envelope{Event: e, Meta: m}
	}
	return out
}

// whenMeta is the metadata of the command under test.
func whenMeta(reason string, effective time.Time) domain.Meta {
	return domain.Meta{
		EventID: whenID, ActorID: "officer-7", ActorRole: "officer", Reason: reason,
		EffectiveAt: effective, RecordedAt: now,
	}
}

// scenario is one given-events / when-command / then-events case.
type scenario[A any] struct {
	name      string
	given     []domain.Envelope
	when      func(A, domain.Meta) error
	reason    string    // the command's reason
	effective time.Time // the command's effective time (zero: now)
	then      []domain.Event
	err       error  // errors.Is target, if the command must fail
	field     string // a field that must have a field error
}

type aggregate interface {
	Changes() []domain.Envelope
}

func runScenarios[A aggregate](t *testing.T, rebuild func([]domain.Envelope) (A, error), cases []scenario[A]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, err := rebuild(c.given)
			if err != nil {
				t.Fatalf("given: %v", err)
			}
			err = c.when(a, whenMeta(c.reason, c.effective))
			checkErr(t, err, c.err, c.field)
			got := eventsOf(a.Changes())
			if err != nil && len(got) > 0 {
				t.Fatalf("failed with %v but recorded %s", err, dump(got))
			}
			if !reflect.DeepEqual(got, c.then) {
				t.Fatalf("then:\n got %s\nwant %s", dump(got), dump(c.then))
			}
		})
	}
}

func checkErr(t *testing.T, err, want error, field string) {
	t.Helper()
	switch {
	case want == nil && field == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case (want != nil || field != "") && err == nil:
		t.Fatalf("want error %v on field %q, got none", want, field)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error %v does not match %v", err, want)
	}
	if field != "" && !slices.ContainsFunc(domain.FieldErrors(err), func(e *domain.ValidationError) bool { return e.Field == field }) {
		t.Fatalf("error %v has no problem with field %q", err, field)
	}
	if field != "" && !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("field error %v does not match ErrValidation", err)
	}
}

func eventsOf(envs []domain.Envelope) []domain.Event {
	var out []domain.Event
	for _, e := range envs {
		out = append(out, e.Event)
	}
	return out
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Given events used across tables.
var (
	programRegistered = domain.ProgramRegistered{ProgramID: programID, Name: name, Kind: domain.ProgramMain, Period: programPeriod}
	republic          = domain.TerritoryRegistered{KATO: "0", Name: domain.Text{KK: "Қазақстан", RU: "Казахстан", EN: "Kazakhstan"}, Kind: domain.TerritoryRepublic}
	akmola            = domain.TerritoryRegistered{KATO: "110000000", Name: domain.Text{KK: "Ақмола", RU: "Акмолинская", EN: "Akmola"}, Kind: domain.TerritoryRegion, ParentKATO: "0"}
	roadmapRegistered = domain.RoadmapRegistered{
		RoadmapID: roadmapID, ProgramID: programID, TerritoryKATO: "110000000",
		Level: domain.LevelRegional, Title: title, Period: programPeriod,
	}
	numericAdded = domain.IndicatorAdded{
		IndicatorID: indicatorID, RoadmapID: roadmapID, Title: title, Kind: domain.KindNumeric,
		Baseline: num(10), Target: num(110), Unit: km, Direction: domain.DirectionIncrease,
		Deadline: deadline, Weight: 1,
	}
	milestoneAdded = domain.IndicatorAdded{
		IndicatorID: indicatorID, RoadmapID: roadmapID, Title: title, Kind: domain.KindMilestone,
		Deadline: deadline, Weight: 1,
	}
)

func mustRebuild[A any](t *testing.T, rebuild func([]domain.Envelope) (A, error), events ...domain.Event) A {
	t.Helper()
	a, err := rebuild(history(events...))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
