package demo

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// source is the random source of one part of the plan. Each part (the
// setup, every roadmap, the calibration) has its own stream derived from
// the seed and the part's name, so the parts do not shift one another.
func source(seed int64, part string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(part))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// newID returns a UUIDv7 whose timestamp is at, the simulated time of
// recording, and whose random bits come from r: ids sort like real v7 ids
// of that history would, and the same seed gives the same ids.
func newID(r *rand.Rand, at time.Time) uuid.UUID {
	var u uuid.UUID
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(at.UnixMilli()))
	copy(u[:6], ms[2:])
	binary.BigEndian.PutUint16(u[6:8], uint16(r.Uint32()))
	binary.BigEndian.PutUint64(u[8:], r.Uint64())
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // RFC 9562 variant
	return u
}

const day = 24 * time.Hour

// noonUTC is 06:00 UTC on t's date: noon in Kazakhstan (UTC+6 in 2021).
// Effective times sit there, so a date read in Almaty is the intended one.
func noonUTC(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 6, 0, 0, 0, time.UTC)
}

// addDays moves an effective time by n days.
func addDays(t time.Time, n int) time.Time { return noonUTC(t.Add(time.Duration(n) * day)) }

// daysBetween is the whole number of days from a to b.
func daysBetween(a, b time.Time) int { return int(b.Sub(a) / day) }

// intIn is a uniform integer in [lo, hi]; hi < lo gives lo.
func intIn(r *rand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// floatIn is a uniform number in [lo, hi).
func floatIn(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// dayIn is an effective time on a uniform day in [a, b].
func dayIn(r *rand.Rand, a, b time.Time) time.Time {
	return addDays(a, intIn(r, 0, daysBetween(a, b)))
}

// officeTime is a moment in office hours (09:00–18:00 in Almaty) on the day
// that lies lag days after t, and never before t: when an event becomes
// known.
func officeTime(r *rand.Rand, t time.Time, lag int) time.Time {
	y, m, d := t.UTC().Add(time.Duration(lag) * day).Date()
	at := time.Date(y, m, d, 3, 0, 0, 0, time.UTC).
		Add(time.Duration(r.IntN(9*3600)) * time.Second).
		Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	if !at.After(t) {
		at = t.Add(time.Duration(1+r.IntN(3600)) * time.Second)
	}
	return at
}

// pick returns a uniform element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
