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
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestDemoOnTheMainDemo loads the councils demo beside the main demo in
// PostgreSQL, projects it, and checks that the rated deputies are exactly
// the roadmaps' responsible deputies (same ids, same names), rated on
// their own roadmaps' measures and on their replies to councils; that the
// two method versions rank the deputies differently for the same period;
// and that recommendations show up overdue.
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
	demoCfg := demo.Config{Seed: 1, Now: now, Scale: 0.1}
	if _, err := demo.Load(ctx, store, demoCfg); err != nil {
		t.Fatal(err)
	}
	desc, err := demo.Describe(demoCfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := commands.New(commands.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	st, err := councildemo.Load(ctx, h, councildemo.Config{Seed: 1, Now: now, Scale: 0.3, Demo: &desc})
	if err != nil {
		t.Fatal(err)
	}
	deputies := 0
	for _, rm := range desc.Roadmaps {
		deputies += len(rm.Deputies)
	}
	// At Scale 0.3 about 30% of the deputies report activity.
	if st.Territories != 236 || deputies < 2500 || st.Deputies*10 < deputies*2 || st.Deputies*10 > deputies*4 ||
		st.Assessments < 80 || st.Disputes == 0 || st.Replies < st.Assessments {
		t.Errorf("stats: %+v", st)
	}
	for _, p := range []projections.Projector{projections.Catalog{}, projections.Indicators{}, projections.Councils{}, projections.Ratings{}} {
		if _, err := projections.Rebuild(ctx, db, store, p); err != nil {
			t.Fatal(err)
		}
		catchUp(t, store, p)
	}
	onePopulation(t, store)
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

// onePopulation checks that the deputies the ratings projector knows are
// exactly the people assigned to roadmaps as deputies, under the names the
// roadmaps give them, each answering on their own record for the roadmaps
// that name them; and that every deputy's rating counts measures, some
// their replies to councils.
func onePopulation(t *testing.T, store *postgres.Store) {
	t.Helper()
	ctx, db := context.Background(), store.DB()
	responsible := map[string]string{} // deputy id → name, from the roadmaps
	roadmapsOf := map[string][]string{}
	for _, r := range readAll(t, store) {
		if r.Type != domain.TypeRoadmapResponsibleAssigned {
			continue
		}
		ev, _, err := domain.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.(domain.RoadmapResponsibleAssigned); a.Role == domain.RoleDeputy {
			responsible[a.PersonID] = a.DisplayName
			roadmapsOf[a.PersonID] = append(roadmapsOf[a.PersonID], a.RoadmapID)
		}
	}
	type row struct {
		ID   string `db:"deputy_id"`
		Name string `db:"display_name"`
	}
	var rated []row
	if err := db.SelectContext(ctx, &rated, `SELECT deputy_id, display_name FROM rm_rating_deputies
WHERE generation = (SELECT active_generation FROM projectors WHERE name = 'ratings.v1')`); err != nil {
		t.Fatal(err)
	}
	if len(rated) != len(responsible) || len(rated) == 0 {
		t.Errorf("%d deputies registered, %d responsible for roadmaps", len(rated), len(responsible))
	}
	for _, d := range rated {
		name, ok := responsible[d.ID]
		switch {
		case !ok:
			t.Errorf("deputy %s (%s) answers for no roadmap", d.ID, d.Name)
		case name != d.Name:
			t.Errorf("deputy %s is %q on the roadmap and %q in the rating", d.ID, name, d.Name)
		}
	}
	var links []string
	if err := db.SelectContext(ctx, &links, `SELECT person_id || ' ' || subject_id FROM rm_rating_links
WHERE subject_kind = 'roadmap' AND generation = (SELECT active_generation FROM projectors WHERE name = 'ratings.v1')`); err != nil {
		t.Fatal(err)
	}
	for id, rms := range roadmapsOf {
		for _, rm := range rms {
			if !slices.Contains(links, id+" "+rm) {
				t.Errorf("deputy %s is responsible for roadmap %s, but not on their own record", id, rm)
			}
		}
	}
	measured, replied := 0, 0
	for _, d := range rated {
		views, err := projections.DeputyRatings(ctx, db, d.ID, projections.RatingQuery{Version: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(views) == 0 {
			t.Errorf("deputy %s has no rating", d.ID)
			continue
		}
		done, reply := false, false
		for _, v := range views {
			for _, c := range v.Components {
				done = done || c.Source == domain.MetricIndicatorsDoneShare && c.HasData
				reply = reply || c.Source == domain.MetricAssessmentReplyShare && c.HasData && c.Numerator > 0
			}
		}
		if done {
			measured++
		}
		if reply {
			replied++
		}
	}
	// At this scale a few district roadmaps have no measure yet.
	if measured < len(rated)*9/10 || replied == 0 {
		t.Errorf("of %d deputies, %d are rated on their measures and %d on replies to councils", len(rated), measured, replied)
	}
	t.Logf("%d deputies, %d with replies to councils counted", len(rated), replied)
}
