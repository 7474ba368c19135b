package domain_test

import (
	"testing"
	"time"

	"promiseledger/domain"
)

// TestFactionDaysAsDocumented pins docs/rating.md, "Three definitions" (2):
// a day counts when the deputy is in the faction at its end (UTC): the day
// of joining counts whatever the hour, the day of leaving does not, days
// after the cut do not; zero days means not listed.
func TestFactionDaysAsDocumented(t *testing.T) {
	t.Parallel()
	q2 := domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name         string
		joined, left string
		cut          string
		want         int
	}{
		{"joined 15 June 10:00", "2021-06-15T10:00:00Z", "", "2021-06-30T23:59:59Z", 16},
		{"joined 30 June 23:59", "2021-06-30T23:59:00Z", "", "2021-06-30T23:59:59Z", 1},
		{"joined 1 June, left 20 June 09:00", "2021-06-01T00:00:00Z", "2021-06-20T09:00:00Z", "2021-06-30T23:59:59Z", 19},
		{"joined and left on 10 May", "2021-05-10T08:00:00Z", "2021-05-10T17:00:00Z", "2021-06-30T23:59:59Z", 0},
		{"joined 15 January, never left", "2021-01-15T12:00:00Z", "", "2021-06-30T23:59:59Z", 91},
		{"the cut's own day counts, later days do not", "2021-06-15T10:00:00Z", "", "2021-06-20T08:00:00Z", 6},
	} {
		f := domain.FactionPeriod{Faction: "f", JoinedAt: at(tc.joined)}
		if tc.left != "" {
			f.LeftAt = at(tc.left)
		}
		s := domain.DeputyState{Faction: []domain.FactionPeriod{f}}
		if got := s.FactionDays(q2, at(tc.cut)); got != tc.want {
			t.Errorf("%s: %d faction days, want %d", tc.name, got, tc.want)
		}
	}
}
