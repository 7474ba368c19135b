package pages

import (
	"fmt"
	"strings"

	"promiseledger/api/params"
	"promiseledger/domain"
	"promiseledger/projections"
)

// fold makes a name comparable across the three languages and both
// Cyrillic alphabets: lower case, Kazakh letters folded to their nearest
// Russian ones, so "Ақмол" and "Акмол" find the same region.
var kazakhFold = strings.NewReplacer("ә", "а", "ғ", "г", "қ", "к", "ң", "н", "ө", "о", "ұ", "у", "ү", "у", "һ", "х", "і", "и", "ё", "е")

func fold(s string) string { return kazakhFold.Replace(strings.ToLower(strings.TrimSpace(s))) }

func matchesText(t domain.Text, needle string) bool {
	for _, v := range []string{t.KK, t.RU, t.EN} {
		if v != "" && strings.Contains(fold(v), needle) {
			return true
		}
	}
	return false
}

// territories indexes the registered territories by code.
type territories map[string]projections.TerritoryInfo

func (h *Handler) territories(q *request) (territories, error) {
	ts, err := projections.ListTerritories(q.ctx, h.cfg.DB, "")
	if err != nil {
		return nil, err
	}
	out := territories{}
	for _, t := range ts {
		out[t.KATO] = t
	}
	return out, nil
}

// within reports whether kato is root or below it.
func (ts territories) within(kato, root string) bool {
	for i := 0; kato != "" && i < 16; i++ {
		if kato == root {
			return true
		}
		kato = ts[kato].ParentKATO
	}
	return false
}

// regions are the territories directly below the republic.
func (ts territories) regions() []projections.TerritoryInfo {
	var out []projections.TerritoryInfo
	for _, t := range ts {
		if p, ok := ts[t.ParentKATO]; ok && p.ParentKATO == "" {
			out = append(out, t)
		}
	}
	sortByKATO(out)
	return out
}

func sortByKATO(ts []projections.TerritoryInfo) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].KATO < ts[j-1].KATO; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func (h *Handler) statusLabel(lang, status string) string { return h.cat.t(lang, "status."+status) }

