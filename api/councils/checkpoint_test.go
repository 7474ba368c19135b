package councils_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// TestRatingsRefuseACheckpointNamingItsKnownAt: ratings are not recomputed
// at a past log state, so ?checkpoint=N on a deputy's rating (a code path
// /v1/me/rating shares) and on a league table is a 400 naming the
// checkpoint parameter — and, for a signed checkpoint, the known_at (its
// signed_at) that asks for the ratings as known when it was signed —
// never an answer that silently ignores it.
func TestRatingsRefuseACheckpointNamingItsKnownAt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	signed := time.Date(2021, 1, 5, 12, 0, 0, 123456000, time.UTC)
	root := make([]byte, 32)
	note := "ledger.example/log\n3\n" + base64.StdEncoding.EncodeToString(root) + "\n\n— ledger.example/log AAAAAA==\n"
	if _, err := e.db.Exec(`INSERT INTO translog_checkpoints (tree_size, root_hash, note, created_at) VALUES (3, $1, $2, $3)`,
		root, note, signed); err != nil {
		t.Fatal(err)
	}
	paths := []struct{ path, who string }{
		{"/v1/ratings/league?level=regional", ""},
		{"/v1/deputies/deputy-2/rating", ""},
	}
	for _, p := range paths {
		for _, tc := range []struct{ value, want string }{
			{"3", "known_at=2021-01-05T12:00:00.123456Z"},
			{"4", "no signed checkpoint has tree size 4"},
			{"abc", "known_at=<the signed_at of a checkpoint>"},
			{"", "known_at=<the signed_at of a checkpoint>"},
		} {
			path := p.path + map[bool]string{true: "&", false: "?"}[strings.Contains(p.path, "?")] + "checkpoint=" + tc.value
			r := e.expect(e.do("GET", path, p.who, nil), 400)
			errs, _ := r.body["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != "checkpoint" ||
				!strings.Contains(errs[0].(map[string]any)["problem"].(string), tc.want) ||
				!strings.Contains(r.body["detail"].(string), "published per rating method version") {
				t.Errorf("GET %s: %s, want a 400 naming checkpoint and %q", path, r.raw, tc.want)
			}
		}
	}
}
