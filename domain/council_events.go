package domain

import "time"

// Event types of public councils, their recommendations and assessments,
// deputies and the rating methodology. Like the others, these strings are
// stored with every event and are permanent. docs/rating.md and
// docs/events.md describe them.
const (
	TypeCouncilRegistered   = "council.registered.v1"
	TypeCouncilMemberJoined = "council.member_joined.v1"
	TypeCouncilMemberLeft   = "council.member_left.v1"

	TypeRecommendationDrafted         = "recommendation.drafted.v1"
	TypeRecommendationSubmitted       = "recommendation.submitted.v1"
	TypeRecommendationAcknowledged    = "recommendation.acknowledged.v1"
	TypeRecommendationAnswered        = "recommendation.answered.v1"
	TypeRecommendationAnswerCorrected = "recommendation.answer_corrected.v1"
	TypeRecommendationJudged          = "recommendation.implementation_judged.v1"
	TypeRecommendationWithdrawn       = "recommendation.withdrawn.v1"
	TypeRecommendationDissentAttached = "recommendation.dissent_attached.v1"

	TypeAssessmentRecorded  = "assessment.recorded.v1"
	TypeAssessmentReplied   = "assessment.replied.v1"
	TypeAssessmentWithdrawn = "assessment.withdrawn.v1"

	TypeDeputyRegistered             = "deputy.registered.v1"
	TypeDeputyFactionJoined          = "deputy.faction_joined.v1"
	TypeDeputyFactionLeft            = "deputy.faction_left.v1"
	TypeDeputyResponsibilityAssigned = "deputy.responsibility_assigned.v1"
	TypeDeputyResponsibilityReleased = "deputy.responsibility_released.v1"
	TypeDeputyActivityReported       = "deputy.activity_reported.v1"
	TypeDeputyActivityCorrected      = "deputy.activity_corrected.v1"

	TypeRatingMethodPublished = "rating.method_published.v1"
)

// --- Public councils -------------------------------------------------------

// CouncilRegistered: a public council (қоғамдық кеңес / общественный совет)
// of a territory exists.
type CouncilRegistered struct {
	CouncilID     string       `json:"council_id"`
	TerritoryKATO string       `json:"territory_kato"`
	Level         CouncilLevel `json:"level"`
	Name          Text         `json:"name"`
}

// CouncilMember is a person on a public council as the ledger publishes
// them: an opaque id, a role and a public display name. Nothing else about
// a member is ever recorded.
type CouncilMember struct {
	MemberID    string            `json:"member_id"`
	Role        CouncilMemberRole `json:"role"`
	DisplayName string            `json:"display_name"`
}

// CouncilMemberJoined: a person joined the council.
type CouncilMemberJoined struct {
	CouncilID string `json:"council_id"`
	CouncilMember
}

// CouncilMemberLeft: a member left the council; the reason is in the
// metadata.
type CouncilMemberLeft struct {
	CouncilID string `json:"council_id"`
	MemberID  string `json:"member_id"`
}

// --- Recommendations -------------------------------------------------------

// StateBody is the addressee of a recommendation: an akimat, a ministry, a
// committee. ID is a stable slug the ledger gives the body
// ("akimat-110000000", "ministry-of-trade").
type StateBody struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
}

// RecommendationLinks ties a recommendation to what it is about.
type RecommendationLinks struct {
	RoadmapIDs   []string `json:"roadmap_ids,omitempty"`
	IndicatorIDs []string `json:"indicator_ids,omitempty"`
	// Topics are slugs ("public_procurement", "food_prices").
	Topics []string `json:"topics,omitempty"`
}

// RecommendationDrafted: a council drafted a recommendation to a state body.
// The drafting member is the event's actor.
type RecommendationDrafted struct {
	RecommendationID string              `json:"recommendation_id"`
	CouncilID        string              `json:"council_id"`
	Title            Text                `json:"title"`
	Proposal         Text                `json:"proposal"`
	Addressee        StateBody           `json:"addressee"`
	Links            RecommendationLinks `json:"links"`
}

// RecommendationSubmitted: the council sent the recommendation; the body is
// to answer by ResponseDeadline.
type RecommendationSubmitted struct {
	RecommendationID string `json:"recommendation_id"`
	ResponseDeadline Date   `json:"response_deadline"`
}

