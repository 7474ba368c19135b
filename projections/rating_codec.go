package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"

	"promiseledger/domain"
)

// The stored form of a rating (rm_deputy_ratings.body): a CBOR record
// (RFC 8949) instead of jsonb. A rating is written far more often than it
// is read — a first start or a rebuild writes all of them, ~129,000 on the
// demo — and as jsonb PostgreSQL parsed ~2.2 KB of JSON per rating and
// stored 286 MB, mostly key names and the evidence UUIDs as 36-character
// strings. Nothing queries inside a rating (only whole ratings are read
// back), so the record needs no structure PostgreSQL can see.
//
// The record is a CBOR array (ratingRecord; github.com/fxamacker/cbor
// encodes and decodes it), its first element the layout's version: the
// fields in a fixed order with no key names; event ids as 16-byte
// strings; floats as float64, read back bit for bit; an absent pointer or
// list as null, apart from an empty list. Components whose metrics share a
// family (the activity metrics of one report, indicators_done_share and
// indicators_progress) carry the same evidence list: the record keeps the
// distinct lists once and each component the index of its own. A rating
// reads back exactly as its JSON did (text that is not UTF-8 included, see
// jsonText).
//
// TestRatingCodecCoversEveryField fails when a field is added to the
// rating's types without being added here.
const ratingBodyV1 = 1

// errRatingBody: a stored rating record that cannot be read.
var errRatingBody = errors.New("malformed stored rating")

type ratingRecord struct {
	_             struct{} `cbor:",toarray"`
	Layout        int
	Method        string
	Version       int
	Start, End    [3]int // year, month, day
	Provisional   bool
	DeputyID      string
	DisplayName   string
	AssemblyID    string
	Level         string
	FactionDays   int
	Rated         bool
	NotRated      string
	Score         *float64
	RankAssembly  *int
	AssemblyRated int
	RankLevel     *int
	LevelRated    int
	Evidence      evidenceLists
	Components    []componentRecord
	InForce       bool
	CutSeconds    int64
	CutNanos      int64
}

type componentRecord struct {
	_          struct{} `cbor:",toarray"`
	Key        string
	Source     string
	Weight     float64
	Kind       string
	Scope      string
	Target     *float64
	HasData    bool
	Raw        float64
	Numerator  float64
	Denom      float64
	Min, Max   *float64
	Normalized float64
	Points     float64
	Evidence   int // index in ratingRecord.Evidence
}

// evidenceLists is a record's distinct evidence lists. The encoder
// reached each id's bytes through reflection, one reflect.Value per byte,
// after trying its MarshalBinary and MarshalText: a tenth of a rebuild's
// CPU at a million events. MarshalCBOR writes what ratingEnc wrote for
// [][]uuid.UUID (TestEvidenceListsEncodeAsTheLibrary); decoding is the
// library's.
type evidenceLists [][]uuid.UUID

// MarshalCBOR implements cbor.Marshaler: null for a nil list (the outer
// one or one of its lists), an array otherwise, each id a 16-byte string.
func (e evidenceLists) MarshalCBOR() ([]byte, error) {
	if e == nil {
		return []byte{cborNull}, nil
	}
	n := 9
	for _, l := range e {
		n += 9 + 17*len(l)
	}
	b := appendCBORHead(make([]byte, 0, n), cborArray, uint64(len(e)))
	for _, l := range e {
		if l == nil {
			b = append(b, cborNull)
			continue
		}
		b = appendCBORHead(b, cborArray, uint64(len(l)))
		for _, id := range l {
			b = appendCBORHead(b, cborBytes, uint64(len(id)))
			b = append(b, id[:]...)
		}
	}
	return b, nil
}

// The CBOR major types and the simple value evidenceLists writes (RFC 8949,
// section 3.1).
const (
	cborBytes = 2 << 5
	cborArray = 4 << 5
	cborNull  = 0xf6
)

// appendCBORHead appends the head of a data item of the major type with
// the argument n, in its shortest form (RFC 8949, section 3).
func appendCBORHead(b []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= math.MaxUint8:
		return append(b, major|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, major|27), n)
	}
}