func (h *Handler) roadmaps(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	level := q.enum("level", string(domain.LevelRepublican), string(domain.LevelRegional))
	status := q.enum("status", string(domain.RoadmapStatusRegistered), string(domain.RoadmapStatusActive), string(domain.RoadmapStatusClosed))
	region := q.str("region")
	if region != "" && domain.ValidateKATO("region", region) != nil {
		q.bad("region", "must be a KATO code")
		region = ""
	}
	// Strict, as the API's booleans (params.Bool): only true or false; the
	// form's unchecked box sends nothing.
	overdueOnly := false
	if raw, ok := q.r.URL.Query()["overdue"]; ok {
		v, err := params.Bool(raw[0])
		if err != nil || len(raw) > 1 {
			q.bad("overdue", "must be true or false, given once")
		}
		overdueOnly = v
	}
	search := q.str("q")
	if len(search) > 200 {
		q.bad("q", "is longer than 200 characters")
	}
	if err := q.err(); err != nil {
		return nil, err
	}
	ts, err := h.territories(q)
	if err != nil {
		return nil, err
	}
	page, err := projections.ListRoadmaps(q.ctx, h.cfg.DB, projections.RoadmapFilter{Level: level, Status: status, WithinKATO: region})
	if err != nil {
		return nil, err
	}
	overdue, err := projections.OverdueByRoadmap(q.ctx, h.cfg.DB, h.today())
	if err != nil {
		return nil, err
	}
	// A search finds roadmaps by their title, or by the name of their
	// territory or of any territory above it.
	needle := fold(search)
	var matched []string
	if needle != "" {
		for _, tr := range ts {
			if matchesText(tr.Name, needle) {
				matched = append(matched, tr.KATO)
			}
		}
	}
	tab := &table{Caption: t("roadmaps.caption"), Header: []string{t("col.roadmap"), t("col.territory"), t("col.level"), t("col.status"),
		t("col.measures"), t("col.done"), t("col.overdue")},
		CSVHeader: []string{"roadmap_id", "title", "territory_kato", "territory", "level", "status", "measures", "done", "overdue"}}
	for _, rm := range page.Items {
		if overdueOnly && overdue[rm.ID] == 0 {
			continue
		}
		if needle != "" && !matchesText(rm.Title, needle) {
			found := false
			for _, k := range matched {
				if ts.within(rm.TerritoryKATO, k) {
					found = true
					break
				}
			}
			if !found {
				continue
			}
		}
		title, terr := text(rm.Title, q.lang), text(ts[rm.TerritoryKATO].Name, q.lang)
		badge := ""
		if overdue[rm.ID] > 0 {
			badge = "overdue"
		}
		tab.Rows = append(tab.Rows, []cell{
			{Text: title, URL: q.link("/roadmaps/" + rm.ID), Head: true}, {Text: terr}, {Text: t("level." + string(rm.Level))},
			{Text: h.statusLabel(q.lang, string(rm.Status))}, {Text: itoa(rm.Measures), Num: true}, {Text: itoa(rm.Done), Num: true},
			{Text: itoa(overdue[rm.ID]), Num: true, Badge: badge},
		})
		tab.csvRows = append(tab.csvRows, []string{rm.ID, title, rm.TerritoryKATO, terr, string(rm.Level), string(rm.Status),
			itoa(rm.Measures), itoa(rm.Done), itoa(overdue[rm.ID])})
	}
	d := &pageData{Title: t("roadmaps.title"), Lead: t("roadmaps.lead"), CSV: true, Table: tab}
	opts := func(selected string, pairs ...string) []option {
		out := []option{{Value: "", Label: t("filter.any"), Selected: selected == ""}}
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, option{Value: pairs[i], Label: pairs[i+1], Selected: pairs[i] == selected})
		}
		return out
	}
	var regionPairs []string
	for _, r := range ts.regions() {
		regionPairs = append(regionPairs, r.KATO, text(r.Name, q.lang))
	}
	d.Filters = &filterForm{Action: "/roadmaps", Lang: q.lang, Q: search,
		Selects: []selectField{
			{Name: "level", Label: t("col.level"), Options: opts(level, "republican", t("level.republican"), "regional", t("level.regional"))},
			{Name: "region", Label: t("filter.region"), Options: opts(region, regionPairs...)},
			{Name: "status", Label: t("col.status"), Options: opts(status, "registered", t("status.registered"), "active", t("status.active"), "closed", t("status.closed"))},
		},
		Checks: []checkField{{Name: "overdue", Label: t("filter.overdue"), Checked: overdueOnly}},
	}
	d.Sections = []section{{ID: "list", Heading: fmt.Sprintf(t("roadmaps.found"), len(tab.Rows)), Table: tab}}
	if len(tab.Rows) == 0 {
		d.Sections[0].Paras = []string{t("roadmaps.none")}
	}
	return d, nil
}

