package councils

import (
	"context"
	"net/http"
	"time"

	"promiseledger/api/kernel"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// recommendationCouncil finds the council of the recommendation in the
// path (404 when there is none).
func (s *server) recommendationCouncil(ctx context.Context, r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := validUUID("recommendation", id); err != nil {
		return "", err
	}
	v, err := projections.GetRecommendation(ctx, s.cfg.DB, id, nil, s.today())
	if err != nil {
		return "", err
	}
	return v.CouncilID, nil
}

// recommendationExists checks the recommendation in the path exists.
func (s *server) recommendationExists(ctx context.Context, r *http.Request, _ principal) error {
	_, err := s.recommendationCouncil(ctx, r)
	return err
}

func (s *server) byMembers(action string) policy {
	return s.memberOf(action, s.recommendationCouncil)
}

// A state body's acknowledgement and answer are recorded by administrators
// on its behalf: tokens are not tied to state bodies, so an officer token
// could otherwise answer for any body.
var stateBodyWriters = []string{RoleAdmin}

type draftBody struct {
	writeCommon
	ID        string                     `json:"id,omitempty" format:"uuid" doc:"Optional: the recommendation's id. Default: the event's id."`
	Title     domain.Text                `json:"title"`
	Proposal  domain.Text                `json:"proposal"`
	Addressee domain.StateBody           `json:"addressee"`
	Links     domain.RecommendationLinks `json:"links,omitzero" doc:"The roadmaps, indicators and topics it is about."`
}

// draftPolicy: the council in the path exists and the caller is a current
// member of it (also asked by the pages' form, MayDraft).
func (s *server) draftPolicy(ctx context.Context, r *http.Request, p principal) error {
	return s.memberOfPathCouncil("draft its recommendations")(ctx, r, p)
}

func (s *server) draftRecommendation() http.Handler {
	return write(s, s.draftPolicy, true,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *draftBody) (commands.Result, error) {
			return s.cfg.Commands.DraftRecommendation.Handle(ctx, commands.DraftRecommendation{Header: h, ID: b.ID, CouncilID: r.PathValue("id"),
				Title: b.Title, Proposal: b.Proposal, Addressee: b.Addressee, Links: b.Links})
		})
}

type submitBody struct {
	writeCommon
	ResponseDeadline domain.Date `json:"response_deadline,omitzero" doc:"When the body must answer by; default 30 days after submission."`
}

func (s *server) submitRecommendation() http.Handler {
	return write(s, s.byMembers("submit its recommendations"), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *submitBody) (commands.Result, error) {
			return s.cfg.Commands.SubmitRecommendation.Handle(ctx, commands.SubmitRecommendation{Header: h, RecommendationID: r.PathValue("id"),
				ResponseDeadline: b.ResponseDeadline})
		})
}

type acknowledgeBody struct {
	writeCommon
	Reference string `json:"reference,omitempty" doc:"The body's incoming number."`
}

func (s *server) acknowledgeRecommendation() http.Handler {
	return write(s, all(roles("record a state body's acknowledgement", stateBodyWriters...), s.recommendationExists), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *acknowledgeBody) (commands.Result, error) {
			return s.cfg.Commands.AcknowledgeRecommendation.Handle(ctx, commands.AcknowledgeRecommendation{Header: h,
				RecommendationID: r.PathValue("id"), Reference: b.Reference})
		})
}

type answerBody struct {
	writeCommon
	Decision string          `json:"decision"`
	Reply    string          `json:"reply"`
	Evidence domain.Evidence `json:"evidence"`
}

func (s *server) answerRecommendation() http.Handler {
	return write(s, all(roles("record a state body's answer", stateBodyWriters...), s.recommendationExists), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *answerBody) (commands.Result, error) {
			return s.cfg.Commands.AnswerRecommendation.Handle(ctx, commands.AnswerRecommendation{Header: h, RecommendationID: r.PathValue("id"),
				Decision: domain.AnswerDecision(b.Decision), Reply: b.Reply, Evidence: b.Evidence})
		})
}

type correctAnswerBody struct {
	writeCommon
	Corrects string          `json:"corrects"`
	Decision string          `json:"decision"`
	Reply    string          `json:"reply"`
	Evidence domain.Evidence `json:"evidence"`
}

func (s *server) correctAnswer() http.Handler {
	return write(s, all(roles("correct a state body's answer", stateBodyWriters...), s.recommendationExists), true,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *correctAnswerBody) (commands.Result, error) {
			return s.cfg.Commands.CorrectRecommendationAnswer.Handle(ctx, commands.CorrectRecommendationAnswer{Header: h,
				RecommendationID: r.PathValue("id"), Corrects: b.Corrects, Decision: domain.AnswerDecision(b.Decision), Reply: b.Reply, Evidence: b.Evidence})
		})
}