// RecommendationAcknowledged: the body registered the recommendation;
// Reference is its incoming number, if it gave one.
type RecommendationAcknowledged struct {
	RecommendationID string `json:"recommendation_id"`
	Reference        string `json:"reference,omitempty"`
}

// Answer is what a state body replied.
type Answer struct {
	Decision AnswerDecision `json:"decision"`
	Reply    string         `json:"reply"`
	Evidence Evidence       `json:"evidence"`
}

// RecommendationAnswered: the body answered. AnswerID is the event id.
type RecommendationAnswered struct {
	RecommendationID string `json:"recommendation_id"`
	AnswerID         string `json:"answer_id"`
	Answer
}

// RecommendationAnswerCorrected: the answer Corrects was recorded wrongly
// and said Answer. It takes effect when the answer it corrects did; the
// reason is in the metadata.
type RecommendationAnswerCorrected struct {
	RecommendationID string `json:"recommendation_id"`
	AnswerID         string `json:"answer_id"`
	Corrects         string `json:"corrects"`
	Answer
}

// RecommendationJudged: the council judged whether the body implemented
// the recommendation. A later judgement revises an earlier one (with a
// reason).
type RecommendationJudged struct {
	RecommendationID string   `json:"recommendation_id"`
	Verdict          Verdict  `json:"verdict"`
	Comment          string   `json:"comment,omitempty"`
	Evidence         Evidence `json:"evidence,omitzero"`
}

// RecommendationWithdrawn: the council withdrew the recommendation before
// it was answered; the reason is in the metadata.
type RecommendationWithdrawn struct {
	RecommendationID string `json:"recommendation_id"`
}

// RecommendationDissentAttached: a member of the council put a dissenting
// opinion on the record.
type RecommendationDissentAttached struct {
	RecommendationID string `json:"recommendation_id"`
	MemberID         string `json:"member_id"`
	Opinion          string `json:"opinion"`
}

// --- Assessments -----------------------------------------------------------

// AssessmentRecorded: a council assessed an indicator's reported status.
// ReportedStatus and ReportID are what the ledger said when the assessment
// was made; Respondents are the people who may reply (the indicator's
// responsible person and the roadmap's responsible deputies and officials at
// that time).
type AssessmentRecorded struct {
	AssessmentID   string             `json:"assessment_id"`
	CouncilID      string             `json:"council_id"`
	IndicatorID    string             `json:"indicator_id"`
	RoadmapID      string             `json:"roadmap_id"`
	ReportedStatus IndicatorStatus    `json:"reported_status"`
	ReportID       string             `json:"report_id,omitempty"`
	Position       AssessmentPosition `json:"position"`
	Comment        string             `json:"comment"`
	Evidence       Evidence           `json:"evidence,omitzero"`
	Respondents    []string           `json:"respondents"`
}

// AssessmentReplied: a respondent answered the assessment on the record.
// ReplyID is the event id.
type AssessmentReplied struct {
	AssessmentID string   `json:"assessment_id"`
	ReplyID      string   `json:"reply_id"`
	RespondentID string   `json:"respondent_id"`
	Reply        string   `json:"reply"`
	Evidence     Evidence `json:"evidence,omitzero"`
}

// AssessmentWithdrawn: the council withdrew its assessment; the reason is
// in the metadata.
type AssessmentWithdrawn struct {
	AssessmentID string `json:"assessment_id"`
}

// --- Deputies --------------------------------------------------------------

// Assembly is the representative body a deputy sits in: the Mazhilis, or
// the maslikhat of a territory.
type Assembly struct {
	Kind          AssemblyKind `json:"kind"`
	TerritoryKATO string       `json:"territory_kato"`
	Level         CouncilLevel `json:"level"`
}

// DeputyRegistered: a deputy of an assembly is in the ledger. DisplayName is
// the public name of an elected official.
type DeputyRegistered struct {
	DeputyID    string   `json:"deputy_id"`
	DisplayName string   `json:"display_name"`
	Assembly    Assembly `json:"assembly"`
}

// DeputyFactionJoined: the deputy joined the party's faction in the
// assembly. Faction is a slug.
type DeputyFactionJoined struct {
	DeputyID string `json:"deputy_id"`
	Faction  string `json:"faction"`
}

// DeputyFactionLeft: the deputy left the faction; the reason is in the
// metadata.
type DeputyFactionLeft struct {
	DeputyID string `json:"deputy_id"`
	Faction  string `json:"faction"`
}

