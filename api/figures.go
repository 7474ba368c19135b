package api

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"promiseledger/projections"
	"promiseledger/projections/provenance"
)

type figuresResponse struct {
	Figures    []projections.Figure  `json:"figures" doc:"One figure per method."`
	Provenance provenance.Provenance `json:"provenance" doc:"Where the numbers came from."`
}

// seriesResponse is a daily series in compact form: the scope once, then
// one row per day, its values in the order of columns.
type seriesResponse struct {
	Scope      projections.Scope     `json:"scope" doc:"What the series is about."`
	Roadmaps   int                   `json:"roadmaps" doc:"Roadmaps in the scope."`
	KnownAt    *projections.AxisTime `json:"known_at,omitempty" doc:"The recorded-time axis, when asked for."`
	Columns    []string              `json:"columns" doc:"The meaning of each value of a row: date, measures, done, cancelled, then METHOD.numerator, METHOD.denominator, METHOD.percent for each method shown."`
	Rows       [][]any               `json:"rows" doc:"One per day, oldest first; values in the order of columns (a percent is null when its denominator is 0)."`
	Provenance provenance.Provenance `json:"provenance" doc:"Where the numbers came from."`
}

// seriesColumns: the day, the measure counts, then numerator, denominator
// and percent of each method shown.
func seriesColumns(methods []provenance.MethodRef) []string {
	cols := []string{"date", "measures", "done", "cancelled"}
	for _, m := range methods {
		cols = append(cols, m.Name+".numerator", m.Name+".denominator", m.Name+".percent")
	}
	return cols
}

