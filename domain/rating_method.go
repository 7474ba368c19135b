package domain

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// PeriodKind is the length of a rating period.
type PeriodKind string

const (
	PeriodMonth    PeriodKind = "month"
	PeriodQuarter  PeriodKind = "quarter"
	PeriodHalfYear PeriodKind = "half_year"
	PeriodYear     PeriodKind = "year"
)

func (k PeriodKind) months() int {
	switch k {
	case PeriodMonth:
		return 1
	case PeriodQuarter:
		return 3
	case PeriodHalfYear:
		return 6
	case PeriodYear:
		return 12
	}
	return 0
}

// Valid reports whether k is a known kind.
func (k PeriodKind) Valid() bool { return k.months() > 0 }

// MetricSource is a raw measure of a deputy's work in a period; see
// docs/rating.md for each definition.
type MetricSource string

const (
	// Counts, summed over the activity reports whose period ends within the
	// rating period.
	MetricReceptionsHeld MetricSource = "receptions_held"
	MetricPeopleReceived MetricSource = "people_received"
	MetricAppealsHandled MetricSource = "appeals_handled"
	// Shares in [0, 1].
	MetricAppealsPositiveShare MetricSource = "appeals_positive_share"
	MetricAppealsClosedShare   MetricSource = "appeals_closed_share"
	MetricIndicatorsDoneShare  MetricSource = "indicators_done_share"
	MetricIndicatorsProgress   MetricSource = "indicators_progress"
	MetricAssessmentReplyShare MetricSource = "assessment_reply_share"
)

// MetricSources lists every source.
func MetricSources() []MetricSource {
	return []MetricSource{MetricReceptionsHeld, MetricPeopleReceived, MetricAppealsHandled, MetricAppealsPositiveShare,
		MetricAppealsClosedShare, MetricIndicatorsDoneShare, MetricIndicatorsProgress, MetricAssessmentReplyShare}
}

// Valid reports whether s is a known source.
func (s MetricSource) Valid() bool { return slices.Contains(MetricSources(), s) }

// IsShare reports whether the source is already a share in [0, 1].
func (s MetricSource) IsShare() bool {
	switch s {
	case MetricAppealsPositiveShare, MetricAppealsClosedShare, MetricIndicatorsDoneShare, MetricIndicatorsProgress, MetricAssessmentReplyShare:
		return true
	}
	return false
}

// NormalizationKind says how a raw metric becomes a number in [0, 1].
type NormalizationKind string

const (
	// NormalizeMinMax: (x − min) / (max − min) over the deputies of the scope
	// who pass the faction-days rule and have data; 1 for x > 0 (else 0)
	// when max equals min.
	NormalizeMinMax NormalizationKind = "min_max"
	// NormalizeRatioToTarget: min(x / target, 1).
	NormalizeRatioToTarget NormalizationKind = "ratio_to_target"
	// NormalizeIdentity: a share taken as it is (clamped to [0, 1]).
	NormalizeIdentity NormalizationKind = "identity"
)

// RatingScope is the group a min-max normalisation compares within.
type RatingScope string

const (
	ScopeLevel    RatingScope = "level"
	ScopeAssembly RatingScope = "assembly"
)

// maxComponents bounds a formula.
const maxComponents = 12

// RatingMethod is a named rating method: its published versions, in order.
// A version, once published, never changes.
type RatingMethod struct {
	recorder
	name     string
	versions []RatingMethodPublished
}

// RebuildRatingMethod folds a rating method's stored history.
func RebuildRatingMethod(history []Envelope) (*RatingMethod, error) {
	r := &RatingMethod{}
	if err := r.replay(history, r.apply); err != nil {
		return nil, fmt.Errorf("rebuild rating method: %w", err)
	}
	return r, nil
}

// Name is the method's name ("" before the first version).
func (r *RatingMethod) Name() string { return r.name }

// Versions returns the published versions, oldest first.
func (r *RatingMethod) Versions() []RatingMethodPublished { return slices.Clone(r.versions) }

// Publish records a new version. e.Version zero means the next one; any
// other must be the next one (an earlier one is ErrAlreadyExists: a
// published version is never rewritten).
func (r *RatingMethod) Publish(e RatingMethodPublished, m Meta) error {
	e.Method = strings.TrimSpace(e.Method)
	next := len(r.versions) + 1
	if e.Version == 0 {
		e.Version = next
	}
	if e.Version < next && e.Version > 0 {
		return fmt.Errorf("rating method %s version %d is published and never changes: publish version %d: %w", r.name, e.Version, next, ErrAlreadyExists)
	}
	var v validator
	m = r.stamp(m, &v)
	validateSlug(&v, "method", e.Method)
	if r.name != "" && e.Method != r.name {
		v.addf("method", "is %q in this stream", r.name)
	}
	if e.Version != next {
		v.addf("version", "the next version of %s is %d", e.Method, next)
	}
	e.Title = e.Title.trimmed()
	validateLongText(&v, "title", e.Title, false, maxShortText)
	e.Summary = cleanText(e.Summary, true)
	validateFreeText(&v, "summary", e.Summary, true, true, maxLongText)
	e.EffectiveFrom.validate(&v, "effective_from")
	if n := len(r.versions); n > 0 && e.EffectiveFrom.Valid() && e.EffectiveFrom.Before(r.versions[n-1].EffectiveFrom) {
		v.addf("effective_from", "is before version %d's (%s): versions come into force in order", n, r.versions[n-1].EffectiveFrom)
	}
	e.Formula = validateFormula(&v, e.Formula)
	if err := v.err(); err != nil {
		return err
	}
	return r.record(e, m, r.apply)
}

