package projections

import (
	"encoding/json"
	"fmt"
	"time"

	"promiseledger/domain"
)

// AxisTime is a point on the effective-time or recorded-time axis as an
// answer echoes it. A date asked for means the end of that day in UTC
// (EndOfDay); such a point prints as the date, "2021-06-01", not as
// "2021-06-01T23:59:59.999999999Z". Any other point prints in RFC 3339.
type AxisTime time.Time

// AxisTimeOf returns t as an axis point (nil stays nil).
func AxisTimeOf(t *time.Time) *AxisTime { return (*AxisTime)(t) }

// Time returns the instant.
func (a AxisTime) Time() time.Time { return time.Time(a) }

// IsDate reports whether a is the end of a UTC day, the instant a date means.
func (a AxisTime) IsDate() bool {
	t := time.Time(a).UTC()
	return t.Equal(EndOfDay(domain.DateOf(t)))
}

// String is the printed form: YYYY-MM-DD for a date, else RFC 3339.
func (a AxisTime) String() string {
	t := time.Time(a).UTC()
	if a.IsDate() {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// MarshalJSON writes String.
func (a AxisTime) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON reads either form back.
func (a *AxisTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		*a = AxisTime(EndOfDay(domain.DateOf(d)))
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("axis time %q: want YYYY-MM-DD or RFC 3339", s)
	}
	*a = AxisTime(t)
	return nil
}

// JSONSchema: a date when a date was asked for, else a date-time.
func (AxisTime) JSONSchema() map[string]any {
	return map[string]any{
		"type":        "string",
		"description": "A date (YYYY-MM-DD, meaning the end of that day in UTC) when a date was asked for; otherwise an RFC 3339 time.",
		"anyOf": []any{
			map[string]any{"format": "date"},
			map[string]any{"format": "date-time"},
		},
	}
}
