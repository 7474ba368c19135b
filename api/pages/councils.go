package pages

import (
	"fmt"

	"promiseledger/domain"
	"promiseledger/projections"
)

func (h *Handler) councils(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	page, err := projections.ListCouncils(q.ctx, h.cfg.DB, projections.CouncilFilter{})
	if err != nil {
		return nil, err
	}
	ts, err := h.territories(q)
	if err != nil {
		return nil, err
	}
	tab := &table{Caption: t("councils.caption"), Header: []string{t("col.council"), t("col.territory"), t("col.level"), t("col.members")},
		CSVHeader: []string{"council_id", "name", "territory_kato", "territory", "level", "members"}}
	for _, c := range page.Items {
		name, terr := text(c.Name, q.lang), text(ts[c.TerritoryKATO].Name, q.lang)
		tab.Rows = append(tab.Rows, []cell{{Text: name, URL: q.link("/councils/" + c.ID), Head: true}, {Text: terr},
			{Text: t("level." + string(c.Level))}, {Text: itoa(c.Members), Num: true}})
		tab.csvRows = append(tab.csvRows, []string{c.ID, name, c.TerritoryKATO, terr, string(c.Level), itoa(c.Members)})
	}
	d := &pageData{Title: t("councils.title"), Lead: t("councils.lead"), CSV: true, Table: tab}
	d.Sections = []section{{ID: "list", Heading: fmt.Sprintf(t("councils.found"), len(tab.Rows)), Table: tab,
		Links: []navLink{{Label: t("nav.overdue"), URL: q.link("/recommendations/overdue")}, {Label: t("nav.bodies"), URL: q.link("/state-bodies")}}}}
	return d, nil
}

// recommendationTable lists recommendations: what, to whom, status,
// deadline, answer.
func (h *Handler) recommendationTable(q *request, caption string, recs []projections.RecommendationView) *table {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	tab := &table{Caption: caption, Header: []string{t("col.recommendation"), t("col.body"), t("col.status"), t("col.deadline"), t("col.decision")},
		CSVHeader: []string{"recommendation_id", "council_id", "title", "body_id", "body", "status", "response_deadline", "overdue", "decision", "verdict"}}
	for _, r := range recs {
		badge := string(r.Status)
		if r.Overdue {
			badge = "overdue"
		}
		status := t("rstatus." + string(r.Status))
		if r.Overdue {
			status += " — " + t("col.overdue")
		}
		decision := "—"
		if r.Decision != "" {
			decision = t("decision." + string(r.Decision))
		}
		deadline := "—"
		if r.ResponseDeadline.Valid() {
			deadline = r.ResponseDeadline.String()
		}
		title, body := text(r.Title, q.lang), text(r.Addressee.Name, q.lang)
		tab.Rows = append(tab.Rows, []cell{{Text: title, URL: q.link("/recommendations/" + r.ID), Head: true}, {Text: body},
			{Text: status, Badge: badge}, {Text: deadline, Nowrap: true}, {Text: decision}})
		tab.csvRows = append(tab.csvRows, []string{r.ID, r.CouncilID, title, r.Addressee.ID, body, string(r.Status), deadline,
			fmt.Sprint(r.Overdue), string(r.Decision), string(r.Verdict)})
	}
	return tab
}