func compactSeries(scope projections.Scope, knownAt *time.Time, points []projections.Point, prov provenance.Provenance) seriesResponse {
	out := seriesResponse{Scope: scope, KnownAt: projections.AxisTimeOf(knownAt), Columns: seriesColumns(prov.Methods), Rows: make([][]any, 0, len(points)), Provenance: prov}
	for _, p := range points {
		if len(p.Figures) == 0 {
			continue
		}
		f0 := p.Figures[0]
		out.Roadmaps = f0.Roadmaps
		row := []any{p.Date, f0.Measures, f0.Done, f0.Cancelled}
		for _, f := range p.Figures {
			row = append(row, f.Numerator, f.Denominator, f.Percent)
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// writeSeriesCSV writes the series as CSV: the provenance line (a "#"
// comment), the columns, one line per day; an empty cell is a null percent.
func writeSeriesCSV(w http.ResponseWriter, s seriesResponse) {
	var b bytes.Buffer
	b.WriteString(s.Provenance.CSVHeader() + "\n")
	cw := csv.NewWriter(&b)
	cw.Write(s.Columns) //nolint:errcheck // a bytes.Buffer does not fail
	for _, row := range s.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case *float64:
				if x != nil {
					rec[i] = strconv.FormatFloat(*x, 'f', -1, 64)
				}
			case float64:
				rec[i] = strconv.FormatFloat(x, 'f', -1, 64)
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		cw.Write(rec) //nolint:errcheck // a bytes.Buffer does not fail
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="series.csv"`)
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes()) //nolint:errcheck // the client went away
}

// figureProjectors are the read models figures are computed from: a
// checkpoint answer waits until both have applied its last leaf.
var figureProjectors = []string{projections.CatalogName, projections.IndicatorsName}

// checkpoint reads ?checkpoint=N: a tree size, a positive integer.
func (q *queryParams) checkpoint() *int64 {
	v := q.Str("checkpoint")
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != v {
		q.Bad("checkpoint", "must be the tree size of a signed checkpoint: a whole number from 1, without sign or leading zeros")
		return nil
	}
	return &n
}

// logState resolves ?checkpoint=N into the provenance of the answer and the
// cut to compute it on (nil: live), or answers the problem.
func (s *Server) logState(r *http.Request, size *int64, asOf, knownAt *time.Time, methods []provenance.MethodRef) (provenance.Provenance, *projections.LogCut, error) {
	now := s.cfg.Now()
	if size == nil {
		p, err := provenance.Live(r.Context(), s.cfg.DB, now, asOf, knownAt, methods...)
		return p, nil, err
	}
	p, cut, err := provenance.At(r.Context(), s.cfg.DB, now, *size, asOf, knownAt, figureProjectors, methods...)
	switch {
	case errors.Is(err, provenance.ErrNotSigned):
		return p, nil, badRequest("the checkpoint names no signed state of the log", fieldProblem{Field: "checkpoint",
			Problem: fmt.Sprintf("no signed checkpoint has tree size %d: use the tree size of one (GET /v1/audit/checkpoint is the latest)", *size)})
	case errors.Is(err, provenance.ErrNotProjected):
		pr := newProblem(http.StatusServiceUnavailable, ptUnavailable, "Not computed at that checkpoint yet",
			"the read models have not yet applied every event of that checkpoint; try again after Retry-After seconds")
		pr.Header = http.Header{"Retry-After": {"1"}}
		return p, nil, pr
	}
	return p, cut, err
}

type methodsResponse struct {
	Methods []projections.Method `json:"methods"`
}

// scopeParams reads scope, id, program and method, shared by the figure
// routes.
func scopeParams(q *queryParams) (projections.Scope, string) {
	kinds := []string{string(projections.ScopeAll), string(projections.ScopeRoadmap), string(projections.ScopeTerritory),
		string(projections.ScopeLevel), string(projections.ScopeProgram)}
	sc := projections.Scope{Kind: projections.ScopeKind(q.Enum("scope", kinds...)), ProgramID: q.id("program")}
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
		sc.ID = levelWord(q.Enum("id", levelWords()...))
	}
	if sc.Kind != projections.ScopeAll && sc.ID == "" && q.Str("id") == "" {
		q.Bad("id", fmt.Sprintf("is required with scope=%s", sc.Kind))
	}
	var methods []string
	for _, m := range projections.Methods {
		methods = append(methods, m.Name)
	}
	return sc, q.Enum("method", methods...)
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
// scope now, as they stood at as_of, or as they were known at known_at; at
// a signed checkpoint with checkpoint=N. Every answer names its provenance.
func (s *Server) figures(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	scope, method := scopeParams(q)
	axes := projections.Axes{AsOf: q.instant("as_of"), KnownAt: q.instant("known_at")}
	size := q.checkpoint()
	if err := q.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	prov, cut, err := s.logState(r, size, axes.AsOf, axes.KnownAt, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	axes.Log = cut
	var figs []projections.Figure
	if axes.AsOf == nil && axes.KnownAt == nil && cut == nil {
		figs, err = projections.CurrentFigures(r.Context(), s.cfg.DB, scope)
	} else {
		figs, err = projections.FiguresAt(r.Context(), s.cfg.DB, scope, axes)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	figs = onlyMethod(figs, method)
	prov.Methods = provenance.FigureMethods(figs)
	writeJSON(w, http.StatusOK, figuresResponse{Figures: figs, Provenance: prov})
}

// figureSeries answers GET /v1/figures/series: one point per day.
func (s *Server) figureSeries(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	scope, method := scopeParams(q)
	from, to := q.date("from", true), q.date("to", true)
	knownAt := q.instant("known_at")
	size := q.checkpoint()
	format := q.Enum("format", "json", "csv")
	if from.Valid() && to.Valid() {
		days := int(projections.EndOfDay(to).Sub(projections.EndOfDay(from))/(24*time.Hour)) + 1
		switch {
		case to.Before(from):
			q.Bad("to", "must not be before from")
		case days > projections.MaxSeriesDays:
			q.Bad("to", fmt.Sprintf("a series has at most %d days; this one would have %d", projections.MaxSeriesDays, days))
		}
	}
	if err := q.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	// A series answers for each day's end; the provenance names its last.
	last := projections.EndOfDay(to)
	prov, cut, err := s.logState(r, size, &last, knownAt, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	points, err := projections.DailySeriesAt(r.Context(), s.cfg.DB, scope, from, to, knownAt, cut)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range points {
		points[i].Figures = onlyMethod(points[i].Figures, method)
	}
	prov.Methods = provenance.AllFigureMethods()
	if method != "" {
		prov.Methods = onlyMethodRef(prov.Methods, method)
	}
	out := compactSeries(scope, knownAt, points, prov)
	if format == "csv" {
		writeSeriesCSV(w, out)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func onlyMethodRef(ms []provenance.MethodRef, method string) []provenance.MethodRef {
	out := []provenance.MethodRef{}
	for _, m := range ms {
		if m.Name == method {
			out = append(out, m)
		}
	}
	return out
}

func (s *Server) methods(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, methodsResponse{Methods: projections.Methods})
}
