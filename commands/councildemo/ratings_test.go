package councildemo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestDemoOnTheMainDemo loads the councils demo beside the main demo in
// PostgreSQL, projects it, and checks that the two method versions rank
// the deputies differently for the same period, and that recommendations
// show up overdue.
func TestDemoOnTheMainDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := postgres.Open(ctx, postgres.Config{URL: pgtest.NewURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := store.DB()
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := projections.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, store, demo.Config{Seed: 1, Now: now, Scale: 0.1}); err != nil {
		t.Fatal(err)
	}
	var roadmaps []string
	for _, r := range readAll(t, store) {
		if r.Type == "roadmap.registered.v1" {
			roadmaps = append(roadmaps, strings.TrimPrefix(r.Stream, "roadmap-"))
		}
	}
	h, err := commands.New(commands.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	st, err := councildemo.Load(ctx, h, councildemo.Config{Seed: 1, Now: now, Scale: 0.3, RoadmapIDs: roadmaps})
	if err != nil {
		t.Fatal(err)
	}
	if st.Territories != 236 || st.Responsibilities != st.Deputies {
		t.Errorf("stats: %+v", st)
	}
	for _, p := range []projections.Projector{projections.Catalog{}, projections.Indicators{}, projections.Councils{}, projections.Ratings{}} {
		if _, err := projections.Rebuild(ctx, db, store, p); err != nil {
			t.Fatal(err)
		}
		catchUp(t, store, p)
	}
	differ := false
	for _, level := range []string{"republican", "regional", "district"} {
		v1, err := projections.LeagueTable(ctx, db, projections.LeagueQuery{Level: level, Version: 1})
		if err != nil {
			t.Fatal(err)
		}
		start := v1.Period.Start
		v2, err := projections.LeagueTable(ctx, db, projections.LeagueQuery{Level: level, Version: 2, Period: &start})
		if err != nil {
			t.Fatal(err)
		}
		if len(v1.Rows) != len(v2.Rows) || v1.Provisional || !v1.InForce && !v2.InForce {
			t.Errorf("%s: %d and %d rows, provisional %v", level, len(v1.Rows), len(v2.Rows), v1.Provisional)
		}
		for i := range v1.Rows {
			if i < len(v2.Rows) && v1.Rows[i].DeputyID != v2.Rows[i].DeputyID {
				differ = true
			}
		}
	}
	if !differ {
		t.Error("versions 1 and 2 rank every level alike")
	}
	overdue, err := projections.ListRecommendations(ctx, db, projections.RecommendationFilter{OverdueOnly: true, On: now})
	if err != nil || len(overdue.Items) == 0 {
		t.Errorf("overdue: %v, %d", err, len(overdue.Items))
	}
}

// catchUp applies what a rebuild could not see yet: the store shows an
// event only once every older transaction of the cluster has ended.
func catchUp(t *testing.T, store *postgres.Store, p projections.Projector) {
	t.Helper()
	ctx, db := context.Background(), store.DB()
	deadline := time.Now().Add(time.Minute)
	for {
		pos, err := projections.Checkpoint(ctx, db, p.Name())
		if err != nil {
			t.Fatal(err)
		}
		page, err := store.ReadAll(ctx, pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 0 {
			if err := projections.Process(ctx, db, p, page); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var applied, total int64
		if err := db.Get(&applied, `SELECT c.events_total FROM projectors p JOIN projector_checkpoints c
	ON c.name = p.name AND c.generation = p.active_generation WHERE p.name = $1`, p.Name()); err != nil {
			t.Fatal(err)
		}
		if err := db.Get(&total, `SELECT count(*) FROM events`); err != nil {
			t.Fatal(err)
		}
		if applied >= total {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not catch up: %d of %d events", p.Name(), applied, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
