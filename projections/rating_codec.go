package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"promiseledger/domain"
)

// The stored form of a rating (rm_deputy_ratings.body): a compact binary
// record instead of jsonb. A rating is written far more often than it is
// read — a first start or a rebuild writes all of them, ~129,000 on the
// demo — and as jsonb PostgreSQL parsed ~2.2 KB of JSON per rating and
// stored 286 MB, mostly key names and the evidence UUIDs as 36-character
// strings. Nothing queries inside a rating (only whole ratings are read
// back), so the record needs no structure PostgreSQL can see.
//
// Layout, version 1 (every integer a varint, every length or count an
// uvarint, every float the 8 little-endian bytes of its IEEE 754 bits, so
// it reads back bit for bit; a string is its length and its bytes):
//
//	version byte (1)
//	method, version, period start, period end (year, month, day each),
//	provisional, deputy_id, display_name, assembly_id, level,
//	faction_days, rated, not_rated, score?, rank_assembly?,
//	assembly_rated, rank_level?, level_rated
//	evidence: the count of distinct lists, then each list (its length + 1,
//	  0 for a nil list; then 16 bytes per event id)
//	components: count + 1 (0 for nil), then each component: key, source,
//	  weight, normalization kind, scope, target?, has_data, raw,
//	  numerator, denominator, min?, max?, normalized, points, and the
//	  index of its evidence list
//	in_force, cut (Unix seconds, nanoseconds)
//
// A "?" field is a byte 0 (nil) or 1 followed by the value; a bool is a
// byte 0 or 1. A rating reads back exactly as its JSON did (text that is
// not UTF-8 included, see str). Components whose metrics share a family (the activity
// metrics of one report, indicators_done_share and indicators_progress)
// carry the same evidence list, stored once.
//
// TestRatingCodecCoversEveryField fails when a field is added to the
// rating's types without being added here.
const ratingBodyV1 = 1

// errRatingBody: a stored rating record that cannot be read.
var errRatingBody = errors.New("malformed stored rating")

type ratingWriter struct{ b []byte }

func (w *ratingWriter) uint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }
func (w *ratingWriter) int(n int)     { w.b = binary.AppendVarint(w.b, int64(n)) }

// str writes s as JSON would have kept it: each byte that is not UTF-8
// becomes U+FFFD, as encoding/json writes it, so that a rating reads back
// exactly as it did through jsonb. (The ratings' text is in pgtext's
// escaped form, always UTF-8; this only keeps the two forms equal.)
func (w *ratingWriter) str(s string) {
	if !utf8.ValidString(s) {
		s = jsonValidUTF8(s)
	}
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// jsonValidUTF8 replaces every byte of s that is not part of a UTF-8
// sequence with U+FFFD, byte by byte like encoding/json (unlike
// strings.ToValidUTF8, which replaces a run once).
func jsonValidUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
func (w *ratingWriter) float(f float64) {
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(f))
}

func (w *ratingWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *ratingWriter) date(d domain.Date) { w.int(d.Year); w.int(int(d.Month)); w.int(d.Day) }

func (w *ratingWriter) optFloat(f *float64) {
	w.bool(f != nil)
	if f != nil {
		w.float(*f)
	}
}

func (w *ratingWriter) optInt(n *int) {
	w.bool(n != nil)
	if n != nil {
		w.int(*n)
	}
}

// encodeRating returns the stored form of v.
func encodeRating(v DeputyRatingView) []byte {
	w := ratingWriter{b: make([]byte, 0, 256+16*evidenceCount(v))}
	w.b = append(w.b, ratingBodyV1)
	r := v.DeputyRating
	w.str(r.Method)
	w.int(r.Version)
	w.date(r.Period.Start)
	w.date(r.Period.End)
	w.bool(r.Provisional)
	w.str(r.DeputyID)
	w.str(r.DisplayName)
	w.str(r.AssemblyID)
	w.str(string(r.Level))
	w.int(r.FactionDays)
	w.bool(r.Rated)
	w.str(r.NotRated)
	w.optFloat(r.Score)
	w.optInt(r.RankAssembly)
	w.int(r.AssemblyRated)
	w.optInt(r.RankLevel)
	w.int(r.LevelRated)

	// The distinct evidence lists, in order of first use.
	list := make([]int, len(r.Components))
	var lists [][]uuid.UUID
	for i, c := range r.Components {
		list[i] = -1
		for j, l := range lists {
			if sameEvidence(l, c.Events) {
				list[i] = j
				break
			}
		}
		if list[i] < 0 {
			list[i] = len(lists)
			lists = append(lists, c.Events)
		}
	}
	w.uint(uint64(len(lists)))
	for _, l := range lists {
		if l == nil {
			w.uint(0)
			continue
		}
		w.uint(uint64(len(l)) + 1)
		for _, id := range l {
			w.b = append(w.b, id[:]...)
		}
	}

	if r.Components == nil {
		w.uint(0)
	} else {
		w.uint(uint64(len(r.Components)) + 1)
	}
	for i, c := range r.Components {
		w.str(c.Key)
		w.str(string(c.Source))
		w.float(c.Weight)
		w.str(string(c.Normalization.Kind))
		w.str(string(c.Normalization.Scope))
		w.optFloat(c.Normalization.Target)
		w.bool(c.HasData)
		w.float(c.Raw)
		w.float(c.Numerator)
		w.float(c.Denominator)
		w.optFloat(c.Min)
		w.optFloat(c.Max)
		w.float(c.Normalized)
		w.float(c.Points)
		w.uint(uint64(list[i]))
	}
	w.bool(v.InForce)
	w.b = binary.AppendVarint(w.b, v.Cut.Unix())
	w.uint(uint64(v.Cut.Nanosecond()))
	return w.b
}

