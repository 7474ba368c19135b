package pages_test

// The end-to-end test of the public pages in a real browser: the demo,
// served as `ledger serve` serves it (newEnv), driven by headless Chromium
// through chromedp. For every
// page in every language it checks the numbers against the JSON API's,
// that no label is left untranslated, and that axe-core finds no serious
// or critical accessibility violation; it saves screenshots at 1280 and
// 375 px wide. Then: the language switch by click (remembered in a
// cookie), a page with JavaScript disabled, and visible keyboard focus.
//
// It fails, never skips, without Chromium or axe-core, naming the command
// that installs them (.ci/run does).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"promiseledger/domain"
	"promiseledger/projections"
)

var browserLanguages = []string{"kk", "ru", "en"}

func TestPagesInBrowser(t *testing.T) {
	axe := axeSource(t) // both tools first: a missing one fails at once
	browser := newBrowser(t)
	shots := screenshotDir(t)
	e := newEnv(t)
	b := &browserRun{t: t, base: e.srv.URL, axe: axe, shots: shots, cat: loadTestCatalog(t)}
	b.requireCheckpoint()
	b.ctx = browser
	b.watchResponses(browser)
	if err := chromedp.Do(browser, call(network.Enable, network.EnableParams{}), call(runtime.Enable, cdp.Empty{})); err != nil {
		t.Fatal(err)
	}
	pages := b.pageCases()

	for _, lang := range browserLanguages {
		for _, pc := range pages {
			t.Run(lang+"/"+pc.name, func(t *testing.T) { b.visit(t, lang, pc) })
		}
	}
	t.Run("every resource loads and no script fails", func(t *testing.T) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, f := range b.failedResponses {
			t.Error(f)
		}
		for _, e := range b.exceptions {
			t.Errorf("uncaught script exception: %s", e)
		}
	})
	t.Run("language switch by click is remembered", b.languageSwitch)
	t.Run("the checks catch a page made to fail them", b.checksCatchDefects)
	t.Run("pages work without JavaScript", b.withoutJavaScript)
	t.Run("keyboard focus is visible", b.focusVisible)
	t.Run("layout at 375 px: margins, aligned numbers, scroll regions, readable chart", func(t *testing.T) {
		for _, pc := range pages {
			if pc.name == "home" || pc.name == "roadmap" || pc.name == "deputy" || pc.name == "measure" {
				b.checkLayout(t, pc)
			}
		}
	})
}

// layoutJS measures what the review of the screenshots found wrong.
const layoutJS = `(() => {
  const out = [];
  const nav = document.querySelector('.site-nav a');
  if (nav && nav.getBoundingClientRect().left < 8) out.push('the main navigation touches the left edge (x=' + nav.getBoundingClientRect().left + ')');
  for (const tb of document.querySelectorAll('table')) {
    const heads = [...tb.querySelectorAll('thead th')];
    for (const tr of tb.querySelectorAll('tbody tr')) {
      [...tr.children].forEach((c, i) => {
        if (c.classList.contains('num') && heads[i] && getComputedStyle(heads[i]).textAlign !== 'right')
          out.push('column "' + heads[i].innerText + '" holds right-aligned numbers under a header aligned ' + getComputedStyle(heads[i]).textAlign);
        if (/^\d{4}-\d{2}-\d{2}/.test(c.innerText.trim()) && getComputedStyle(c).whiteSpace !== 'nowrap')
          out.push('date "' + c.innerText.trim() + '" may break mid-date');
      });
    }
    const wrap = tb.closest('.table-wrap');
    if (!wrap || wrap.getAttribute('role') !== 'region' || wrap.getAttribute('tabindex') !== '0' || !wrap.getAttribute('aria-label'))
      out.push('table "' + (tb.caption ? tb.caption.innerText : '') + '" is not in a focusable, labelled scroll region');
    else if (wrap.scrollWidth > wrap.clientWidth && getComputedStyle(wrap).backgroundImage === 'none')
      out.push('table "' + wrap.getAttribute('aria-label') + '" scrolls sideways without a cue');
  }
  for (const c of document.querySelectorAll('.table-caption, caption')) {
    const r = c.getBoundingClientRect();
    if (r.width > 2 && (r.right > innerWidth + 1 || c.scrollWidth > c.clientWidth + 1)) out.push('caption "' + c.innerText + '" is cut off');
  }
  for (const l of document.querySelectorAll('.chart .axis-label')) {
    const h = l.getBoundingClientRect().height;
    if (h < 10) { out.push('chart label "' + l.textContent + '" is ' + h.toFixed(1) + ' px high'); break; }
  }
  return [...new Set(out)].slice(0, 12);
})()`

// checkLayout opens a page in Kazakh at 375 px and reports the layout
// defects layoutJS finds.
func (b *browserRun) checkLayout(t *testing.T, pc pageCase) {
	t.Helper()
	path := pc.path
	if pc.pathIn != nil {
		path = pc.pathIn("kk")
	}
	if err := chromedp.Do(b.ctx, viewport(375, 812), chromedp.Navigate(b.pageURL(path, "kk"))); err != nil {
		t.Fatal(err)
	}
	problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](layoutJS))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s at 375 px: %s", pc.name, p)
	}
}

// browserRun is the state shared by the subtests: one browser tab, reused.
type browserRun struct {
	t     *testing.T
	ctx   context.Context
	base  string
	axe   string
	shots string
	cat   map[string]map[string]string

	mu              sync.Mutex
	failedResponses []string
	exceptions      []string
}

// pageCase is one page: its path (without lang) and what its numbers must
// equal in the JSON API.
type pageCase struct {
	name string
	path string
	// pathIn, when set, is the path in a language (a search typed in it).
	pathIn func(lang string) string
	check  func(t *testing.T, lang string, v *pageView)
}

