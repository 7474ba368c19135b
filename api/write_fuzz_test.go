package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/api/kernel/kerneltest"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore/memory"
)

// Fixed ids of the fuzz world, so that seed bodies and paths can name them.
const (
	fuzzProgram   = "0190a6a4-5e2b-7c3d-8e4f-00000000f001"
	fuzzRoadmap   = "0190a6a4-5e2b-7c3d-8e4f-00000000f002"
	fuzzNumeric   = "0190a6a4-5e2b-7c3d-8e4f-00000000f003"
	fuzzMilestone = "0190a6a4-5e2b-7c3d-8e4f-00000000f004"
)

// fuzzWrite is one write route as the fuzz target drives it.
type fuzzWrite struct {
	method, path string
	seed         string // a body the route accepts
}

var fuzzWrites = []fuzzWrite{
	{"POST", "/v1/programs", `{"name":{"kk":"a","ru":"b","en":"c"},"kind":"main","period":{"start":"2021-01-01","end":"2025-12-31"}}`},
	{"POST", "/v1/territories", `{"kato":"111000000","name":{"kk":"a","ru":"b","en":"c"},"kind":"district","parent_kato":"110000000"}`},
	{"POST", "/v1/roadmaps", `{"program_id":"` + fuzzProgram + `","territory_kato":"110000000","level":"regional","title":{"kk":"a","ru":"b","en":"c"},"period":{"start":"2021-01-01","end":"2025-12-31"}}`},
	{"POST", "/v1/roadmaps/" + fuzzRoadmap + "/activate", `{}`},
	{"POST", "/v1/roadmaps/" + fuzzRoadmap + "/close", `{"reason":"merged"}`},
	{"POST", "/v1/roadmaps/" + fuzzRoadmap + "/responsibles", `{"person_id":"official-12","role":"official","display_name":"B. Official"}`},
	{"DELETE", "/v1/roadmaps/" + fuzzRoadmap + "/responsibles/official-9", `{"reason":"moved"}`},
	{"POST", "/v1/roadmaps/" + fuzzRoadmap + "/indicators", `{"title":{"kk":"a","ru":"b","en":"c"},"kind":"numeric","baseline":0,"target":5,"unit":{"kk":"km","ru":"km","en":"km"},"deadline":"2021-12-31","responsible_id":"official-9"}`},
	{"POST", "/v1/indicators/" + fuzzNumeric + "/reports", `{"value":20,"evidence":{"url":"https://akmola.gov.kz/a.pdf","description":"act"}}`},
	{"POST", "/v1/indicators/" + fuzzNumeric + "/corrections", `{"corrects":"unknown","value":11,"reason":"typo","evidence":{"url":"https://akmola.gov.kz/a.pdf"}}`},
	{"POST", "/v1/indicators/" + fuzzNumeric + "/retarget", `{"target":150,"deadline":"2022-06-30","reason":"x"}`},
	{"POST", "/v1/indicators/" + fuzzNumeric + "/status", `{"status":"in_progress"}`},
	{"POST", "/v1/indicators/" + fuzzMilestone + "/cancel", `{"reason":"merged"}`},
	{"POST", "/v1/indicators/" + fuzzNumeric + "/responsible", `{"person_id":"official-11"}`},
}