// roadmap is one roadmap: its measures and its figures beside its
// region's and the republic's, as GET /v1/roadmaps/{id} reads them.
func (h *Handler) roadmap(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	id := q.r.PathValue("id")
	if domain.ValidateID("id", id) != nil {
		return nil, notFound("there is no roadmap " + id)
	}
	rm, err := projections.GetRoadmap(q.ctx, h.cfg.DB, id)
	if err != nil {
		return nil, err
	}
	ind, err := projections.ListIndicators(q.ctx, h.cfg.DB, projections.IndicatorFilter{RoadmapID: id, Today: h.today()})
	if err != nil {
		return nil, err
	}
	chain, err := projections.TerritoryChain(q.ctx, h.cfg.DB, rm.TerritoryKATO)
	if err != nil {
		return nil, err
	}
	terr := rm.TerritoryKATO
	if len(chain) > 0 {
		terr = text(chain[0].Name, q.lang)
	}
	d := &pageData{Title: text(rm.Title, q.lang), CSV: true}
	d.Lead = fmt.Sprintf(t("roadmap.lead"), terr, t("level."+string(rm.Level)), h.statusLabel(q.lang, string(rm.Status)))

	people := h.responsibleFacts(q, rm.Responsibles)

	figs := &table{Caption: t("roadmap.figures_caption"), Header: h.figureHeader(q.lang), CSVHeader: figureCSVHeader}
	fs, err := h.figuresFor(q, projections.Scope{Kind: projections.ScopeRoadmap, ID: id})
	if err != nil {
		return nil, err
	}
	figs.Rows = append(figs.Rows, h.figureRows(q, t("roadmap.this"), "", fs)...)
	for _, tr := range chain {
		fs, err := h.figuresFor(q, projections.Scope{Kind: projections.ScopeTerritory, ID: tr.KATO, ProgramID: rm.ProgramID})
		if err != nil {
			return nil, err
		}
		figs.Rows = append(figs.Rows, h.figureRows(q, text(tr.Name, q.lang), "", fs)...)
	}

	measures := &table{Caption: t("roadmap.measures_caption"),
		Header:    []string{t("col.measure"), t("col.status"), t("col.target"), t("col.latest"), t("col.deadline"), t("col.overdue"), t("col.last_report"), t("col.evidence")},
		CSVHeader: []string{"measure_id", "title", "status", "baseline", "target", "unit", "latest_value", "deadline", "overdue", "last_report", "reports", "corrections", "has_evidence"}}
	for _, m := range ind.Items {
		// The status badge's colour follows the status alone; overdue has
		// its own column, marked when it is yes.
		status := string(m.Status)
		overdue := cell{Text: t("answer.no")}
		if m.Overdue {
			overdue = cell{Text: t("answer.yes"), Badge: "overdue"}
		}
		target := numPtr(m.Target)
		if m.Kind == domain.KindMilestone {
			target = t("kind.milestone")
		} else if u := text(m.Unit, q.lang); u != "" && m.Target != nil {
			target += " " + u
		}
		last := "—"
		if m.LatestAsOf != nil {
			last = m.LatestAsOf.Format("2006-01-02")
		}
		evidence := cell{Text: t("evidence.none")}
		if m.HasEvidence {
			evidence = cell{Text: t("evidence.see"), URL: q.link("/measures/"+m.ID) + "#timeline"}
		}
		measures.Rows = append(measures.Rows, []cell{
			{Text: text(m.Title, q.lang), URL: q.link("/measures/" + m.ID), Head: true},
			{Text: h.statusLabel(q.lang, status), Badge: status}, {Text: target}, {Text: numPtr(m.LatestValue), Num: true},
			{Text: m.Deadline.String(), Nowrap: true}, overdue, {Text: last, Nowrap: true}, evidence,
		})
		measures.csvRows = append(measures.csvRows, []string{m.ID, text(m.Title, q.lang), status, numPtr(m.Baseline), numPtr(m.Target),
			text(m.Unit, q.lang), numPtr(m.LatestValue), m.Deadline.String(), fmt.Sprint(m.Overdue), last,
			itoa(m.ReportCount), itoa(m.CorrectionCount), fmt.Sprint(m.HasEvidence)})
	}
	d.Table = measures
	if d.Forms, err = h.roadmapForms(q, id, rm.Version, rm.Responsibles); err != nil {
		return nil, err
	}
	history, err := h.roadmapHistory(q, id)
	if err != nil {
		return nil, err
	}
	d.Sections = []section{
		{ID: "people", Heading: t("roadmap.responsibles"), Facts: people},
		{ID: "figures", Heading: t("roadmap.figures"), Table: figs},
		{ID: "measures", Heading: fmt.Sprintf(t("roadmap.measures"), len(ind.Items)), Table: measures},
		{ID: "history", Heading: t("roadmap.history"), Timeline: history, Links: []navLink{{Label: t("roadmap.history_json"), URL: "/v1/roadmaps/" + id + "/history"},
			{Label: t("audit.stream_proofs"), URL: "/v1/audit/streams/" + domain.RoadmapStream(id) + "/history"}}},
	}
	if q.hasAxes() {
		d.Sections[2].Paras = []string{t("roadmap.measures_now")}
	}
	return d, nil
}

// responsibleFacts lists a roadmap's responsible people once each,
// deputies apart from officials: one line per role, deputies linking to
// their pages.
func (h *Handler) responsibleFacts(q *request, rs []domain.Responsible) []fact {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	var deputies, officials []navLink
	seen := map[string]bool{}
	for _, p := range rs {
		if seen[p.PersonID] {
			continue
		}
		seen[p.PersonID] = true
		if p.Role == domain.RoleDeputy {
			deputies = append(deputies, navLink{Label: p.DisplayName, URL: q.link("/deputies/" + p.PersonID)})
		} else {
			officials = append(officials, navLink{Label: p.DisplayName})
		}
	}
	var out []fact
	if len(deputies) > 0 {
		out = append(out, fact{Term: t("roadmap.deputies"), Items: deputies})
	}
	if len(officials) > 0 {
		out = append(out, fact{Term: t("roadmap.officials"), Items: officials})
	}
	if len(out) == 0 {
		out = []fact{{Term: t("roadmap.responsibles"), Value: t("roadmap.no_responsibles")}}
	}
	return out
}
