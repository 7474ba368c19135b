package pages

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"promiseledger/domain"
)

//go:embed messages/*.json
var messageFiles embed.FS

// catalog holds every label, per language.
type catalog map[string]map[string]string

func loadCatalog() (catalog, error) {
	c := catalog{}
	for _, l := range languages {
		b, err := messageFiles.ReadFile("messages/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("pages: catalog %s: %w", l, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("pages: catalog %s: %w", l, err)
		}
		c[l] = m
	}
	return c, nil
}

// missingMark surrounds a key the catalog lacks, so tests find it in pages.
const missingMark = "⟦"

func (c catalog) t(lang, key string) string {
	if v, ok := c[lang][key]; ok {
		return v
	}
	return missingMark + key + "⟧"
}

// text picks a Text's language, falling back to the others when empty.
func text(t domain.Text, lang string) string {
	var v string
	switch lang {
	case "kk":
		v = t.KK
	case "ru":
		v = t.RU
	default:
		v = t.EN
	}
	for _, alt := range []string{t.RU, t.KK, t.EN} {
		if v == "" {
			v = alt
		}
	}
	return v
}

// pageData is everything a template shows: ready values only.
type pageData struct {
	cat  catalog
	Lang string

	Title string
	Lead  string

	Languages []langLink
	Nav       []navLink
	Permalink string
	Cite      string
	// CheckpointSize and CheckpointRoot name the checkpoint cited; the
	// browser tests read them from data attributes.
	CheckpointSize int64
	CheckpointRoot string
	ShowsAxes      bool
	AsOf, KnownAt  string
	// CSV: the page offers its Table as CSV at CSVURL.
	CSV    bool
	CSVURL string
	Table  *table

	// Error pages.
	Message string
	Fields  []string

	// User is who is signed in (the header's sign-out form); SignIn links
	// to the sign-in page when sessions are on and nobody is.
	User   *signedIn
	SignIn string
	// Forms are the write forms the signed-in reader may use here.
	Forms []pageForm

	Filters  *filterForm
	AxisForm *axisForm
	Chart    *chart
	Sections []section
}

// T is the label of key in the page's language.
func (d *pageData) T(key string) string { return d.cat.t(d.Lang, key) }

type langLink struct {
	Code, Name, URL string
	Current         bool
}

type navLink struct {
	Label, URL string
	// Current is the aria-current value: "page" on the section's own
	// page, "true" on a page inside that section, "" elsewhere.
	Current string
}

// section is one titled part of a page.
type section struct {
	ID       string
	Heading  string
	Paras    []string
	Facts    []fact
	Table    *table
	Timeline []timelineItem
	Code     []string
	Links    []navLink
}

type fact struct {
	Term, Value, URL string
	// Items, when set, are shown instead of Value: a short inline list of
	// links (the people of one role).
	Items []navLink
	// Nowrap keeps a date or time on one line.
	Nowrap bool
}

// table is a table with header cells; its text is also the CSV download.
type table struct {
	Caption string
	Header  []string
	Rows    [][]cell
	// CSVHeader, when set, replaces Header in the CSV (stable column names).
	CSVHeader []string
	csvRows   [][]string
}

type cell struct {
	Text  string
	URL   string
	Num   bool
	Badge string // a status class: done, overdue, cancelled...
	// Head marks the row's header cell (th scope=row).
	Head bool
	// Nowrap keeps a date or a period on one line.
	Nowrap bool
}

// headCell is a column header; Num aligns it with its numbers.
type headCell struct {
	Text string
	Num  bool
}

// Heads are the column headers, numeric where the column's cells are.
func (t *table) Heads() []headCell {
	out := make([]headCell, len(t.Header))
	for i, h := range t.Header {
		out[i].Text = h
		for _, r := range t.Rows {
			if i < len(r) && r[i].Num {
				out[i].Num = true
				break
			}
		}
	}
	return out
}

// csv returns the rows as text.
func (t *table) csv() ([]string, [][]string) {
	h := t.Header
	if t.CSVHeader != nil {
		h = t.CSVHeader
	}
	if t.csvRows != nil {
		return h, t.csvRows
	}
	rows := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		for _, c := range r {
			rows[i] = append(rows[i], c.Text)
		}
	}
	return h, rows
}

type timelineItem struct {
	Kind    string
	Badge   string
	EventID string
	// Pending: not yet in effect, or not yet recorded, on the chosen axes.
	Pending string
	Facts   []fact
}

type filterForm struct {
	Action  string
	Lang    string
	Q       string
	Selects []selectField
	Checks  []checkField
}

type selectField struct {
	Name, Label string
	Options     []option
}

type option struct {
	Value, Label string
	Selected     bool
}

type checkField struct {
	Name, Label string
	Checked     bool
}

type axisForm struct {
	Action   string
	Lang     string
	On       string
	Stood    bool
	Reported bool
	Reset    string
}

// Formatting helpers: the templates get strings.

func pct(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}

func num(f float64) string {
	// Six decimals, as the figures are rounded: the page shows the API's
	// numbers exactly.
	s := strconv.FormatFloat(f, 'f', 6, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

func numPtr(f *float64) string {
	if f == nil {
		return "—"
	}
	return num(*f)
}

func itoa(n int) string { return strconv.Itoa(n) }

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

var templateFuncs = template.FuncMap{}
