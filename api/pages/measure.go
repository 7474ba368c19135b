package pages

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"promiseledger/domain"
	"promiseledger/projections"
)

// people names the actors of a roadmap's events: its responsible people
// by id. Actors the read models do not name (administrators, people no
// longer assigned) are shown by role and a short id.
type people map[string]domain.Responsible

func (h *Handler) who(lang string, ps people, m domain.Meta) string {
	role := h.cat.t(lang, "actor."+m.ActorRole)
	if strings.HasPrefix(role, missingMark) {
		role = m.ActorRole
	}
	if p, ok := ps[m.ActorID]; ok && p.DisplayName != "" {
		return p.DisplayName + " (" + h.cat.t(lang, "role."+string(p.Role)) + ")"
	}
	if m.ActorID == "" {
		return h.cat.t(lang, "actor.unknown")
	}
	return fmt.Sprintf(h.cat.t(lang, "actor.unnamed"), role, shortID(m.ActorID))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// measure is one measure's whole history as a timeline, with the state it
// stood in (or was reported in) on a chosen date.
func (h *Handler) measure(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	id := q.r.PathValue("id")
	if domain.ValidateID("id", id) != nil {
		return nil, notFound("there is no measure " + id)
	}
	// The toggle: "as it stood on D" is as_of=D; "as it was reported on
	// D" adds known_at=D. The form sends on and axis; links carry as_of and
	// known_at.
	axis := q.enum("axis", "stood", "reported")
	if on := q.str("on"); on != "" {
		d, err := domain.ParseDate(on)
		if err != nil || !d.Valid() {
			q.bad("on", "must be a date written YYYY-MM-DD")
		} else {
			end := projections.EndOfDay(d)
			q.axes.AsOf, q.asOfRaw = &end, on
			q.axes.KnownAt, q.knownAtRaw = nil, ""
			if axis == "reported" {
				q.axes.KnownAt, q.knownAtRaw = &end, on
			}
		}
	}
	if err := q.err(); err != nil {
		return nil, err
	}
	tl, err := projections.IndicatorTimelineAt(q.ctx, h.cfg.DB, id, q.axes)
	if err != nil {
		return nil, err
	}
	cur, err := projections.GetIndicator(q.ctx, h.cfg.DB, id, h.today())
	if err != nil {
		return nil, err
	}
	rm, err := projections.GetRoadmap(q.ctx, h.cfg.DB, cur.RoadmapID)
	if err != nil {
		return nil, err
	}
	ps := people{}
	for _, p := range rm.Responsibles {
		ps[p.PersonID] = p
	}
	st := tl.State
	d := &pageData{Title: text(cur.Title, q.lang)}
	d.Lead = fmt.Sprintf(t("measure.lead"), text(rm.Title, q.lang))
	onDate := ""
	if q.axes.AsOf != nil {
		onDate = q.axes.AsOf.UTC().Format("2006-01-02")
	}
	d.AxisForm = &axisForm{Action: "/measures/" + id, Lang: q.lang, On: onDate, Stood: q.axes.KnownAt == nil, Reported: q.axes.KnownAt != nil,
		Reset: "/measures/" + id + "?lang=" + q.lang}
	// Rebuild the permalink from the axes, so a submitted form yields a
	// link with as_of and known_at.
	v := url.Values{"lang": {q.lang}}
	if q.asOfRaw != "" {
		v.Set("as_of", q.asOfRaw)
	}
	if q.knownAtRaw != "" {
		v.Set("known_at", q.knownAtRaw)
	}
	q.r.URL.RawQuery = v.Encode()

	heading := t("measure.state_now")
	if q.hasAxes() {
		if q.axes.KnownAt != nil {
			heading = fmt.Sprintf(t("measure.state_reported"), onDate)
		} else {
			heading = fmt.Sprintf(t("measure.state_stood"), onDate)
		}
	}
	statusText := t("measure.not_yet")
	if st.ID != "" {
		statusText = h.statusLabel(q.lang, string(st.Status))
	}
	latest := numPtr(st.LatestValue)
	if st.Kind == domain.KindMilestone {
		latest = milestoneWord(t, st.Done)
	}
	// Overdue on the date shown: today, or the as-of date. The rule is the
	// read model's (projections' overdueSQL): past the deadline, neither
	// done nor cancelled.
	judged := h.today()
	if q.axes.AsOf != nil {
		judged = domain.DateOf(q.axes.AsOf.In(h.cfg.Location))
	}
	overdue := st.ID != "" && st.Status != domain.StatusDone && st.Status != domain.StatusCancelled &&
		st.Deadline.Valid() && st.Deadline.Before(judged)
	overdueText := t("answer.no")
	if overdue {
		overdueText = fmt.Sprintf(t("measure.overdue_since"), st.Deadline.String())
	}
	facts := []fact{
		{Term: t("col.status"), Value: statusText},
		{Term: t("col.kind"), Value: t("kind." + string(cur.Kind))},
		{Term: t("col.baseline"), Value: numPtr(st.Baseline)},
		{Term: t("col.target"), Value: numPtr(st.Target) + " " + text(cur.Unit, q.lang)},
		{Term: t("col.latest"), Value: latest},
		{Term: t("col.deadline"), Value: st.Deadline.String(), Nowrap: true},
		{Term: t("col.overdue"), Value: overdueText},
		{Term: t("col.weight"), Value: num(st.Weight)},
		{Term: t("col.roadmap"), Value: text(rm.Title, q.lang), URL: q.link("/roadmaps/" + rm.ID)},
	}
	if cur.ResponsibleID != "" {
		facts = append(facts, fact{Term: t("col.responsible"), Value: h.who(q.lang, ps, domain.Meta{ActorID: cur.ResponsibleID, ActorRole: "official"})})
	}
	proof := "/v1/audit/streams/" + domain.IndicatorStream(id) + "/history"
	var items []timelineItem
	for i, env := range tl.Events {
		m := env.Meta
		kind, badge, detail, ev := h.describe(q.lang, env.Event, cur.Unit)
		it := timelineItem{Kind: kind, Badge: badge, EventID: m.EventID.String()}
		eff := m.EffectiveAt
		if eff.IsZero() {
			eff = m.RecordedAt
		}
		if !tl.Kept[i] {
			it.Pending = t("measure.pending")
		}
		it.Facts = []fact{
			{Term: t("event.effective"), Value: stamp(eff), Nowrap: true},
			{Term: t("event.recorded"), Value: stamp(m.RecordedAt), Nowrap: true},
			{Term: t("event.who"), Value: h.who(q.lang, ps, m)},
		}
		if detail != "" {
			it.Facts = append(it.Facts, fact{Term: t("event.what"), Value: detail})
		}
		if m.Reason != "" {
			it.Facts = append(it.Facts, fact{Term: t("event.why"), Value: m.Reason})
		}
		if ev.URL != "" || ev.Description != "" {
			label := ev.Description
			if label == "" {
				label = ev.URL
			}
			f := fact{Term: t("event.evidence"), Value: label}
			if strings.HasPrefix(ev.URL, "https://") || strings.HasPrefix(ev.URL, "http://") {
				f.URL = ev.URL
			}
			it.Facts = append(it.Facts, f)
		}
		it.Facts = append(it.Facts, fact{Term: t("event.proof"), Value: t("event.proof_link") + " " + shortID(m.EventID.String()), URL: proof})
		items = append(items, it)
	}
	// Newest first: the latest word on a promise comes first.
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	var reports []formOption
	for _, env := range tl.Events {
		if e, ok := env.Event.(domain.ProgressReported); ok {
			eff := env.Meta.EffectiveAt
			if eff.IsZero() {
				eff = env.Meta.RecordedAt
			}
			_, _, detail, _ := h.describe(q.lang, e, cur.Unit)
			reports = append(reports, formOption{Value: e.ReportID, Label: stamp(eff) + " — " + detail})
		}
	}
	slices.Reverse(reports) // the latest first, as the timeline
	// The version the forms are pinned to is the one this page shows:
	// the timeline holds every event of the stream, one per version.
	if d.Forms, err = h.measureForms(q, id, st, int64(len(tl.Events)), reports); err != nil {
		return nil, err
	}
	assessed, err := h.measureAssessments(q, id)
	if err != nil {
		return nil, err
	}
	d.Sections = []section{
		{ID: "state", Heading: heading, Facts: facts},
		{ID: "timeline", Heading: fmt.Sprintf(t("measure.timeline"), len(items)), Paras: []string{t("measure.timeline_note")}, Timeline: items,
			Links: []navLink{{Label: t("measure.history_json"), URL: "/v1/indicators/" + id + "/history"}}},
		assessed,
	}
	return d, nil
}

// describe names an event and its evidence for the timeline.
func (h *Handler) describe(lang string, e domain.Event, unit domain.Text) (kind, badge, detail string, ev domain.Evidence) {
	t := func(k string) string { return h.cat.t(lang, k) }
	u := text(unit, lang)
	reading := func(r domain.Reading) string {
		if r.Value != nil {
			return strings.TrimSpace(num(*r.Value) + " " + u)
		}
		return milestoneWord(t, r.Done)
	}
	switch e := e.(type) {
	case domain.IndicatorAdded:
		return t("event.added"), "added", fmt.Sprintf(t("event.added_detail"), numPtr(e.Target), u, e.Deadline.String()), domain.Evidence{}
	case domain.ProgressReported:
		return t("event.reported"), "reported", reading(e.Reading), e.Evidence
	case domain.ReportCorrected:
		return t("event.corrected"), "corrected", reading(e.Reading), e.Evidence
	case domain.IndicatorRetargeted:
		var parts []string
		if e.Target != nil {
			parts = append(parts, t("col.target")+": "+num(*e.Target))
		}
		if e.Deadline != nil {
			parts = append(parts, t("col.deadline")+": "+e.Deadline.String())
		}
		if e.Weight != nil {
			parts = append(parts, t("col.weight")+": "+num(*e.Weight))
		}
		return t("event.retargeted"), "retargeted", strings.Join(parts, "; "), domain.Evidence{}
	case domain.IndicatorStatusChanged:
		return t("event.status_changed"), "status", h.statusLabel(lang, string(e.From)) + " → " + h.statusLabel(lang, string(e.To)), domain.Evidence{}
	case domain.IndicatorCancelled:
		return t("event.cancelled"), "cancelled", "", domain.Evidence{}
	case domain.IndicatorResponsibleAssigned:
		return t("event.responsible"), "status", "", domain.Evidence{}
	default:
		return e.EventType(), "status", "", domain.Evidence{}
	}
}

// milestoneWord is a milestone's reading: done or not yet done. Status
// words ("not started") would contradict a measure in progress.
func milestoneWord(t func(string) string, done bool) string {
	if done {
		return t("milestone.done")
	}
	return t("milestone.not_done")
}

// measureAssessments is the councils' assessments of the measure (as of
// the date shown), each with its replies: part of the measure's history,
// though recorded in the assessments' own streams.
func (h *Handler) measureAssessments(q *request, id string) (section, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	as, err := projections.ListAssessments(q.ctx, h.cfg.DB, projections.AssessmentFilter{IndicatorID: id, Limit: 50})
	if err != nil {
		return section{}, err
	}
	var items []timelineItem
	for _, a := range as {
		if q.axes.AsOf != nil && a.AssessedAt.After(*q.axes.AsOf) {
			continue
		}
		name := a.CouncilID
		if c, err := projections.GetCouncil(q.ctx, h.cfg.DB, a.CouncilID); err == nil {
			name = text(c.Name, q.lang)
		}
		it := timelineItem{Kind: t("position." + string(a.Position)), Badge: "status", EventID: a.EventID.String(),
			Facts: []fact{{Term: t("event.recorded"), Value: stamp(a.AssessedAt), Nowrap: true},
				{Term: t("event.who"), Value: name, URL: q.link("/councils/" + a.CouncilID)},
				{Term: t("assessment.comment"), Value: a.Comment}}}
		if a.Evidence.URL != "" || a.Evidence.Description != "" {
			f := fact{Term: t("event.evidence"), Value: cmp.Or(a.Evidence.Description, a.Evidence.URL)}
			if strings.HasPrefix(a.Evidence.URL, "https://") || strings.HasPrefix(a.Evidence.URL, "http://") {
				f.URL = a.Evidence.URL
			}
			it.Facts = append(it.Facts, f)
		}
		for _, r := range a.Replies {
			it.Facts = append(it.Facts, fact{Term: t("assessment.reply") + " (" + stamp(r.At) + ")", Value: r.Reply, URL: q.link("/deputies/" + r.RespondentID)})
		}
		if a.Withdrawn {
			it.Pending = t("assessment.withdrawn")
		}
		items = append(items, it)
	}
	sec := section{ID: "assessments", Heading: fmt.Sprintf(t("measure.assessments"), len(items)), Timeline: items}
	if len(items) == 0 {
		sec.Paras = []string{t("measure.no_assessments")}
	}
	return sec, nil
}
