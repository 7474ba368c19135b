// Package commands holds PromiseLedger's use cases: one file per command,
// each with a command struct and a handler whose Handle loads the target
// stream, rebuilds its aggregate, lets the domain decide, and appends the
// new events at the version it loaded.
package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
)

// EventStore is what the handlers need of the event store port.
type EventStore interface {
	ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error)
	Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error)
}

// Actor is who issues a command: an opaque person id and the role they act
// in. Whether the role may issue the command is the API's business.
type Actor struct {
	ID   string
	Role string
}

// Header is what every command carries besides its own fields.
type Header struct {
	Actor Actor
	// Reason says why; some commands require it (see docs/events.md).
	Reason string
	// CorrelationID ties together everything one request caused; zero means
	// the event starts a new conversation (its own id is used).
	CorrelationID uuid.UUID
	// CausationID is the event or message that caused this command, if any.
	CausationID uuid.UUID
	// EffectiveAt is when the fact became true; zero means now. For a
	// progress report it is the report's as_of.
	EffectiveAt time.Time
	// EventID makes retries idempotent: pass the same id (derived from an
	// Idempotency-Key, say) and a repeated command returns the original
	// result with Duplicate set instead of recording twice. Zero means a new
	// id. Every command records exactly one event, so one id suffices.
	EventID uuid.UUID
	// ExpectedVersion, when set, is the stream version the caller based its
	// decision on; if the stream has moved on, the command fails with an
	// error matching eventstore.ErrConflict and is not retried.
	ExpectedVersion *int64
}

// Result describes the events a command appended.
type Result struct {
	// ID is the id of the aggregate the command changed (generated ones
	// included), and Stream its stream.
	ID     string
	Stream string
	// Version is the stream's version after the command.
	Version int64
	// EventIDs are the ids of the events recorded. A report's id is its
	// event id.
	EventIDs []uuid.UUID
	// Duplicate is true when the events were already recorded by an earlier
	// attempt with the same EventID, and nothing was written now.
	Duplicate bool
}

// Deps are what the handlers are built from.
type Deps struct {
	Store EventStore
	// Clock gives the recorded time of events. Default time.Now.
	Clock func() time.Time
	// NewID makes event ids, and the ids of aggregates a registration
	// does not name. Default uuid.NewV7.
	NewID func() uuid.UUID
	// PageSize is how many events a stream read asks for at once.
	// Default eventstore.DefaultPageSize.
	PageSize int
	// RetryBudget bounds how long a command without ExpectedVersion is
	// tried again when it loses the race for its stream to other writers
	// (default 5s); then it fails with a *ContentionError.
	RetryBudget time.Duration
	// Attempts, when positive, also bounds the number of tries; zero means
	// only RetryBudget does.
	Attempts int
	// StreamCache is how many streams the handlers remember, decoded, as
	// they last read or wrote them, so that the next command on one does
	// not read it again (default DefaultStreamCacheSize; negative: none).
	// The append's expected version checks every cached state: a stale one
	// makes the command run again on a fresh read (see streamcache.go).
	StreamCache int
	// Decoded, when set, keeps every event the handlers decode, by id, so
	// that a bulk load (the demo) does not decode a stream again for each
	// of its commands. It only grows: leave it nil in a server.
	Decoded *DecodeCache
}

func (d *Deps) setDefaults() {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.NewID == nil {
		d.NewID = func() uuid.UUID { return uuid.Must(uuid.NewV7()) }
	}
	if d.PageSize == 0 {
		d.PageSize = eventstore.DefaultPageSize
	}
	if d.RetryBudget == 0 {
		d.RetryBudget = 5 * time.Second
	}
	if d.StreamCache == 0 {
		d.StreamCache = DefaultStreamCacheSize
	}
}

func (d Deps) validate() error {
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("commands: Deps.Store is required"))
	}
	if d.PageSize < 1 {
		errs = append(errs, fmt.Errorf("commands: Deps.PageSize %d is not positive", d.PageSize))
	}
	if d.Attempts < 0 {
		errs = append(errs, fmt.Errorf("commands: Deps.Attempts %d is negative", d.Attempts))
	}
	if d.RetryBudget < 0 {
		errs = append(errs, fmt.Errorf("commands: Deps.RetryBudget %v is negative", d.RetryBudget))
	}
	return errors.Join(errs...)
}

