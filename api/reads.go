package api

import (
	"errors"
	"net/http"
	"time"

	"promiseledger/api/kernel"
	"promiseledger/domain"
	"promiseledger/projections"
	"promiseledger/projections/provenance"
)

// queryParams reads query parameters by the kernel's rules (kernel.Query),
// with the API's own kinds of value (ids, KATO codes, dates, instants).
type queryParams struct{ *kernel.Query }

func newQuery(r *http.Request) *queryParams { return &queryParams{kernel.NewQuery(r)} }

// id reads a UUID in canonical form.
func (q *queryParams) id(name string) string {
	v := q.Str(name)
	if v != "" && domain.ValidateID(name, v) != nil {
		q.Bad(name, "must be a UUID in canonical form (lower case, with hyphens)")
		return ""
	}
	return v
}

// kato reads a KATO code.
func (q *queryParams) kato(name string) string {
	v := q.Str(name)
	if v != "" && domain.ValidateKATO(name, v) != nil {
		q.Bad(name, `must be a KATO code of nine digits, or "0" for the republic`)
		return ""
	}
	return v
}

// date reads YYYY-MM-DD.
func (q *queryParams) date(name string, required bool) domain.Date {
	v := q.Str(name)
	if v == "" {
		if required {
			q.Bad(name, "is required (YYYY-MM-DD)")
		}
		return domain.Date{}
	}
	d, err := domain.ParseDate(v)
	if err != nil || !d.Valid() {
		q.Bad(name, "must be a date written YYYY-MM-DD")
		return domain.Date{}
	}
	return d
}

// instant reads a point in time: a date means the end of that day (UTC),
// so "as of 2021-06-01" includes everything effective on that day; or an
// RFC 3339 time.
func (q *queryParams) instant(name string) *time.Time {
	v := q.Str(name)
	if v == "" {
		return nil
	}
	if d, err := domain.ParseDate(v); err == nil && d.Valid() {
		t := projections.EndOfDay(d)
		return &t
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		q.Bad(name, "must be a date (YYYY-MM-DD, meaning the end of that day in UTC) or an RFC 3339 time")
		return nil
	}
	t = t.UTC()
	return &t
}

// limit reads the page size: DefaultPageSize when absent, at most
// MaxPageSize.
func (q *queryParams) limit(s *Server) int { return q.Limit(s.pageSize, s.cfg.MaxPageSize) }

// page is the envelope of every paged list.
type page[T any] = kernel.Page[T]

// writePage answers with a page (kernel.Page), and a Link header to the
// next one.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, next string) {
	kernel.WritePage(w, r, items, next)
}

// items is the envelope of unpaged lists.
type items[T any] struct {
	Items []T `json:"items"`
}

// today is the date overdue is judged against.
func (s *Server) today() domain.Date { return domain.DateOf(s.cfg.Now().In(s.cfg.Location)) }

func (s *Server) listPrograms(w http.ResponseWriter, r *http.Request) {
	ps, err := projections.ListPrograms(r.Context(), s.cfg.DB)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, items[projections.ProgramInfo]{Items: ps})
}

func (s *Server) listTerritories(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	parent := q.kato("parent")
	if err := q.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	ts, err := projections.ListTerritories(r.Context(), s.cfg.DB, parent)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, items[projections.TerritoryInfo]{Items: ts})
}

func (s *Server) listRoadmaps(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	f := projections.RoadmapFilter{
		Level:         levelWord(q.Enum("level", levelWords()...)),
		Status:        q.Enum("status", string(domain.RoadmapStatusRegistered), string(domain.RoadmapStatusActive), string(domain.RoadmapStatusClosed)),
		ProgramID:     q.id("program"),
		TerritoryKATO: q.kato("territory"),
		WithinKATO:    q.kato("within"),
		Cursor:        q.Str("cursor"),
		Limit:         q.limit(s),
	}
	if err := q.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := projections.ListRoadmaps(r.Context(), s.cfg.DB, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, r, p.Items, p.NextCursor)
}

// territoryFigures is one step of a roadmap's territory chain.
type territoryFigures struct {
	Territory projections.TerritoryInfo `json:"territory" doc:"The territory."`
	Figures   []projections.Figure      `json:"figures" doc:"The figures of the roadmap's program within it, one per method."`
}

// roadmapDetail is a roadmap with everything a council member opens it
// for.
type roadmapDetail struct {
	Roadmap    projections.RoadmapSummary     `json:"roadmap" doc:"The roadmap."`
	Indicators []projections.IndicatorSummary `json:"indicators" doc:"All of the roadmap's indicators, by deadline."`
	Figures    []projections.Figure           `json:"figures" doc:"Its figures, one per method."`
	// TerritoryChain: the roadmap's territory and each one above it (its
	// region, the republic), each with the figures of every roadmap of the
	// same program within it.
	TerritoryChain []territoryFigures `json:"territory_chain" doc:"The roadmap's territory first, then each territory above it up to the republic."`
	// Provenance names the log state and instant the figures were read at.
	Provenance provenance.Provenance `json:"provenance" doc:"Where the numbers came from."`
}

func (s *Server) getRoadmap(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if domain.ValidateID("id", id) != nil {
		s.writeError(w, r, notFound("there is no roadmap "+id))
		return
	}
	rm, err := projections.GetRoadmap(ctx, s.cfg.DB, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := roadmapDetail{Roadmap: rm, TerritoryChain: []territoryFigures{}}
	ind, err := projections.ListIndicators(ctx, s.cfg.DB, projections.IndicatorFilter{RoadmapID: id, Today: s.today()})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out.Indicators = ind.Items
	if out.Figures, err = projections.CurrentFigures(ctx, s.cfg.DB, projections.Scope{Kind: projections.ScopeRoadmap, ID: id}); err != nil {
		s.writeError(w, r, err)
		return
	}
	chain, err := projections.TerritoryChain(ctx, s.cfg.DB, rm.TerritoryKATO)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, t := range chain {
		figs, err := projections.CurrentFigures(ctx, s.cfg.DB, projections.Scope{Kind: projections.ScopeTerritory, ID: t.KATO, ProgramID: rm.ProgramID})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.TerritoryChain = append(out.TerritoryChain, territoryFigures{Territory: t, Figures: figs})
	}
	if out.Provenance, err = provenance.Live(ctx, s.cfg.DB, s.cfg.Now(), nil, nil, provenance.FigureMethods(out.Figures)...); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(rm.Version))
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listIndicators(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	f := projections.IndicatorFilter{
		RoadmapID: q.id("roadmap"),
		Status: q.Enum("status", string(domain.StatusNotStarted), string(domain.StatusInProgress),
			string(domain.StatusDone), string(domain.StatusCancelled)),
		ResponsibleID:        q.Str("responsible"),
		RoadmapResponsibleID: q.Str("roadmap_responsible"),
		Overdue:              q.Bool("overdue"),
		Today:                s.today(),
		Cursor:               q.Str("cursor"),
		Limit:                q.limit(s),
	}
	if b := q.Bool("no_evidence"); b != nil {
		f.NoEvidence = *b
	}
	if err := q.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := projections.ListIndicators(r.Context(), s.cfg.DB, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, r, p.Items, p.NextCursor)
}

func (s *Server) getIndicator(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if domain.ValidateID("id", id) != nil {
		s.writeError(w, r, notFound("there is no indicator "+id))
		return
	}
	d, err := projections.GetIndicator(r.Context(), s.cfg.DB, id, s.today())
	if errors.Is(err, domain.ErrNotFound) {
		s.writeError(w, r, notFound("there is no indicator "+id))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, http.StatusOK, d)
}