func evidenceCount(v DeputyRatingView) int {
	n := 0
	for _, c := range v.Components {
		n += len(c.Events)
	}
	return n
}

// sameEvidence: the same events in the same order, and both nil or
// neither (a nil list reads back nil, an empty one empty).
func sameEvidence(a, b []uuid.UUID) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type ratingReader struct {
	b   []byte
	err error
}

func (r *ratingReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errRatingBody, what)
	}
	r.b = nil
}

func (r *ratingReader) uint(what string) uint64 {
	n, size := binary.Uvarint(r.b)
	if size <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[size:]
	return n
}

func (r *ratingReader) int(what string) int {
	n, size := binary.Varint(r.b)
	if size <= 0 || n != int64(int(n)) {
		r.fail(what)
		return 0
	}
	r.b = r.b[size:]
	return int(n)
}

func (r *ratingReader) bytes(n uint64, what string) []byte {
	if n > uint64(len(r.b)) {
		r.fail(what)
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *ratingReader) str(what string) string { return string(r.bytes(r.uint(what), what)) }

func (r *ratingReader) float(what string) float64 {
	b := r.bytes(8, what)
	if b == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

func (r *ratingReader) bool(what string) bool {
	b := r.bytes(1, what)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		r.fail(what)
	}
	return b[0] == 1
}

func (r *ratingReader) date(what string) domain.Date {
	return domain.Date{Year: r.int(what), Month: time.Month(r.int(what)), Day: r.int(what)}
}

func (r *ratingReader) optFloat(what string) *float64 {
	if !r.bool(what) {
		return nil
	}
	f := r.float(what)
	return &f
}

func (r *ratingReader) optInt(what string) *int {
	if !r.bool(what) {
		return nil
	}
	n := r.int(what)
	return &n
}

// decodeRating reads a rating's stored form. The components sharing an
// evidence list share its backing array, capped so that an append to one
// never shows in another.
func decodeRating(body []byte) (DeputyRatingView, error) {
	var v DeputyRatingView
	if len(body) == 0 || body[0] != ratingBodyV1 {
		return v, fmt.Errorf("%w: unknown layout", errRatingBody)
	}
	r := ratingReader{b: body[1:]}
	d := &v.DeputyRating
	d.Method = r.str("method")
	d.Version = r.int("version")
	d.Period.Start = r.date("period start")
	d.Period.End = r.date("period end")
	d.Provisional = r.bool("provisional")
	d.DeputyID = r.str("deputy_id")
	d.DisplayName = r.str("display_name")
	d.AssemblyID = r.str("assembly_id")
	d.Level = domain.CouncilLevel(r.str("level"))
	d.FactionDays = r.int("faction_days")
	d.Rated = r.bool("rated")
	d.NotRated = r.str("not_rated")
	d.Score = r.optFloat("score")
	d.RankAssembly = r.optInt("rank_assembly")
	d.AssemblyRated = r.int("assembly_rated")
	d.RankLevel = r.optInt("rank_level")
	d.LevelRated = r.int("level_rated")

	nLists := r.uint("evidence")
	if nLists > uint64(len(r.b)) { // every list takes a byte at least
		r.fail("evidence")
	}
	lists := make([][]uuid.UUID, 0, nLists)
	for range nLists {
		if r.err != nil {
			break
		}
		n := r.uint("evidence list")
		if n == 0 {
			lists = append(lists, nil)
			continue
		}
		if n-1 > uint64(len(r.b))/16 {
			r.fail("evidence list")
			break
		}
		raw := r.bytes((n-1)*16, "evidence list")
		ids := make([]uuid.UUID, n-1)
		for i := range ids {
			copy(ids[i][:], raw[16*i:])
		}
		lists = append(lists, ids)
	}

	nComp := r.uint("components")
	if nComp > uint64(len(r.b)) {
		r.fail("components")
	}
	if nComp > 0 && r.err == nil {
		d.Components = make([]domain.ComponentScore, nComp-1)
	}
	for i := range d.Components {
		if r.err != nil {
			break
		}
		c := &d.Components[i]
		c.Key = r.str("component key")
		c.Source = domain.MetricSource(r.str("component source"))
		c.Weight = r.float("component weight")
		c.Normalization.Kind = domain.NormalizationKind(r.str("normalization kind"))
		c.Normalization.Scope = domain.RatingScope(r.str("normalization scope"))
		c.Normalization.Target = r.optFloat("normalization target")
		c.HasData = r.bool("has_data")
		c.Raw = r.float("raw")
		c.Numerator = r.float("numerator")
		c.Denominator = r.float("denominator")
		c.Min = r.optFloat("min")
		c.Max = r.optFloat("max")
		c.Normalized = r.float("normalized")
		c.Points = r.float("points")
		l := r.uint("component evidence")
		if l >= uint64(len(lists)) {
			r.fail("component evidence")
			break
		}
		if ids := lists[l]; ids != nil {
			c.Events = ids[:len(ids):len(ids)]
		}
	}
	v.InForce = r.bool("in_force")
	sec, size := binary.Varint(r.b)
	if size <= 0 {
		r.fail("cut")
	} else {
		r.b = r.b[size:]
	}
	nsec := r.uint("cut")
	if nsec >= 1e9 {
		r.fail("cut")
	}
	v.Cut = time.Unix(sec, int64(nsec)).UTC()
	if r.err != nil {
		return DeputyRatingView{}, r.err
	}
	if len(r.b) != 0 {
		return DeputyRatingView{}, fmt.Errorf("%w: %d bytes past the end", errRatingBody, len(r.b))
	}
	return v, nil
}
