package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	fastjson "github.com/goccy/go-json"
	"github.com/google/uuid"
)

// decoders is the registry of current event types. It is built once here
// and never changed, so the set of readable events is visible in one place.
var decoders = map[string]func([]byte) (Event, error){
	TypeProgramRegistered:            decodeAs[ProgramRegistered],
	TypeTerritoryRegistered:          decodeAs[TerritoryRegistered],
	TypeRoadmapRegistered:            decodeAs[RoadmapRegistered],
	TypeRoadmapActivated:             decodeAs[RoadmapActivated],
	TypeRoadmapClosed:                decodeAs[RoadmapClosed],
	TypeRoadmapResponsibleAssigned:   decodeAs[RoadmapResponsibleAssigned],
	TypeRoadmapResponsibleUnassigned: decodeAs[RoadmapResponsibleUnassigned],
	TypeIndicatorAdded:               decodeAs[IndicatorAdded],
	TypeProgressReported:             decodeAs[ProgressReported],
	TypeReportCorrected:              decodeAs[ReportCorrected],
	TypeIndicatorRetargeted:          decodeAs[IndicatorRetargeted],
	TypeIndicatorStatusChanged:       decodeAs[IndicatorStatusChanged],
	TypeIndicatorCancelled:           decodeAs[IndicatorCancelled],
	TypeIndicatorResponsibleAssigned: decodeAs[IndicatorResponsibleAssigned],
	// Public councils, recommendations, assessments, deputies, rating methods.
	TypeCouncilRegistered:             decodeAs[CouncilRegistered],
	TypeCouncilMemberJoined:           decodeAs[CouncilMemberJoined],
	TypeCouncilMemberLeft:             decodeAs[CouncilMemberLeft],
	TypeRecommendationDrafted:         decodeAs[RecommendationDrafted],
	TypeRecommendationSubmitted:       decodeAs[RecommendationSubmitted],
	TypeRecommendationAcknowledged:    decodeAs[RecommendationAcknowledged],
	TypeRecommendationAnswered:        decodeAs[RecommendationAnswered],
	TypeRecommendationAnswerCorrected: decodeAs[RecommendationAnswerCorrected],
	TypeRecommendationJudged:          decodeAs[RecommendationJudged],
	TypeRecommendationWithdrawn:       decodeAs[RecommendationWithdrawn],
	TypeRecommendationDissentAttached: decodeAs[RecommendationDissentAttached],
	TypeAssessmentRecorded:            decodeAs[AssessmentRecorded],
	TypeAssessmentReplied:             decodeAs[AssessmentReplied],
	TypeAssessmentWithdrawn:           decodeAs[AssessmentWithdrawn],
	TypeDeputyRegistered:              decodeAs[DeputyRegistered],
	TypeDeputyFactionJoined:           decodeAs[DeputyFactionJoined],
	TypeDeputyFactionLeft:             decodeAs[DeputyFactionLeft],
	TypeDeputyResponsibilityAssigned:  decodeAs[DeputyResponsibilityAssigned],
	TypeDeputyResponsibilityReleased:  decodeAs[DeputyResponsibilityReleased],
	TypeDeputyActivityReported:        decodeAs[DeputyActivityReported],
	TypeDeputyActivityCorrected:       decodeAs[DeputyActivityCorrected],
	TypeDeputyRatingReplied:           decodeAs[DeputyRatingReplied],
	TypeRatingMethodPublished:         decodeAs[RatingMethodPublished],
}

// An upcaster rewrites the data of an old event type into a newer one, on
// read; stored bytes are never rewritten. It sees the decoded metadata
// because old shapes sometimes left facts there.
type upcaster func(data []byte, m Meta) (newType string, newData []byte, err error)

// upcasters maps each retired type to the step that moves it one version on.
var upcasters = map[string]upcaster{
	TypeProgressReportedV0: upcastProgressReportedV0,
}

// maxUpcasts bounds the chain of upcasts, so a mistaken cycle fails loudly.
const maxUpcasts = 8

