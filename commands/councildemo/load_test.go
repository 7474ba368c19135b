package councildemo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

var now = time.Date(2022, 9, 30, 12, 0, 0, 0, time.UTC)

// world returns handlers on a fresh memory store whose clock is after Now,
// with a program and a roadmap registered.
func world(t *testing.T) (*commands.Handlers, *memory.Store, string) {
	t.Helper()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	h, err := commands.New(commands.Deps{Store: store, Clock: func() time.Time { return now.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	return h, store, roadmapOf(t, h)
}

// roadmapOf registers the republic, a program and a republican roadmap.
func roadmapOf(t *testing.T, h *commands.Handlers) string {
	t.Helper()
	ctx := context.Background()
	admin := commands.Header{Actor: commands.Actor{ID: "admin", Role: "admin"}, EffectiveAt: time.Date(2020, 12, 1, 0, 0, 0, 0, time.UTC)}
	ts, err := demo.Territories()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: admin, KATO: ts[0].KATO, Name: ts[0].Name, Kind: ts[0].Kind}); err != nil {
		t.Fatal(err)
	}
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	p, err := h.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: admin, Name: ts[0].Name, Kind: domain.ProgramMain, Period: period})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: admin, ProgramID: p.ID, TerritoryKATO: "0", Level: domain.LevelRepublican,
		Title: ts[0].Name, Period: period})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func readAll(t *testing.T, s eventstore.Store) []eventstore.Recorded {
	t.Helper()
	var out []eventstore.Recorded
	pos := eventstore.Start
	for {
		page, err := s.ReadAll(context.Background(), pos, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		pos = page[len(page)-1].Position
	}
}

// TestLoadFullSize checks the figures of shared/DOMAIN.md: about 1,700
// councils with about 12,000 members, 250+ recommendations in every state.
func TestLoadFullSize(t *testing.T) {
	if testing.Short() {
		t.Skip("full size")
	}
	t.Parallel()
	h, _, roadmap := world(t)
	st, err := councildemo.Load(context.Background(), h, councildemo.Config{Seed: 7, Now: now, RoadmapIDs: []string{roadmap}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Councils != 1700 || st.Members < 11500 || st.Members > 12600 || st.Recommendations < 250 {
		t.Errorf("councils %d, members %d, recommendations %d", st.Councils, st.Members, st.Recommendations)
	}
	for _, s := range domain.RecommendationStatuses() {
		if st.ByStatus[string(s)] == 0 {
			t.Errorf("no recommendation is %s: %v", s, st.ByStatus)
		}
	}
	if st.Overdue == 0 || st.Dissents == 0 || st.MethodVersions != 2 {
		t.Errorf("stats: %+v", st)
	}
	// Without the roadmap demo there is nobody to report on and nothing to
	// assess: the councils demo registers no deputy of its own.
	if st.Deputies != 0 || st.ActivityReports != 0 || st.Assessments != 0 {
		t.Errorf("without Demo: %d deputies, %d activity reports, %d assessments", st.Deputies, st.ActivityReports, st.Assessments)
	}
	t.Logf("%+v", st)
}

// demoWorld loads the roadmap demo (small scale) into a fresh memory store
// and returns handlers whose clock is after Now, with the demo's
// description.
func demoWorld(t *testing.T, seed int64) (*commands.Handlers, *memory.Store, *demo.Description) {
	t.Helper()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	cfg := demo.Config{Seed: seed, Now: now, Scale: 0.02}
	if _, err := demo.Load(context.Background(), store, cfg); err != nil {
		t.Fatal(err)
	}
	desc, err := demo.Describe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := commands.New(commands.Deps{Store: store, Clock: func() time.Time { return now.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	return h, store, &desc
}

// TestLoadIsDeterministicAndIdempotent: the same Config gives the same
// events (activity reports, assessments and replies included), and a
// second load records nothing new.
func TestLoadIsDeterministicAndIdempotent(t *testing.T) {
	t.Parallel()
	h1, s1, d1 := demoWorld(t, 3)
	h2, s2, d2 := demoWorld(t, 3)
	cfg1 := councildemo.Config{Seed: 3, Now: now, Scale: 0.05, Demo: d1}
	cfg2 := councildemo.Config{Seed: 3, Now: now, Scale: 0.05, Demo: d2, Workers: 1}
	first, err := councildemo.Load(context.Background(), h1, cfg1)
	if err != nil {
		t.Fatal(err)
	}
	if first.ActivityReports == 0 || first.Assessments == 0 || first.Replies == 0 {
		t.Errorf("stats: %+v", first)
	}
	if _, err := councildemo.Load(context.Background(), h2, cfg2); err != nil {
		t.Fatal(err)
	}
	ids := func(rs []eventstore.Recorded) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID.String()+" "+r.Type)
		}
		slices.Sort(out)
		return out
	}
	a, b := readAll(t, s1), readAll(t, s2)
	if ia, ib := ids(a), ids(b); !slices.Equal(ia, ib) || len(ia) == 0 {
		t.Errorf("different data sets: %d and %d events", len(ia), len(ib))
	}
	again, err := councildemo.Load(context.Background(), h1, cfg1)
	if err != nil {
		t.Fatal(err)
	}
	if again.Events != 0 || again.Duplicates < first.Events-first.Territories {
		t.Errorf("second load: %d new events, %d duplicates (first: %d events)", again.Events, again.Duplicates, first.Events)
	}
	if len(readAll(t, s1)) != len(a) {
		t.Error("the second load appended events")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	h, _, _ := world(t)
	for _, cfg := range []councildemo.Config{
		{},
		{Now: now, Scale: 5},
		{Now: demo.DefaultStart()},
		{Now: now, Territories: []councildemo.Territory{{KATO: "110000000", ParentKATO: "0"}}},
	} {
		if _, err := councildemo.Load(context.Background(), h, cfg); err == nil {
			t.Errorf("%+v was accepted", cfg)
		}
	}
}

// TestActivityScalesWithScale: the deputies' quarterly activity reports,
// most of the data set's events, shrink with Scale like the rest (the
// demo's deputies do not: every roadmap keeps its people), so a small
// demo loads fast.
func TestActivityScalesWithScale(t *testing.T) {
	t.Parallel()
	reports := map[float64]int{}
	for _, scale := range []float64{0.1, 0.5} {
		h, _, d := demoWorld(t, 5)
		st, err := councildemo.Load(context.Background(), h, councildemo.Config{Seed: 5, Now: now, Scale: scale, Demo: d})
		if err != nil {
			t.Fatal(err)
		}
		reports[scale] = st.ActivityReports
	}
	if r := float64(reports[0.5]) / float64(max(1, reports[0.1])); r < 3 || r > 8 {
		t.Errorf("activity reports: %d at scale 0.1, %d at 0.5 (ratio %.1f, want about 5)", reports[0.1], reports[0.5], r)
	}
}
