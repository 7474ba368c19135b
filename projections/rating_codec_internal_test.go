package projections

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"

	"promiseledger/domain"
)

func ptrFloat(f float64) *float64 { return &f }
func ptrInt(n int) *int           { return &n }

func ids(n int, seed byte) []uuid.UUID {
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = uuid.UUID{seed, byte(i), byte(i >> 8), 3: 0xAB, 15: byte(i)}
	}
	return out
}

// codecSamples are ratings covering every field's forms: nil and set
// pointers, nil and empty evidence and components, evidence shared by
// some components and not others, zero and odd floats, and hostile text.
func codecSamples() map[string]DeputyRatingView {
	activity := ids(1, 1)
	indicators := ids(40, 2)
	hostile := "a\x00b\xff\xfe\u202ec\u2066d\u2400" + strings.Repeat("Ж", 1<<19) // 1 MiB of text
	rated := DeputyRatingView{
		DeputyRating: domain.DeputyRating{Method: "faction-rating", Version: 2,
			Period:      domain.Period{Start: domain.NewDate(2023, 10, 1), End: domain.NewDate(2023, 12, 31)},
			Provisional: true, DeputyID: "deputy-434400000-09", DisplayName: "Жандос Кенжебеков", AssemblyID: "maslikhat-434400000",
			Level: domain.CouncilDistrict, FactionDays: 92, Rated: true, Score: ptrFloat(24.76), RankAssembly: ptrInt(8), AssemblyRated: 10,
			RankLevel: ptrInt(2277), LevelRated: 2402,
			Components: []domain.ComponentScore{
				{Key: "receptions", Source: domain.MetricReceptionsHeld, Weight: 3,
					Normalization: domain.Normalization{Kind: domain.NormalizeMinMax, Scope: domain.ScopeLevel}, HasData: true,
					Raw: 3, Numerator: 3, Min: ptrFloat(0), Max: ptrFloat(14), Normalized: 0.214286, Points: 6.4286, Events: activity},
				{Key: "positive", Source: domain.MetricAppealsPositiveShare, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}, HasData: true,
					Raw: 0.916667, Numerator: 11, Denominator: 12, Normalized: 0.916667, Points: 18.3333, Events: activity},
				{Key: "done", Source: domain.MetricIndicatorsDoneShare, Weight: 3,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}, HasData: true, Denominator: 7,
					Events: indicators},
				{Key: "progress", Source: domain.MetricIndicatorsProgress, Weight: 4,
					Normalization: domain.Normalization{Kind: domain.NormalizeRatioToTarget, Target: ptrFloat(12)}, HasData: true,
					Raw: 0.173611, Numerator: 2.083333333333333, Denominator: 12, Normalized: 0.173611, Points: 6.9444,
					Events: slices40(indicators)},
				{Key: "replies", Source: domain.MetricAssessmentReplyShare, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}, Events: []uuid.UUID{}},
				{Key: "other", Source: domain.MetricAppealsHandled, Weight: math.Copysign(0, -1), Raw: 1e-300, Numerator: -1.5e300,
					Normalization: domain.Normalization{Kind: domain.NormalizeMinMax, Scope: domain.ScopeAssembly}, Events: ids(2, 1)},
			}},
		InForce: true, Cut: time.Date(2023, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	notRated := DeputyRatingView{
		DeputyRating: domain.DeputyRating{Method: "m", Version: 1,
			Period:   domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)},
			DeputyID: hostile, DisplayName: hostile, AssemblyID: "a\x00", Level: "", FactionDays: 16,
			NotRated: "faction membership shorter than the method's minimum of days in the period",
			Components: []domain.ComponentScore{
				{Key: hostile, Source: "s\xff", Events: []uuid.UUID{}},
				{Key: "b", Events: nil},
				{Key: "c", Events: []uuid.UUID{}},
			}},
		Cut: time.Date(2021, 6, 30, 12, 0, 0, 1, time.UTC)}
	return map[string]DeputyRatingView{
		"rated":          rated,
		"not rated":      notRated,
		"no components":  {DeputyRating: domain.DeputyRating{Method: "m", Components: nil}},
		"empty list":     {DeputyRating: domain.DeputyRating{Method: "m", Components: []domain.ComponentScore{}}},
		"zero":           {},
		"before 1970":    {Cut: time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)},
		"huge evidence":  {DeputyRating: domain.DeputyRating{Components: []domain.ComponentScore{{Events: ids(20000, 9)}, {Events: ids(20000, 9)}}}},
		"negative ranks": {DeputyRating: domain.DeputyRating{RankAssembly: ptrInt(-1), RankLevel: ptrInt(0), Version: -3, FactionDays: -1}},
	}
}

// slices40 returns a copy of l: an equal list in another array.
func slices40(l []uuid.UUID) []uuid.UUID { return append([]uuid.UUID(nil), l...) }

// short keeps a failure message readable when a sample holds 1 MiB.
func short(v any) string {
	s := fmt.Sprintf("%+v", v)
	if len(s) > 600 {
		s = s[:300] + " … " + s[len(s)-300:]
	}
	return s
}