// pageView is what a page shows, read from the DOM after it loaded.
type pageView struct {
	Lang   string      `json:"lang"`
	H1     string      `json:"h1"`
	Body   string      `json:"body"`
	Labels []string    `json:"labels"`
	Tables []viewTable `json:"tables"`
	Facts  [][2]string `json:"facts"`
	Data   []dataElem  `json:"data"`
	Events []string    `json:"events"`
	Prose  string      `json:"prose"`
	Wide   int         `json:"scrollWidth"`
}

type viewTable struct {
	Caption string     `json:"caption"`
	Header  []string   `json:"header"`
	Rows    [][]string `json:"rows"`
	// Links are the path of each row's first link.
	Links []string `json:"links"`
}

type dataElem struct {
	Tag  string            `json:"tag"`
	Data map[string]string `json:"data"`
	Text string            `json:"text"`
}

// readPageJS reads the page as a person sees it: the text of tables
// (caption, column headers, rows), of definition lists, of every label-like
// element, and the elements marked with data-* attributes.
const readPageJS = `(() => {
  const txt = el => (el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim();
  const labelSel = 'h1,h2,h3,h4,th,caption,label,legend,dt,button,summary,option,nav a,figcaption,.badge,.legend li';
  // An element marked as another language (a language's own name in the
  // switch) is not a label of this page's language.
  const own = el => { const l = el.closest('[lang]'); return !l || l.lang === document.documentElement.lang; };
  const labels = [...document.querySelectorAll(labelSel)].filter(own).map(txt);
  for (const el of [...document.querySelectorAll('[aria-label],[title],[placeholder],[alt],input[type=submit]')].filter(own)) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'value']) {
      if (el.hasAttribute(a) && (a !== 'value' || el.type === 'submit')) labels.push(el.getAttribute(a).trim());
    }
  }
  return {
    lang: document.documentElement.lang,
    h1: document.querySelector('h1') ? txt(document.querySelector('h1')) : '',
    body: document.body ? document.body.innerText : '',
    labels,
    tables: [...document.querySelectorAll('table')].map(tb => ({
      caption: tb.caption ? txt(tb.caption) : '',
      header: [...tb.querySelectorAll('thead th')].map(txt),
      rows: [...tb.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(txt)),
      links: [...tb.querySelectorAll('tbody tr')].map(tr => { const a = tr.querySelector('a[href]'); return a ? new URL(a.href).pathname : ''; }),
    })),
    facts: [...document.querySelectorAll('dt')].map(dt => [txt(dt), dt.nextElementSibling ? txt(dt.nextElementSibling) : '']),
    data: [...document.querySelectorAll('*')].filter(e => Object.keys(e.dataset).length > 0)
      .map(e => ({tag: e.tagName.toLowerCase(), data: Object.assign({}, e.dataset), text: txt(e)})),
    events: [...document.querySelectorAll('li[id^="e-"]')].map(e => e.id.slice(2)),
    prose: (() => {
      // The text a person reads as sentences: not code, not a URL shown
      // as a link's text, not a part marked as another language.
      const out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n; (n = w.nextNode());) {
        const el = n.parentElement;
        if (!el || el.closest('pre,code,script,style,[translate=no]') || !own(el)) continue;
        out.push(n.nodeValue);
      }
      return out.join(' ');
    })(),
    scrollWidth: document.documentElement.scrollWidth,
  };
})()`

// visit loads one page in one language and runs every check on it.
func (b *browserRun) visit(t *testing.T, lang string, pc pageCase) {
	path := pc.path
	if pc.pathIn != nil {
		path = pc.pathIn(lang)
	}
	addr := b.pageURL(path, lang)
	start := time.Now()
	resp, err := chromedp.RunResponse(b.ctx, viewport(1280, 900), chromedp.Navigate(addr))
	if err != nil {
		t.Fatalf("load %s: %v", addr, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("GET %s in Chromium: status %d, want 200", addr, resp.Status)
	}
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[pageView](readPageJS))
	if err != nil {
		t.Fatalf("read %s: %v", addr, err)
	}
	if v.Lang != lang {
		t.Errorf("%s: <html lang=%q>, want %q", addr, v.Lang, lang)
	}
	if v.H1 == "" {
		t.Errorf("%s: no <h1> text", addr)
	}
	b.checkTranslated(t, lang, &v)
	b.checkCitedCheckpoint(t, &v)
	if pc.check != nil {
		pc.check(t, lang, &v)
	}
	loaded := time.Since(start)
	start = time.Now()
	b.checkAxe(t, addr)
	axed := time.Since(start)
	start = time.Now()
	b.screenshot(t, lang+"-"+pc.name+"-1280.png")

	if err := chromedp.Do(b.ctx, viewport(375, 812)); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	// Wide tables scroll inside their own region; the page itself must not.
	if wide > 375 {
		t.Errorf("%s at 375 px: the page is %d px wide and scrolls sideways", addr, wide)
	}
	b.screenshot(t, lang+"-"+pc.name+"-375.png")
	t.Logf("%s: loaded and read in %s, axe-core %s, screenshots %s", addr, loaded.Round(time.Millisecond), axed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

func (b *browserRun) pageURL(path, lang string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return b.base + path + sep + "lang=" + lang
}

func (b *browserRun) screenshot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// watchResponses records every response of 400 or more (a missing
// stylesheet, a broken icon) and every uncaught script exception.
func (b *browserRun) watchResponses(ctx context.Context) {
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 && strings.HasPrefix(e.Response.URL, b.base) {
				b.mu.Lock()
				b.failedResponses = append(b.failedResponses, fmt.Sprintf("%s: status %d", e.Response.URL, e.Response.Status))
				b.mu.Unlock()
			}
		case *runtime.EventExceptionThrown:
			b.mu.Lock()
			b.exceptions = append(b.exceptions, fmt.Sprintf("%s (%s:%d)", e.ExceptionDetails.Text, e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber))
			b.mu.Unlock()
		}
	})
	if err != nil {
		b.t.Fatal(err)
	}
}

// call is an action that sends one protocol command.
func call[P any](cmd cdp.Command[P, cdp.Empty], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
}

