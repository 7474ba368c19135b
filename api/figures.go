package api

import (
	"fmt"
	"net/http"
	"time"

	"promiseledger/domain"
	"promiseledger/projections"
)

type figuresResponse struct {
	Figures []projections.Figure `json:"figures"`
}

type seriesResponse struct {
	Points []projections.Point `json:"points"`
}

type methodsResponse struct {
	Methods []projections.Method `json:"methods"`
}

// scopeParams reads scope, id, program and method, shared by the figure
// routes.
func scopeParams(q *queryParams) (projections.Scope, string) {
	kinds := []string{string(projections.ScopeAll), string(projections.ScopeRoadmap), string(projections.ScopeTerritory),
		string(projections.ScopeLevel), string(projections.ScopeProgram)}
	sc := projections.Scope{Kind: projections.ScopeKind(q.enum("scope", kinds...)), ProgramID: q.id("program")}
	if sc.Kind == "" {
		sc.Kind = projections.ScopeAll
	}
	switch sc.Kind {
	case projections.ScopeAll:
	case projections.ScopeTerritory:
		sc.ID = q.kato("id")
	case projections.ScopeRoadmap, projections.ScopeProgram:
		sc.ID = q.id("id")
	case projections.ScopeLevel:
		sc.ID = q.enum("id", string(domain.LevelRepublican), string(domain.LevelRegional))
	}
	if sc.Kind != projections.ScopeAll && sc.ID == "" && q.str("id") == "" {
		q.bad("id", fmt.Sprintf("is required with scope=%s", sc.Kind))
	}
	var methods []string
	for _, m := range projections.Methods {
		methods = append(methods, m.Name)
	}
	return sc, q.enum("method", methods...)
}

func onlyMethod(figs []projections.Figure, method string) []projections.Figure {
	if method == "" {
		return figs
	}
	out := []projections.Figure{}
	for _, f := range figs {
		if f.Method == method {
			out = append(out, f)
		}
	}
	return out
}

// figures answers GET /v1/figures: the implementation percentages of a
// scope now, as they stood at as_of, or as they were known at known_at.
func (s *Server) figures(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	scope, method := scopeParams(q)
	axes := projections.Axes{AsOf: q.instant("as_of"), KnownAt: q.instant("known_at")}
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	var (
		figs []projections.Figure
		err  error
	)
	if axes.AsOf == nil && axes.KnownAt == nil {
		figs, err = projections.CurrentFigures(r.Context(), s.cfg.DB, scope)
	} else {
		figs, err = projections.FiguresAt(r.Context(), s.cfg.DB, scope, axes)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, figuresResponse{Figures: onlyMethod(figs, method)})
}

// figureSeries answers GET /v1/figures/series: one point per day.
func (s *Server) figureSeries(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	scope, method := scopeParams(q)
	from, to := q.date("from", true), q.date("to", true)
	knownAt := q.instant("known_at")
	if from.Valid() && to.Valid() {
		days := int(projections.EndOfDay(to).Sub(projections.EndOfDay(from))/(24*time.Hour)) + 1
		switch {
		case to.Before(from):
			q.bad("to", "must not be before from")
		case days > projections.MaxSeriesDays:
			q.bad("to", fmt.Sprintf("a series has at most %d days; this one would have %d", projections.MaxSeriesDays, days))
		}
	}
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	points, err := projections.DailySeries(r.Context(), s.cfg.DB, scope, from, to, knownAt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range points {
		points[i].Figures = onlyMethod(points[i].Figures, method)
	}
	writeJSON(w, http.StatusOK, seriesResponse{Points: points})
}

func (s *Server) methods(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, methodsResponse{Methods: projections.Methods})
}
