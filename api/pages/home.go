package pages

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"promiseledger/domain"
	"promiseledger/projections"
)

// homeScopes are the figures the home page shows: the republic (every
// roadmap) and each level.
var homeScopes = []struct {
	key   string
	scope projections.Scope
}{
	{"scope.all", projections.Scope{Kind: projections.ScopeAll}},
	{"scope.republican", projections.Scope{Kind: projections.ScopeLevel, ID: string(domain.LevelRepublican)}},
	{"scope.regional", projections.Scope{Kind: projections.ScopeLevel, ID: string(domain.LevelRegional)}},
}

// figuresFor reads a scope's figures now or on the axes, as /v1/figures
// does.
func (h *Handler) figuresFor(q *request, s projections.Scope) ([]projections.Figure, error) {
	if q.hasAxes() {
		return projections.FiguresAt(q.ctx, h.cfg.DB, s, q.axes)
	}
	return projections.CurrentFigures(q.ctx, h.cfg.DB, s)
}

func (h *Handler) methodName(lang, method string) string { return h.cat.t(lang, "method."+method) }

// figureRows are table rows for figures, one per method.
func (h *Handler) figureRows(q *request, label string, labelURL string, figs []projections.Figure) [][]cell {
	var rows [][]cell
	for _, f := range figs {
		rows = append(rows, []cell{
			{Text: label, URL: labelURL, Head: true},
			{Text: h.methodName(q.lang, f.Method) + " v" + itoa(f.MethodVersion)},
			{Text: pct(f.Percent), Num: true},
			{Text: num(f.Numerator), Num: true},
			{Text: num(f.Denominator), Num: true},
			{Text: itoa(f.Roadmaps), Num: true},
			{Text: itoa(f.Measures), Num: true},
			{Text: itoa(f.Done), Num: true},
			{Text: itoa(f.Cancelled), Num: true},
		})
	}
	return rows
}

func (h *Handler) figureHeader(lang string) []string {
	t := func(k string) string { return h.cat.t(lang, k) }
	return []string{t("col.scope"), t("col.method"), t("col.percent"), t("col.numerator"), t("col.denominator"),
		t("col.roadmaps"), t("col.measures"), t("col.done"), t("col.cancelled")}
}

var figureCSVHeader = []string{"scope", "method", "percent", "numerator", "denominator", "roadmaps", "measures", "done", "cancelled"}

func (h *Handler) home(q *request) (*pageData, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	d := &pageData{Title: t("home.title"), Lead: t("home.lead"), CSV: true}
	stand := h.cfg.Now().In(h.cfg.Location).Format("2006-01-02 15:04")
	if q.axes.AsOf != nil {
		stand = q.asOfRaw
	}
	figs := &table{Caption: t("home.figures_caption"), Header: h.figureHeader(q.lang), CSVHeader: figureCSVHeader}
	var headline []string
	for _, s := range homeScopes {
		fs, err := h.figuresFor(q, s.scope)
		if err != nil {
			return nil, err
		}
		figs.Rows = append(figs.Rows, h.figureRows(q, t(s.key), "", fs)...)
		if s.scope.Kind == projections.ScopeLevel {
			headline = append(headline, fmt.Sprintf(t("home.headline_level"), pct(fs[0].Percent), t(s.key)))
		}
	}
	d.Table = figs
	d.Sections = append(d.Sections, section{
		ID: "figures", Heading: t("home.figures"),
		Paras: []string{fmt.Sprintf(t("home.stand"), stand), strings.Join(headline, " · "), t("home.why_headline")},
		Table: figs,
	}, section{ID: "more", Heading: t("home.more"), Links: []navLink{
		{Label: t("nav.roadmaps"), URL: q.link("/roadmaps")}, {Label: t("nav.methods"), URL: q.link("/methods")},
		{Label: t("nav.audit"), URL: q.link("/audit")},
	}})

	points, err := h.homeSeries(q)
	if err != nil {
		return nil, err
	}
	series := &table{Caption: t("home.series_caption"), CSVHeader: []string{"date", "share_done_percent", "weighted_progress_percent"},
		Header: []string{t("col.date"), h.methodName(q.lang, projections.ShareDone.Name), h.methodName(q.lang, projections.WeightedProgress.Name)}}
	for _, p := range points {
		series.csvRows = append(series.csvRows, []string{p.Date, pct(p.Figures[0].Percent), pct(p.Figures[1].Percent)})
		if strings.HasSuffix(p.Date, "-01") || p.Date == points[len(points)-1].Date {
			series.Rows = append(series.Rows, []cell{{Text: p.Date, Head: true, Nowrap: true}, {Text: pct(p.Figures[0].Percent), Num: true}, {Text: pct(p.Figures[1].Percent), Num: true}})
		}
	}
	if q.str("table") == "series" {
		d.Table = series
	}
	d.Chart = h.chartOf(q, points)
	d.Sections = append(d.Sections, section{ID: "series", Heading: t("home.series"), Paras: []string{t("home.series_note")}, Table: series,
		Links: []navLink{{Label: t("csv.series"), URL: q.self("format", "csv", "table", "series")}}})
	return d, nil
}

