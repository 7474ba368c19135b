package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"promiseledger/domain"
	"promiseledger/projections"
)

// dumpRatingViews returns the ratings as the read model answers them, in
// JSON: every deputy's DeputyRatings, and the LeagueTable of every level
// and every assembly for every method, version and period stored, and for
// the defaults. It depends on the queries only, not on how a rating is
// stored, so two versions of the storage compare by it.
func dumpRatingViews(t testing.TB, db *sqlx.DB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	line := func(what string, v any, err error) {
		if err != nil {
			fmt.Fprintf(&b, "%s: error %v\n", what, err)
			return
		}
		doc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %s\n", what, doc)
	}
	var deputies []string
	if err := db.SelectContext(ctx, &deputies, `SELECT deputy_id FROM rm_rating_deputies
WHERE generation = (SELECT active_generation FROM projectors WHERE name = 'ratings.v1') ORDER BY deputy_id`); err != nil {
		t.Fatal(err)
	}
	for _, id := range deputies {
		views, err := projections.DeputyRatings(ctx, db, id, projections.RatingQuery{})
		line("deputy "+id, views, err)
	}
	var keys []struct {
		Scope   string `db:"scope"`
		Value   string `db:"value"`
		Method  string `db:"method"`
		Version int    `db:"version"`
		Start   string `db:"start"`
	}
	const q = `SELECT DISTINCT scope, value, method, version, start FROM (
	SELECT 'level' AS scope, level AS value, method, version, to_char(period_start, 'YYYY-MM-DD') AS start FROM rm_deputy_ratings
	WHERE generation = (SELECT active_generation FROM projectors WHERE name = 'ratings.v1')
	UNION ALL
	SELECT 'assembly', assembly_id, method, version, to_char(period_start, 'YYYY-MM-DD') FROM rm_deputy_ratings
	WHERE generation = (SELECT active_generation FROM projectors WHERE name = 'ratings.v1')
) k ORDER BY 1, 2, 3, 4, 5`
	if err := db.SelectContext(ctx, &keys, q); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		lq := projections.LeagueQuery{}
		if k.Scope == "level" {
			lq.Level = k.Value
		} else {
			lq.AssemblyID = k.Value
		}
		if !seen[k.Scope+" "+k.Value] {
			seen[k.Scope+" "+k.Value] = true
			l, err := projections.LeagueTable(ctx, db, lq)
			line(fmt.Sprintf("league %s %s (defaults)", k.Scope, k.Value), l, err)
		}
		start, err := domain.ParseDate(k.Start)
		if err != nil {
			t.Fatal(err)
		}
		lq.Method, lq.Version, lq.Period = k.Method, k.Version, &start
		l, err := projections.LeagueTable(ctx, db, lq)
		line(fmt.Sprintf("league %s %s %s v%d %s", k.Scope, k.Value, k.Method, k.Version, k.Start), l, err)
	}
	return b.String()
}
