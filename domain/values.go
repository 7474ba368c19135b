package domain

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Text is a user-facing name in the three languages the ledger publishes.
type Text struct {
	KK string `json:"kk" doc:"Kazakh."`
	RU string `json:"ru" doc:"Russian."`
	EN string `json:"en" doc:"English."`
}

// IsZero reports whether no language is given.
func (t Text) IsZero() bool { return t == Text{} }

// trimmed is t in the form the ledger stores a one-line name or title
// (cleanText: NFC, trimmed).
func (t Text) trimmed() Text { return t.cleaned(false) }

func (t Text) cleaned(multiline bool) Text {
	return Text{KK: cleanText(t.KK, multiline), RU: cleanText(t.RU, multiline), EN: cleanText(t.EN, multiline)}
}

// Validate reports each language that is empty after cleaning or breaks
// the text rules of a one-line title, naming it field.kk, field.ru or
// field.en.
func (t Text) Validate(field string) error {
	var v validator
	t.validate(&v, field)
	return v.err()
}

// validate checks a one-line name or title of at most maxTitle characters.
func (t Text) validate(v *validator, field string) {
	t.trimmed().validateAs(v, field, false, maxTitle)
}

// validateAs checks each language of a cleaned Text: given, and keeping
// the text rules.
func (t Text) validateAs(v *validator, field string, multiline bool, max int) {
	for _, l := range []struct{ lang, name, s string }{{"kk", "Kazakh", t.KK}, {"ru", "Russian", t.RU}, {"en", "English", t.EN}} {
		if l.s == "" {
			v.add(field+"."+l.lang, "is required ("+l.name+")")
			continue
		}
		validateText(v, field+"."+l.lang, l.s, multiline, max)
	}
}

// Date is a calendar date without a time zone: deadlines and periods are
// days, not instants. It is written 2006-01-02 in JSON.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date y-m-d; it does not normalise (Feb 30 stays
// invalid and fails Valid).
func NewDate(y int, m time.Month, d int) Date { return Date{Year: y, Month: m, Day: d} }

// DateOf is the calendar date of t in t's own location; callers choose the
// location (Kazakhstan's, usually) by converting t first.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads the form 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// IsZero reports whether d is the zero Date (no date).
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar date between years 1 and 9999.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	return DateOf(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)) == d
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is strictly after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes 2006-01-02, or nothing for the zero Date.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads 2006-01-02; the empty string is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

func (d Date) validate(v *validator, field string) {
	switch {
	case d.IsZero():
		v.add(field, "is required")
	case !d.Valid():
		v.addf(field, "%s is not a calendar date", d)
	}
}

// Period is a closed range of days.
type Period struct {
	Start Date `json:"start" doc:"The first day."`
	End   Date `json:"end" doc:"The last day."`
}

// Contains reports whether q lies entirely within p.
func (p Period) Contains(q Period) bool {
	return !q.Start.Before(p.Start) && !q.End.After(p.End)
}

func (p Period) String() string { return p.Start.String() + ".." + p.End.String() }

func (p Period) validate(v *validator, field string) {
	p.Start.validate(v, field+".start")
	p.End.validate(v, field+".end")
	if p.Start.Valid() && p.End.Valid() && p.End.Before(p.Start) {
		v.add(field+".end", "must not be before the start")
	}
}

// ValidateID checks that id is a UUID in canonical form (lower-case, with
// hyphens), so that one aggregate never has two spellings, and two stream
// names, of its id.
func ValidateID(field, id string) error {
	var v validator
	validateID(&v, field, id)
	return v.err()
}

func validateID(v *validator, field, id string) {
	switch u, err := uuid.Parse(id); {
	case id == "":
		v.add(field, "is required")
	case err != nil || u.String() != id:
		v.add(field, "must be a UUID in canonical form (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, lower case)")
	}
}

// RepublicKATO is the code the territory list gives the republic as a whole
// (KATO itself has no code for it). Every other territory has nine digits.
const RepublicKATO = "0"

// ValidateKATO checks that code is nine digits or RepublicKATO.
func ValidateKATO(field, code string) error {
	var v validator
	validateKATO(&v, field, code)
	return v.err()
}

func validateKATO(v *validator, field, code string) {
	switch {
	case code == "":
		v.add(field, "is required")
	case code != RepublicKATO && !nineDigits(code):
		v.add(field, `must be a KATO code of nine digits (or "0" for the republic)`)
	}
}

func nineDigits(s string) bool {
	if len(s) != 9 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validatePersonID checks that a person id is given. It is all the stored
// form of an event promises (DecodeStored); a new id from a command passes
// validateNewPersonID.
func validatePersonID(v *validator, field, id string) {
	v.check(strings.TrimSpace(id) != "", field, "is required")
}

// validateNewPersonID checks a cleaned person id of the catalog
// (responsibles of roadmaps and indicators) a command brings: given, one
// line of text.
func validateNewPersonID(v *validator, field, id string) {
	if id == "" {
		v.add(field, "is required")
		return
	}
	validateText(v, field, id, false, maxShortText)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Evidence backs a report: a public link, the SHA-256 of a document, or both.
type Evidence struct {
	URL         string `json:"url,omitempty" format:"uri" doc:"A public link: an absolute http or https URL."`
	SHA256      string `json:"sha256,omitempty" doc:"The SHA-256 of a document: 64 hexadecimal digits (stored lower case)."`
	Description string `json:"description,omitempty" doc:"What the evidence is."`
}

func (e Evidence) normalized() Evidence {
	return Evidence{
		URL:         cleanText(e.URL, false),
		SHA256:      strings.ToLower(strings.TrimSpace(e.SHA256)),
		Description: cleanText(e.Description, true),
	}
}

// validate expects a normalized Evidence. It reports whether the
// description keeps the text rules, for callers with more rules on it.
func (e Evidence) validate(v *validator, field string) bool {
	if e.URL == "" && e.SHA256 == "" {
		v.add(field, "give a url, a sha256 of the document, or both")
	}
	if e.URL != "" && validateText(v, field+".url", e.URL, false, maxURL) {
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(field+".url", "must be an absolute http or https URL")
		}
	}
	if e.SHA256 != "" {
		if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != 32 {
			v.add(field+".sha256", "must be 64 hexadecimal digits")
		}
	}
	return validateText(v, field+".description", e.Description, true, maxShortText)
}