// EventTypes lists every type Decode reads (current and retired), sorted.
func EventTypes() []string {
	types := make([]string, 0, len(decoders)+len(upcasters))
	for t := range decoders {
		types = append(types, t)
	}
	for t := range upcasters {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// UnknownEventTypeError names a type the codec cannot read or write. It
// matches ErrUnknownEventType.
type UnknownEventTypeError struct {
	Type string
}

func (e *UnknownEventTypeError) Error() string {
	return fmt.Sprintf("event type %q: %v", e.Type, ErrUnknownEventType)
}

func (e *UnknownEventTypeError) Is(target error) bool { return target == ErrUnknownEventType }

// Encode turns an event and its metadata into what the event store keeps.
func Encode(e Event, m Meta) (typ string, data, metadata []byte, err error) {
	typ = e.EventType()
	if _, ok := decoders[typ]; !ok {
		return "", nil, nil, &UnknownEventTypeError{Type: typ}
	}
	if data, err = json.Marshal(e); err != nil {
		return "", nil, nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	if metadata, err = json.Marshal(metaToJSON(m)); err != nil {
		return "", nil, nil, fmt.Errorf("encode metadata of %s: %w", typ, err)
	}
	return typ, data, metadata, nil
}

// Decode reads a stored event, upcasting retired types to current ones. The
// Event it returns has the current type, which may differ from typ.
func Decode(typ string, data, metadata []byte) (Event, Meta, error) {
	m, err := decodeMeta(metadata)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("decode metadata of %s: %w", typ, err)
	}
	for range maxUpcasts {
		up, ok := upcasters[typ]
		if !ok {
			break
		}
		from := typ
		if typ, data, err = up(data, m); err != nil {
			return nil, Meta{}, fmt.Errorf("upcast %s: %w", from, err)
		}
	}
	decode, ok := decoders[typ]
	if !ok {
		return nil, Meta{}, &UnknownEventTypeError{Type: typ}
	}
	e, err := decode(data)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("decode %s: %w", typ, err)
	}
	return e, m, nil
}

func decodeAs[T Event](data []byte) (Event, error) {
	e, err := unmarshal[T](data)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// unmarshal decodes a stored document into a new T. Decoding is most of
// what reading the log costs (a first start decodes each of its ~111,000
// events two or three times: the command path, each read model), and
// github.com/goccy/go-json decodes our events about five times faster than
// encoding/json. encoding/json keeps the last word: a document the fast
// decoder refuses, or panics on, is decoded again by encoding/json, whose
// answer (and error) stands. FuzzFastDecodeAgrees holds that the two agree
// on every document the fast decoder accepts. Events are still encoded by
// encoding/json only, so no stored byte changes.
func unmarshal[T any](data []byte) (T, error) {
	var v T
	if fastUnmarshal(data, &v) {
		return v, nil
	}
	var w T
	err := json.Unmarshal(data, &w)
	return w, err
}

// fastUnmarshal reports whether the fast decoder decoded data into v.
func fastUnmarshal(data []byte, v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return fastjson.Unmarshal(data, v) == nil
}

// metaJSON is the stored form of Meta. Times are RFC 3339 with nanoseconds
// in UTC; optional fields are left out when empty.
type metaJSON struct {
	EventID       string `json:"event_id"`
	ActorID       string `json:"actor_id"`
	ActorRole     string `json:"actor_role,omitempty"`
	Reason        string `json:"reason,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	EffectiveAt   string `json:"effective_at"`
	RecordedAt    string `json:"recorded_at"`
}

func metaToJSON(m Meta) metaJSON {
	return metaJSON{
		EventID:       m.EventID.String(),
		ActorID:       m.ActorID,
		ActorRole:     m.ActorRole,
		Reason:        m.Reason,
		CorrelationID: optionalID(m.CorrelationID),
		CausationID:   optionalID(m.CausationID),
		EffectiveAt:   m.EffectiveAt.UTC().Format(time.RFC3339Nano),
		RecordedAt:    m.RecordedAt.UTC().Format(time.RFC3339Nano),
	}
}

func optionalID(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

func decodeMeta(b []byte) (Meta, error) {
	j, err := unmarshal[metaJSON](b)
	if err != nil {
		return Meta{}, err
	}
	m := Meta{ActorID: j.ActorID, ActorRole: j.ActorRole, Reason: j.Reason}
	var errs [5]error
	m.EventID, errs[0] = parseID("event_id", j.EventID)
	m.CorrelationID, errs[1] = parseID("correlation_id", j.CorrelationID)
	m.CausationID, errs[2] = parseID("causation_id", j.CausationID)
	m.EffectiveAt, errs[3] = parseTime("effective_at", j.EffectiveAt)
	m.RecordedAt, errs[4] = parseTime("recorded_at", j.RecordedAt)
	if err := errors.Join(errs[:]...); err != nil {
		return Meta{}, err
	}
	return m, nil
}

func parseID(field, s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, fmt.Errorf("%s: %w", field, err)
	}
	return id, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t.UTC(), nil
}

// TypeProgressReportedV0 is the shape the first spreadsheet importer wrote:
// flat evidence fields, no report id and no as_of (both lived only in the
// metadata). It is read as indicator.progress_reported.v1.
const TypeProgressReportedV0 = "indicator.progress_reported.v0"

type progressReportedV0 struct {
	IndicatorID    string   `json:"indicator_id"`
	Value          *float64 `json:"value,omitempty"`
	Done           bool     `json:"done"`
	EvidenceURL    string   `json:"evidence_url,omitempty"`
	EvidenceSHA256 string   `json:"evidence_sha256,omitempty"`
}

func upcastProgressReportedV0(data []byte, m Meta) (string, []byte, error) {
	var old progressReportedV0
	if err := json.Unmarshal(data, &old); err != nil {
		return "", nil, err
	}
	out, err := json.Marshal(ProgressReported{
		IndicatorID: old.IndicatorID,
		ReportID:    m.EventID.String(),
		Reading:     Reading{Value: old.Value, Done: old.Done},
		AsOf:        m.EffectiveAt,
		Evidence:    Evidence{URL: old.EvidenceURL, SHA256: old.EvidenceSHA256},
	})
	return TypeProgressReported, out, err
}
