package domain

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Sentinel errors of councils, recommendations, assessments, deputies and
// rating methods, matched with errors.Is like those in errors.go.
var (
	// ErrNotMember: the person is not a current member of the council, so
	// may not act for it (draft, submit, judge, withdraw, dissent, assess,
	// leave).
	ErrNotMember = errors.New("not a current member of the council")
	// ErrAlreadyMember: the person is a current member already.
	ErrAlreadyMember = errors.New("already a member of the council")
	// ErrNotRespondent: the person is not among those an assessment may be
	// answered by.
	ErrNotRespondent = errors.New("not a respondent of the assessment")
	// ErrNotSubmitted: a recommendation that was not submitted cannot be
	// acknowledged or answered.
	ErrNotSubmitted = errors.New("recommendation not submitted")
	// ErrNotAnswered: a recommendation cannot be judged, nor its answer
	// corrected, before the body answered.
	ErrNotAnswered = errors.New("recommendation not answered")
	// ErrAlreadyAnswered: the body answered already; correct the answer
	// instead.
	ErrAlreadyAnswered = errors.New("recommendation already answered")
	// ErrWithdrawn: the recommendation or assessment was withdrawn; only
	// reading is allowed.
	ErrWithdrawn = errors.New("withdrawn")
	// ErrPeriodOverlap: an activity report's period overlaps one in force;
	// correct that one instead.
	ErrPeriodOverlap = errors.New("overlaps an activity report in force")
	// ErrNotFactionMember: the deputy is not in the faction, so cannot leave
	// it.
	ErrNotFactionMember = errors.New("not a faction member")
)

// TransitionError is an illegal move in a lifecycle: what the aggregate is,
// what was attempted, and from which states it would have been allowed. It
// matches ErrInvalidTransition, and Unwrap gives the specific sentinel
// (ErrNotSubmitted, ErrNotAnswered, ErrAlreadyAnswered, ErrWithdrawn) when
// there is one.
type TransitionError struct {
	Aggregate string // "recommendation", "assessment"
	ID        string
	State     string
	Action    string
	Allowed   []string
	Err       error
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("%s %s is %s: cannot %s", e.Aggregate, e.ID, e.State, e.Action)
	if len(e.Allowed) > 0 {
		msg += " (only when " + strings.Join(e.Allowed, " or ") + ")"
	}
	return msg + ": " + ErrInvalidTransition.Error()
}

// Is makes every TransitionError match ErrInvalidTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

func (e *TransitionError) Unwrap() error { return e.Err }

// CouncilLevel is the tier of a public council or of a deputy's assembly:
// the republic, a unit of regional rank, or a district or city below it.
type CouncilLevel string

const (
	CouncilRepublican CouncilLevel = "republican"
	CouncilRegional   CouncilLevel = "regional"
	CouncilDistrict   CouncilLevel = "district"
)

// Valid reports whether l is a known level.
func (l CouncilLevel) Valid() bool {
	return l == CouncilRepublican || l == CouncilRegional || l == CouncilDistrict
}

// LevelOfTerritory is the level of the councils of a territory of kind k
// ("" for an unknown kind).
func LevelOfTerritory(k TerritoryKind) CouncilLevel {
	switch k {
	case TerritoryRepublic:
		return CouncilRepublican
	case TerritoryRegion, TerritoryCityOfRepublicanSignificance:
		return CouncilRegional
	case TerritoryDistrict, TerritoryCityOfRegionalSignificance, TerritoryCityDistrict:
		return CouncilDistrict
	}
	return ""
}

// CouncilMemberRole: a council has at most one chair at a time.
type CouncilMemberRole string

const (
	MemberChair  CouncilMemberRole = "chair"
	MemberMember CouncilMemberRole = "member"
)

// Valid reports whether r is a known role.
func (r CouncilMemberRole) Valid() bool { return r == MemberChair || r == MemberMember }

// AnswerDecision is a state body's answer to a recommendation.
type AnswerDecision string

const (
	DecisionAccepted          AnswerDecision = "accepted"
	DecisionPartiallyAccepted AnswerDecision = "partially_accepted"
	DecisionRejected          AnswerDecision = "rejected"
)

// Valid reports whether d is a known decision.
func (d AnswerDecision) Valid() bool {
	return d == DecisionAccepted || d == DecisionPartiallyAccepted || d == DecisionRejected
}

// Verdict is a council's judgement of whether a body implemented a
// recommendation.
type Verdict string

const (
	VerdictImplemented    Verdict = "implemented"
	VerdictNotImplemented Verdict = "not_implemented"
)

// Valid reports whether v is a known verdict.
func (v Verdict) Valid() bool { return v == VerdictImplemented || v == VerdictNotImplemented }

// AssessmentPosition: does the council agree with the reported status?
type AssessmentPosition string

const (
	PositionAgree    AssessmentPosition = "agree"
	PositionDisagree AssessmentPosition = "disagree"
)

// Valid reports whether p is a known position.
func (p AssessmentPosition) Valid() bool { return p == PositionAgree || p == PositionDisagree }

// AssemblyKind: the Mazhilis (lower house) or a maslikhat (local council).
type AssemblyKind string

const (
	AssemblyMazhilis  AssemblyKind = "mazhilis"
	AssemblyMaslikhat AssemblyKind = "maslikhat"
)

// Valid reports whether k is a known kind.
func (k AssemblyKind) Valid() bool { return k == AssemblyMazhilis || k == AssemblyMaslikhat }