// viewport sets the page's width and height in CSS pixels.
func viewport(w, h int64) chromedp.Action[chromedp.Void] {
	return call(emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: 1})
}

// --- untranslated labels -------------------------------------------------

func loadTestCatalog(t *testing.T) map[string]map[string]string {
	t.Helper()
	cat := map[string]map[string]string{}
	for _, lang := range browserLanguages {
		raw, err := os.ReadFile(filepath.Join("messages", lang+".json"))
		if err != nil {
			t.Fatalf("the pages' message catalog: %v", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("messages/%s.json: %v", lang, err)
		}
		cat[lang] = m
	}
	return cat
}

// t is a label in a language, from the pages' own catalog.
func (b *browserRun) label(lang, key string) string {
	v, ok := b.cat[lang][key]
	if !ok {
		b.t.Fatalf("the catalog has no %q in %s: the browser test reads the page by this label", key, lang)
	}
	return v
}

var formatVerb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// checkTranslated fails on a catalog key shown instead of its label, and,
// on kk and ru pages, on any English catalog label whose translation
// differs: as a whole label (heading, column, term, button, aria-label),
// or, for sentences, anywhere in the text.
func (b *browserRun) checkTranslated(t *testing.T, lang string, v *pageView) {
	t.Helper()
	b.translationProblems(v, lang, t.Errorf)
}

func (b *browserRun) translationProblems(v *pageView, lang string, report func(format string, args ...any)) {
	if i := strings.Index(v.Body, "⟦"); i >= 0 {
		report("a label is missing from the %s catalog: %q", lang, excerpt(v.Body, i))
	}
	if lang == "en" {
		return
	}
	for key, en := range b.cat["en"] {
		if b.cat[lang][key] == en || !hasLatinWord(en) {
			continue // the same in both languages (a name, "CSV")
		}
		if !strings.Contains(en, "%") && slices.Contains(v.Labels, en) {
			report("untranslated label on the %s page: %q (catalog key %s)", lang, en, key)
			continue
		}
		for _, frag := range formatVerb.Split(en, -1) {
			frag = strings.TrimSpace(frag)
			if len(frag) >= 16 && strings.Count(frag, " ") >= 2 && strings.Contains(v.Prose, frag) {
				report("untranslated text on the %s page: %q (catalog key %s)", lang, frag, key)
				break
			}
		}
	}
	// Text that comes from elsewhere than the catalog (a reason the domain
	// wrote in English) shows as a run of English words.
	for _, m := range englishRun.FindAllString(v.Prose, 5) {
		report("English text on the %s page: %q", lang, m)
	}
}

// englishRun is four or more Latin-script words in a row: a phrase, not an
// id, a code or a name.
var englishRun = regexp.MustCompile(`[A-Za-z]{2,}(?:'[a-z]+)?(?:[ ,]+[A-Za-z]{2,}(?:'[a-z]+)?){3,}`)

var latinWord = regexp.MustCompile(`[A-Za-z]{3,}`)

func hasLatinWord(s string) bool { return latinWord.MatchString(formatVerb.ReplaceAllString(s, "")) }

func excerpt(s string, i int) string {
	from, to := max(0, i-40), min(len(s), i+80)
	return s[from:to]
}

// --- the cited checkpoint --------------------------------------------------

// requireCheckpoint makes sure the demo's log has a signed checkpoint
// (newEnv signs one before serving), so every page cites it.
func (b *browserRun) requireCheckpoint() {
	resp, err := http.Get(b.base + "/v1/audit/checkpoint")
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET /v1/audit/checkpoint: %d: no signed checkpoint for the pages to cite", resp.StatusCode)
	}
}

// checkCitedCheckpoint: the "cite this" line names the log's latest
// checkpoint, as GET /v1/audit/checkpoint serves it.
func (b *browserRun) checkCitedCheckpoint(t *testing.T, v *pageView) {
	t.Helper()
	size, root := b.checkpoint(t)
	for _, d := range v.Data {
		if s, ok := d.Data["checkpointSize"]; ok {
			if s != size || d.Data["checkpointRoot"] != root {
				t.Errorf("the page cites checkpoint %s %s, the API's latest is %s %s", s, d.Data["checkpointRoot"], size, root)
			}
			return
		}
	}
	t.Error("the page cites no checkpoint (no element with data-checkpoint-size)")
}

// checkpoint reads the latest checkpoint note: origin, tree size, root.
func (b *browserRun) checkpoint(t *testing.T) (size, root string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+"/v1/audit/checkpoint", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	lines := strings.Split(string(body), "\n")
	if resp.StatusCode != http.StatusOK || len(lines) < 3 {
		t.Fatalf("GET /v1/audit/checkpoint: %d %q", resp.StatusCode, body)
	}
	return lines[1], lines[2]
}

// --- axe-core ----------------------------------------------------------------

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	URL    string `json:"helpUrl"`
	Nodes  []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

const runAxeJS = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), html: n.html.slice(0, 240), summary: n.failureSummary}))})))`

// checkAxe runs axe-core's rules (WCAG 2.1 A and AA, and best practice)
// on the loaded page and fails on any serious or critical violation,
// printing each with the elements it found.
func (b *browserRun) checkAxe(t *testing.T, addr string) {
	t.Helper()
	for _, v := range b.axeViolations(t, addr) {
		var s strings.Builder
		fmt.Fprintf(&s, "axe-core: %s violation %q on %s: %s (%s)", v.Impact, v.ID, addr, v.Help, v.URL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&s, "\n\t%s\n\t\t%s\n\t\t%s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n\t\t"))
		}
		t.Error(s.String())
	}
}

// axeViolations runs axe-core on the loaded page: its serious and
// critical violations.
func (b *browserRun) axeViolations(t *testing.T, addr string) []axeViolation {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
		t.Fatalf("inject axe-core into %s: %v", addr, err)
	}
	violations, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]axeViolation](runAxeJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core on %s: %v", addr, err)
	}
	return violations
}

// checksCatchDefects runs the checks on pages made to break them, so a
// check that cannot fail does not pass for one that works.
func (b *browserRun) checksCatchDefects(t *testing.T) {
	const broken = `<!DOCTYPE html><html lang="kk"><head><title>x</title></head><body><main>
