package pages

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"promiseledger/domain"
	"promiseledger/projections"
)

func rank(r *int, of int) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%d / %d", *r, of)
}

// deputy is a deputy's public rating now and over time, each component
// with its weight and the events behind it, the roadmaps they answer for,
// and their replies to council assessments.
func (h *Handler) deputy(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	id := q.r.PathValue("id")
	if domain.ValidatePersonID("id", id) != nil {
		return nil, notFound("there is no deputy " + id)
	}
	version := 0
	if v := q.str("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			q.bad("version", "must be a whole number from 1 to 10000")
		}
		version = n
	}
	if err := q.err(); err != nil {
		return nil, err
	}
	dep, err := projections.GetDeputy(q.ctx, h.cfg.DB, id)
	rated := err == nil
	if err != nil && !errors.Is(err, projections.ErrNoSuchRecord) {
		return nil, err
	}
	roadmaps, err := projections.RoadmapsOfPerson(q.ctx, h.cfg.DB, id)
	if err != nil {
		return nil, err
	}
	name := dep.DisplayName
	if !rated {
		if len(roadmaps) == 0 {
			return nil, notFound("there is no deputy " + id)
		}
		for _, p := range roadmaps[0].Responsibles {
			if p.PersonID == id {
				name = p.DisplayName
			}
		}
	}
	d := &pageData{Title: name}
	if rated {
		assembly, err := h.assemblyName(q, dep.AssemblyID)
		if err != nil {
			return nil, err
		}
		d.Lead = fmt.Sprintf(t("deputy.lead"), assembly)
		if dep.InFaction {
			d.Lead += " " + t("deputy.in_faction")
		}
	} else {
		d.Lead = t("deputy.not_registered")
	}

	if rated {
		secs, tab, cur, err := h.ratingSections(q, id, version)
		if err != nil {
			return nil, err
		}
		d.Sections = append(d.Sections, secs...)
		answers, form, err := h.ratingReplies(q, id, cur)
		if err != nil {
			return nil, err
		}
		d.Sections = append(d.Sections, answers)
		if form != nil {
			d.Forms = append(d.Forms, *form)
		}
		if tab != nil {
			d.Table, d.CSV = tab, true
		}
	}

	rms := &table{Caption: t("deputy.roadmaps_caption"), Header: []string{t("col.roadmap"), t("col.level"), t("col.measures"), t("col.done")}}
	for _, rm := range roadmaps {
		rms.Rows = append(rms.Rows, []cell{{Text: text(rm.Title, q.lang), URL: q.link("/roadmaps/" + rm.ID), Head: true},
			{Text: t("level." + string(rm.Level))}, {Text: itoa(rm.Measures), Num: true}, {Text: itoa(rm.Done), Num: true}})
	}
	sec := section{ID: "roadmaps", Heading: t("deputy.roadmaps"), Table: rms}
	if len(roadmaps) == 0 {
		sec.Table, sec.Paras = nil, []string{t("deputy.no_roadmaps")}
	}
	d.Sections = append(d.Sections, sec)

	assessments, err := projections.ListAssessments(q.ctx, h.cfg.DB, projections.AssessmentFilter{RespondentID: id, Limit: 20})
	if err != nil {
		return nil, err
	}
	replies := section{ID: "replies", Heading: t("deputy.replies"), Paras: []string{t("deputy.replies_note")}}
	for _, a := range assessments {
		it := timelineItem{Kind: t("position." + string(a.Position)), Badge: string(a.Position), EventID: a.EventID.String(),
			Facts: []fact{{Term: t("event.effective"), Value: stamp(a.AssessedAt)}, {Term: t("assessment.comment"), Value: a.Comment},
				{Term: t("col.measure"), Value: t("assessment.open_measure"), URL: q.link("/measures/" + a.IndicatorID)}}}
		answered := false
		for _, r := range a.Replies {
			if r.RespondentID == id {
				it.Facts = append(it.Facts, fact{Term: t("assessment.reply") + " (" + stamp(r.At) + ")", Value: r.Reply})
				answered = true
			}
		}
		if !answered {
			it.Facts = append(it.Facts, fact{Term: t("assessment.reply"), Value: t("assessment.no_reply")})
		}
		replies.Timeline = append(replies.Timeline, it)
		// The deputy's reply is an event of its own, with its own anchor
		// (where a reply form lands).
		for _, r := range a.Replies {
			if r.RespondentID == id {
				replies.Timeline = append(replies.Timeline, timelineItem{Kind: t("assessment.reply"), Badge: "status", EventID: r.EventID.String(),
					Facts: []fact{{Term: t("event.recorded"), Value: stamp(r.At), Nowrap: true}, {Term: t("assessment.reply"), Value: r.Reply}}})
			}
		}
	}
	replyForms, err := h.replyForms(q, id, assessments)
	if err != nil {
		return nil, err
	}
	d.Forms = append(d.Forms, replyForms...)
	if len(assessments) == 0 {
		replies.Paras = append(replies.Paras, t("deputy.no_assessments"))
	}
	d.Sections = append(d.Sections, replies)
	return d, nil
}

