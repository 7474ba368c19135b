package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/projections"
)

// historyEvent is one event as the history routes show it: straight from
// the event store, decoded (and upcast) by the domain's codec.
type historyEvent struct {
	Position string    `json:"position" doc:"Its place in the global log (COMMIT/PREPARE)."`
	Stream   string    `json:"stream" doc:"The stream it belongs to."`
	Version  int64     `json:"version" doc:"Its version within its stream."`
	EventID  uuid.UUID `json:"event_id" doc:"The event's id."`
	// Type is the current type; StoredType the type as stored, when an old
	// shape was upcast on read.
	Type          string          `json:"type" doc:"A stable event type, e.g. indicator.progress_reported.v1 (docs/events.md)."`
	StoredType    string          `json:"stored_type,omitempty" doc:"The type as stored, when an older shape was upcast on read."`
	ActorID       string          `json:"actor_id" doc:"Who recorded it."`
	ActorRole     string          `json:"actor_role,omitempty" doc:"The role they acted in."`
	Reason        string          `json:"reason,omitempty" doc:"Why."`
	CorrelationID string          `json:"correlation_id,omitempty" format:"uuid" doc:"Everything one request caused shares it."`
	CausationID   string          `json:"causation_id,omitempty" format:"uuid" doc:"What caused it, if anything."`
	EffectiveAt   time.Time       `json:"effective_at" doc:"When it became true in the world."`
	RecordedAt    time.Time       `json:"recorded_at" doc:"When the ledger learned it."`
	Data          json.RawMessage `json:"data" type:"object" doc:"The event's data, as in docs/events.md."`
	// ReportID is set on reports and corrections; Corrects on corrections,
	// naming the report they correct.
	ReportID string `json:"report_id,omitempty" format:"uuid" doc:"Reports and corrections: the report's id."`
	Corrects string `json:"corrects,omitempty" format:"uuid" doc:"Corrections: the report corrected."`
}

type historyResponse struct {
	// Items are the events, oldest first: a list, so items as everywhere.
	Items []historyEvent `json:"items"`
}

func historyOf(rec eventstore.Recorded) (historyEvent, error) {
	ev, m, err := domain.Decode(rec.Type, rec.Data, rec.Metadata)
	if err != nil {
		return historyEvent{}, fmt.Errorf("event %s of %s: %w", rec.ID, rec.Stream, err)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return historyEvent{}, fmt.Errorf("event %s of %s: %w", rec.ID, rec.Stream, err)
	}
	h := historyEvent{
		Position: rec.Position.String(), Stream: rec.Stream, Version: rec.Version, EventID: rec.ID,
		Type: ev.EventType(), ActorID: m.ActorID, ActorRole: m.ActorRole, Reason: m.Reason,
		EffectiveAt: m.EffectiveAt.UTC(), RecordedAt: m.RecordedAt.UTC(), Data: data,
	}
	if h.Type != rec.Type {
		h.StoredType = rec.Type
	}
	if m.CorrelationID != uuid.Nil {
		h.CorrelationID = m.CorrelationID.String()
	}
	if m.CausationID != uuid.Nil {
		h.CausationID = m.CausationID.String()
	}
	if h.EffectiveAt.IsZero() {
		h.EffectiveAt = h.RecordedAt
	}
	switch e := ev.(type) {
	case domain.ProgressReported:
		h.ReportID = e.ReportID
	case domain.ReportCorrected:
		h.ReportID, h.Corrects = e.ReportID, e.Corrects
	}
	return h, nil
}

// readStream reads a whole stream, page by page.
func (s *Server) readStream(ctx context.Context, stream string) ([]eventstore.Recorded, error) {
	var all []eventstore.Recorded
	from := eventstore.Version(1)
	for {
		page, err := s.cfg.Store.ReadStream(ctx, stream, from, eventstore.DefaultPageSize)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		all = append(all, page...)
		if len(page) < eventstore.DefaultPageSize {
			return all, nil
		}
		from = page[len(page)-1].Version + 1
	}
}

func (s *Server) writeHistory(w http.ResponseWriter, r *http.Request, records []eventstore.Recorded) {
	out := historyResponse{Items: make([]historyEvent, 0, len(records))}
	for _, rec := range records {
		h, err := historyOf(rec)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Items = append(out.Items, h)
	}
	writeJSON(w, http.StatusOK, out)
}

// indicatorHistory answers GET /v1/indicators/{id}/history.
func (s *Server) indicatorHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if domain.ValidateID("id", id) != nil {
		s.writeError(w, r, notFound("there is no indicator "+id))
		return
	}
	records, err := s.readStream(r.Context(), domain.IndicatorStream(id))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(records) == 0 {
		s.writeError(w, r, notFound("there is no indicator "+id))
		return
	}
	s.writeHistory(w, r, records)
}

// roadmapHistory answers GET /v1/roadmaps/{id}/history: the roadmap's own
// events and those of its indicators (as far as the indicators read model
// knows them), merged in the global order.
func (s *Server) roadmapHistory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if domain.ValidateID("id", id) != nil {
		s.writeError(w, r, notFound("there is no roadmap "+id))
		return
	}
	records, err := s.readStream(ctx, domain.RoadmapStream(id))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(records) == 0 {
		s.writeError(w, r, notFound("there is no roadmap "+id))
		return
	}
	indicators, err := projections.RoadmapIndicatorIDs(ctx, s.cfg.DB, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, ind := range indicators {
		more, err := s.readStream(ctx, domain.IndicatorStream(ind))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		records = append(records, more...)
	}
	slices.SortStableFunc(records, func(a, b eventstore.Recorded) int {
		switch {
		case a.Position.Less(b.Position):
			return -1
		case b.Position.Less(a.Position):
			return 1
		}
		return 0
	})
	s.writeHistory(w, r, records)
}