// fuzzServer is a Server on an in-memory store with every write route, as
// an administrator sends them: no database, so that the fuzz target runs
// thousands of bodies a second. The body decoding, the headers, the
// commands, the domain and the codec are the real ones.
func fuzzServer(t *testing.T) (*Server, *memory.Store, http.Handler) {
	t.Helper()
	store, handlers := kerneltest.MemoryCommands(t, time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC))
	s := &Server{cfg: Config{Store: store, Commands: handlers, Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 2 << 20}}
	ctx := context.Background()
	h := commands.Header{Actor: commands.Actor{ID: "admin-1", Role: "admin"}, EffectiveAt: time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)}
	text := domain.Text{KK: "a", RU: "b", EN: "c"}
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	steps := []func() error{
		func() error {
			_, err := handlers.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: h, KATO: "0", Name: text, Kind: domain.TerritoryRepublic})
			return err
		},
		func() error {
			_, err := handlers.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: h, KATO: "110000000", Name: text, Kind: domain.TerritoryRegion, ParentKATO: "0"})
			return err
		},
		func() error {
			_, err := handlers.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: h, ID: fuzzProgram, Name: text, Kind: domain.ProgramMain, Period: period})
			return err
		},
		func() error {
			_, err := handlers.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: h, ID: fuzzRoadmap, ProgramID: fuzzProgram,
				TerritoryKATO: "110000000", Level: domain.LevelRegional, Title: text, Period: period})
			return err
		},
		func() error {
			_, err := handlers.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: h, RoadmapID: fuzzRoadmap,
				PersonID: "official-9", Role: domain.RoleOfficial, DisplayName: "A. Official"})
			return err
		},
		func() error {
			base, target := 0.0, 100.0
			_, err := handlers.AddIndicator.Handle(ctx, commands.AddIndicator{Header: h, ID: fuzzNumeric, RoadmapID: fuzzRoadmap, Title: text,
				Kind: domain.KindNumeric, Baseline: &base, Target: &target, Unit: text, Deadline: domain.NewDate(2021, 12, 31)})
			return err
		},
		func() error {
			_, err := handlers.AddIndicator.Handle(ctx, commands.AddIndicator{Header: h, ID: fuzzMilestone, RoadmapID: fuzzRoadmap, Title: text,
				Kind: domain.KindMilestone, Deadline: domain.NewDate(2022, 6, 30)})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		if rt.method == "POST" || rt.method == "DELETE" {
			mux.Handle(rt.method+" "+rt.pattern, rt.handler)
		}
	}
	admin := &principal{TokenID: uuid.MustParse("0190a6a4-5e2b-7c3d-8e4f-00000000a001"), Role: RoleAdmin, PersonID: "admin-1"}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		info := &requestInfo{id: "fuzz", correlation: uuid.Nil, route: pattern, principal: admin}
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
	return s, store, handler
}

// FuzzWriteBodies sends fuzzed bodies to every write route. Property: no
// body makes the server fail (5xx); a refused body appends nothing; and
// every event an accepted body appends is read back by the codec unchanged,
// with every string of its data and metadata keeping the text rules, so
// that every projector can apply it.
func FuzzWriteBodies(f *testing.F) {
	// Every hostile value once, spread over the routes: few seeds keep the
	// baseline short in CI's 10 s; the file corpus and the mutator do the rest.
	for i, w := range fuzzWrites {
		f.Add(uint8(i), []byte(w.seed))
	}
	for j, h := range hostileJSON {
		i := j % len(fuzzWrites)
		f.Add(uint8(i), []byte(strings.Replace(fuzzWrites[i].seed, `"a"`, h.Literal, 1)))
		f.Add(uint8(i), []byte(strings.Replace(fuzzWrites[i].seed, `}`, `,"reason":`+h.Literal+`}`, 1)))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		_, store, handler := fuzzServer(t)
		ctx := context.Background()
		before, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w := fuzzWrites[int(route)%len(fuzzWrites)]
		r := httptest.NewRequest(w.method, w.path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		appended, err := store.ReadAll(ctx, before, 100)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s %s %q answered %d: %s", w.method, w.path, body, rec.Code, rec.Body)
		case rec.Code >= 400 && len(appended) > 0:
			t.Fatalf("%s %s %q answered %d but appended %d events", w.method, w.path, body, rec.Code, len(appended))
		}
		for _, ev := range appended {
			kerneltest.CheckStored(t, ev)
		}
	})
}

// TestFuzzWriteSeedsAreAccepted: each route's seed body is accepted (the
// correction's names no report, so it answers 422), so the fuzz target
// starts from bodies that reach the domain and the codec.
func TestFuzzWriteSeedsAreAccepted(t *testing.T) {
	t.Parallel()
	for _, w := range fuzzWrites {
		_, _, handler := fuzzServer(t)
		r := httptest.NewRequest(w.method, w.path, strings.NewReader(w.seed))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		want := rec.Code < 300
		if strings.HasSuffix(w.path, "/corrections") {
			want = rec.Code == http.StatusUnprocessableEntity
		}
		if !want {
			t.Errorf("%s %s refuses its seed: %d %s", w.method, w.path, rec.Code, rec.Body)
		}
	}
}