<h1>Жол карталары</h1><img src="/nothing.png"><p style="color:#eee;background:#fff">Roadmaps and their measures, as reported</p>
<table><caption>Roadmaps</caption><thead><tr><th>Percent</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table></main></body></html>`
	if err := chromedp.Do(b.ctx, chromedp.Navigate("data:text/html;charset=utf-8,"+url.PathEscape(broken))); err != nil {
		t.Fatalf("load the broken page: %v", err)
	}
	found := map[string]bool{}
	for _, v := range b.axeViolations(t, "the broken page") {
		found[v.ID] = true
	}
	for _, id := range []string{"image-alt", "color-contrast"} {
		if !found[id] {
			t.Errorf("axe-core did not report %s on a page made to break it; it reported %v", id, found)
		}
	}
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[pageView](readPageJS))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	b.translationProblems(&v, "kk", func(format string, args ...any) { msgs = append(msgs, fmt.Sprintf(format, args...)) })
	for _, want := range []string{`untranslated label on the kk page: "Roadmaps"`, `English text on the kk page: "Roadmaps and their measures`} {
		if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, want) }) {
			t.Errorf("the translation check did not report %s; it reported %q", want, msgs)
		}
	}
}

// --- the JSON API --------------------------------------------------------------

func (b *browserRun) apiJSON(t *testing.T, path string, into any) {
	t.Helper()
	resp, err := http.Get(b.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

type figuresJSON struct {
	Figures []projections.Figure `json:"figures"`
}

type roadmapJSON struct {
	Roadmap        projections.RoadmapSummary     `json:"roadmap"`
	Indicators     []projections.IndicatorSummary `json:"indicators"`
	Figures        []projections.Figure           `json:"figures"`
	TerritoryChain []struct {
		Territory projections.TerritoryInfo `json:"territory"`
		Figures   []projections.Figure      `json:"figures"`
	} `json:"territory_chain"`
}

type ratingJSON struct {
	Method  string                       `json:"method"`
	Version int                          `json:"version"`
	Current projections.DeputyRatingView `json:"current"`
}

type historyJSON struct {
	Events []struct {
		EventID string `json:"event_id"`
	} `json:"items"`
}

// pageCases picks the demo's pages: a regional roadmap with a rated
// responsible deputy, its measure with the longest history, a council.
func (b *browserRun) pageCases() []pageCase {
	t := b.t
	var list struct {
		Items []projections.RoadmapSummary `json:"items"`
	}
	b.apiJSON(t, "/v1/roadmaps?level=regional&limit=50", &list)
	var rm roadmapJSON
	deputy := ""
	for _, it := range list.Items {
		for _, p := range it.Responsibles {
			if p.Role != domain.RoleDeputy || deputy != "" {
				continue
			}
			resp, err := http.Get(b.base + "/v1/deputies/" + url.PathEscape(p.PersonID) + "/rating")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					deputy = p.PersonID
					b.apiJSON(t, "/v1/roadmaps/"+it.ID, &rm)
				}
			}
		}
	}
	if deputy == "" {
		t.Fatal("the demo has no regional roadmap whose responsible deputy is rated: a deputy's page cannot show both")
	}
	if len(rm.Indicators) == 0 {
		t.Fatalf("roadmap %s has no measures", rm.Roadmap.ID)
	}
	measure := slices.MaxFunc(rm.Indicators, func(a, b projections.IndicatorSummary) int {
		return (a.ReportCount + a.CorrectionCount) - (b.ReportCount + b.CorrectionCount)
	}).ID
	var councils struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	b.apiJSON(t, "/v1/councils?limit=1", &councils)
	if len(councils.Items) == 0 {
		t.Fatal("the demo has no public council")
	}
	council := councils.Items[0].ID

	return []pageCase{
		{name: "home", path: "/", check: b.checkHome},
		// The list searched as a person types in each language; the whole
		// list (217 rows) costs axe-core and the screenshots a minute
		// each, and the HTTP tests and crawl cover it.
		{name: "roadmaps", pathIn: func(lang string) string { return "/roadmaps?q=" + url.QueryEscape(akmolaSearch[lang]) }, check: b.checkRoadmapList},
		{name: "roadmap", path: "/roadmaps/" + rm.Roadmap.ID, check: b.checkRoadmap(rm.Roadmap.ID)},
		{name: "measure", path: "/measures/" + measure, check: b.checkMeasure(measure)},
		{name: "deputy", path: "/deputies/" + deputy, check: b.checkDeputy(deputy)},
		{name: "councils", path: "/councils"},
		{name: "council", path: "/councils/" + council},
		{name: "overdue", path: "/recommendations/overdue"},
		{name: "state-bodies", path: "/state-bodies"},
		{name: "audit", path: "/audit"},
		{name: "methods", path: "/methods"},
	}
}

// --- numbers shown versus the API's ----------------------------------------------

// table finds a table by its caption (a catalog label).
func (v *pageView) table(t *testing.T, caption string) *viewTable {
	t.Helper()
	for i := range v.Tables {
		if v.Tables[i].Caption == caption {
			return &v.Tables[i]
		}
	}
	var seen []string
	for _, tb := range v.Tables {
		seen = append(seen, tb.Caption)
	}
	t.Fatalf("no table captioned %q; the page's tables: %q", caption, seen)
	return nil
}

// column is the index of the column headed label.
func (tb *viewTable) column(t *testing.T, label string) int {
	t.Helper()
	i := slices.Index(tb.Header, label)
	if i < 0 {
		t.Fatalf("table %q has no column %q; its columns: %q", tb.Caption, label, tb.Header)
	}
	return i
}

