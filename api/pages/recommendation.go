package pages

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"promiseledger/api/councils"
	"promiseledger/api/session"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// recommendation is one recommendation of a public council: what it
// proposes, to whom, where it stands, and its whole history, newest first.
func (h *Handler) recommendation(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	id := q.r.PathValue("id")
	if domain.ValidateID("id", id) != nil {
		return nil, notFound("there is no recommendation " + id)
	}
	r, err := projections.GetRecommendation(q.ctx, h.cfg.DB, id, q.axesPtr(), h.on(q))
	if err != nil {
		return nil, err
	}
	history, err := projections.RecommendationHistory(q.ctx, h.cfg.DB, id)
	if err != nil {
		return nil, err
	}
	c, err := projections.GetCouncil(q.ctx, h.cfg.DB, r.CouncilID)
	if err != nil {
		return nil, err
	}
	members, err := projections.CouncilMembers(q.ctx, h.cfg.DB, r.CouncilID, nil, true)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, m := range members {
		names[m.MemberID] = m.DisplayName + " (" + t("member."+string(m.Role)) + ")"
	}
	status := t("rstatus." + string(r.Status))
	if r.Overdue {
		status += " — " + t("col.overdue")
	}
	deadline := "—"
	if r.ResponseDeadline.Valid() {
		deadline = r.ResponseDeadline.String()
	}
	facts := []fact{
		{Term: t("col.status"), Value: status},
		{Term: t("col.body"), Value: text(r.Addressee.Name, q.lang)},
		{Term: t("col.deadline"), Value: deadline, Nowrap: true},
		{Term: t("col.council"), Value: text(c.Name, q.lang), URL: q.link("/councils/" + c.ID)},
		{Term: t("rec.proposal"), Value: text(r.Proposal, q.lang)},
	}
	for _, mid := range r.Links.IndicatorIDs {
		facts = append(facts, fact{Term: t("col.measure"), Value: t("assessment.open_measure"), URL: q.link("/measures/" + mid)})
	}
	proof := "/v1/audit/streams/" + domain.RecommendationStream(id) + "/history"
	var items []timelineItem
	for _, env := range history {
		m := env.Meta
		if q.axes.KnownAt != nil && m.RecordedAt.After(*q.axes.KnownAt) {
			continue
		}
		kind, detail := h.describeRecommendation(q.lang, env.Event)
		it := timelineItem{Kind: kind, Badge: "status", EventID: m.EventID.String()}
		eff := m.EffectiveAt
		if eff.IsZero() {
			eff = m.RecordedAt
		}
		if q.axes.AsOf != nil && eff.After(*q.axes.AsOf) {
			it.Pending = t("measure.pending")
		}
		who, ok := names[m.ActorID]
		if !ok {
			who = h.who(q.lang, people{}, m)
		}
		it.Facts = []fact{
			{Term: t("event.effective"), Value: stamp(eff), Nowrap: true},
			{Term: t("event.recorded"), Value: stamp(m.RecordedAt), Nowrap: true},
			{Term: t("event.who"), Value: who},
		}
		it.Facts = append(it.Facts, closingFacts(t, detail, m, proof)...)
		items = append(items, it)
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	d := &pageData{Title: text(r.Title, q.lang), Lead: fmt.Sprintf(t("rec.lead"), text(c.Name, q.lang), text(r.Addressee.Name, q.lang))}
	d.Sections = []section{
		{ID: "state", Heading: t("rec.state"), Facts: facts},
		{ID: "timeline", Heading: fmt.Sprintf(t("measure.timeline"), len(items)), Timeline: items,
			Links: []navLink{{Label: t("rec.json"), URL: "/v1/recommendations/" + id}}},
	}
	return d, nil
}

// describeRecommendation names a recommendation's event for its history.
func (h *Handler) describeRecommendation(lang string, e domain.Event) (kind, detail string) {
	t := func(k string) string { return h.cat.t(lang, k) }
	switch e := e.(type) {
	case domain.RecommendationDrafted:
		return t("revent.drafted"), text(e.Title, lang) + " → " + text(e.Addressee.Name, lang)
	case domain.RecommendationSubmitted:
		return t("revent.submitted"), t("col.deadline") + ": " + e.ResponseDeadline.String()
	case domain.RecommendationAcknowledged:
		return t("revent.acknowledged"), e.Reference
	case domain.RecommendationAnswered:
		return t("revent.answered"), t("decision."+string(e.Decision)) + ": " + e.Reply
	case domain.RecommendationAnswerCorrected:
		return t("revent.answer_corrected"), t("decision."+string(e.Decision)) + ": " + e.Reply
	case domain.RecommendationJudged:
		return t("revent.judged"), t("rstatus."+string(e.Verdict)) + ": " + e.Comment
	case domain.RecommendationWithdrawn:
		return t("revent.withdrawn"), ""
	case domain.RecommendationDissentAttached:
		return t("revent.dissent"), e.Opinion
	}
	return e.EventType(), ""
}

// draftFields are the draft form's fields: the domain wants the title, the
// proposal and the body's name in all three languages.
var draftFields = []string{"title_kk", "title_ru", "title_en", "proposal_kk", "proposal_ru", "proposal_en",
	"addressee_id", "addressee_kk", "addressee_ru", "addressee_en", "measure_id"}

// draftForm is the recommendation form on a council's page, for its
// current members (the API's policy, councils.MayDraft).
func (h *Handler) draftForm(q *request, councilID string) (*pageForm, error) {
	if q.sess == nil || q.hasAxes() {
		return nil, nil
	}
	if err := councils.MayDraft(q.ctx, h.cfg.WriteDB, councilID, q.sess.Actor().ID); err != nil {
		if councils.PolicyStatus(err) != 0 {
			return nil, nil
		}
		return nil, err
	}
	t := func(k string) string { return h.cat.t(q.lang, k) }
	var fields []formField
	for _, name := range draftFields {
		f := formField{Name: name, Label: t("form.draft." + name), Type: "text"}
		switch name {
		case "proposal_kk", "proposal_ru", "proposal_en":
			f.Type = "textarea"
		case "addressee_id":
			f.Hint = t("form.draft.addressee_id_hint")
		case "measure_id":
			f.Hint = t("form.draft.measure_id_hint")
		}
		fields = append(fields, f)
	}
	// A new recommendation: its stream is empty (version 0); its id is the
	// form key's event id, so a double submit drafts once.
	f := h.buildForm(q, "draft", "/councils/"+councilID+"/draft", 0, fields)
	return &f, nil
}

func mayDraft(ctx context.Context, h *Handler, s *session.Session, id string, _ url.Values) error {
	return councils.MayDraft(ctx, h.cfg.WriteDB, id, s.Actor().ID)
}

func runDraft(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	tri := func(prefix string) domain.Text {
		return domain.Text{KK: strings.TrimSpace(v.Get(prefix + "_kk")), RU: strings.TrimSpace(v.Get(prefix + "_ru")), EN: strings.TrimSpace(v.Get(prefix + "_en"))}
	}
	var links domain.RecommendationLinks
	if m := strings.TrimSpace(v.Get("measure_id")); m != "" {
		if domain.ValidateID("measure_id", m) != nil {
			fe.add("measure_id", "form.err.measure")
			return commands.Result{}, errFormInvalid
		}
		links.IndicatorIDs = []string{m}
	}
	return h.cfg.Commands.DraftRecommendation.Handle(ctx, commands.DraftRecommendation{Header: hd, CouncilID: id,
		Title: tri("title"), Proposal: tri("proposal"), Addressee: domain.StateBody{ID: strings.TrimSpace(v.Get("addressee_id")), Name: tri("addressee")},
		Links: links})
}

// closingFacts are the last facts of a history entry: what changed, why,
// and the link to the event's proof in the audit log.
func closingFacts(t func(string) string, detail string, m domain.Meta, proof string) []fact {
	var fs []fact
	if detail != "" {
		fs = append(fs, fact{Term: t("event.what"), Value: detail})
	}
	if m.Reason != "" {
		fs = append(fs, fact{Term: t("event.why"), Value: m.Reason})
	}
	return append(fs, fact{Term: t("event.proof"), Value: t("event.proof_link") + " " + shortID(m.EventID.String()), URL: proof})
}
