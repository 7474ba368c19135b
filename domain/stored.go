package domain

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// ErrInvalidStoredEvent: an event in the log breaks the rules every event
// of its type was recorded under (a direct insert, a broken importer). It
// cannot be folded or projected as it is.
var ErrInvalidStoredEvent = errors.New("the stored event is not valid")

// DecodeStored is Decode for readers that build on the log (projectors):
// it also checks the event's shape — identifiers present and well formed,
// kinds known, required dates real, and the event in the stream its
// aggregate's id names (when stream is not empty) — so that a direct
// insert of {} never becomes a program with id "". Free text is not
// checked: what the log holds must stay readable under text rules added
// later. The error matches ErrInvalidStoredEvent and names the fields.
func DecodeStored(stream, typ string, data, metadata []byte) (Event, Meta, error) {
	e, m, err := Decode(typ, data, metadata)
	if err != nil {
		return nil, Meta{}, err
	}
	var v validator
	v.check(m.EventID != uuid.Nil, "metadata.event_id", "is required")
	v.check(!m.RecordedAt.IsZero(), "metadata.recorded_at", "is required")
	want, known := checkStored(&v, e)
	if !known {
		return nil, Meta{}, fmt.Errorf("%s: no stored-event rules for this type: %w", typ, ErrInvalidStoredEvent)
	}
	if stream != "" && want != stream {
		v.addf("stream", "the event belongs to stream %q, not %q", want, stream)
	}
	if err := v.err(); err != nil {
		return nil, Meta{}, fmt.Errorf("%s: %w: %w", e.EventType(), ErrInvalidStoredEvent, err)
	}
	return e, m, nil
}