// rowsHeaded are the rows whose header cell reads head, in order.
func (tb *viewTable) rowsHeaded(head string) [][]string {
	var out [][]string
	for _, r := range tb.Rows {
		if len(r) > 0 && r[0] == head {
			out = append(out, r)
		}
	}
	return out
}

func (v *pageView) fact(t *testing.T, term string) string {
	t.Helper()
	for _, f := range v.Facts {
		if f[0] == term {
			return f[1]
		}
	}
	t.Fatalf("the page has no %q among its facts", term)
	return ""
}

// sameNumber reports whether shown (as the page prints it, in any
// language's notation) equals want within the precision shown. A nil want
// must be shown as a dash.
func sameNumber(shown string, want *float64) bool {
	shown = strings.TrimSpace(shown)
	if want == nil {
		return shown == "—" || shown == "-" || shown == ""
	}
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009', '%':
			return -1
		case ',':
			return '.'
		case '−':
			return '-'
		}
		return r
	}, shown)
	if i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789.-", r) }); i >= 0 {
		s = s[:i] // a unit after the number
	}
	got, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return false
	}
	decimals := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		decimals = len(s) - i - 1
	}
	return math.Abs(got-*want) <= 0.5*math.Pow(10, -float64(decimals))+1e-9
}

func f64(v float64) *float64 { return &v }

func fint(n int) *float64 { return f64(float64(n)) }

// checkFigureRows compares a figures table's rows headed head with the
// API's figures, in order: percent, numerator, denominator and counts.
func (b *browserRun) checkFigureRows(t *testing.T, lang string, tb *viewTable, head string, figs []projections.Figure) {
	t.Helper()
	rows := tb.rowsHeaded(head)
	if len(rows) != len(figs) {
		t.Errorf("table %q shows %d rows for %q, the API has %d figures", tb.Caption, len(rows), head, len(figs))
		return
	}
	cols := []struct {
		key  string
		want func(projections.Figure) *float64
	}{
		{"col.percent", func(f projections.Figure) *float64 { return f.Percent }},
		{"col.numerator", func(f projections.Figure) *float64 { return f64(f.Numerator) }},
		{"col.denominator", func(f projections.Figure) *float64 { return f64(f.Denominator) }},
		{"col.roadmaps", func(f projections.Figure) *float64 { return fint(f.Roadmaps) }},
		{"col.measures", func(f projections.Figure) *float64 { return fint(f.Measures) }},
		{"col.done", func(f projections.Figure) *float64 { return fint(f.Done) }},
		{"col.cancelled", func(f projections.Figure) *float64 { return fint(f.Cancelled) }},
	}
	for i, f := range figs {
		for _, c := range cols {
			label := b.label(lang, c.key)
			shown := rows[i][tb.column(t, label)]
			if want := c.want(f); !sameNumber(shown, want) {
				t.Errorf("%q, %s (%s v%d): %q shows %q, the API says %s", tb.Caption, head, f.Method, f.MethodVersion, label, shown, show(want))
			}
		}
	}
}