// DeputyResponsibilityAssigned: the deputy answers for a roadmap (all its
// measures) or one indicator.
type DeputyResponsibilityAssigned struct {
	DeputyID  string             `json:"deputy_id"`
	Subject   ResponsibilityKind `json:"subject"`
	SubjectID string             `json:"subject_id"`
}

// DeputyResponsibilityReleased: the deputy no longer answers for it; the
// reason is in the metadata.
type DeputyResponsibilityReleased struct {
	DeputyID  string             `json:"deputy_id"`
	Subject   ResponsibilityKind `json:"subject"`
	SubjectID string             `json:"subject_id"`
}

// AppealOutcomes splits appeals handled by outcome. Counts only: no appeal,
// and nobody who made one, is ever identified.
type AppealOutcomes struct {
	Positive  int `json:"positive"`
	Explained int `json:"explained"`
	Rejected  int `json:"rejected"`
	Pending   int `json:"pending"`
}

// ActivityCounts is what a deputy did in a period, as counts.
type ActivityCounts struct {
	ReceptionsHeld int            `json:"receptions_held"`
	PeopleReceived int            `json:"people_received"`
	AppealsHandled int            `json:"appeals_handled"`
	Outcomes       AppealOutcomes `json:"outcomes"`
}

// DeputyActivityReported: the deputy's activity in Period. ReportID is the
// event id.
type DeputyActivityReported struct {
	DeputyID string `json:"deputy_id"`
	ReportID string `json:"report_id"`
	Period   Period `json:"period"`
	ActivityCounts
}

// DeputyActivityCorrected: the activity report Corrects should have said
// these counts. It keeps the period and takes effect when the report it
// corrects did; the reason is in the metadata.
type DeputyActivityCorrected struct {
	DeputyID string `json:"deputy_id"`
	ReportID string `json:"report_id"`
	Corrects string `json:"corrects"`
	ActivityCounts
}

// --- Rating methodology ----------------------------------------------------

// RatingMethodPublished: version Version of rating method Method. A
// published version is never changed; a change of rule is a new version.
type RatingMethodPublished struct {
	Method  string        `json:"method"`
	Version int           `json:"version"`
	Title   Text          `json:"title"`
	Summary string        `json:"summary"`
	Formula RatingFormula `json:"formula"`
	// EffectiveFrom is when the version starts to be the one in force;
	// ratings of earlier periods under it are computed all the same, for
	// comparison.
	EffectiveFrom Date `json:"effective_from"`
}

// RatingFormula is a method version's rules, as data.
type RatingFormula struct {
	Period     RatingPeriod      `json:"period"`
	Components []RatingComponent `json:"components"`
	Minimum    MinimumData       `json:"minimum"`
}

// RatingPeriod: ratings are computed for consecutive periods of Kind,
// starting on From.
type RatingPeriod struct {
	Kind PeriodKind `json:"kind"`
	From Date       `json:"from"`
}

// RatingComponent is one weighted term of the score.
type RatingComponent struct {
	Key           string        `json:"key"`
	Title         Text          `json:"title"`
	Source        MetricSource  `json:"source"`
	Weight        float64       `json:"weight"`
	Normalization Normalization `json:"normalization"`
}

// Normalization maps a raw metric to [0, 1].
type Normalization struct {
	Kind NormalizationKind `json:"kind"`
	// Scope of min_max: the deputies the minimum and maximum are taken over.
	Scope RatingScope `json:"scope,omitempty"`
	// Target of ratio_to_target: the raw value that earns 1.
	Target *float64 `json:"target,omitempty"`
}

// MinimumData are the rules a deputy's data must meet to be rated.
type MinimumData struct {
	// FactionDays: days of faction membership within the period.
	FactionDays int `json:"faction_days"`
	// Components: components with data.
	Components int `json:"components"`
	// Peers: rated deputies a ranking group needs before ranks are given.
	Peers int `json:"peers"`
}