// Handlers holds one handler per use case; build it once with New.
type Handlers struct {
	RegisterProgram            RegisterProgramHandler
	RegisterTerritory          RegisterTerritoryHandler
	RegisterRoadmap            RegisterRoadmapHandler
	ActivateRoadmap            ActivateRoadmapHandler
	CloseRoadmap               CloseRoadmapHandler
	AssignRoadmapResponsible   AssignRoadmapResponsibleHandler
	UnassignRoadmapResponsible UnassignRoadmapResponsibleHandler
	AddIndicator               AddIndicatorHandler
	ReportProgress             ReportProgressHandler
	CorrectReport              CorrectReportHandler
	RetargetIndicator          RetargetIndicatorHandler
	ChangeIndicatorStatus      ChangeIndicatorStatusHandler
	CancelIndicator            CancelIndicatorHandler
	AssignIndicatorResponsible AssignIndicatorResponsibleHandler

	// Public councils, their recommendations and assessments.
	RegisterCouncil             RegisterCouncilHandler
	JoinCouncil                 JoinCouncilHandler
	LeaveCouncil                LeaveCouncilHandler
	DraftRecommendation         DraftRecommendationHandler
	SubmitRecommendation        SubmitRecommendationHandler
	AcknowledgeRecommendation   AcknowledgeRecommendationHandler
	AnswerRecommendation        AnswerRecommendationHandler
	CorrectRecommendationAnswer CorrectRecommendationAnswerHandler
	JudgeRecommendation         JudgeRecommendationHandler
	WithdrawRecommendation      WithdrawRecommendationHandler
	AttachDissent               AttachDissentHandler
	RecordAssessment            RecordAssessmentHandler
	ReplyToAssessment           ReplyToAssessmentHandler
	WithdrawAssessment          WithdrawAssessmentHandler
	// Deputies and the rating methodology.
	RegisterDeputy              RegisterDeputyHandler
	JoinFaction                 JoinFactionHandler
	LeaveFaction                LeaveFactionHandler
	AssignDeputyResponsibility  AssignDeputyResponsibilityHandler
	ReleaseDeputyResponsibility ReleaseDeputyResponsibilityHandler
	ReportDeputyActivity        ReportDeputyActivityHandler
	ReplyToRating               ReplyToRatingHandler
	CorrectDeputyActivity       CorrectDeputyActivityHandler
	PublishRatingMethod         PublishRatingMethodHandler
}

// New builds the handlers, filling in the defaults of deps.
func New(deps Deps) (*Handlers, error) {
	deps.setDefaults()
	if err := deps.validate(); err != nil {
		return nil, err
	}
	r := &runner{deps: deps, streams: newStreamCache(deps.StreamCache)}
	return &Handlers{
		RegisterProgram:            RegisterProgramHandler{r},
		RegisterTerritory:          RegisterTerritoryHandler{r},
		RegisterRoadmap:            RegisterRoadmapHandler{r},
		ActivateRoadmap:            ActivateRoadmapHandler{r},
		CloseRoadmap:               CloseRoadmapHandler{r},
		AssignRoadmapResponsible:   AssignRoadmapResponsibleHandler{r},
		UnassignRoadmapResponsible: UnassignRoadmapResponsibleHandler{r},
		AddIndicator:               AddIndicatorHandler{r},
		ReportProgress:             ReportProgressHandler{r},
		CorrectReport:              CorrectReportHandler{r},
		RetargetIndicator:          RetargetIndicatorHandler{r},
		ChangeIndicatorStatus:      ChangeIndicatorStatusHandler{r},
		CancelIndicator:            CancelIndicatorHandler{r},
		AssignIndicatorResponsible: AssignIndicatorResponsibleHandler{r},

		RegisterCouncil:             RegisterCouncilHandler{r},
		JoinCouncil:                 JoinCouncilHandler{r},
		LeaveCouncil:                LeaveCouncilHandler{r},
		DraftRecommendation:         DraftRecommendationHandler{r},
		SubmitRecommendation:        SubmitRecommendationHandler{r},
		AcknowledgeRecommendation:   AcknowledgeRecommendationHandler{r},
		AnswerRecommendation:        AnswerRecommendationHandler{r},
		CorrectRecommendationAnswer: CorrectRecommendationAnswerHandler{r},
		JudgeRecommendation:         JudgeRecommendationHandler{r},
		WithdrawRecommendation:      WithdrawRecommendationHandler{r},
		AttachDissent:               AttachDissentHandler{r},
		RecordAssessment:            RecordAssessmentHandler{r},
		ReplyToAssessment:           ReplyToAssessmentHandler{r},
		WithdrawAssessment:          WithdrawAssessmentHandler{r},
		RegisterDeputy:              RegisterDeputyHandler{r},
		JoinFaction:                 JoinFactionHandler{r},
		LeaveFaction:                LeaveFactionHandler{r},
		AssignDeputyResponsibility:  AssignDeputyResponsibilityHandler{r},
		ReleaseDeputyResponsibility: ReleaseDeputyResponsibilityHandler{r},
		ReportDeputyActivity:        ReportDeputyActivityHandler{r},
		ReplyToRating:               ReplyToRatingHandler{r},
		CorrectDeputyActivity:       CorrectDeputyActivityHandler{r},
		PublishRatingMethod:         PublishRatingMethodHandler{r},
	}, nil
}