// ratingEnc writes float64 as float64 (no shortening, so every value keeps
// its bits), nil lists as null, and an event id as the 16-byte string of
// its array (the bytes its MarshalBinary gives, which the encoder would
// call, and allocate for, tens of millions of times in a rebuild at a
// million events). ratingDec refuses what a record never
// holds: text that is not UTF-8, duplicate or indefinite-length tricks are
// bounded by the library's limits, and a record longer than its array.
var (
	ratingEnc = func() cbor.EncMode {
		m, err := cbor.EncOptions{ShortestFloat: cbor.ShortestFloatNone, NilContainers: cbor.NilContainerAsNull,
			ByteArray: cbor.ByteArrayToByteSlice, BinaryMarshaler: cbor.BinaryMarshalerNone}.EncMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
	ratingDec = func() cbor.DecMode {
		m, err := cbor.DecOptions{UTF8: cbor.UTF8RejectInvalid, MaxArrayElements: 1 << 24, ExtraReturnErrors: cbor.ExtraDecErrorUnknownField}.DecMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
)

// jsonText is s as JSON would have kept it: each byte that is not UTF-8
// becomes U+FFFD, as encoding/json writes it, so that a rating reads back
// exactly as it did through jsonb. (The ratings' text is in pgtext's
// escaped form, always UTF-8; this only keeps the two forms equal.)
func jsonText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return jsonValidUTF8(s)
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

// encodeRating returns the stored form of v.
func encodeRating(v DeputyRatingView) []byte {
	r := v.DeputyRating
	rec := ratingRecord{Layout: ratingBodyV1, Method: jsonText(r.Method), Version: r.Version,
		Start:       [3]int{r.Period.Start.Year, int(r.Period.Start.Month), r.Period.Start.Day},
		End:         [3]int{r.Period.End.Year, int(r.Period.End.Month), r.Period.End.Day},
		Provisional: r.Provisional, DeputyID: jsonText(r.DeputyID), DisplayName: jsonText(r.DisplayName),
		AssemblyID: jsonText(r.AssemblyID), Level: jsonText(string(r.Level)), FactionDays: r.FactionDays, Rated: r.Rated,
		NotRated: jsonText(r.NotRated), Score: r.Score, RankAssembly: r.RankAssembly, AssemblyRated: r.AssemblyRated,
		RankLevel: r.RankLevel, LevelRated: r.LevelRated, InForce: v.InForce, CutSeconds: v.Cut.Unix(), CutNanos: int64(v.Cut.Nanosecond())}
	if r.Components != nil {
		rec.Components = make([]componentRecord, len(r.Components))
	}
	for i, c := range r.Components {
		list := -1
		for j, l := range rec.Evidence { // the distinct lists, in order of first use
			if sameEvidence(l, c.Events) {
				list = j
				break
			}
		}
		if list < 0 {
			list = len(rec.Evidence)
			rec.Evidence = append(rec.Evidence, c.Events)
		}
		rec.Components[i] = componentRecord{Key: jsonText(c.Key), Source: jsonText(string(c.Source)), Weight: c.Weight,
			Kind: jsonText(string(c.Normalization.Kind)), Scope: jsonText(string(c.Normalization.Scope)), Target: c.Normalization.Target,
			HasData: c.HasData, Raw: c.Raw, Numerator: c.Numerator, Denom: c.Denominator, Min: c.Min, Max: c.Max,
			Normalized: c.Normalized, Points: c.Points, Evidence: list}
	}
	b, err := ratingEnc.Marshal(rec)
	if err != nil {
		// Every field is a string, number, bool, byte array or list of
		// them: only a bug can get here.
		panic(fmt.Sprintf("encode a rating: %v", err))
	}
	return b
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

// decodeRating reads a rating's stored form. The components sharing an
// evidence list share its backing array, capped so that an append to one
// never shows in another.
func decodeRating(body []byte) (DeputyRatingView, error) {
	var rec ratingRecord
	if err := ratingDec.Unmarshal(body, &rec); err != nil {
		return DeputyRatingView{}, fmt.Errorf("%w: %v", errRatingBody, err)
	}
	if rec.Layout != ratingBodyV1 {
		return DeputyRatingView{}, fmt.Errorf("%w: unknown layout %d", errRatingBody, rec.Layout)
	}
	if rec.CutNanos < 0 || rec.CutNanos >= 1e9 {
		return DeputyRatingView{}, fmt.Errorf("%w: cut", errRatingBody)
	}
	date := func(d [3]int) domain.Date { return domain.Date{Year: d[0], Month: time.Month(d[1]), Day: d[2]} }
	v := DeputyRatingView{InForce: rec.InForce, Cut: time.Unix(rec.CutSeconds, rec.CutNanos).UTC()}
	v.DeputyRating = domain.DeputyRating{Method: rec.Method, Version: rec.Version,
		Period:      domain.Period{Start: date(rec.Start), End: date(rec.End)},
		Provisional: rec.Provisional, DeputyID: rec.DeputyID, DisplayName: rec.DisplayName, AssemblyID: rec.AssemblyID,
		Level: domain.CouncilLevel(rec.Level), FactionDays: rec.FactionDays, Rated: rec.Rated, NotRated: rec.NotRated,
		Score: rec.Score, RankAssembly: rec.RankAssembly, AssemblyRated: rec.AssemblyRated, RankLevel: rec.RankLevel,
		LevelRated: rec.LevelRated}
	if rec.Components != nil {
		v.Components = make([]domain.ComponentScore, len(rec.Components))
	}
	for i, c := range rec.Components {
		if c.Evidence < 0 || c.Evidence >= len(rec.Evidence) {
			return DeputyRatingView{}, fmt.Errorf("%w: component %d names evidence list %d of %d", errRatingBody, i, c.Evidence, len(rec.Evidence))
		}
		var events []uuid.UUID
		if ids := rec.Evidence[c.Evidence]; ids != nil {
			events = ids[:len(ids):len(ids)]
		}
		v.Components[i] = domain.ComponentScore{Key: c.Key, Source: domain.MetricSource(c.Source), Weight: c.Weight,
			Normalization: domain.Normalization{Kind: domain.NormalizationKind(c.Kind), Scope: domain.RatingScope(c.Scope), Target: c.Target},
			HasData:       c.HasData, Raw: c.Raw, Numerator: c.Numerator, Denominator: c.Denom, Min: c.Min, Max: c.Max,
			Normalized: c.Normalized, Points: c.Points, Events: events}
	}
	return v, nil
}
