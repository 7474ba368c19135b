package api

import (
	"context"
	"net/http"

	"promiseledger/commands"
	"promiseledger/domain"
)

// The write routes: one per command. Each body type lists exactly the
// fields its route accepts (anything else is a 400).

type registerProgramBody struct {
	writeCommon
	ID     string      `json:"id"`
	Name   domain.Text `json:"name"`
	Kind   string      `json:"kind"`
	Period periodBody  `json:"period"`
}

func (s *Server) registerProgram() http.Handler {
	spec := writeSpec{policy: adminWrite("register a program"), created: true}
	return write(s, spec, func(ctx context.Context, _ *http.Request, h commands.Header, b *registerProgramBody) (commands.Result, error) {
		var f fieldErrors
		period := f.period("period", b.Period)
		if err := f.err(); err != nil {
			return commands.Result{}, err
		}
		return s.cfg.Commands.RegisterProgram.Handle(ctx, commands.RegisterProgram{
			Header: h, ID: b.ID, Name: b.Name, Kind: domain.ProgramKind(b.Kind), Period: period,
		})
	})
}

type registerTerritoryBody struct {
	writeCommon
	KATO       string      `json:"kato"`
	Name       domain.Text `json:"name"`
	Kind       string      `json:"kind"`
	ParentKATO string      `json:"parent_kato"`
}

func (s *Server) registerTerritory() http.Handler {
	spec := writeSpec{policy: adminWrite("register a territory"), created: true}
	return write(s, spec, func(ctx context.Context, _ *http.Request, h commands.Header, b *registerTerritoryBody) (commands.Result, error) {
		kind, err := domain.ParseTerritoryKind(b.Kind) // accepts the CSV's short names too
		if err != nil {
			kind = domain.TerritoryKind(b.Kind) // the domain says what is wrong, with the other fields
		}
		return s.cfg.Commands.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{
			Header: h, KATO: b.KATO, Name: b.Name, Kind: kind, ParentKATO: b.ParentKATO,
		})
	})
}

type registerRoadmapBody struct {
	writeCommon
	ID            string      `json:"id"`
	ProgramID     string      `json:"program_id"`
	TerritoryKATO string      `json:"territory_kato"`
	Level         string      `json:"level"`
	Title         domain.Text `json:"title"`
	Period        periodBody  `json:"period"`
}

func (s *Server) registerRoadmap() http.Handler {
	spec := writeSpec{policy: adminWrite("register a roadmap"), created: true,
		location: func(res commands.Result) string { return "/v1/roadmaps/" + res.ID }}
	return write(s, spec, func(ctx context.Context, _ *http.Request, h commands.Header, b *registerRoadmapBody) (commands.Result, error) {
		var f fieldErrors
		period := f.period("period", b.Period)
		if err := f.err(); err != nil {
			return commands.Result{}, err
		}
		return s.cfg.Commands.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{
			Header: h, ID: b.ID, ProgramID: b.ProgramID, TerritoryKATO: b.TerritoryKATO,
			Level: domain.RoadmapLevel(b.Level), Title: b.Title, Period: period,
		})
	})
}

// commonBody is the body of commands that take only the common fields.
type commonBody struct {
	writeCommon
}

func (s *Server) activateRoadmap() http.Handler {
	spec := writeSpec{policy: s.roadmapWrite("activate a roadmap", false)}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, _ *commonBody) (commands.Result, error) {
		return s.cfg.Commands.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: h, RoadmapID: r.PathValue("id")})
	})
}

func (s *Server) closeRoadmap() http.Handler {
	spec := writeSpec{policy: s.roadmapWrite("close a roadmap", false)}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, _ *commonBody) (commands.Result, error) {
		return s.cfg.Commands.CloseRoadmap.Handle(ctx, commands.CloseRoadmap{Header: h, RoadmapID: r.PathValue("id")})
	})
}

type assignRoadmapResponsibleBody struct {
	writeCommon
	PersonID    string `json:"person_id"`
	Role        string `json:"role"`
	DisplayName string `json:"display_name"`
}

func (s *Server) assignRoadmapResponsible() http.Handler {
	spec := writeSpec{policy: s.roadmapWrite("assign a roadmap's responsibles", false)}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, b *assignRoadmapResponsibleBody) (commands.Result, error) {
		return s.cfg.Commands.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{
			Header: h, RoadmapID: r.PathValue("id"), PersonID: b.PersonID,
			Role: domain.ResponsibleRole(b.Role), DisplayName: b.DisplayName,
		})
	})
}

func (s *Server) unassignRoadmapResponsible() http.Handler {
	spec := writeSpec{policy: s.roadmapWrite("unassign a roadmap's responsibles", false)}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, _ *commonBody) (commands.Result, error) {
		if h.Reason == "" {
			h.Reason = r.URL.Query().Get("reason") // a DELETE often has no body
		}
		return s.cfg.Commands.UnassignRoadmapResponsible.Handle(ctx, commands.UnassignRoadmapResponsible{
			Header: h, RoadmapID: r.PathValue("id"), PersonID: r.PathValue("person_id"),
		})
	})
}

type addIndicatorBody struct {
	writeCommon
	ID            string      `json:"id"`
	Title         domain.Text `json:"title"`
	Kind          string      `json:"kind"`
	Baseline      *float64    `json:"baseline"`
	Target        *float64    `json:"target"`
	Unit          domain.Text `json:"unit"`
	Deadline      string      `json:"deadline"`
	Weight        float64     `json:"weight"`
	ResponsibleID string      `json:"responsible_id"`
}

