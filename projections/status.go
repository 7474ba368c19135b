package projections

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"promiseledger/eventstore"
)

// Status is what an operator needs to know about one projector.
type Status struct {
	Name                 string              `json:"name"`
	ActiveGeneration     int                 `json:"active_generation"`
	RebuildingGeneration *int                `json:"rebuilding_generation,omitempty"`
	Checkpoint           eventstore.Position `json:"checkpoint"`
	EventsTotal          int64               `json:"events_total"`
	// LagEvents is how many readable events the projector has not applied;
	// -1 when the store cannot count them cheaply.
	LagEvents int64 `json:"lag_events"`
	// LagSeconds is the age of the oldest event not yet applied (0 when
	// caught up).
	LagSeconds  float64    `json:"lag_seconds"`
	Stopped     bool       `json:"stopped"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	ErrorsTotal int64      `json:"errors_total"`
	// PoisonEvent names the event the projector stopped on, if any.
	PoisonEventID  string `json:"poison_event_id,omitempty"`
	PoisonPosition string `json:"poison_position,omitempty"`
	PoisonType     string `json:"poison_type,omitempty"`
	// SkippedEvents is how many events an operator decided this projector
	// passes over (ledger projections skip): its read model leaves them out.
	SkippedEvents int64 `json:"skipped_events"`
	// RecomputeSeconds is, for a projector that recomputes apart from its
	// batches (the ratings), how long the oldest recomputation it owes has
	// been due: its checkpoint says the events are stored, this says
	// whether the scores computed from them are current (0 when they are).
	RecomputeSeconds float64 `json:"recompute_seconds"`
}

// EventCounter is implemented by stores that can count events after a
// position (the postgres adapter).
type EventCounter interface {
	CountAfter(ctx context.Context, p eventstore.Position) (int64, error)
}

type statusRow struct {
	Name        string         `db:"name"`
	Active      int            `db:"active_generation"`
	Rebuilding  sql.NullInt64  `db:"rebuilding_generation"`
	Stopped     bool           `db:"stopped"`
	LastError   sql.NullString `db:"last_error"`
	LastErrorAt sql.NullTime   `db:"last_error_at"`
	PoisonID    sql.NullString `db:"poison_event_id"`
	PoisonPos   sql.NullString `db:"poison_position"`
	PoisonType  sql.NullString `db:"poison_type"`
	ErrorsTotal int64          `db:"errors_total"`
	Commit      int64          `db:"position_commit"`
	Prepare     int64          `db:"position_prepare"`
	EventsTotal int64          `db:"events_total"`
	Skipped     int64          `db:"skipped"`
	DueSince    sql.NullTime   `db:"due_since"`
}

// Statuses reports every registered projector, by name.
func Statuses(ctx context.Context, db sqlx.QueryerContext, store eventstore.Store, now time.Time) ([]Status, error) {
	const q = `SELECT p.name, p.active_generation, p.rebuilding_generation, p.stopped, p.last_error, p.last_error_at,
	p.poison_event_id::text AS poison_event_id, p.poison_position, p.poison_type, p.errors_total,
	c.position_commit, c.position_prepare, c.events_total,
	(SELECT count(*) FROM projector_skips s WHERE s.name = p.name) AS skipped,
	(SELECT min(l.pending_since) FROM rm_rating_pending_levels l
		WHERE p.name = '` + RatingsName + `' AND l.generation = p.active_generation) AS due_since
FROM projectors p JOIN projector_checkpoints c ON c.name = p.name AND c.generation = p.active_generation
ORDER BY p.name`
	var rows []statusRow
	if err := sqlx.SelectContext(ctx, db, &rows, q); err != nil {
		return nil, fmt.Errorf("projector status: %w", err)
	}
	out := make([]Status, 0, len(rows))
	for _, r := range rows {
		s := Status{
			Name: r.Name, ActiveGeneration: r.Active, Stopped: r.Stopped, ErrorsTotal: r.ErrorsTotal,
			Checkpoint:  eventstore.Position{Commit: uint64(r.Commit), Prepare: uint64(r.Prepare)},
			EventsTotal: r.EventsTotal, LastError: r.LastError.String,
			PoisonEventID: r.PoisonID.String, PoisonPosition: r.PoisonPos.String, PoisonType: r.PoisonType.String,
			LagEvents: -1, SkippedEvents: r.Skipped,
		}
		if r.Rebuilding.Valid {
			g := int(r.Rebuilding.Int64)
			s.RebuildingGeneration = &g
		}
		if r.LastErrorAt.Valid {
			t := r.LastErrorAt.Time.UTC()
			s.LastErrorAt = &t
		}
		if r.DueSince.Valid {
			s.RecomputeSeconds = max(0, now.Sub(r.DueSince.Time).Seconds())
		}
		if err := fillLag(ctx, store, &s, now); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func fillLag(ctx context.Context, store eventstore.Store, s *Status, now time.Time) error {
	next, err := store.ReadAll(ctx, s.Checkpoint, 1)
	if err != nil {
		return fmt.Errorf("lag of %s: %w", s.Name, err)
	}
	if len(next) == 0 {
		s.LagEvents = 0
		return nil
	}
	s.LagSeconds = max(0, now.Sub(next[0].StoredAt).Seconds())
	if c, ok := store.(EventCounter); ok {
		n, err := c.CountAfter(ctx, s.Checkpoint)
		if err != nil {
			return err
		}
		s.LagEvents = n
	}
	return nil
}

// Collector exports projector status as Prometheus metrics, read from the
// database at scrape time so every process reports the same truth.
type Collector struct {
	db    sqlx.QueryerContext
	store eventstore.Store
	now   func() time.Time

	lagEvents, lagSeconds, eventsTotal, errorsTotal, stopped, generation, recompute *prometheus.Desc
	up                                                                              *prometheus.Desc
}

// NewCollector returns a collector; register it with a prometheus.Registry.
func NewCollector(db sqlx.QueryerContext, store eventstore.Store, now func() time.Time) *Collector {
	l := []string{"projector"}
	return &Collector{
		db: db, store: store, now: now,
		lagEvents:   prometheus.NewDesc("ledger_projector_lag_events", "Readable events the projector has not applied yet (-1: unknown).", l, nil),
		lagSeconds:  prometheus.NewDesc("ledger_projector_lag_seconds", "Age of the oldest event the projector has not applied yet.", l, nil),
		eventsTotal: prometheus.NewDesc("ledger_projector_events_total", "Events applied by the active generation.", l, nil),
		errorsTotal: prometheus.NewDesc("ledger_projector_errors_total", "Batches that failed after every retry.", l, nil),
		stopped:     prometheus.NewDesc("ledger_projector_stopped", "1 if the projector stopped on an event it cannot apply.", l, nil),
		generation:  prometheus.NewDesc("ledger_projector_generation", "Active read-model generation (grows with every rebuild).", l, nil),
		recompute:   prometheus.NewDesc("ledger_projector_recompute_due_seconds", "How long the oldest recomputation a projector owes has been due (the ratings; 0: its scores are current).", l, nil),
		up:          prometheus.NewDesc("ledger_projector_status_up", "1 if projector status could be read.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lagEvents, c.lagSeconds, c.eventsTotal, c.errorsTotal, c.stopped, c.generation, c.recompute, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := Statuses(ctx, c.db, c.store, c.now())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, s := range st {
		stopped := 0.0
		if s.Stopped {
			stopped = 1
		}
		ch <- prometheus.MustNewConstMetric(c.lagEvents, prometheus.GaugeValue, float64(s.LagEvents), s.Name)
		ch <- prometheus.MustNewConstMetric(c.lagSeconds, prometheus.GaugeValue, s.LagSeconds, s.Name)
		ch <- prometheus.MustNewConstMetric(c.eventsTotal, prometheus.CounterValue, float64(s.EventsTotal), s.Name)
		ch <- prometheus.MustNewConstMetric(c.errorsTotal, prometheus.CounterValue, float64(s.ErrorsTotal), s.Name)
		ch <- prometheus.MustNewConstMetric(c.stopped, prometheus.GaugeValue, stopped, s.Name)
		ch <- prometheus.MustNewConstMetric(c.generation, prometheus.GaugeValue, float64(s.ActiveGeneration), s.Name)
		ch <- prometheus.MustNewConstMetric(c.recompute, prometheus.GaugeValue, s.RecomputeSeconds, s.Name)
	}
}
