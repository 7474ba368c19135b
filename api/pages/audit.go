package pages

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// audit shows the latest signed checkpoint, the log's key, the witnesses'
// cosignatures, and how to verify all of it without trusting this server.
func (h *Handler) audit(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	d := &pageData{Title: t("audit.title"), Lead: t("audit.lead")}
	cp, err := translog.LatestCheckpoint(q.ctx, h.cfg.DB)
	var cpSec section
	switch {
	case errors.Is(err, translog.ErrNotFound):
		cpSec = section{ID: "checkpoint", Heading: t("audit.checkpoint"), Paras: []string{t("cite.none")}}
	case err != nil:
		return nil, err
	default:
		cpSec = section{ID: "checkpoint", Heading: t("audit.checkpoint"), Facts: []fact{
			{Term: t("audit.origin"), Value: cp.Origin},
			{Term: t("audit.tree_size"), Value: fmt.Sprint(cp.TreeSize)},
			{Term: t("audit.root"), Value: cp.RootHash.String()},
			{Term: t("audit.signed_at"), Value: stamp(cp.CreatedAt)},
		}, Code: []string{strings.TrimRight(cp.Note, "\n")}}
		cosigs, err := translog.Cosignatures(q.ctx, h.cfg.DB, cp.TreeSize)
		if err != nil {
			return nil, err
		}
		wit := section{ID: "witnesses", Heading: t("audit.witnesses")}
		if len(cosigs) == 0 {
			wit.Paras = []string{t("audit.no_witnesses")}
		}
		tab := &table{Caption: t("audit.witnesses_caption"), Header: []string{t("audit.witness"), t("audit.signature")}}
		for _, c := range cosigs {
			tab.Rows = append(tab.Rows, []cell{{Text: c.Witness, Head: true}, {Text: strings.TrimSpace(c.Line)}})
		}
		if len(tab.Rows) > 0 {
			wit.Table = tab
		}
		d.Sections = append(d.Sections, cpSec, wit)
	}
	if len(d.Sections) == 0 {
		d.Sections = append(d.Sections, cpSec)
	}
	key := h.cfg.LogPublicKey
	keySec := section{ID: "key", Heading: t("audit.key")}
	if key == "" {
		keySec.Paras = []string{t("audit.no_key")}
	} else {
		keySec.Paras = []string{t("audit.key_note")}
		keySec.Code = []string{key}
	}
	pin := key
	if pin == "" {
		pin = "<" + t("audit.key") + ">"
	}
	base := q.baseURL()
	verify := section{ID: "verify", Heading: t("audit.verify"), Paras: []string{t("audit.verify_note")},
		Code: []string{
			"go run ./cmd/ledger verify --url " + base + " --key '" + pin + "' --state my-ledger.state",
			"curl -s " + base + "/v1/audit/checkpoint",
		}}
	downloads := section{ID: "downloads", Heading: t("audit.downloads"), Links: []navLink{
		{Label: t("audit.feed_ndjson"), URL: "/v1/audit/events.ndjson"},
		{Label: t("audit.feed_csv"), URL: "/v1/audit/events.csv"},
		{Label: t("audit.checkpoint_text"), URL: "/v1/audit/checkpoint"},
	}}
	d.Sections = append(d.Sections, keySec, verify, downloads)
	return d, nil
}

// methods explains both percentage methods and every published rating
// method version, with the worked example.
func (h *Handler) methods(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	d := &pageData{Title: t("methods.title"), Lead: t("methods.lead"), CSV: true}
	tab := &table{Caption: t("methods.caption"), Header: []string{t("col.method"), t("col.version"), t("methods.numerator"), t("methods.denominator"), t("methods.since")},
		CSVHeader: []string{"method", "version", "numerator", "denominator", "since"}}
	for _, m := range projections.Methods {
		tab.Rows = append(tab.Rows, []cell{{Text: h.methodName(q.lang, m.Name), Head: true}, {Text: itoa(m.Version), Num: true},
			{Text: t("methods." + m.Name + ".numerator")}, {Text: t("methods." + m.Name + ".denominator")}, {Text: m.Since}})
		tab.csvRows = append(tab.csvRows, []string{m.Name, itoa(m.Version), m.Numerator, m.Denominator, m.Since})
	}
	d.Table = tab
	d.Sections = []section{
		{ID: "percentages", Heading: t("methods.percentages"), Paras: []string{t("methods.share-done.plain"), t("methods.weighted-progress.plain"), t("methods.headline")}, Table: tab},
		{ID: "example", Heading: t("methods.example"), Paras: []string{t("methods.example_text"), t("methods.example_share"), t("methods.example_weighted")}},
		{ID: "axes", Heading: t("methods.axes"), Paras: []string{t("methods.axes_text")}},
	}
	rm, err := projections.RatingMethods(q.ctx, h.cfg.DB, nil)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rm, func(a, b projections.PublishedMethod) int {
		if a.Method != b.Method {
			return strings.Compare(a.Method, b.Method)
		}
		return a.Version - b.Version
	})
	rating := section{ID: "rating", Heading: t("methods.rating"), Paras: []string{t("methods.rating_text")}}
	rt := &table{Caption: t("methods.rating_caption"), Header: []string{t("col.method"), t("col.version"), t("col.title"), t("deputy.effective_from"), t("col.components")}}
	for _, m := range rm {
		var comps []string
		for _, c := range m.Formula.Components {
			comps = append(comps, fmt.Sprintf("%s × %s", h.cat.t(q.lang, "source."+string(c.Source)), num(c.Weight)))
		}
		rt.Rows = append(rt.Rows, []cell{{Text: m.Method, Head: true}, {Text: itoa(m.Version), Num: true}, {Text: text(m.Title, q.lang)},
			{Text: m.EffectiveFrom.String(), Nowrap: true}, {Text: strings.Join(comps, "; ")}})
	}
	if len(rm) == 0 {
		rating.Paras = append(rating.Paras, t("methods.no_rating"))
	} else {
		rating.Table = rt
	}
	d.Sections = append(d.Sections, rating)
	return d, nil
}
