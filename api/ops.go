package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"promiseledger/eventstore/postgres/pgerr"
	"promiseledger/projections"
)

type healthResponse struct {
	Status  string `json:"status" enum:"ok" doc:"Always ok."`
	Version string `json:"version,omitempty" doc:"The build's version."`
}

// healthz says the process is alive; it touches nothing else.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, healthResponse{Status: "ok", Version: s.cfg.Version})
}

// readyCheck is one thing /readyz looked at.
type readyCheck struct {
	Name             string   `json:"name" doc:"database, or projector <name>."`
	OK               bool     `json:"ok" doc:"Whether it is ready."`
	Detail           string   `json:"detail,omitempty" doc:"What is wrong."`
	LagSeconds       *float64 `json:"lag_seconds,omitempty" doc:"Age of the oldest event the projector has not applied."`
	LagEvents        *int64   `json:"lag_events,omitempty" doc:"Events it has not applied (-1: unknown)."`
	RecomputeSeconds *float64 `json:"recompute_seconds,omitempty" doc:"For the ratings: how long the oldest recomputation of scores has been due (0: the scores are current)."`
}

type readyResponse struct {
	Status string       `json:"status" enum:"ready" doc:"ready."`
	Checks []readyCheck `json:"checks" doc:"What was checked."`
}

// readyz says whether this process should get traffic: the database
// answers, and every projector runs and is at most ReadyMaxLag behind.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	checks := s.readiness(ctx)
	// Whoever may look here need not learn where the database lives or how
	// to log in: details lose addresses, ports and connection strings.
	for i := range checks {
		checks[i].Detail = pgerr.Redact(checks[i].Detail)
	}
	for _, c := range checks {
		if !c.OK {
			p := newProblem(http.StatusServiceUnavailable, ptNotReady, "Not ready", "see checks for what is not ready")
			p.Checks = checks
			s.writeProblem(w, r, p)
			return
		}
	}
	writeJSON(w, http.StatusOK, readyResponse{Status: "ready", Checks: checks})
}

func (s *Server) readiness(ctx context.Context) []readyCheck {
	db := readyCheck{Name: "database", OK: true}
	if err := s.cfg.DB.PingContext(ctx); err != nil {
		db.OK, db.Detail = false, pgerr.Describe(err) // "unavailable: connection refused"
		return []readyCheck{db}
	}
	checks := []readyCheck{db}
	statuses, err := projections.Statuses(ctx, s.cfg.DB, s.cfg.Store, s.cfg.Now())
	if err != nil {
		return append(checks, readyCheck{Name: "projectors", OK: false, Detail: err.Error()})
	}
	byName := map[string]projections.Status{}
	for _, st := range statuses {
		byName[st.Name] = st
	}
	for _, p := range projections.All() {
		c := readyCheck{Name: "projector " + p.Name(), OK: true}
		st, ok := byName[p.Name()]
		switch {
		case !ok:
			c.OK, c.Detail = false, "has never run"
		case st.Stopped:
			c.OK, c.Detail = false, fmt.Sprintf("stopped on event %s (%s at position %s): %s; see docs/operations.md, \"A projector stopped\"",
				st.PoisonEventID, st.PoisonType, st.PoisonPosition, st.LastError)
		case st.LagSeconds > s.cfg.ReadyMaxLag.Seconds():
			c.OK, c.Detail = false, fmt.Sprintf("%.1fs behind (at most %s allowed)", st.LagSeconds, s.cfg.ReadyMaxLag)
		case st.RecomputeSeconds > s.cfg.ReadyMaxLag.Seconds():
			c.OK, c.Detail = false, fmt.Sprintf("its scores were due for recomputation %.1fs ago (at most %s allowed)", st.RecomputeSeconds, s.cfg.ReadyMaxLag)
		}
		if ok {
			lag, events := st.LagSeconds, st.LagEvents
			c.LagSeconds, c.LagEvents = &lag, &events
			if p.Name() == projections.RatingsName {
				due := st.RecomputeSeconds
				c.RecomputeSeconds = &due
			}
		}
		checks = append(checks, c)
	}
	return checks
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
}

func (s *Server) openAPIHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	w.Write(s.openAPI) //nolint:errcheck // the client went away
}