// homeSeries is the daily series of every roadmap, from the start of the
// roadmaps to today (or as_of), as known at known_at.
func (h *Handler) homeSeries(q *request) ([]projections.Point, error) {
	to := h.today()
	if q.axes.AsOf != nil {
		to = domain.DateOf(q.axes.AsOf.UTC())
	}
	from := domain.DateOf(h.cfg.SeriesStart)
	if to.Before(from) {
		from = to
	}
	pos, err := projections.IndicatorsPosition(q.ctx, h.cfg.DB)
	if err != nil {
		return nil, err
	}
	known := ""
	if q.axes.KnownAt != nil {
		known = q.axes.KnownAt.Format(time.RFC3339Nano)
	}
	key := strings.Join([]string{pos, from.String(), to.String(), known}, "|")
	if v, ok := h.cache.get(key); ok {
		return v.([]projections.Point), nil
	}
	points, err := projections.DailySeries(q.ctx, h.cfg.DB, projections.Scope{Kind: projections.ScopeAll}, from, to, q.axes.KnownAt)
	if err != nil {
		return nil, err
	}
	h.cache.put(key, points)
	return points, nil
}

// chart is the server-rendered SVG of the daily series.
type chart struct {
	Caption, Desc string
	W, H          int
	Grid          []gridLine
	Ticks         []gridLine
	Lines         []chartLine
}

type gridLine struct {
	X1, Y1, X2, Y2, TX, TY string
	Label                  string
}

type chartLine struct {
	Label, Class, Points string
}

func (h *Handler) chartOf(q *request, points []projections.Point) *chart {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	// The margins leave room for the labels at the larger size a narrow
	// screen gets (style.css): "100%" at 24 units is about 56 wide.
	const w, hgt, left, right, top, bottom = 720, 300, 64, 16, 16, 40
	c := &chart{Caption: t("home.chart_caption"), W: w, H: hgt}
	if len(points) == 0 {
		c.Desc = t("home.chart_empty")
		return c
	}
	maxP := 0.0
	for _, p := range points {
		for _, f := range p.Figures {
			if f.Percent != nil && *f.Percent > maxP {
				maxP = *f.Percent
			}
		}
	}
	step, top100 := gridStep(maxP)
	maxP = top100
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	x := func(i int) float64 {
		if len(points) == 1 {
			return left
		}
		return left + float64(i)*float64(w-left-right)/float64(len(points)-1)
	}
	y := func(p float64) float64 { return top + (1-p/maxP)*float64(hgt-top-bottom) }
	for v := 0.0; v <= maxP+1e-9; v += step {
		c.Grid = append(c.Grid, gridLine{X1: f(left), Y1: f(y(v)), X2: f(w - right), Y2: f(y(v)), TX: "4", TY: f(y(v) + 5), Label: strconv.FormatFloat(v, 'f', -1, 64) + "%"})
	}
	// A year's label at its first of January; the first day's year only
	// when the next label is far enough not to overlap it.
	for i, p := range points {
		if strings.HasSuffix(p.Date, "-01-01") {
			c.Ticks = append(c.Ticks, gridLine{TX: f(x(i)), TY: f(hgt - 6), Label: p.Date[:4]})
		}
	}
	first := max(x(0), left+28)
	if len(c.Ticks) == 0 || c.Ticks[0].TX != "" && mustFloat(c.Ticks[0].TX)-first > 72 {
		c.Ticks = append([]gridLine{{TX: f(first), TY: f(hgt - 6), Label: points[0].Date[:4]}}, c.Ticks...)
	}
	for m, class := range []string{"line-share", "line-weighted"} {
		var b strings.Builder
		step := max(1, len(points)/360) // a point every few days is plenty at this width
		for i, p := range points {
			if i%step != 0 && i != len(points)-1 {
				continue
			}
			v := 0.0
			if p.Figures[m].Percent != nil {
				v = *p.Figures[m].Percent
			}
			fmt.Fprintf(&b, "%s,%s ", f(x(i)), f(y(v)))
		}
		c.Lines = append(c.Lines, chartLine{Label: h.methodName(q.lang, points[0].Figures[m].Method), Class: class, Points: strings.TrimSpace(b.String())})
	}
	last := points[len(points)-1]
	c.Desc = fmt.Sprintf(t("home.chart_desc"), points[0].Date, last.Date, pct(last.Figures[0].Percent), pct(last.Figures[1].Percent))
	return c
}

// gridStep picks the chart's horizontal grid: a round step (1, 2, 5, 10,
// 20, 25 or 50 percentage points) giving at most five intervals up to a
// top at or above maxP, and that top (at most 100).
func gridStep(maxP float64) (step, top float64) {
	for _, s := range []float64{1, 2, 5, 10, 20, 25, 50} {
		top = math.Ceil(maxP/s) * s
		if top == 0 {
			top = s
		}
		if top/s <= 5 {
			return s, math.Min(top, 100)
		}
	}
	return 20, 100
}

func mustFloat(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}
