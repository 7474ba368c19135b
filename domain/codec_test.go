package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
)

// TestCodecRoundTrip pins the stored JSON of every event type: changing a
// field name breaks this test, as it would break every stored event.
func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	later := domain.NewDate(2022, 6, 30)
	asOf := time.Date(2021, 5, 31, 6, 0, 0, 0, time.UTC)
	cases := []struct {
		event domain.Event
		json  string
	}{
		{programRegistered, `{"program_id":"` + programID + `","name":{"kk":"Өзгерістер жолы","ru":"Путь перемен","en":"Path of change"},"kind":"main","period":{"start":"2021-01-01","end":"2025-12-31"}}`},
		{akmola, `{"kato":"110000000","name":{"kk":"Ақмола","ru":"Акмолинская","en":"Akmola"},"kind":"region","parent_kato":"0"}`},
		{republic, `{"kato":"0","name":{"kk":"Қазақстан","ru":"Казахстан","en":"Kazakhstan"},"kind":"republic"}`},
		{roadmapRegistered, `{"roadmap_id":"` + roadmapID + `","program_id":"` + programID + `","territory_kato":"110000000","level":"regional","title":{"kk":"Жолдар","ru":"Дороги","en":"Roads"},"period":{"start":"2021-01-01","end":"2025-12-31"}}`},
		{domain.RoadmapActivated{RoadmapID: roadmapID}, `{"roadmap_id":"` + roadmapID + `"}`},
		{domain.RoadmapClosed{RoadmapID: roadmapID}, `{"roadmap_id":"` + roadmapID + `"}`},
		{domain.RoadmapResponsibleAssigned{RoadmapID: roadmapID, Responsible: domain.Responsible{PersonID: "d1", Role: domain.RoleDeputy, DisplayName: "A"}},
			`{"roadmap_id":"` + roadmapID + `","person_id":"d1","role":"deputy","display_name":"A"}`},
		{domain.RoadmapResponsibleUnassigned{RoadmapID: roadmapID, PersonID: "d1"}, `{"roadmap_id":"` + roadmapID + `","person_id":"d1"}`},
		{numericAdded, `{"indicator_id":"` + indicatorID + `","roadmap_id":"` + roadmapID + `","title":{"kk":"Жолдар","ru":"Дороги","en":"Roads"},"kind":"numeric","baseline":10,"target":110,"unit":{"kk":"шақырым","ru":"км","en":"km"},"direction":"increase","deadline":"2021-12-31","weight":1}`},
		{milestoneAdded, `{"indicator_id":"` + indicatorID + `","roadmap_id":"` + roadmapID + `","title":{"kk":"Жолдар","ru":"Дороги","en":"Roads"},"kind":"milestone","deadline":"2021-12-31","weight":1}`},
		{withAsOf(reported("r1", 42.5), asOf), `{"indicator_id":"` + indicatorID + `","report_id":"r1","value":42.5,"done":false,"as_of":"2021-05-31T06:00:00Z","evidence":{"url":"https://example.kz/report.pdf"}}`},
		{correction("c1", "r1", 40), `{"indicator_id":"` + indicatorID + `","report_id":"c1","corrects":"r1","value":40,"done":false,"evidence":{"url":"https://example.kz/report.pdf"}}`},
		{domain.IndicatorRetargeted{IndicatorID: indicatorID, TargetChange: domain.TargetChange{Target: num(80), Deadline: &later}},
			`{"indicator_id":"` + indicatorID + `","target":80,"deadline":"2022-06-30"}`},
		{domain.IndicatorStatusChanged{IndicatorID: indicatorID, From: domain.StatusDone, To: domain.StatusInProgress},
			`{"indicator_id":"` + indicatorID + `","from":"done","to":"in_progress"}`},
		{domain.IndicatorCancelled{IndicatorID: indicatorID}, `{"indicator_id":"` + indicatorID + `"}`},
		{domain.IndicatorResponsibleAssigned{IndicatorID: indicatorID, PersonID: "o1"}, `{"indicator_id":"` + indicatorID + `","person_id":"o1"}`},
	}
	meta := fullMeta()
	seen := map[string]bool{}
	for _, c := range cases {
		typ, data, metadata, err := domain.Encode(c.event, meta)
		if err != nil {
			t.Fatalf("encode %T: %v", c.event, err)
		}
		seen[typ] = true
		if string(data) != c.json {
			t.Errorf("%s data:\n got %s\nwant %s", typ, data, c.json)
		}
		e, m, err := domain.Decode(typ, data, metadata)
		if err != nil {
			t.Fatalf("decode %s: %v", typ, err)
		}
		if !reflect.DeepEqual(e, c.event) || !reflect.DeepEqual(m, meta) {
			t.Errorf("%s round trip:\n got %#v %+v\nwant %#v %+v", typ, e, m, c.event, meta)
		}
	}
	for _, typ := range domain.EventTypes() {
		if !seen[typ] && !pinnedByCouncilRoundTrip()[typ] && typ != domain.TypeProgressReportedV0 {
			t.Errorf("no round-trip case for %s", typ)
		}
	}
}