func (h *Handler) council(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	id := q.r.PathValue("id")
	if domain.ValidateID("id", id) != nil {
		return nil, notFound("there is no council " + id)
	}
	c, err := projections.GetCouncil(q.ctx, h.cfg.DB, id)
	if err != nil {
		return nil, err
	}
	members, err := projections.CouncilMembers(q.ctx, h.cfg.DB, id, q.axes.AsOf, false)
	if err != nil {
		return nil, err
	}
	recs, err := projections.ListRecommendations(q.ctx, h.cfg.DB, projections.RecommendationFilter{CouncilID: id, On: h.on(q), Axes: q.axesPtr()})
	if err != nil {
		return nil, err
	}
	assessments, err := projections.ListAssessments(q.ctx, h.cfg.DB, projections.AssessmentFilter{CouncilID: id, Limit: 50})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	mem := &table{Caption: t("council.members_caption"), Header: []string{t("col.name"), t("col.role"), t("col.joined")}}
	for _, m := range members {
		names[m.MemberID] = m.DisplayName
		mem.Rows = append(mem.Rows, []cell{{Text: m.DisplayName, Head: true}, {Text: t("member." + string(m.Role))}, {Text: m.JoinedAt.Format("2006-01-02"), Nowrap: true}})
	}
	recTab := h.recommendationTable(q, t("council.recommendations_caption"), recs.Items)
	d := &pageData{Title: text(c.Name, q.lang), Lead: fmt.Sprintf(t("council.lead"), t("level."+string(c.Level)), c.Members), CSV: true, Table: recTab}
	as := section{ID: "assessments", Heading: fmt.Sprintf(t("council.assessments"), len(assessments))}
	for _, a := range assessments {
		by := names[a.AssessedBy]
		if by == "" {
			by = fmt.Sprintf(t("actor.unnamed"), t("actor.council"), shortID(a.AssessedBy))
		}
		it := timelineItem{Kind: t("position." + string(a.Position)), Badge: string(a.Position), EventID: a.EventID.String(),
			Facts: []fact{{Term: t("event.effective"), Value: stamp(a.AssessedAt)}, {Term: t("event.who"), Value: by},
				{Term: t("assessment.comment"), Value: a.Comment}, {Term: t("col.measure"), Value: t("assessment.open_measure"), URL: q.link("/measures/" + a.IndicatorID)}}}
		for _, r := range a.Replies {
			it.Facts = append(it.Facts, fact{Term: t("assessment.reply") + " (" + stamp(r.At) + ")", Value: r.Reply, URL: q.link("/deputies/" + r.RespondentID)})
		}
		if a.Withdrawn {
			it.Pending = t("assessment.withdrawn")
		}
		as.Timeline = append(as.Timeline, it)
	}
	if len(assessments) == 0 {
		as.Paras = []string{t("council.no_assessments")}
	}
	draft, err := h.draftForm(q, id)
	if err != nil {
		return nil, err
	}
	if draft != nil {
		d.Forms = []pageForm{*draft}
	}
	d.Sections = []section{
		{ID: "members", Heading: fmt.Sprintf(t("council.members"), len(members)), Table: mem},
		{ID: "recommendations", Heading: fmt.Sprintf(t("council.recommendations"), len(recs.Items)), Table: recTab},
		as,
	}
	return d, nil
}

func (h *Handler) overdue(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	recs, err := projections.ListRecommendations(q.ctx, h.cfg.DB, projections.RecommendationFilter{OverdueOnly: true, On: h.on(q), Axes: q.axesPtr()})
	if err != nil {
		return nil, err
	}
	tab := h.recommendationTable(q, t("overdue.caption"), recs.Items)
	d := &pageData{Title: t("overdue.title"), Lead: t("overdue.lead"), CSV: true, Table: tab}
	sec := section{ID: "list", Heading: fmt.Sprintf(t("overdue.found"), len(recs.Items)), Table: tab}
	if len(recs.Items) == 0 {
		sec.Paras = []string{t("overdue.none")}
	}
	d.Sections = []section{sec}
	return d, nil
}

func (h *Handler) stateBodies(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	rates, err := projections.StateBodyRates(q.ctx, h.cfg.DB, q.axesPtr(), h.on(q))
	if err != nil {
		return nil, err
	}
	tab := &table{Caption: t("bodies.caption"),
		Header: []string{t("col.body"), t("col.submitted"), t("col.due"), t("col.answered"), t("col.answer_rate"), t("col.on_time_rate"), t("col.acceptance_rate"), t("col.overdue")},
		CSVHeader: []string{"body_id", "body", "submitted", "due", "answered", "answered_on_time", "overdue", "accepted", "partially_accepted", "rejected",
			"answer_percent", "on_time_percent", "acceptance_percent", "implementation_percent"}}
	rate := func(p *float64) string {
		if p == nil {
			return "—"
		}
		return pct(p)
	}
	raw := func(p *float64) string {
		if p == nil {
			return ""
		}
		return num(*p)
	}
	for _, b := range rates {
		name := text(b.Name, q.lang)
		tab.Rows = append(tab.Rows, []cell{{Text: name, Head: true}, {Text: itoa(b.Submitted), Num: true}, {Text: itoa(b.Due), Num: true},
			{Text: itoa(b.Answered), Num: true}, {Text: rate(b.AnswerPercent), Num: true}, {Text: rate(b.OnTimePercent), Num: true},
			{Text: rate(b.AcceptancePercent), Num: true}, {Text: itoa(b.Overdue), Num: true}})
		tab.csvRows = append(tab.csvRows, []string{b.BodyID, name, itoa(b.Submitted), itoa(b.Due), itoa(b.Answered), itoa(b.AnsweredOnTime),
			itoa(b.Overdue), itoa(b.Accepted), itoa(b.Partially), itoa(b.Rejected), raw(b.AnswerPercent), raw(b.OnTimePercent), raw(b.AcceptancePercent), raw(b.ImplementationPercent)})
	}
	d := &pageData{Title: t("bodies.title"), Lead: t("bodies.lead"), CSV: true, Table: tab}
	d.Sections = []section{{ID: "rates", Heading: t("bodies.heading"), Paras: []string{t("bodies.rates_note")}, Table: tab}}
	return d, nil
}