// TestRatingCodecRoundTrips: every sample reads back deeply equal to what
// the old form (its JSON in jsonb) read back — nil and empty kept apart,
// floats bit for bit, text that is not UTF-8 replaced as JSON replaces
// it — and marshals to the same JSON; a sample whose text is UTF-8 reads
// back equal to itself.
func TestRatingCodecRoundTrips(t *testing.T) {
	for name, v := range codecSamples() {
		t.Run(name, func(t *testing.T) {
			got, err := decodeRating(encodeRating(v))
			if err != nil {
				t.Fatal(err)
			}
			old, err := storedRating(nil, jsonOf(v))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, old) {
				t.Fatalf("the record and the old form read back differently\nrecord %s\n  jsonb %s", short(got), short(old))
			}
			for i, c := range got.Components {
				if (c.Events == nil) != (v.Components[i].Events == nil) {
					t.Errorf("component %d: events nil %v, want %v", i, c.Events == nil, v.Components[i].Events == nil)
				}
			}
			if want, got := jsonOf(old), jsonOf(got); !bytes.Equal(want, got) {
				t.Errorf("JSON differs\nwant %s\n got %s", short(string(want)), short(string(got)))
			}
			if utf8.Valid(jsonOf(v)) && !strings.Contains(string(jsonOf(v)), `\ufffd`) && !reflect.DeepEqual(got, v) {
				t.Errorf("read back differs\nwant %s\n got %s", short(v), short(got))
			}
		})
	}
}

// TestRatingCodecStoresSharedEvidenceOnce: components with equal evidence
// lists (in different arrays) cost the list once; different lists, and an
// empty list beside a nil one, stay apart.
func TestRatingCodecStoresSharedEvidenceOnce(t *testing.T) {
	list := ids(100, 7)
	one := DeputyRatingView{DeputyRating: domain.DeputyRating{Components: []domain.ComponentScore{{Events: list}}}}
	five := DeputyRatingView{DeputyRating: domain.DeputyRating{Components: []domain.ComponentScore{
		{Events: list}, {Events: slices40(list)}, {Events: list}, {Events: slices40(list)}, {Events: list}}}}
	if a, b := len(encodeRating(one)), len(encodeRating(five)); b-a > 4*100 {
		t.Errorf("five components sharing a list of 100 events take %d bytes, one takes %d: the list is stored more than once", b, a)
	}
	other := slices40(list)
	other[99][15]++
	apart := DeputyRatingView{DeputyRating: domain.DeputyRating{Components: []domain.ComponentScore{
		{Events: list}, {Events: other}, {Events: list[:99]}, {Events: nil}, {Events: []uuid.UUID{}}}}}
	got, err := decodeRating(encodeRating(apart))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, apart) {
		t.Fatalf("different lists read back as %+v", got)
	}
	if got.Components[3].Events != nil || got.Components[4].Events == nil {
		t.Errorf("nil and empty lists mixed up: %v, %v", got.Components[3].Events, got.Components[4].Events)
	}
	// A shared list is shared capped: an append to one component's list
	// does not show in another's.
	shared, err := decodeRating(encodeRating(five))
	if err != nil {
		t.Fatal(err)
	}
	shared.Components[1].Events = append(shared.Components[1].Events, uuid.UUID{1})
	if !reflect.DeepEqual(shared.Components[0].Events, list) || !reflect.DeepEqual(shared.Components[2].Events, list) {
		t.Error("an append to one component's evidence changed another's")
	}
}