func validateFormula(v *validator, f RatingFormula) RatingFormula {
	v.check(f.Period.Kind.Valid(), "formula.period.kind", `must be "month", "quarter", "half_year" or "year"`)
	f.Period.From.validate(v, "formula.period.from")
	if f.Period.From.Valid() && f.Period.From.Day != 1 {
		v.add("formula.period.from", "periods start on the first day of a month")
	}
	switch n := len(f.Components); {
	case n == 0:
		v.add("formula.components", "give at least one component")
	case n > maxComponents:
		v.addf("formula.components", "at most %d", maxComponents)
	}
	// Components are cleaned in place below: on a copy, never on the
	// caller's slice.
	f.Components = slices.Clone(f.Components)
	keys := map[string]bool{}
	for i := range f.Components {
		c := &f.Components[i]
		field := fmt.Sprintf("formula.components[%d]", i)
		c.Key = strings.TrimSpace(c.Key)
		c.Title = c.Title.trimmed()
		validateSlug(v, field+".key", c.Key)
		if keys[c.Key] {
			v.addf(field+".key", "%q is used twice", c.Key)
		}
		keys[c.Key] = true
		validateLongText(v, field+".title", c.Title, false, maxShortText)
		v.check(c.Source.Valid(), field+".source", "must be one of "+joinSources())
		v.check(finite(c.Weight) && c.Weight > 0 && c.Weight <= 1000, field+".weight", "must be a number above 0 (at most 1000)")
		n := &c.Normalization
		switch n.Kind {
		case NormalizeMinMax:
			v.check(n.Scope == ScopeLevel || n.Scope == ScopeAssembly, field+".normalization.scope", `must be "level" or "assembly"`)
			v.check(n.Target == nil, field+".normalization.target", "min_max has no target")
		case NormalizeRatioToTarget:
			v.check(n.Target != nil && finite(*n.Target) && *n.Target > 0, field+".normalization.target", "must be a number above 0")
			v.check(n.Scope == "", field+".normalization.scope", "only min_max has a scope")
		case NormalizeIdentity:
			v.check(c.Source.IsShare() || !c.Source.Valid(), field+".normalization.kind", "identity is for shares; normalise a count with min_max or ratio_to_target")
			v.check(n.Scope == "" && n.Target == nil, field+".normalization", "identity has no scope or target")
		default:
			v.add(field+".normalization.kind", `must be "min_max", "ratio_to_target" or "identity"`)
		}
	}
	minimum := f.Minimum
	v.check(minimum.FactionDays >= 0 && minimum.FactionDays <= 366, "formula.minimum.faction_days", "must be from 0 to 366")
	v.check(minimum.Components >= 1 && minimum.Components <= max(len(f.Components), 1), "formula.minimum.components", "must be from 1 to the number of components")
	v.check(minimum.Peers >= 1 && minimum.Peers <= 1000, "formula.minimum.peers", "must be from 1 to 1000")
	return f
}

func joinSources() string {
	var s []string
	for _, m := range MetricSources() {
		s = append(s, string(m))
	}
	return strings.Join(s, ", ")
}

func (r *RatingMethod) apply(ev Event, _ Meta) error {
	e, ok := ev.(RatingMethodPublished)
	switch {
	case !ok:
		return invalidHistory("%s does not apply to a rating method", ev.EventType())
	case r.name != "" && e.Method != r.name:
		return invalidHistory("version of method %s in the history of method %s", e.Method, r.name)
	case e.Version != len(r.versions)+1:
		return invalidHistory("method %s version %d follows version %d", e.Method, e.Version, len(r.versions))
	}
	r.name = e.Method
	r.versions = append(r.versions, e)
	return nil
}

// Periods lists the formula's periods from its start up to and including
// the one containing through.
func (f RatingFormula) Periods(through Date) []Period {
	months := f.Period.Kind.months()
	if months == 0 || !f.Period.From.Valid() || through.Before(f.Period.From) {
		return nil
	}
	var out []Period
	start := time.Date(f.Period.From.Year, f.Period.From.Month, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 10000; i++ {
		next := start.AddDate(0, months, 0)
		p := Period{Start: DateOf(start), End: DateOf(next.AddDate(0, 0, -1))}
		out = append(out, p)
		if !p.End.Before(through) {
			break
		}
		start = next
	}
	return out
}

// VersionInForce is, among versions of one method (oldest first), the
// number of the latest whose EffectiveFrom is on or before the period's
// start; 0 when none is.
func VersionInForce(versions []RatingMethodPublished, p Period) int {
	n := 0
	for _, v := range versions {
		if !v.EffectiveFrom.After(p.Start) {
			n = v.Version
		}
	}
	return n
}

// round rounds half away from zero to the given number of decimals.
func roundTo(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