func (s *Server) addIndicator() http.Handler {
	spec := writeSpec{policy: s.roadmapWrite("add indicators to a roadmap", true), created: true,
		location: func(res commands.Result) string { return "/v1/indicators/" + res.ID }}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, b *addIndicatorBody) (commands.Result, error) {
		roadmapID := r.PathValue("id")
		// The roadmap is the address here, not a field: a missing one is 404,
		// not the command's 422 on roadmap_id.
		if v, err := s.cfg.Store.StreamVersion(ctx, domain.RoadmapStream(roadmapID)); err != nil {
			return commands.Result{}, err
		} else if v == 0 {
			return commands.Result{}, notFound("there is no roadmap " + roadmapID)
		}
		var f fieldErrors
		deadline := f.date("deadline", b.Deadline)
		if err := f.err(); err != nil {
			return commands.Result{}, err
		}
		return s.cfg.Commands.AddIndicator.Handle(ctx, commands.AddIndicator{
			Header: h, ID: b.ID, RoadmapID: roadmapID, Title: b.Title, Kind: domain.IndicatorKind(b.Kind),
			Baseline: b.Baseline, Target: b.Target, Unit: b.Unit, Deadline: deadline, Weight: b.Weight,
			ResponsibleID: b.ResponsibleID,
		})
	})
}

type reportProgressBody struct {
	writeCommon
	Value    *float64        `json:"value"`
	Done     bool            `json:"done"`
	Evidence domain.Evidence `json:"evidence"`
	// AsOf is the report's name for effective_at; give either.
	AsOf string `json:"as_of"`
}

func (s *Server) reportProgress() http.Handler {
	spec := writeSpec{policy: s.indicatorWrite("report progress"), created: true, reportID: true}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, b *reportProgressBody) (commands.Result, error) {
		var f fieldErrors
		if asOf := f.instant("as_of", b.AsOf); !asOf.IsZero() {
			if !h.EffectiveAt.IsZero() && !h.EffectiveAt.Equal(asOf) {
				f.add("as_of", "differs from effective_at: they are the same thing, give one")
			}
			h.EffectiveAt = asOf
		}
		if err := f.err(); err != nil {
			return commands.Result{}, err
		}
		return s.cfg.Commands.ReportProgress.Handle(ctx, commands.ReportProgress{
			Header: h, IndicatorID: r.PathValue("id"), Value: b.Value, Done: b.Done, Evidence: b.Evidence,
		})
	})
}

type correctReportBody struct {
	writeCommon
	Corrects string          `json:"corrects"`
	Value    *float64        `json:"value"`
	Done     bool            `json:"done"`
	Evidence domain.Evidence `json:"evidence"`
}

func (s *Server) correctReport() http.Handler {
	spec := writeSpec{policy: s.indicatorWrite("correct reports"), created: true, reportID: true}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, b *correctReportBody) (commands.Result, error) {
		return s.cfg.Commands.CorrectReport.Handle(ctx, commands.CorrectReport{
			Header: h, IndicatorID: r.PathValue("id"), Corrects: b.Corrects, Value: b.Value, Done: b.Done, Evidence: b.Evidence,
		})
	})
}

type retargetIndicatorBody struct {
	writeCommon
	Target   *float64 `json:"target"`
	Deadline *string  `json:"deadline"`
	Weight   *float64 `json:"weight"`
}

func (s *Server) retargetIndicator() http.Handler {
	spec := writeSpec{policy: s.indicatorWrite("re-target indicators")}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, b *retargetIndicatorBody) (commands.Result, error) {
		var f fieldErrors
		var deadline *domain.Date
		if b.Deadline != nil {
			d := f.date("deadline", *b.Deadline)
			if *b.Deadline == "" {
				f.add("deadline", "must be a date written YYYY-MM-DD (leave the field out to keep the deadline)")
			}
			deadline = &d
		}
		if err := f.err(); err != nil {
			return commands.Result{}, err
		}
		return s.cfg.Commands.RetargetIndicator.Handle(ctx, commands.RetargetIndicator{
			Header: h, IndicatorID: r.PathValue("id"), Target: b.Target, Deadline: deadline, Weight: b.Weight,
		})
	})
}

type changeIndicatorStatusBody struct {
	writeCommon
	Status string `json:"status"`
}

func (s *Server) changeIndicatorStatus() http.Handler {
	spec := writeSpec{policy: s.indicatorWrite("change an indicator's status")}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, b *changeIndicatorStatusBody) (commands.Result, error) {
		return s.cfg.Commands.ChangeIndicatorStatus.Handle(ctx, commands.ChangeIndicatorStatus{
			Header: h, IndicatorID: r.PathValue("id"), To: domain.IndicatorStatus(b.Status),
		})
	})
}

func (s *Server) cancelIndicator() http.Handler {
	spec := writeSpec{policy: s.indicatorWrite("cancel indicators")}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, _ *commonBody) (commands.Result, error) {
		return s.cfg.Commands.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: h, IndicatorID: r.PathValue("id")})
	})
}

type assignIndicatorResponsibleBody struct {
	writeCommon
	PersonID string `json:"person_id"`
}

func (s *Server) assignIndicatorResponsible() http.Handler {
	spec := writeSpec{policy: s.indicatorWrite("assign an indicator's responsible")}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, b *assignIndicatorResponsibleBody) (commands.Result, error) {
		return s.cfg.Commands.AssignIndicatorResponsible.Handle(ctx, commands.AssignIndicatorResponsible{
			Header: h, IndicatorID: r.PathValue("id"), PersonID: b.PersonID,
		})
	})
}