func fullMeta() domain.Meta {
	return domain.Meta{
		EventID:       uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-000000000010"),
		ActorID:       "officer-7",
		ActorRole:     "officer",
		Reason:        "typo in the spreadsheet",
		CorrelationID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-000000000011"),
		CausationID:   uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-000000000012"),
		EffectiveAt:   time.Date(2021, 5, 31, 6, 0, 0, 0, time.UTC),
		RecordedAt:    time.Date(2021, 6, 1, 12, 0, 0, 123456789, time.UTC),
	}
}

func TestMetadataJSON(t *testing.T) {
	t.Parallel()
	m := fullMeta()
	almaty := time.FixedZone("Asia/Almaty", 6*3600)
	m.RecordedAt = m.RecordedAt.In(almaty) // written in UTC whatever the zone
	_, _, metadata, err := domain.Encode(domain.IndicatorCancelled{IndicatorID: indicatorID}, m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event_id":"0190a1b2-c3d4-7e5f-8a9b-000000000010","actor_id":"officer-7","actor_role":"officer","reason":"typo in the spreadsheet",` +
		`"correlation_id":"0190a1b2-c3d4-7e5f-8a9b-000000000011","causation_id":"0190a1b2-c3d4-7e5f-8a9b-000000000012",` +
		`"effective_at":"2021-05-31T06:00:00Z","recorded_at":"2021-06-01T12:00:00.123456789Z"}`
	if string(metadata) != want {
		t.Fatalf("metadata:\n got %s\nwant %s", metadata, want)
	}

	bare := domain.Meta{EventID: m.EventID, ActorID: "a", EffectiveAt: m.EffectiveAt, RecordedAt: m.EffectiveAt}
	_, _, metadata, _ = domain.Encode(domain.IndicatorCancelled{IndicatorID: indicatorID}, bare)
	var keys map[string]any
	if err := json.Unmarshal(metadata, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"actor_role", "reason", "correlation_id", "causation_id"} {
		if _, ok := keys[k]; ok {
			t.Errorf("empty %s written: %s", k, metadata)
		}
	}
}

func TestDecodeUpcastsProgressReportedV0(t *testing.T) {
	t.Parallel()
	data := `{"indicator_id":"` + indicatorID + `","value":12.5,"evidence_url":"https://akimat.kz/a.pdf","evidence_sha256":"` + sha64 + `"}`
	meta := fullMeta()
	_, _, metadata, _ := domain.Encode(domain.IndicatorCancelled{}, meta)

	e, m, err := domain.Decode(domain.TypeProgressReportedV0, []byte(data), metadata)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.ProgressReported{
		IndicatorID: indicatorID,
		ReportID:    meta.EventID.String(),
		Reading:     domain.Reading{Value: num(12.5)},
		AsOf:        meta.EffectiveAt,
		Evidence:    domain.Evidence{URL: "https://akimat.kz/a.pdf", SHA256: sha64},
	}
	if !reflect.DeepEqual(e, want) || e.EventType() != domain.TypeProgressReported {
		t.Fatalf("upcast:\n got %#v\nwant %#v", e, want)
	}
	// The upcast event folds like a current one.
	s, err := domain.FoldIndicator([]domain.Envelope{{Event: numericAdded, Meta: meta}, {Event: e, Meta: m}}, nil)
	if err != nil || s.Status != domain.StatusInProgress || *s.LatestValue != 12.5 {
		t.Fatalf("fold after upcast: %v %+v", err, s)
	}
}

const sha64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

type strayEvent struct{}

func (strayEvent) EventType() string { return "stray.happened.v1" }

func TestCodecErrors(t *testing.T) {
	t.Parallel()
	_, _, metadata, _ := domain.Encode(domain.IndicatorCancelled{}, fullMeta())

	_, _, err := domain.Decode("indicator.vanished.v1", []byte(`{}`), metadata)
	var unknown *domain.UnknownEventTypeError
	if !errors.Is(err, domain.ErrUnknownEventType) || !errors.As(err, &unknown) || unknown.Type != "indicator.vanished.v1" {
		t.Errorf("decode unknown type: %v", err)
	}
	if _, _, _, err := domain.Encode(strayEvent{}, fullMeta()); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Errorf("encode unregistered type: %v", err)
	}
	if _, _, err := domain.Decode(domain.TypeIndicatorCancelled, []byte(`{"indicator_id":`), metadata); err == nil {
		t.Error("decode of broken data succeeded")
	}
	if _, _, err := domain.Decode(domain.TypeIndicatorCancelled, []byte(`{}`), []byte(`{"event_id":"nope"}`)); err == nil {
		t.Error("decode of broken metadata succeeded")
	}
	if _, _, err := domain.Decode(domain.TypeIndicatorCancelled, []byte(`{}`), []byte(`{"recorded_at":"yesterday"}`)); err == nil {
		t.Error("decode of a broken time succeeded")
	}
}

func TestEventTypesAreVersioned(t *testing.T) {
	t.Parallel()
	types := domain.EventTypes()
	if len(types) != 38 || !slices.IsSorted(types) {
		t.Fatalf("EventTypes() = %v", types)
	}
	for _, typ := range types {
		if !versioned(typ) {
			t.Errorf("%s has no .vN suffix", typ)
		}
	}
}

func versioned(typ string) bool {
	i := len(typ) - 1
	for i > 0 && typ[i] >= '0' && typ[i] <= '9' {
		i--
	}
	return i > 1 && i < len(typ)-1 && typ[i] == 'v' && typ[i-1] == '.'
}