func show(p *float64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// textIn picks a Text's language as the pages do: the language asked
// for, else Russian, Kazakh, English.
func textIn(tx domain.Text, lang string) string {
	v := map[string]string{"kk": tx.KK, "ru": tx.RU, "en": tx.EN}[lang]
	for _, alt := range []string{tx.RU, tx.KK, tx.EN} {
		if v == "" {
			v = alt
		}
	}
	return v
}

// checkHome: the republic's and each level's figures, as GET /v1/figures.
func (b *browserRun) checkHome(t *testing.T, lang string, v *pageView) {
	tb := v.table(t, b.label(lang, "home.figures_caption"))
	for _, s := range []struct{ key, query string }{
		{"scope.all", "scope=all"},
		{"scope.republican", "scope=level&id=republican"},
		{"scope.regional", "scope=level&id=regional"},
	} {
		var api figuresJSON
		b.apiJSON(t, "/v1/figures?"+s.query, &api)
		b.checkFigureRows(t, lang, tb, b.label(lang, s.key), api.Figures)
	}
}

// akmolaSearch is the start of Akmola's name as typed in each language;
// each must find the region's roadmaps (KATO 110000000), and only them.
var akmolaSearch = map[string]string{"kk": "Ақмол", "ru": "Акмол", "en": "Akmol"}

// checkRoadmapList: the search finds the roadmaps GET
// /v1/roadmaps?within=110000000 lists, each with its measure counts.
func (b *browserRun) checkRoadmapList(t *testing.T, lang string, v *pageView) {
	var api struct {
		Items []projections.RoadmapSummary `json:"items"`
	}
	b.apiJSON(t, "/v1/roadmaps?within=110000000&limit=500", &api)
	if len(api.Items) == 0 {
		t.Fatal("the demo has no roadmap in Akmola region")
	}
	tb := v.table(t, b.label(lang, "roadmaps.caption"))
	if len(tb.Rows) != len(api.Items) {
		t.Errorf("searching %q finds %d roadmaps; Akmola region has %d", akmolaSearch[lang], len(tb.Rows), len(api.Items))
	}
	measures, done := tb.column(t, b.label(lang, "col.measures")), tb.column(t, b.label(lang, "col.done"))
	byPath := map[string]projections.RoadmapSummary{}
	for _, rm := range api.Items {
		byPath["/roadmaps/"+rm.ID] = rm
	}
	for i, r := range tb.Rows {
		rm, ok := byPath[tb.Links[i]]
		if !ok {
			t.Errorf("searching %q finds roadmap %q (%s), not in Akmola region", akmolaSearch[lang], r[0], tb.Links[i])
			continue
		}
		if r[0] != textIn(rm.Title, lang) {
			t.Errorf("roadmap %s: the list shows %q, the API %q", rm.ID, r[0], textIn(rm.Title, lang))
		}
		if !sameNumber(r[measures], fint(rm.Measures)) || !sameNumber(r[done], fint(rm.Done)) {
			t.Errorf("roadmap %q: the list shows %s measures, %s done; the API %d, %d", r[0], r[measures], r[done], rm.Measures, rm.Done)
		}
	}
}

// checkRoadmap: its figures beside its territories', and each measure's
// latest reading, as GET /v1/roadmaps/{id}.
func (b *browserRun) checkRoadmap(id string) func(*testing.T, string, *pageView) {
	return func(t *testing.T, lang string, v *pageView) {
		var api roadmapJSON
		b.apiJSON(t, "/v1/roadmaps/"+id, &api)
		if v.H1 != textIn(api.Roadmap.Title, lang) {
			t.Errorf("heading %q, the roadmap's title is %q", v.H1, textIn(api.Roadmap.Title, lang))
		}
		figs := v.table(t, b.label(lang, "roadmap.figures_caption"))
		b.checkFigureRows(t, lang, figs, b.label(lang, "roadmap.this"), api.Figures)
		for _, c := range api.TerritoryChain {
			b.checkFigureRows(t, lang, figs, textIn(c.Territory.Name, lang), c.Figures)
		}
		ms := v.table(t, b.label(lang, "roadmap.measures_caption"))
		if len(ms.Rows) != len(api.Indicators) {
			t.Fatalf("the page lists %d measures, the API %d", len(ms.Rows), len(api.Indicators))
		}
		latest := ms.column(t, b.label(lang, "col.latest"))
		for i, m := range api.Indicators {
			r := ms.Rows[i]
			if r[0] != textIn(m.Title, lang) {
				t.Errorf("measure %d: the page shows %q, the API %q", i+1, r[0], textIn(m.Title, lang))
			}
			if !sameNumber(r[latest], m.LatestValue) {
				t.Errorf("measure %q: latest reading %q, the API %s", r[0], r[latest], show(m.LatestValue))
			}
		}
	}
}

// checkMeasure: its state as GET /v1/indicators/{id}, and one timeline
// entry per event of GET /v1/indicators/{id}/history.
func (b *browserRun) checkMeasure(id string) func(*testing.T, string, *pageView) {
	return func(t *testing.T, lang string, v *pageView) {
		var m projections.IndicatorSummary
		b.apiJSON(t, "/v1/indicators/"+id, &m)
		if v.H1 != textIn(m.Title, lang) {
			t.Errorf("heading %q, the measure's title is %q", v.H1, textIn(m.Title, lang))
		}
		if m.Kind == domain.KindNumeric {
			if got := v.fact(t, b.label(lang, "col.latest")); !sameNumber(got, m.LatestValue) {
				t.Errorf("latest reading %q, the API %s", got, show(m.LatestValue))
			}
		}
		if got := v.fact(t, b.label(lang, "col.weight")); !sameNumber(got, f64(m.Weight)) {
			t.Errorf("weight %q, the API %g", got, m.Weight)
		}
		if got := v.fact(t, b.label(lang, "col.deadline")); got != m.Deadline.String() {
			t.Errorf("deadline %q, the API %s", got, m.Deadline)
		}
		var h historyJSON
		b.apiJSON(t, "/v1/indicators/"+id+"/history", &h)
		var want []string
		for _, e := range h.Events {
			want = append(want, e.EventID)
		}
		slices.Sort(want)
		got := slices.Sorted(slices.Values(v.Events))
		if !slices.Equal(got, want) {
			t.Errorf("the timeline shows events %v, the history API %v", got, want)
		}
	}
}

// checkDeputy: score, ranks and each component as GET
// /v1/deputies/{id}/rating.
func (b *browserRun) checkDeputy(id string) func(*testing.T, string, *pageView) {
	return func(t *testing.T, lang string, v *pageView) {
		var api ratingJSON
		b.apiJSON(t, "/v1/deputies/"+url.PathEscape(id)+"/rating", &api)
		cur := api.Current
		if got := v.fact(t, b.label(lang, "col.score")); !sameNumber(got, cur.Score) {
			t.Errorf("score %q, the API %s", got, show(cur.Score))
		}
		for _, r := range []struct {
			key  string
			rank *int
			of   int
		}{
			{"col.rank_assembly", cur.RankAssembly, cur.AssemblyRated},
			{"col.rank_level", cur.RankLevel, cur.LevelRated},
		} {
			want := "—"
			if r.rank != nil {
				want = fmt.Sprintf("%d / %d", *r.rank, r.of)
			}
			if got := v.fact(t, b.label(lang, r.key)); strings.Join(strings.Fields(got), " ") != want {
				t.Errorf("%s %q, the API %s", b.label(lang, r.key), got, want)
			}
		}
		tb := v.table(t, b.label(lang, "deputy.components_caption"))
		if len(tb.Rows) != len(cur.Components) {
			t.Fatalf("the page shows %d rating components, the API %d", len(tb.Rows), len(cur.Components))
		}
		for i, c := range cur.Components {
			for _, col := range []struct {
				key  string
				want float64
			}{{"col.weight", c.Weight}, {"col.raw", c.Raw}, {"col.normalized", c.Normalized}, {"col.points", c.Points}} {
				label := b.label(lang, col.key)
				if got := tb.Rows[i][tb.column(t, label)]; !sameNumber(got, f64(col.want)) {
					t.Errorf("component %s: %s %q, the API %g", c.Key, label, got, col.want)
				}
			}
		}
	}
}

// --- behaviour ------------------------------------------------------------------

// languageSwitch: with no choice made, the page follows Accept-Language
// (Chromium's: English); a click on the switch changes the language, and
// the next page without ?lang= keeps it (the cookie).
func (b *browserRun) languageSwitch(t *testing.T) {
	ctx := b.ctx
	htmlLang := func() string {
		l, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if err := chromedp.Do(ctx, call(network.ClearBrowserCookies, cdp.Empty{}), viewport(1280, 900),
		chromedp.Navigate(b.base+"/")); err != nil {
		t.Fatal(err)
	}
	if l := htmlLang(); l != "en" {
		t.Errorf("with Accept-Language en-US and no cookie, the home page is in %q", l)
	}
	for _, lang := range []string{"kk", "ru"} {
		// RunResponse waits for the navigation the click starts.
		_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`a[hreflang="`+lang+`"]`), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("click the %s link of the language switch: %v", lang, err)
		}
		if l := htmlLang(); l != lang {
			t.Fatalf("a click on %s in the language switch shows a page in %q", lang, l)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(b.base+"/methods")); err != nil {
			t.Fatal(err)
		}
		if l := htmlLang(); l != lang {
			t.Errorf("after choosing %s by click, /methods without ?lang= is in %q: the choice is not remembered", lang, l)
		}
	}
	if err := chromedp.Do(ctx, call(network.ClearBrowserCookies, cdp.Empty{})); err != nil {
		t.Fatal(err)
	}
}

