package councils

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"promiseledger/api/kernel"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// assessmentCouncil finds the council of the assessment in the path.
func (s *server) assessmentCouncil(ctx context.Context, r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := validUUID("assessment", id); err != nil {
		return "", err
	}
	a, _, err := projections.GetAssessment(ctx, s.cfg.DB, id)
	if err != nil {
		return "", err
	}
	return a.CouncilID, nil
}

type assessBody struct {
	writeCommon
	ID          string          `json:"id,omitempty" format:"uuid" doc:"Optional: the assessment's id. Default: the event's id."`
	IndicatorID string          `json:"indicator_id"`
	ReportID    string          `json:"report_id,omitempty" doc:"The report assessed; default the latest."`
	Position    string          `json:"position"`
	Comment     string          `json:"comment"`
	Evidence    domain.Evidence `json:"evidence,omitzero" doc:"What backs the position."`
}

// assessPolicy is who may record an assessment for the council in the
// path: its current members.
func (s *server) assessPolicy(ctx context.Context, r *http.Request, p principal) error {
	return s.memberOfPathCouncil("assess indicators for it")(ctx, r, p)
}

func (s *server) recordAssessment() http.Handler {
	return write(s, s.assessPolicy, true,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *assessBody) (commands.Result, error) {
			return s.cfg.Commands.RecordAssessment.Handle(ctx, commands.RecordAssessment{Header: h, ID: b.ID, CouncilID: r.PathValue("id"),
				IndicatorID: b.IndicatorID, ReportID: b.ReportID, Position: domain.AssessmentPosition(b.Position), Comment: b.Comment, Evidence: b.Evidence})
		})
}

type replyBody struct {
	writeCommon
	Reply    string          `json:"reply"`
	Evidence domain.Evidence `json:"evidence,omitzero" doc:"What backs the reply."`
}

// replyPolicy is who may reply to the assessment in the path: the people
// responsible for its indicator when it was assessed.
func (s *server) replyPolicy(ctx context.Context, r *http.Request, p principal) error {
	id := r.PathValue("id")
	if err := validUUID("assessment", id); err != nil {
		return err
	}
	a, _, err := projections.GetAssessment(ctx, s.cfg.DB, id)
	if err != nil {
		return err
	}
	if !a.IsRespondent(p.actorID) {
		return kernel.Forbidden(fmt.Sprintf("only the people responsible for indicator %s when it was assessed may reply", a.IndicatorID))
	}
	return nil
}

// replyToAssessment records the authenticated respondent's own reply: the
// right of reply of the responsible deputy or official.
func (s *server) replyToAssessment() http.Handler {
	return write(s, s.replyPolicy, true,
		func(ctx context.Context, r *http.Request, p principal, h commands.Header, b *replyBody) (commands.Result, error) {
			return s.cfg.Commands.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{Header: h, AssessmentID: r.PathValue("id"),
				RespondentID: p.actorID, Reply: b.Reply, Evidence: b.Evidence})
		})
}

func (s *server) withdrawAssessment() http.Handler {
	return write(s, s.memberOf("withdraw its assessments", s.assessmentCouncil), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, _ *reasonBody) (commands.Result, error) {
			return s.cfg.Commands.WithdrawAssessment.Handle(ctx, commands.WithdrawAssessment{Header: h, AssessmentID: r.PathValue("id")})
		})
}

func (s *server) listAssessments(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	f := projections.AssessmentFilter{CouncilID: q.Str("council_id"), IndicatorID: q.Str("indicator_id"), RespondentID: q.Str("respondent_id"), Limit: q.limit()}
	if err := q.Err(); err != nil {
		return err
	}
	as, err := projections.ListAssessments(r.Context(), s.cfg.DB, f)
	if err != nil {
		return err
	}
	kernel.WritePage(w, r, as, "")
	return nil
}

func (s *server) getAssessment(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := validUUID("assessment", id); err != nil {
		return err
	}
	a, version, err := projections.GetAssessment(r.Context(), s.cfg.DB, id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", `"`+itoa(version)+`"`)
	kernel.WriteJSON(w, http.StatusOK, a)
	return nil
}