// TestRatingCodecRefusesMalformedRecords: every truncation of a record, a
// byte past its end, an unknown layout and absurd counts are errors, never
// a panic or a rating.
func TestRatingCodecRefusesMalformedRecords(t *testing.T) {
	body := encodeRating(codecSamples()["rated"])
	for n := range len(body) {
		if _, err := decodeRating(body[:n]); !errors.Is(err, errRatingBody) {
			t.Fatalf("a record cut to %d of %d bytes: err %v", n, len(body), err)
		}
	}
	record := func(r ratingRecord) []byte {
		b, err := cbor.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, b := range map[string][]byte{
		"trailing byte":         append(append([]byte(nil), body...), 0),
		"unknown layout":        record(ratingRecord{Layout: 2}),
		"json":                  []byte(`{"method":"m"}`),
		"huge string":           {0x82, 0x01, 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"evidence out of range": record(ratingRecord{Layout: 1, Components: []componentRecord{{Evidence: 3}}}),
		"text not UTF-8":        record(ratingRecord{Layout: 1, Method: "\xff"}),
		"cut past a second":     record(ratingRecord{Layout: 1, CutNanos: 1e9}),
		"not an array":          {0x01},
	} {
		if _, err := decodeRating(b); !errors.Is(err, errRatingBody) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := storedRating(nil, nil); !errors.Is(err, errRatingBody) {
		t.Errorf("a row with neither form: err %v", err)
	}
}

func FuzzDecodeRating(f *testing.F) {
	for _, v := range codecSamples() {
		f.Add(encodeRating(v))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeRating(b)
		if err != nil {
			return
		}
		// What reads back writes back a record that reads back the same
		// (bytes may differ: an overlong varint, an unused list).
		again := encodeRating(v)
		w, err := decodeRating(again)
		if err != nil {
			t.Fatalf("a re-encoded record does not read back: %v", err)
		}
		if !bytes.Equal(encodeRating(w), again) {
			t.Fatal("a re-encoded record reads back differently")
		}
	})
}

// TestRatingCodecCoversEveryField: the record's layout names every field
// of the rating's types. A field added to them must be added to
// encodeRating and decodeRating (and to this list), or it would be lost
// when stored.
func TestRatingCodecCoversEveryField(t *testing.T) {
	want := map[reflect.Type]string{
		reflect.TypeFor[DeputyRatingView]():      "DeputyRating InForce Cut",
		reflect.TypeFor[domain.DeputyRating]():   "Method Version Period Provisional DeputyID DisplayName AssemblyID Level FactionDays Rated NotRated Score RankAssembly AssemblyRated RankLevel LevelRated Components",
		reflect.TypeFor[domain.Period]():         "Start End",
		reflect.TypeFor[domain.Date]():           "Year Month Day",
		reflect.TypeFor[domain.ComponentScore](): "Key Source Weight Normalization HasData Raw Numerator Denominator Min Max Normalized Points Events",
		reflect.TypeFor[domain.Normalization]():  "Kind Scope Target",
	}
	for typ, fields := range want {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if strings.Join(got, " ") != fields {
			t.Errorf("%s has fields %q; the stored record has %q: update rating_codec.go", typ, strings.Join(got, " "), fields)
		}
	}
	// And the JSON of a rating has no key the record does not bring back.
	v := codecSamples()["rated"]
	got, err := decodeRating(encodeRating(v))
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal(jsonOf(v), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(jsonOf(got), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("JSON keys differ: %v vs %v", a, b)
	}
}

// TestRatingCodecKeepsTheStoredBytes: an event id is written as the
// 16-byte string of its array, not through its MarshalBinary, and every
// sample's record is byte for byte what the encoder wrote when it called
// MarshalBinary (the form stored since the record was introduced).
func TestRatingCodecKeepsTheStoredBytes(t *testing.T) {
	viaMarshaler, err := cbor.EncOptions{ShortestFloat: cbor.ShortestFloatNone, NilContainers: cbor.NilContainerAsNull}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	defer func(old cbor.EncMode) { ratingEnc = old }(ratingEnc)
	for name, v := range codecSamples() {
		now := encodeRating(v)
		ratingEnc, viaMarshaler = viaMarshaler, ratingEnc
		before := encodeRating(v)
		ratingEnc, viaMarshaler = viaMarshaler, ratingEnc
		if !bytes.Equal(now, before) {
			t.Fatalf("%s: the record is %x, was %x", name, now, before)
		}
	}
	id := uuid.MustParse("01234567-89ab-cdef-0123-456789abcdef")
	b, err := ratingEnc.Marshal([]uuid.UUID{id})
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte{0x81, 0x50}, id[:]...); !bytes.Equal(b, want) {
		t.Fatalf("an id list is %x, want %x (an array of one 16-byte string)", b, want)
	}
}

// TestEvidenceListsEncodeAsTheLibrary: evidenceLists writes the bytes the
// library writes for the same [][]uuid.UUID, with the options ratingEnc
// has and with the library's defaults for ids (MarshalBinary), over every
// length class of a CBOR head (under 24, one, two and four bytes), nil and
// empty lists, and the records' own lists; and the decoder reads them back.
func TestEvidenceListsEncodeAsTheLibrary(t *testing.T) {
	viaMarshaler, err := cbor.EncOptions{ShortestFloat: cbor.ShortestFloatNone, NilContainers: cbor.NilContainerAsNull}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	cases := [][][]uuid.UUID{nil, {}, {nil}, {{}}, {nil, {}, ids(1, 1)}}
	for _, n := range []int{0, 1, 23, 24, 255, 256, 65535, 65536} {
		cases = append(cases, [][]uuid.UUID{ids(n, 2)}, [][]uuid.UUID{ids(3, 3), ids(n, 4), nil})
	}
	many := make([][]uuid.UUID, 300)
	for i := range many {
		many[i] = ids(i%30, byte(i))
	}
	cases = append(cases, many)
	for _, v := range codecSamples() {
		for _, c := range v.Components {
			cases = append(cases, [][]uuid.UUID{c.Events})
		}
	}
	for i, c := range cases {
		got, err := evidenceLists(c).MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		for name, mode := range map[string]cbor.EncMode{"ratingEnc": ratingEnc, "MarshalBinary": viaMarshaler} {
			want, err := mode.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("case %d (%d lists): %s wrote %.80x…, evidenceLists %.80x…", i, len(c), name, want, got)
			}
		}
		var back evidenceLists
		if err := ratingDec.Unmarshal(got, &back); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual([][]uuid.UUID(back), c) {
			t.Fatalf("case %d reads back as %d lists, want %d", i, len(back), len(c))
		}
	}
}
