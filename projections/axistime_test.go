package projections_test

import (
	"encoding/json"
	"testing"
	"time"

	"promiseledger/domain"
	"promiseledger/projections"
)

// A date asked for is echoed as the date, never as the end-of-day instant
// it means; any other instant stays an RFC 3339 time; both read back.
func TestAxisTimePrintsADateAsADate(t *testing.T) {
	day := projections.EndOfDay(domain.Date{Year: 2021, Month: time.June, Day: 1})
	noon := time.Date(2021, time.June, 1, 12, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{day, `"2021-06-01"`},
		{day.In(time.FixedZone("Astana", 5*3600)), `"2021-06-01"`},
		{noon, `"2021-06-01T12:30:00Z"`},
		{day.Add(-time.Nanosecond), `"2021-06-01T23:59:59.999999998Z"`},
	} {
		b, err := json.Marshal(projections.AxisTimeOf(&c.at))
		if err != nil || string(b) != c.want {
			t.Errorf("%v: %s (%v), want %s", c.at, b, err, c.want)
			continue
		}
		var back projections.AxisTime
		if err := json.Unmarshal(b, &back); err != nil || !back.Time().Equal(c.at) {
			t.Errorf("%s read back as %v (%v), want %v", b, back.Time(), err, c.at)
		}
	}
	var bad projections.AxisTime
	if err := json.Unmarshal([]byte(`"yesterday"`), &bad); err == nil {
		t.Error(`"yesterday" read as an axis time`)
	}
}