func (CouncilRegistered) EventType() string             { return TypeCouncilRegistered }
func (CouncilMemberJoined) EventType() string           { return TypeCouncilMemberJoined }
func (CouncilMemberLeft) EventType() string             { return TypeCouncilMemberLeft }
func (RecommendationDrafted) EventType() string         { return TypeRecommendationDrafted }
func (RecommendationSubmitted) EventType() string       { return TypeRecommendationSubmitted }
func (RecommendationAcknowledged) EventType() string    { return TypeRecommendationAcknowledged }
func (RecommendationAnswered) EventType() string        { return TypeRecommendationAnswered }
func (RecommendationAnswerCorrected) EventType() string { return TypeRecommendationAnswerCorrected }
func (RecommendationJudged) EventType() string          { return TypeRecommendationJudged }
func (RecommendationWithdrawn) EventType() string       { return TypeRecommendationWithdrawn }
func (RecommendationDissentAttached) EventType() string { return TypeRecommendationDissentAttached }
func (AssessmentRecorded) EventType() string            { return TypeAssessmentRecorded }
func (AssessmentReplied) EventType() string             { return TypeAssessmentReplied }
func (AssessmentWithdrawn) EventType() string           { return TypeAssessmentWithdrawn }
func (DeputyRegistered) EventType() string              { return TypeDeputyRegistered }
func (DeputyFactionJoined) EventType() string           { return TypeDeputyFactionJoined }
func (DeputyFactionLeft) EventType() string             { return TypeDeputyFactionLeft }
func (DeputyResponsibilityAssigned) EventType() string  { return TypeDeputyResponsibilityAssigned }
func (DeputyResponsibilityReleased) EventType() string  { return TypeDeputyResponsibilityReleased }
func (DeputyActivityReported) EventType() string        { return TypeDeputyActivityReported }
func (DeputyActivityCorrected) EventType() string       { return TypeDeputyActivityCorrected }
func (RatingMethodPublished) EventType() string         { return TypeRatingMethodPublished }

// The aggregate id each event belongs to, so that folds can refuse events
// of another aggregate.
func (e CouncilMemberJoined) councilID() string { return e.CouncilID }
func (e CouncilMemberLeft) councilID() string   { return e.CouncilID }

func (e RecommendationSubmitted) recommendationID() string       { return e.RecommendationID }
func (e RecommendationAcknowledged) recommendationID() string    { return e.RecommendationID }
func (e RecommendationAnswered) recommendationID() string        { return e.RecommendationID }
func (e RecommendationAnswerCorrected) recommendationID() string { return e.RecommendationID }
func (e RecommendationJudged) recommendationID() string          { return e.RecommendationID }
func (e RecommendationWithdrawn) recommendationID() string       { return e.RecommendationID }
func (e RecommendationDissentAttached) recommendationID() string { return e.RecommendationID }

func (e AssessmentReplied) assessmentID() string   { return e.AssessmentID }
func (e AssessmentWithdrawn) assessmentID() string { return e.AssessmentID }

func (e DeputyFactionJoined) deputyID() string          { return e.DeputyID }
func (e DeputyFactionLeft) deputyID() string            { return e.DeputyID }
func (e DeputyResponsibilityAssigned) deputyID() string { return e.DeputyID }
func (e DeputyResponsibilityReleased) deputyID() string { return e.DeputyID }
func (e DeputyActivityReported) deputyID() string       { return e.DeputyID }
func (e DeputyActivityCorrected) deputyID() string      { return e.DeputyID }

// Stream names of the new aggregates.
const (
	councilStreamPrefix        = "council-"
	recommendationStreamPrefix = "recommendation-"
	assessmentStreamPrefix     = "assessment-"
	deputyStreamPrefix         = "deputy-"
	ratingMethodStreamPrefix   = "rating-method-"
)

// CouncilStream is the name of a public council's stream.
func CouncilStream(id string) string { return councilStreamPrefix + id }

// RecommendationStream is the name of a recommendation's stream.
func RecommendationStream(id string) string { return recommendationStreamPrefix + id }

// AssessmentStream is the name of an assessment's stream.
func AssessmentStream(id string) string { return assessmentStreamPrefix + id }

// DeputyStream is the name of a deputy's stream; the id is the deputy's
// person id.
func DeputyStream(id string) string { return deputyStreamPrefix + id }

// RatingMethodStream is the name of a rating method's stream: every version
// of the method, in order.
func RatingMethodStream(name string) string { return ratingMethodStreamPrefix + name }

// effectiveOf is an event's effective time, RecordedAt when unset.
func effectiveOf(m Meta) time.Time {
	if m.EffectiveAt.IsZero() {
		return m.RecordedAt
	}
	return m.EffectiveAt
}
