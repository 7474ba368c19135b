package projections_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
	"promiseledger/projections"
	"promiseledger/projections/pgtext"
)

// TestRatingsStoredByAnOlderVersionStillRead: rows an older version wrote
// (the rating as jsonb, no record, the digest of the JSON) answer exactly
// as the records do; the next settle of their level rewrites every one of
// them as a record, and the answers and the read model then equal a fresh
// computation's.
func TestRatingsStoredByAnOlderVersionStillRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.loadRatingFixture()
	e.publishV2()
	e.settle(1000, projections.Ratings{})
	wantViews := dumpRatingViews(t, e.db)
	wantTables := dumpTables(t, e.db, projections.RatingsName)
	if !strings.Contains(wantViews, `"components":[{`) {
		t.Fatalf("the fixture has no ratings with components:\n%s", wantViews)
	}

	// Turn every row into the old form, as the version before migration
	// 0008 wrote it: jsonOf(view) in rating, its sha256 as the digest.
	var deputies []string
	if err := e.db.Select(&deputies, `SELECT DISTINCT deputy_id FROM rm_deputy_ratings ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	old := 0
	for _, id := range deputies {
		views, err := projections.DeputyRatings(ctx, e.db, id, projections.RatingQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			doc, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(doc)
			res, err := e.db.Exec(`UPDATE rm_deputy_ratings SET rating = $1::jsonb, body = NULL, digest = $2
WHERE generation = 1 AND method = $3 AND version = $4 AND period_start = $5::date AND deputy_id = $6`,
				string(doc), hex.EncodeToString(sum[:]), v.Method, v.Version, v.Period.Start.String(), v.DeputyID)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%s %s: %d rows updated", id, v.Period.Start, n)
			}
			old++
		}
	}
	var records int
	if err := e.db.Get(&records, `SELECT count(*) FROM rm_deputy_ratings WHERE body IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if old == 0 || records != 0 {
		t.Fatalf("%d rows in the old form, %d records left", old, records)
	}
	if got := dumpRatingViews(t, e.db); got != wantViews {
		t.Errorf("rows in the old form answer differently\nwant:\n%s\ngot:\n%s", wantViews, got)
	}

	// A settle of every level rewrites them.
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.Exec(`INSERT INTO rm_rating_pending_levels (generation, level) SELECT DISTINCT 1, level FROM rm_deputy_ratings`); err != nil {
		t.Fatal(err)
	}
	if err := (projections.Ratings{}).Settle(ctx, tx, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var jsonb int
	if err := e.db.Get(&jsonb, `SELECT count(*) FROM rm_deputy_ratings WHERE body IS NULL OR rating IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if jsonb != 0 {
		t.Errorf("%d rows still in the old form after their level was settled", jsonb)
	}
	if got := dumpRatingViews(t, e.db); got != wantViews {
		t.Errorf("rewritten rows answer differently\nwant:\n%s\ngot:\n%s", wantViews, got)
	}
	if got := dumpTables(t, e.db, projections.RatingsName); got != wantTables {
		t.Errorf("rewritten read model differs from a fresh one\nwant:\n%s\ngot:\n%s", wantTables, got)
	}
}

// TestRatingsStoredWithHostileTextReadBack: ratings whose deputy, names
// and component keys hold NUL, bytes that are not UTF-8, bidi controls
// and 1 MiB of text (ids and names in pgtext's escaped form, as the
// projector keeps them, and raw in the record's own text) read back
// through DeputyRatings and LeagueTable exactly as their JSON would have;
// a second save of the same ratings rewrites no row, and a save with one
// rating changed rewrites that row only.
func TestRatingsStoredWithHostileTextReadBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	ensure(t, e.db, projections.Ratings{})
	hostile := map[string]string{
		"nul":     "a\x00b",
		"invalid": "a\xff\xfeb\xc3",
		"bidi":    "a\u202eb\u2066c\u2069\u200f",
		"mark":    "a\u2400b",
		"1MiB":    strings.Repeat("Жx", 1<<19/3*2),
	}
	var views []projections.DeputyRatingView
	for name, h := range hostile {
		// Keys are indexed: their hostile part is cut to 64 bytes (the
		// text, the names and the component keys keep the whole).
		key := h[:min(len(h), 64)]
		id := pgtext.String("deputy-" + name + "-" + key)
		score, rank := 12.5, 1
		v := projections.DeputyRatingView{DeputyRating: domain.DeputyRating{Method: "m\x00" + key, Version: 1,
			Period:   domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)},
			DeputyID: id, DisplayName: h, AssemblyID: pgtext.String("asm-" + key), Level: domain.CouncilDistrict, FactionDays: 91,
			Rated: true, Score: &score, RankLevel: &rank, LevelRated: len(hostile), NotRated: h,
			Components: []domain.ComponentScore{
				{Key: h, Source: domain.MetricSource(h), Weight: 1, Normalization: domain.Normalization{Kind: domain.NormalizeIdentity},
					HasData: true, Raw: 0.5, Normalized: 0.5, Points: 12.5, Events: []uuid.UUID{uuid.New(), uuid.New()}},
				{Key: "empty", Events: []uuid.UUID{}},
			}},
			InForce: true, Cut: time.Date(2021, 6, 30, 23, 59, 59, 999999999, time.UTC)}
		v.Method = pgtext.String(v.Method)
		views = append(views, v)
		if _, err := e.db.Exec(`INSERT INTO rm_rating_deputies (generation, deputy_id, display_name, assembly_id, level, version, state)
VALUES (1, $1, $2, $3, 'district', 1, '{}')`, id, pgtext.String(h), v.AssemblyID); err != nil {
			t.Fatal(err)
		}
	}
	save := func(views []projections.DeputyRatingView) {
		t.Helper()
		tx, err := e.db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // no-op after Commit
		if err := projections.SaveRatingLevel(ctx, tx, 1, "district", views); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// What the old form answered: the rating through its JSON.
	viaJSON := func(v projections.DeputyRatingView) string {
		doc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back projections.DeputyRatingView
		if err := json.Unmarshal(doc, &back); err != nil {
			t.Fatal(err)
		}
		again, err := json.Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		return string(again)
	}
	check := func() {
		t.Helper()
		for _, v := range views {
			got, err := projections.DeputyRatings(ctx, e.db, v.DeputyID, projections.RatingQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d ratings read back, want 1", len(got))
			}
			doc, err := json.Marshal(got[0])
			if err != nil {
				t.Fatal(err)
			}
			if want := viaJSON(v); string(doc) != want {
				t.Errorf("rating of %.40q reads back differently\nwant %.300s\n got %.300s", v.DeputyID, want, doc)
			}
		}
		l, err := projections.LeagueTable(ctx, e.db, projections.LeagueQuery{Level: "district", Method: views[0].Method})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Rows) != 1 || viaJSON(l.Rows[0]) != viaJSON(views[0]) {
			t.Errorf("league of %.40q: %d rows, or the row differs", views[0].Method, len(l.Rows))
		}
	}
	save(views)
	check()

	versions := func() map[string]string {
		t.Helper()
		var rows []struct {
			ID   string `db:"deputy_id"`
			Xmin string `db:"xmin"`
		}
		if err := e.db.Select(&rows, `SELECT deputy_id, xmin::text AS xmin FROM rm_deputy_ratings`); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rows {
			out[r.ID] = r.Xmin
		}
		return out
	}
	before := versions()
	save(views)
	if after := versions(); len(after) != len(views) || !mapsEqual(after, before) {
		t.Errorf("saving the same ratings again rewrote rows: %d rows, versions %v → %v", len(after), len(before), len(after))
	}
	changed := *views[1].Score + 1
	views[1].Score = &changed
	save(views)
	after := versions()
	for _, v := range views {
		if rewritten := after[v.DeputyID] != before[v.DeputyID]; rewritten != (v.DeputyID == views[1].DeputyID) {
			t.Errorf("rating of %.40q: rewritten %v", v.DeputyID, rewritten)
		}
	}
	check()
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