// checkStored checks the shape of one event and returns the stream it
// belongs to; known is false for a type it has no rules for (a test keeps
// every decodable type covered).
func checkStored(v *validator, ev Event) (stream string, known bool) {
	switch e := ev.(type) {
	case ProgramRegistered:
		validateID(v, "program_id", e.ProgramID)
		v.check(e.Kind.Valid(), "kind", "is not a known program kind")
		storedPeriod(v, "period", e.Period)
		return ProgramStream(e.ProgramID), true
	case TerritoryRegistered:
		validateKATO(v, "kato", e.KATO)
		v.check(e.Kind.Valid(), "kind", "is not a known territory kind")
		if e.ParentKATO != "" {
			validateKATO(v, "parent_kato", e.ParentKATO)
		}
		return TerritoryStream(e.KATO), true
	case RoadmapRegistered:
		validateID(v, "roadmap_id", e.RoadmapID)
		validateID(v, "program_id", e.ProgramID)
		validateKATO(v, "territory_kato", e.TerritoryKATO)
		v.check(e.Level.Valid(), "level", "is not a known roadmap level")
		storedPeriod(v, "period", e.Period)
		return RoadmapStream(e.RoadmapID), true
	case RoadmapActivated:
		validateID(v, "roadmap_id", e.RoadmapID)
		return RoadmapStream(e.RoadmapID), true
	case RoadmapClosed:
		validateID(v, "roadmap_id", e.RoadmapID)
		return RoadmapStream(e.RoadmapID), true
	case RoadmapResponsibleAssigned:
		validateID(v, "roadmap_id", e.RoadmapID)
		validatePersonID(v, "person_id", e.PersonID)
		v.check(e.Role.Valid(), "role", "is not a known role")
		return RoadmapStream(e.RoadmapID), true
	case RoadmapResponsibleUnassigned:
		validateID(v, "roadmap_id", e.RoadmapID)
		validatePersonID(v, "person_id", e.PersonID)
		return RoadmapStream(e.RoadmapID), true
	case IndicatorAdded:
		validateID(v, "indicator_id", e.IndicatorID)
		validateID(v, "roadmap_id", e.RoadmapID)
		v.check(e.Kind.Valid(), "kind", "is not a known indicator kind")
		e.Deadline.validate(v, "deadline")
		v.check(finite(e.Weight), "weight", "must be a number")
		return IndicatorStream(e.IndicatorID), true
	case ProgressReported:
		validateID(v, "indicator_id", e.IndicatorID)
		return IndicatorStream(e.IndicatorID), true
	case ReportCorrected:
		validateID(v, "indicator_id", e.IndicatorID)
		return IndicatorStream(e.IndicatorID), true
	case IndicatorRetargeted:
		validateID(v, "indicator_id", e.IndicatorID)
		if e.Deadline != nil {
			e.Deadline.validate(v, "deadline")
		}
		return IndicatorStream(e.IndicatorID), true
	case IndicatorStatusChanged:
		validateID(v, "indicator_id", e.IndicatorID)
		v.check(knownStatus(e.To), "to", "is not a known indicator status")
		return IndicatorStream(e.IndicatorID), true
	case IndicatorCancelled:
		validateID(v, "indicator_id", e.IndicatorID)
		return IndicatorStream(e.IndicatorID), true
	case IndicatorResponsibleAssigned:
		validateID(v, "indicator_id", e.IndicatorID)
		validatePersonID(v, "person_id", e.PersonID)
		return IndicatorStream(e.IndicatorID), true
	case CouncilRegistered:
		validateID(v, "council_id", e.CouncilID)
		validateKATO(v, "territory_kato", e.TerritoryKATO)
		v.check(e.Level.Valid(), "level", "is not a known council level")
		return CouncilStream(e.CouncilID), true
	case CouncilMemberJoined:
		validateID(v, "council_id", e.CouncilID)
		validatePersonID(v, "member_id", e.MemberID)
		v.check(e.Role.Valid(), "role", "is not a known member role")
		return CouncilStream(e.CouncilID), true
	case CouncilMemberLeft:
		validateID(v, "council_id", e.CouncilID)
		validatePersonID(v, "member_id", e.MemberID)
		return CouncilStream(e.CouncilID), true
	case RecommendationDrafted:
		validateID(v, "recommendation_id", e.RecommendationID)
		validateID(v, "council_id", e.CouncilID)
		validatePersonID(v, "addressee.id", e.Addressee.ID)
		return RecommendationStream(e.RecommendationID), true
	case RecommendationSubmitted:
		validateID(v, "recommendation_id", e.RecommendationID)
		e.ResponseDeadline.validate(v, "response_deadline")
		return RecommendationStream(e.RecommendationID), true
	case RecommendationAcknowledged:
		validateID(v, "recommendation_id", e.RecommendationID)
		return RecommendationStream(e.RecommendationID), true
	case RecommendationAnswered:
		validateID(v, "recommendation_id", e.RecommendationID)
		v.check(e.Decision.Valid(), "decision", "is not a known decision")
		return RecommendationStream(e.RecommendationID), true
	case RecommendationAnswerCorrected:
		validateID(v, "recommendation_id", e.RecommendationID)
		v.check(e.Decision.Valid(), "decision", "is not a known decision")
		return RecommendationStream(e.RecommendationID), true
	case RecommendationJudged:
		validateID(v, "recommendation_id", e.RecommendationID)
		v.check(e.Verdict.Valid(), "verdict", "is not a known verdict")
		return RecommendationStream(e.RecommendationID), true
	case RecommendationWithdrawn:
		validateID(v, "recommendation_id", e.RecommendationID)
		return RecommendationStream(e.RecommendationID), true
	case RecommendationDissentAttached:
		validateID(v, "recommendation_id", e.RecommendationID)
		validatePersonID(v, "member_id", e.MemberID)
		return RecommendationStream(e.RecommendationID), true
	case AssessmentRecorded:
		validateID(v, "assessment_id", e.AssessmentID)
		validateID(v, "council_id", e.CouncilID)
		validateID(v, "indicator_id", e.IndicatorID)
		validateID(v, "roadmap_id", e.RoadmapID)
		v.check(e.Position.Valid(), "position", "is not a known position")
		return AssessmentStream(e.AssessmentID), true
	case AssessmentReplied:
		validateID(v, "assessment_id", e.AssessmentID)
		validatePersonID(v, "respondent_id", e.RespondentID)
		return AssessmentStream(e.AssessmentID), true
	case AssessmentWithdrawn:
		validateID(v, "assessment_id", e.AssessmentID)
		return AssessmentStream(e.AssessmentID), true
	case DeputyRegistered:
		validatePersonID(v, "deputy_id", e.DeputyID)
		v.check(e.Assembly.Kind.Valid(), "assembly.kind", "is not a known assembly kind")
		validateKATO(v, "assembly.territory_kato", e.Assembly.TerritoryKATO)
		v.check(e.Assembly.Level.Valid(), "assembly.level", "is not a known level")
		return DeputyStream(e.DeputyID), true
	case DeputyFactionJoined:
		validatePersonID(v, "deputy_id", e.DeputyID)
		return DeputyStream(e.DeputyID), true
	case DeputyFactionLeft:
		validatePersonID(v, "deputy_id", e.DeputyID)
		return DeputyStream(e.DeputyID), true
	case DeputyResponsibilityAssigned:
		validatePersonID(v, "deputy_id", e.DeputyID)
		v.check(e.Subject.Valid(), "subject", "is not a known responsibility")
		validateID(v, "subject_id", e.SubjectID)
		return DeputyStream(e.DeputyID), true
	case DeputyResponsibilityReleased:
		validatePersonID(v, "deputy_id", e.DeputyID)
		v.check(e.Subject.Valid(), "subject", "is not a known responsibility")
		validateID(v, "subject_id", e.SubjectID)
		return DeputyStream(e.DeputyID), true
	case DeputyActivityReported:
		validatePersonID(v, "deputy_id", e.DeputyID)
		storedPeriod(v, "period", e.Period)
		return DeputyStream(e.DeputyID), true
	case DeputyActivityCorrected:
		validatePersonID(v, "deputy_id", e.DeputyID)
		return DeputyStream(e.DeputyID), true
	case DeputyRatingReplied:
		validatePersonID(v, "deputy_id", e.DeputyID)
		storedPeriod(v, "period", e.Period)
		return DeputyStream(e.DeputyID), true
	case RatingMethodPublished:
		validatePersonID(v, "method", e.Method)
		v.check(e.Version > 0, "version", "must be above 0")
		e.EffectiveFrom.validate(v, "effective_from")
		v.check(e.Formula.Period.Kind.Valid(), "formula.period.kind", "is not a known period kind")
		e.Formula.Period.From.validate(v, "formula.period.from")
		for i, c := range e.Formula.Components {
			v.check(c.Source.Valid(), fmt.Sprintf("formula.components[%d].source", i), "is not a known metric")
		}
		return RatingMethodStream(e.Method), true
	}
	return "", false
}

// storedPeriod checks that both ends are real dates (read models store
// them as dates); their order is a rule of the behaviour, not of the shape.
func storedPeriod(v *validator, field string, p Period) {
	p.Start.validate(v, field+".start")
	p.End.validate(v, field+".end")
}

func knownStatus(s IndicatorStatus) bool {
	switch s {
	case StatusNotStarted, StatusInProgress, StatusDone, StatusCancelled:
		return true
	}
	return false
}