type judgeBody struct {
	writeCommon
	Verdict  string          `json:"verdict"`
	Comment  string          `json:"comment,omitempty" doc:"Why the verdict."`
	Evidence domain.Evidence `json:"evidence,omitzero" doc:"What backs the verdict."`
}

func (s *server) judgeRecommendation() http.Handler {
	return write(s, s.byMembers("judge whether its recommendations were implemented"), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *judgeBody) (commands.Result, error) {
			return s.cfg.Commands.JudgeRecommendation.Handle(ctx, commands.JudgeRecommendation{Header: h, RecommendationID: r.PathValue("id"),
				Verdict: domain.Verdict(b.Verdict), Comment: b.Comment, Evidence: b.Evidence})
		})
}

func (s *server) withdrawRecommendation() http.Handler {
	return write(s, s.byMembers("withdraw its recommendations"), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, _ *reasonBody) (commands.Result, error) {
			return s.cfg.Commands.WithdrawRecommendation.Handle(ctx, commands.WithdrawRecommendation{Header: h, RecommendationID: r.PathValue("id")})
		})
}

type dissentBody struct {
	writeCommon
	Opinion string `json:"opinion"`
}

// attachDissent records the authenticated member's own dissenting opinion.
func (s *server) attachDissent() http.Handler {
	return write(s, s.byMembers("attach dissenting opinions"), true,
		func(ctx context.Context, r *http.Request, p principal, h commands.Header, b *dissentBody) (commands.Result, error) {
			return s.cfg.Commands.AttachDissent.Handle(ctx, commands.AttachDissent{Header: h, RecommendationID: r.PathValue("id"),
				MemberID: p.actorID, Opinion: b.Opinion})
		})
}

func (s *server) listRecommendations(w http.ResponseWriter, r *http.Request) error {
	return s.recommendationList(w, r, r.PathValue("id"), false)
}

func (s *server) overdueRecommendations(w http.ResponseWriter, r *http.Request) error {
	return s.recommendationList(w, r, "", true)
}

func (s *server) recommendationList(w http.ResponseWriter, r *http.Request, councilID string, overdue bool) error {
	if councilID != "" {
		if err := s.pathCouncil(r.Context(), r, principal{}); err != nil {
			return err
		}
	}
	q := s.query(r)
	statuses := make([]string, 0, 7)
	for _, st := range domain.RecommendationStatuses() {
		statuses = append(statuses, string(st))
	}
	f := projections.RecommendationFilter{CouncilID: councilID, BodyID: q.Str("body_id"), Status: q.Enum("status", statuses...),
		OverdueOnly: overdue || q.flag("overdue"), Axes: q.axes(), Cursor: q.Str("cursor"), Limit: q.limit()}
	if f.CouncilID == "" {
		f.CouncilID = q.Str("council_id")
	}
	if err := q.Err(); err != nil {
		return err
	}
	f.On = s.onAt(f.Axes)
	p, err := projections.ListRecommendations(r.Context(), s.cfg.DB, f)
	if err != nil {
		return err
	}
	kernel.WritePage(w, r, p.Items, p.NextCursor)
	return nil
}

func (s *server) getRecommendation(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := validUUID("recommendation", id); err != nil {
		return err
	}
	q := s.query(r)
	axes := q.axes()
	if err := q.Err(); err != nil {
		return err
	}
	v, err := projections.GetRecommendation(r.Context(), s.cfg.DB, id, axes, s.onAt(axes))
	if err != nil {
		return err
	}
	if axes == nil {
		w.Header().Set("ETag", `"`+itoa(v.Version)+`"`)
	}
	kernel.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) stateBodyRates(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	axes, body := q.axes(), q.Str("body_id")
	if err := q.Err(); err != nil {
		return err
	}
	on := s.onAt(axes)
	rates, err := projections.StateBodyRates(r.Context(), s.cfg.DB, axes, on)
	if err != nil {
		return err
	}
	if body != "" {
		kept := rates[:0]
		for _, b := range rates {
			if b.BodyID == body {
				kept = append(kept, b)
			}
		}
		rates = kept
	}
	kernel.WriteJSON(w, http.StatusOK, stateBodyRatesAnswer{On: domain.DateOf(on), AsOf: projections.AxisTimeOf(axesAsOf(axes)), Items: rates})
	return nil
}

// stateBodyRatesAnswer is every state body's rates on a day.
type stateBodyRatesAnswer struct {
	On    domain.Date             `json:"on" doc:"The day the rates are for: today, or the day of as_of."`
	AsOf  *projections.AxisTime   `json:"as_of,omitempty" doc:"The time asked for, when one was."`
	Items []projections.BodyRates `json:"items" doc:"One per state body."`
}

func axesAsOf(a *projections.Axes) *time.Time {
	if a == nil {
		return nil
	}
	return a.AsOf
}
