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
	ID     string      `json:"id,omitempty" format:"uuid" doc:"Optional: the program's id. Default: the event's id."`
	Name   domain.Text `json:"name" doc:"The program's name in kk, ru and en."`
	Kind   string      `json:"kind" enum:"main,youth" doc:"The main program or the youth program."`
	Period periodBody  `json:"period" doc:"The days the program covers."`
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
	KATO       string      `json:"kato" doc:"The KATO code: nine digits, or 0 for the republic."`
	Name       domain.Text `json:"name" doc:"The territory's name in kk, ru and en."`
	Kind       string      `json:"kind" enum:"republic,region,city_of_republican_significance,district,city_of_regional_significance,city_district,city_republican,city_regional" doc:"The rank of the unit; city_republican and city_regional are the territory list's short names of the city kinds."`
	ParentKATO string      `json:"parent_kato,omitempty" doc:"The unit it belongs to. Required except for the republic."`
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
	ID            string      `json:"id,omitempty" format:"uuid" doc:"Optional: the roadmap's id. Default: the event's id."`
	ProgramID     string      `json:"program_id" format:"uuid" doc:"The program the roadmap implements."`
	TerritoryKATO string      `json:"territory_kato" doc:"The territory's KATO code."`
	Level         string      `json:"level" enum:"republican,regional" doc:"republican exactly for the republic's roadmap; regional for every other (a region's, a city's or a district's: the program's local roadmaps)."`
	Title         domain.Text `json:"title" doc:"The roadmap's title in kk, ru and en."`
	Period        periodBody  `json:"period" doc:"Within the program's period."`
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
	PersonID    string `json:"person_id" doc:"An opaque person id; an officer token with this person id may then write to the roadmap."`
	Role        string `json:"role" enum:"deputy,official" doc:"What the person answers as."`
	DisplayName string `json:"display_name" doc:"The name to show."`
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
	ID            string      `json:"id,omitempty" format:"uuid" doc:"Optional: the indicator's id. Default: the event's id."`
	Title         domain.Text `json:"title" doc:"The measure in kk, ru and en."`
	Kind          string      `json:"kind" enum:"milestone,numeric" doc:"milestone (done or not) or numeric (from baseline to target)."`
	Baseline      *float64    `json:"baseline,omitempty" doc:"Numeric only: where the measure starts."`
	Target        *float64    `json:"target,omitempty" doc:"Numeric only: where it should get; differs from the baseline."`
	Unit          domain.Text `json:"unit,omitzero" doc:"Numeric only: the unit, in kk, ru and en."`
	Deadline      string      `json:"deadline" format:"date" doc:"YYYY-MM-DD."`
	Weight        float64     `json:"weight,omitempty" doc:"Weight in weighted-progress: above 0; default 1."`
	ResponsibleID string      `json:"responsible_id,omitempty" doc:"The person answerable for the measure."`
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
	Value    *float64        `json:"value,omitempty" doc:"Numeric indicators: the reading."`
	Done     bool            `json:"done,omitempty" doc:"Milestones: whether it is done. Numeric indicators leave it false."`
	Evidence domain.Evidence `json:"evidence" doc:"What backs the report: a url, the sha256 of a document, or both."`
	// AsOf is the report's name for effective_at; give either.
	AsOf string `json:"as_of,omitempty" format:"date-time" doc:"When the reading was true: the same as effective_at (give one); default now."`
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
	Corrects string          `json:"corrects" format:"uuid" doc:"The report to correct: the latest of its chain."`
	Value    *float64        `json:"value,omitempty" doc:"Numeric indicators: what the report should have said."`
	Done     bool            `json:"done,omitempty" doc:"Milestones: what the report should have said."`
	Evidence domain.Evidence `json:"evidence" doc:"What backs the correction."`
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
	Target   *float64 `json:"target,omitempty" doc:"Numeric only; keeps the direction. Give at least one of target, deadline, weight."`
	Deadline *string  `json:"deadline,omitempty" format:"date" doc:"The new deadline, YYYY-MM-DD."`
	Weight   *float64 `json:"weight,omitempty" doc:"The new weight: above 0."`
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
	Status string `json:"status" enum:"not_started,in_progress,done" doc:"The new status; cancel with /cancel."`
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
	PersonID string `json:"person_id" doc:"The new responsible person."`
}

func (s *Server) assignIndicatorResponsible() http.Handler {
	spec := writeSpec{policy: s.indicatorWrite("assign an indicator's responsible")}
	return write(s, spec, func(ctx context.Context, r *http.Request, h commands.Header, b *assignIndicatorResponsibleBody) (commands.Result, error) {
		return s.cfg.Commands.AssignIndicatorResponsible.Handle(ctx, commands.AssignIndicatorResponsible{
			Header: h, IndicatorID: r.PathValue("id"), PersonID: b.PersonID,
		})
	})
}