// ratingSections: the current rating with its components, its history
// (the CSV table) and the published versions, chosen as GET
// /v1/deputies/{id}/rating chooses them.
func (h *Handler) ratingSections(q *request, id string, version int) ([]section, *table, *projections.DeputyRatingView, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	views, err := projections.DeputyRatings(q.ctx, h.cfg.DB, id, projections.RatingQuery{Axes: q.axesPtr()})
	if err != nil {
		return nil, nil, nil, err
	}
	if len(views) == 0 {
		return []section{{ID: "rating", Heading: t("deputy.rating"), Paras: []string{t("deputy.no_rating")}}}, nil, nil, nil
	}
	method := views[0].Method
	views = slices.DeleteFunc(views, func(v projections.DeputyRatingView) bool { return v.Method != method })
	latest := projections.LatestPeriod(views)
	if version == 0 {
		for _, v := range views {
			if v.Period == latest && v.InForce {
				version = v.Version
			}
		}
		if version == 0 {
			version = slices.MaxFunc(views, func(a, b projections.DeputyRatingView) int { return cmp.Compare(a.Version, b.Version) }).Version
		}
	}
	var cur *projections.DeputyRatingView
	hist := &table{Caption: t("deputy.history_caption"), Header: []string{t("col.period"), t("col.score"), t("col.rank_assembly"), t("col.rank_level"), t("col.provisional")},
		CSVHeader: []string{"period_start", "period_end", "method", "version", "score", "rank_assembly", "assembly_rated", "rank_level", "level_rated", "provisional", "rated"}}
	for i, v := range views {
		if v.Version != version {
			continue
		}
		if v.Period == latest {
			cur = &views[i]
		}
		prov := t("answer.no")
		if v.Provisional {
			prov = t("answer.yes")
		}
		score := numPtr(v.Score)
		if !v.Rated {
			score = t("deputy.not_rated")
		}
		hist.Rows = append(hist.Rows, []cell{{Text: v.Period.Start.String() + " – " + v.Period.End.String(), Head: true, Nowrap: true}, {Text: score, Num: true},
			{Text: rank(v.RankAssembly, v.AssemblyRated), Num: true}, {Text: rank(v.RankLevel, v.LevelRated), Num: true}, {Text: prov}})
		hist.csvRows = append(hist.csvRows, []string{v.Period.Start.String(), v.Period.End.String(), v.Method, itoa(v.Version), numPtr(v.Score),
			rankNum(v.RankAssembly), itoa(v.AssemblyRated), rankNum(v.RankLevel), itoa(v.LevelRated), fmt.Sprint(v.Provisional), fmt.Sprint(v.Rated)})
	}
	if cur == nil {
		return nil, nil, nil, notFound(fmt.Sprintf("deputy %s has no rating under version %d", id, version))
	}
	now := section{ID: "rating", Heading: fmt.Sprintf(t("deputy.rating_period"), cur.Period.Start.String(), cur.Period.End.String()),
		Facts: []fact{
			{Term: t("col.score"), Value: numPtr(cur.Score)},
			{Term: t("col.rank_assembly"), Value: rank(cur.RankAssembly, cur.AssemblyRated)},
			{Term: t("col.rank_level"), Value: rank(cur.RankLevel, cur.LevelRated)},
		}}
	if !cur.Rated {
		now.Paras = append(now.Paras, t("deputy.not_rated_why")+" "+t(notRatedKey(cur.NotRated)))
	}
	if cur.Provisional {
		now.Paras = append(now.Paras, t("deputy.provisional"))
	}
	comps := &table{Caption: t("deputy.components_caption"), Header: []string{t("col.component"), t("col.weight"), t("col.raw"), t("col.normalized"), t("col.points"), t("col.events")}}
	// One query for every component's events, not one per component.
	var ids []uuid.UUID
	for _, c := range cur.Components {
		ids = append(ids, c.Events...)
	}
	stored, err := projections.RatingEvents(q.ctx, h.cfg.DB, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	byID := make(map[uuid.UUID]projections.StoredEvent, len(stored))
	for _, e := range stored {
		byID[e.EventID] = e
	}
	for _, c := range cur.Components {
		var evs []projections.StoredEvent
		for _, id := range c.Events {
			if e, ok := byID[id]; ok {
				evs = append(evs, e)
			}
		}
		latestEv := ""
		if len(evs) > 0 {
			last := slices.MaxFunc(evs, func(a, b projections.StoredEvent) int { return a.EffectiveAt.Compare(b.EffectiveAt) })
			latestEv = fmt.Sprintf(t("deputy.events_latest"), len(evs), last.EffectiveAt.Format("2006-01-02"))
		} else {
			latestEv = t("deputy.events_none")
		}
		label := h.cat.t(q.lang, "source."+string(c.Source))
		comps.Rows = append(comps.Rows, []cell{{Text: label, Head: true}, {Text: num(c.Weight), Num: true}, {Text: num(c.Raw), Num: true},
			{Text: num(c.Normalized), Num: true}, {Text: num(c.Points), Num: true}, {Text: latestEv}})
	}
	now.Table = comps
	methods, err := projections.RatingMethods(q.ctx, h.cfg.DB, q.axesPtr())
	if err != nil {
		return nil, nil, nil, err
	}
	vers := section{ID: "versions", Heading: t("deputy.versions"), Paras: []string{t("deputy.versions_note")}}
	// The method by its published title, not its id ("faction-rating v2").
	shown := fmt.Sprintf("%s v%d", method, version)
	for _, m := range methods {
		if m.Method == method && m.Version == version && text(m.Title, q.lang) != "" {
			shown = fmt.Sprintf(t("deputy.method_title"), text(m.Title, q.lang), version)
		}
	}
	now.Facts = append(now.Facts, fact{Term: t("col.method_version"), Value: shown, URL: q.link("/methods") + "#rating"})
	for _, m := range methods {
		if m.Method != method {
			continue
		}
		label := fmt.Sprintf("v%d — %s (%s %s)", m.Version, text(m.Title, q.lang), t("deputy.effective_from"), m.EffectiveFrom.String())
		if m.Version == version {
			vers.Facts = append(vers.Facts, fact{Term: t("deputy.shown"), Value: label})
			continue
		}
		vers.Links = append(vers.Links, navLink{Label: label, URL: q.self("version", strconv.Itoa(m.Version), "format", "")})
	}
	return []section{now, {ID: "history", Heading: t("deputy.history"), Table: hist}, vers}, hist, cur, nil
}

func rankNum(r *int) string {
	if r == nil {
		return ""
	}
	return itoa(*r)
}

// notRatedKeys maps the domain's reasons for leaving a deputy unrated
// (domain.RateDeputies, in English for logs and the API) to catalog keys:
// a page never prints the domain's English.
var notRatedKeys = map[string]string{
	"faction membership shorter than the method's minimum of days in the period": "deputy.not_rated.faction_days",
	"fewer components with data than the method's minimum":                       "deputy.not_rated.components",
}

// notRatedKey is the catalog key of a reason; a reason the pages do not
// know yet gets a general one.
func notRatedKey(reason string) string {
	if k, ok := notRatedKeys[reason]; ok {
		return k
	}
	return "deputy.not_rated.other"
}

// assemblyName names an assembly ("maslikhat-110000000") in the page's
// language, from its territory's name.
func (h *Handler) assemblyName(q *request, id string) (string, error) {
	a, ok := domain.ParseAssemblyID(id)
	if !ok {
		return h.cat.t(q.lang, "assembly.other"), nil
	}
	if a.Kind == domain.AssemblyMazhilis {
		return h.cat.t(q.lang, "assembly.mazhilis"), nil
	}
	chain, err := projections.TerritoryChain(q.ctx, h.cfg.DB, a.TerritoryKATO)
	if err != nil {
		return "", err
	}
	if len(chain) == 0 {
		return h.cat.t(q.lang, "assembly.other"), nil
	}
	return fmt.Sprintf(h.cat.t(q.lang, "assembly.maslikhat"), text(chain[0].Name, q.lang)), nil
}