// ID is the assembly's stable id: "mazhilis" or "maslikhat-{kato}". Ranks
// "within the council" are within one assembly id.
func (a Assembly) ID() string {
	if a.Kind == AssemblyMazhilis {
		return string(AssemblyMazhilis)
	}
	return string(a.Kind) + "-" + a.TerritoryKATO
}

// ParseAssemblyID reads an id written by Assembly.ID; the level is left
// empty (it follows from the territory).
func ParseAssemblyID(id string) (Assembly, bool) {
	if id == string(AssemblyMazhilis) {
		return Assembly{Kind: AssemblyMazhilis, TerritoryKATO: RepublicKATO, Level: CouncilRepublican}, true
	}
	kato, ok := strings.CutPrefix(id, string(AssemblyMaslikhat)+"-")
	if !ok || !nineDigits(kato) {
		return Assembly{}, false
	}
	return Assembly{Kind: AssemblyMaslikhat, TerritoryKATO: kato}, true
}

// ResponsibilityKind is what a deputy answers for.
type ResponsibilityKind string

const (
	ResponsibleForRoadmap   ResponsibilityKind = "roadmap"
	ResponsibleForIndicator ResponsibilityKind = "indicator"
)

// Valid reports whether k is a known kind.
func (k ResponsibilityKind) Valid() bool {
	return k == ResponsibleForRoadmap || k == ResponsibleForIndicator
}

// slugPattern: ids the ledger gives things (state bodies, factions,
// topics, methods, component keys).
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,79}$`)

func validateSlug(v *validator, field, s string) {
	switch {
	case s == "":
		v.add(field, "is required")
	case !slugPattern.MatchString(s):
		v.add(field, "must be a slug: 1–80 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
}

// personIDPattern: opaque person ids ("deputy-17", "member-0042"). They go
// into stream names, so they are plain.
var personIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ValidatePersonID checks an opaque person id: 1–128 letters, digits and
// . _ : -, not a phone number or a national id.
func ValidatePersonID(field, id string) error {
	var v validator
	validateOpaquePersonID(&v, field, id)
	return v.err()
}

func validateOpaquePersonID(v *validator, field, id string) {
	switch {
	case id == "":
		v.add(field, "is required")
	case !personIDPattern.MatchString(id):
		v.add(field, "must be an opaque id: 1–128 letters, digits, '.', '_', ':' or '-'")
	case containsContactData(id):
		v.add(field, "must be an opaque id, not an e-mail address, phone number or national id")
	}
}

// Patterns of personal data that must not enter free text: e-mail
// addresses, phone numbers and twelve-digit national ids (IIN). Names
// cannot be told from other words; see docs/rating.md ("Personal data").
var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	iinPattern   = regexp.MustCompile(`(^|[^0-9])[0-9]{12}([^0-9]|$)`)
	phonePattern = regexp.MustCompile(`(\+7|\b8)[\s(-]*7[0-9]{2}[\s)-]*[0-9]{3}[\s-]*[0-9]{2}[\s-]*[0-9]{2}`)
)

func containsContactData(s string) bool {
	return emailPattern.MatchString(s) || iinPattern.MatchString(s) || phonePattern.MatchString(s)
}

// validateFreeText checks a cleaned free-text field: required or not, the
// text rules (multi-line or not, at most max characters), and without
// contact data or national ids.
func validateFreeText(v *validator, field, s string, required, multiline bool, max int) {
	switch {
	case s == "" && required:
		v.add(field, "is required")
	case !validateText(v, field, s, multiline, max):
	case containsContactData(s):
		v.add(field, "must not contain e-mail addresses, phone numbers or national ids (IIN): the ledger is public")
	}
}

// noContactData refuses contact data in text the text rules already passed.
func noContactData(v *validator, field, s string) {
	if containsContactData(s) {
		v.add(field, "must not contain e-mail addresses, phone numbers or national ids (IIN): the ledger is public")
	}
}

func validateDisplayName(v *validator, field, s string) {
	validateFreeText(v, field, s, true, false, maxDisplayName)
	if strings.ContainsAny(s, "@0123456789") {
		v.add(field, "is a public display name: no digits or '@'")
	}
}

// evidenceOptional validates evidence that may be absent.
func evidenceOptional(v *validator, field string, e Evidence) Evidence {
	e = e.normalized()
	if e != (Evidence{}) {
		if e.validate(v, field) {
			noContactData(v, field+".description", e.Description)
		}
	}
	return e
}

// evidenceRequired validates evidence that must be given.
func evidenceRequired(v *validator, field string, e Evidence) Evidence {
	e = e.normalized()
	if e.validate(v, field) {
		noContactData(v, field+".description", e.Description)
	}
	return e
}

// monotonic is the effective-time rule of the new aggregates: a lifecycle
// event may not take effect before the event it follows, so that "as of
// date D" keeps a prefix of the lifecycle and the fold never sees an effect
// without its cause.
func monotonic(v *validator, m Meta, last time.Time) {
	if !last.IsZero() && effectiveOf(m).Before(last) {
		v.addf("effective_at", "%s is before the previous event of this record took effect (%s)",
			effectiveOf(m).Format(time.RFC3339), last.Format(time.RFC3339))
	}
}

func trimAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = cleanText(s, false); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ValidateSlug checks a slug: 1–80 lower-case letters, digits, '.', '_'
// or '-', starting with a letter or digit.
func ValidateSlug(field, s string) error {
	var v validator
	validateSlug(&v, field, s)
	return v.err()
}