// withoutJavaScript: a page with its figures table and its chart, in a
// tab where scripts do not run.
func (b *browserRun) withoutJavaScript(t *testing.T) {
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	err := chromedp.Do(tab,
		call(emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}),
		chromedp.Navigate(b.pageURL("/", "ru")),
	)
	if err != nil {
		t.Fatal(err)
	}
	mainHTML, err := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1", "<table", "<svg", b.label("ru", "home.figures_caption")} {
		if !strings.Contains(mainHTML, want) {
			t.Errorf("with JavaScript disabled the home page's main content lacks %q", want)
		}
	}
}

// focusVisible: the first Tab focuses a link that is on screen and drawn
// with an outline (or a box shadow).
func (b *browserRun) focusVisible(t *testing.T) {
	type focused struct {
		Tag, Text, Outline, OutlineWidth, Shadow string
		Visible                                  bool
	}
	if err := chromedp.Do(b.ctx, viewport(1280, 900), chromedp.Navigate(b.pageURL("/", "kk")), chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	focus, err := chromedp.Run(b.ctx, chromedp.Evaluate[focused](`(() => {
  const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {Tag: e.tagName, Text: e.innerText, Outline: s.outlineStyle, OutlineWidth: s.outlineWidth, Shadow: s.boxShadow,
    Visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth};
})()`))
	if err != nil {
		t.Fatal(err)
	}
	if focus.Tag != "A" {
		t.Fatalf("the first Tab focuses a <%s> (%q), want the first link", focus.Tag, focus.Text)
	}
	outlined := focus.Outline != "none" && focus.OutlineWidth != "0px"
	if !outlined && (focus.Shadow == "" || focus.Shadow == "none") {
		t.Errorf("the focused link %q has no visible focus indicator: outline %s %s, box-shadow %s", focus.Text, focus.Outline, focus.OutlineWidth, focus.Shadow)
	}
	if !focus.Visible {
		t.Errorf("the focused link %q is not on screen", focus.Text)
	}
}

// TestSameNumberReadsNumbersAsPagesPrintThem guards the browser test's
// comparison: equal within the precision shown, in any notation, and a
// dash only for no number.
func TestSameNumberReadsNumbersAsPagesPrintThem(t *testing.T) {
	for _, c := range []struct {
		shown string
		want  *float64
		same  bool
	}{
		{"59.85", f64(59.8473), true},
		{"59.85", f64(59.8449), false},
		{"59,85 %", f64(59.85), true},
		{"1 234", f64(1234), true},
		{"262.2954", f64(262.29541), true},
		{"24", f64(25), false},
		{"43 шақырым", f64(43), true},
		{"—", nil, true},
		{"0", nil, false},
		{"—", f64(0), false},
	} {
		if got := sameNumber(c.shown, c.want); got != c.same {
			t.Errorf("sameNumber(%q, %s) = %v, want %v", c.shown, show(c.want), got, c.same)
		}
	}
}

// TestFormsInBrowser signs in as each role in Chromium and writes through
// the pages' forms (writeEnv: sessions on, projectors running): an
// officer's report with a field error first, then a good one, seen at once
// in the measure's history and then in the audit feed; an administrator
// cancels a measure; a council member and a deputy see no officer form.
// It saves the form with its error and the history after success.
func TestFormsInBrowser(t *testing.T) {
	e := newWriteEnv(t)
	browser := newBrowser(t)
	// Every step gets a minute: a missing element fails the test instead
	// of hanging it.
	step := func() (context.Context, context.CancelFunc) { return context.WithTimeout(browser, time.Minute) }
	shots := screenshotDir(t)
	reported := e.newIndicator(t, domain.KindNumeric)
	cancelled := e.newIndicator(t, domain.KindMilestone)
	cat := loadTestCatalog(t)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := step()
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shoot := func(sel, name string) {
		t.Helper()
		ctx, cancel := step()
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	absent := func(sel string) bool {
		t.Helper()
		ctx, cancel := step()
		defer cancel()
		gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`) === null`))
		if err != nil {
			t.Fatal(err)
		}
		return gone
	}
	submit := func(what, form string) {
		t.Helper()
		ctx, cancel := step()
		defer cancel()
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#"+form+` button[type="submit"]`), chromedp.NodeVisible)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	signIn := func(role string) {
		t.Helper()
		// A fresh browser state: a failed subtest may have left a session.
		do("open the sign-in page", call(network.ClearBrowserCookies, cdp.Empty{}), viewport(1280, 900), chromedp.Navigate(e.srv.URL+"/signin?lang=en"),
			chromedp.SendKeys(chromedp.CSS("#form-signin-token"), e.tokens[role], chromedp.NodeVisible))
		submit("sign in as "+role, "form-signin")
		ctx, cancel := step()
		defer cancel()
		who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".whoami strong"), chromedp.NodeVisible))
		if err != nil || who != role {
			t.Fatalf("after signing in as %s the header names %q (%v)", role, who, err)
		}
	}
	signOut := func() {
		t.Helper()
		ctx, cancel := step()
		defer cancel()
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`.whoami button[type="submit"]`), chromedp.NodeVisible)); err != nil {
			t.Fatalf("sign out: %v", err)
		}
		if absent(`.whoami a[href^="/signin"]`) {
			t.Fatal("after signing out the header offers no sign-in link")
		}
	}

	t.Run("officer reports progress", func(t *testing.T) {
		signIn("officer")
		do("open the measure", chromedp.Navigate(e.srv.URL+"/measures/"+reported+"?lang=en"),
			chromedp.SendKeys(chromedp.CSS("#form-report-value"), "forty-two", chromedp.NodeVisible),
			chromedp.SendKeys(chromedp.CSS("#form-report-evidence-url"), "https://example.kz/acts/42"),
			chromedp.SendKeys(chromedp.CSS("#form-report-evidence-description"), "Акт приёмки участка дороги"))
		submit("send a report with a bad value", "form-report")
		sctx, cancel := step()
		defer cancel()
		msg, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS("#form-report-value-error"), chromedp.NodeVisible))
		if err != nil || msg != cat["en"]["form.err.number"] {
			t.Fatalf("the field error next to the value reads %q (%v), want %q", msg, err, cat["en"]["form.err.number"])
		}
		shoot("#form-report", "form-report-field-error-en.png")
		do("correct the value", chromedp.Clear(chromedp.CSS("#form-report-value")), chromedp.SendKeys(chromedp.CSS("#form-report-value"), "42"))
		submit("send the corrected report", "form-report")
		loc, err := chromedp.Run(browser, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		m := locationEventRE.FindStringSubmatch(loc)
		if m == nil {
			t.Fatalf("after the report the browser is at %s, want the measure at the new event", loc)
		}
		if absent("#e-" + m[1]) {
			t.Fatalf("the measure's history does not show the new event %s", m[1])
		}
		shoot(".timeline", "measure-after-report-en.png")
		e.requireInAuditFeed(t, m[1])
		signOut()
	})
	t.Run("administrator cancels a measure", func(t *testing.T) {
		signIn("admin")
		do("open the measure", chromedp.Navigate(e.srv.URL+"/measures/"+cancelled+"?lang=ru"),
			chromedp.SendKeys(chromedp.CSS("#form-cancel-reason"), "мера заменена другой", chromedp.NodeVisible))
		submit("cancel", "form-cancel")
		loc, err := chromedp.Run(browser, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		m := locationEventRE.FindStringSubmatch(loc)
		if m == nil || absent("#e-"+m[1]) {
			t.Fatalf("after cancelling, %s shows no new event", loc)
		}
		if !absent("#form-report") {
			t.Error("a cancelled measure still offers the report form")
		}
		e.requireInAuditFeed(t, m[1])
		signOut()
	})
	t.Run("council member assesses a measure", func(t *testing.T) {
		e.withCouncil(t)
		assessed := e.newIndicator(t, domain.KindNumeric)
		// The council's read model may lag the setup: wait for the form.
		e.client(t).awaitSignedIn("council", "/measures/"+assessed+"?lang=en", `id="form-assess"`)
		signIn("council")
		do("open the measure", chromedp.Navigate(e.srv.URL+"/measures/"+assessed+"?lang=en"),
			chromedp.SendKeys(chromedp.CSS("#form-assess-comment"), "Участок не принят комиссией", chromedp.NodeVisible),
			chromedp.SendKeys(chromedp.CSS("#form-assess-evidence-url"), "https://example.kz/council/minutes/7"))
		submit("assess", "form-assess")
		loc, err := chromedp.Run(browser, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		m := locationEventRE.FindStringSubmatch(loc)
		if m == nil || absent("#e-"+m[1]) {
			t.Fatalf("after assessing, %s shows no new event", loc)
		}
		shoot("#assessments", "measure-after-assessment-en.png")
		e.requireInAuditFeed(t, m[1])
		signOut()
	})
	t.Run("deputy replies to an assessment", func(t *testing.T) {
		aid := e.assessed(t)
		e.client(t).awaitSignedIn("deputy", "/deputies/"+wDeputy+"?lang=en", `id="form-reply-`+aid+`"`)
		signIn("deputy")
		do("open the deputy's page", chromedp.Navigate(e.srv.URL+"/deputies/"+wDeputy+"?lang=en"),
			chromedp.SendKeys(chromedp.CSS("#form-reply-"+aid+"-reply"), "Комиссия выезжала повторно, акт приложен", chromedp.NodeVisible))
		submit("reply", "form-reply-"+aid)
		loc, err := chromedp.Run(browser, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		m := locationEventRE.FindStringSubmatch(loc)
		if m == nil || absent("#e-"+m[1]) {
			t.Fatalf("after replying, %s shows no new event", loc)
		}
		if !absent("#form-reply-" + aid) {
			t.Error("an answered assessment still offers the reply form")
		}
		e.requireInAuditFeed(t, m[1])
		signOut()
	})
	for _, role := range []string{"council", "deputy"} {
		t.Run(role+" sees no officer form", func(t *testing.T) {
			signIn(role)
			do("open the measure", chromedp.Navigate(e.srv.URL+"/measures/"+reported+"?lang=kk"), chromedp.WaitVisible(chromedp.CSS("#timeline")))
			for _, f := range []string{"#form-report", "#form-correct", "#form-retarget", "#form-cancel"} {
				if !absent(f) {
					t.Errorf("%s sees %s", role, f)
				}
			}
			signOut()
		})
	}
}

// requireInAuditFeed waits until the transparency log's projector has
// logged an event and finds it in the public audit feed.
func (e *writeEnv) requireInAuditFeed(t *testing.T, eventID string) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if _, _, err := e.cp.CheckpointOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(e.srv.URL + "/v1/audit/events.ndjson")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), eventID) {
			return
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("event %s is not in the audit feed after a minute (%d: %.300s)", eventID, res.StatusCode, b)
		}
	}
}
