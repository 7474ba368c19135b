package pages_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var languages = []string{"kk", "ru", "en"}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) get(t testing.TB, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (e *env) getJSON(t testing.TB, path string, into any) {
	t.Helper()
	r := e.get(t, path, "Accept", "application/json")
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// samplePaths are one of each page, with ids taken from the API.
func (e *env) samplePaths(t testing.TB) map[string]string {
	t.Helper()
	var rms struct {
		Items []struct {
			ID           string `json:"id"`
			Responsibles []struct {
				PersonID string `json:"person_id"`
				Role     string `json:"role"`
			} `json:"responsibles"`
		} `json:"items"`
	}
	e.getJSON(t, "/v1/roadmaps?level=regional&limit=20", &rms)
	var inds struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	e.getJSON(t, "/v1/indicators?roadmap="+rms.Items[0].ID+"&limit=1", &inds)
	var deps struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	e.getJSON(t, "/v1/deputies?limit=1", &deps)
	var councils struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	e.getJSON(t, "/v1/councils?limit=1", &councils)
	paths := map[string]string{
		"home": "/", "roadmaps": "/roadmaps", "roadmap": "/roadmaps/" + rms.Items[0].ID, "measure": "/measures/" + inds.Items[0].ID,
		"deputy": "/deputies/" + deps.Items[0].ID, "councils": "/councils", "overdue": "/recommendations/overdue",
		"bodies": "/state-bodies", "audit": "/audit", "methods": "/methods",
	}
	if len(councils.Items) > 0 {
		paths["council"] = "/councils/" + councils.Items[0].ID
	}
	for _, rm := range rms.Items {
		for _, p := range rm.Responsibles {
			if p.Role == "deputy" {
				paths["responsible"] = "/deputies/" + p.PersonID
			}
		}
	}
	return paths
}

// englishLabels are the English catalog's longer labels that differ from
// the Kazakh and Russian ones: none may appear on a kk or ru page.
func englishLabels(t testing.TB) []string {
	t.Helper()
	cat := readCatalogs(t)
	var out []string
	for k, v := range cat["en"] {
		if len(v) >= 12 && v != cat["kk"][k] && v != cat["ru"][k] && !strings.Contains(v, "%") {
			out = append(out, v)
		}
	}
	return out
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// visibleText is a page's text without its markup, for label checks.
func visibleText(body string) string { return tagRE.ReplaceAllString(body, " ") }

func TestPages(t *testing.T) {
	e := newEnv(t)
	paths := e.samplePaths(t)
	english := englishLabels(t)

	t.Run("EveryPageRendersInEveryLanguageWithoutUntranslatedLabels", func(t *testing.T) {
		for name, p := range paths {
			for _, lang := range languages {
				r := e.get(t, p+"?lang="+lang)
				if r.status != 200 {
					t.Errorf("%s %s: status %d: %.300s", name, lang, r.status, r.body)
					continue
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("%s %s: Content-Type %q", name, lang, ct)
				}
				if !strings.Contains(r.body, `<html lang="`+lang+`">`) {
					t.Errorf("%s %s: no <html lang=%q>", name, lang, lang)
				}
				if strings.Contains(r.body, "⟦") {
					i := strings.Index(r.body, "⟦")
					t.Errorf("%s %s: a label missing from the catalog: %s", name, lang, r.body[i:min(len(r.body), i+60)])
				}
				if lang == "en" {
					continue
				}
				text := visibleText(r.body)
				for _, label := range english {
					if strings.Contains(text, label) {
						t.Errorf("%s %s: English label left on the page: %q", name, lang, label)
					}
				}
			}
		}
	})

	t.Run("EveryPageCitesTheCheckpointAndLinksItsPermalink", func(t *testing.T) {
		var cp struct {
			TreeSize int64 `json:"tree_size"`
		}
		r := e.get(t, "/v1/audit/checkpoint", "Accept", "application/json")
		if r.status != 200 {
			t.Fatalf("checkpoint: %d", r.status)
		}
		_ = json.Unmarshal([]byte(r.body), &cp)
		for name, p := range paths {
			r := e.get(t, p+"?lang=en")
			if !strings.Contains(r.body, "tree size ") || !strings.Contains(r.body, `data-checkpoint-size="`) {
				t.Errorf("%s: no checkpoint cited", name)
			}
			if cp.TreeSize > 0 && !strings.Contains(r.body, `data-checkpoint-size="`+strconv.FormatInt(cp.TreeSize, 10)+`"`) {
				t.Errorf("%s: cites another checkpoint than /v1/audit/checkpoint's %d", name, cp.TreeSize)
			}
		}
		r = e.get(t, "/?lang=ru&as_of=2022-01-01&known_at=2022-06-30")
		if !strings.Contains(r.body, `class="permalink">`+e.srv.URL+`/?as_of=2022-01-01&amp;known_at=2022-06-30&amp;lang=ru<`) {
			t.Errorf("home permalink is not the absolute URL carrying as_of and known_at")
		}
	})

	t.Run("HomeFiguresEqualTheAPI", func(t *testing.T) {
		for _, q := range []string{"", "&as_of=2022-06-30", "&as_of=2022-06-30&known_at=2022-06-30"} {
			rows := e.csv(t, "/?lang=en&format=csv"+q)
			want := map[string][]string{}
			for i, api := range []string{"scope=all", "scope=level&id=republican", "scope=level&id=regional"} {
				var f struct {
					Figures []struct {
						Method      string   `json:"method"`
						Numerator   float64  `json:"numerator"`
						Denominator float64  `json:"denominator"`
						Percent     *float64 `json:"percent"`
						Measures    int      `json:"measures"`
						Done        int      `json:"done"`
					} `json:"figures"`
				}
				e.getJSON(t, "/v1/figures?"+api+q, &f)
				for j, fig := range f.Figures {
					want[fmt.Sprint(i*2+j)] = []string{fmt.Sprintf("%.2f", *fig.Percent), strconv.FormatFloat(fig.Numerator, 'f', -1, 64),
						strconv.FormatFloat(fig.Denominator, 'f', -1, 64), strconv.Itoa(fig.Measures), strconv.Itoa(fig.Done)}
				}
			}
			if len(rows) != 7 {
				t.Fatalf("home CSV%s: %d rows, want a header and 6", q, len(rows))
			}
			for i, row := range rows[1:] {
				got := []string{row[2], trimNum(row[3]), trimNum(row[4]), row[6], row[7]}
				if !slices.Equal(got, want[fmt.Sprint(i)]) {
					t.Errorf("home%s row %d: page %v, API %v", q, i, got, want[fmt.Sprint(i)])
				}
			}
		}
	})

	t.Run("CSVDownloadsParse", func(t *testing.T) {
		for name, p := range paths {
			if name == "measure" || name == "audit" || name == "responsible" {
				continue // no main table
			}
			rows := e.csv(t, p+"?lang=kk&format=csv")
			if len(rows) < 1 || len(rows[0]) < 2 {
				t.Errorf("%s: CSV has no header: %v", name, rows)
			}
		}
		if rows := e.csv(t, "/?format=csv&table=series"); len(rows) < 300 || rows[0][0] != "date" {
			t.Errorf("series CSV: %d rows, header %v", len(rows), rows[0])
		}
	})

	t.Run("UnknownParametersAre400", func(t *testing.T) {
		for name, p := range paths {
			r := e.get(t, p+"?lang=en&colour=red")
			if r.status != 400 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "colour") {
				t.Errorf("%s?colour=red (browser): %d %s", name, r.status, r.header.Get("Content-Type"))
			}
			r = e.get(t, p+"?colour=red", "Accept", "application/json")
			if r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s?colour=red (API client): %d %s", name, r.status, r.header.Get("Content-Type"))
			}
		}
		for _, p := range []string{"/roadmaps?as_of=2022-01-01", "/?as_of=yesterday", "/roadmaps?level=county", "/?lang=de",
			"/measures/" + strings.TrimPrefix(paths["measure"], "/measures/") + "?on=2021-13-45"} {
			if r := e.get(t, p); r.status != 400 {
				t.Errorf("%s: %d, want 400", p, r.status)
			}
		}
		for _, p := range []string{"/roadmaps/not-a-uuid", "/roadmaps/00000000-0000-7000-8000-000000000000", "/measures/x", "/deputies/nobody-at-all", "/councils/x"} {
			if r := e.get(t, p); r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Errorf("%s: %d %s, want an HTML 404", p, r.status, r.header.Get("Content-Type"))
			}
		}
	})

	t.Run("HostileBytesInQueryAndPathAre400", func(t *testing.T) {
		hostile := []string{"%00", "a%00b", "%FF", "%C0%AF", "%E2%80%AE", strings.Repeat("x", 2000)}
		for name, p := range paths {
			for _, v := range hostile {
				for _, param := range []string{"lang", "format"} {
					if r := e.get(t, p+"?"+param+"="+v); r.status != 400 {
						t.Errorf("%s?%s=%.20s: %d, want 400", name, param, v, r.status)
					}
				}
			}
		}
		// A bidi override is text, not a fault, in a search box: no 5xx, but
		// it may answer 200 with no match.
		for _, v := range slices.Concat(hostile[:2], hostile[2:4], hostile[5:]) {
			if r := e.get(t, "/roadmaps?q="+v); r.status != 400 {
				t.Errorf("/roadmaps?q=%.20s: %d, want 400", v, r.status)
			}
		}
		for _, v := range hostile {
			for _, p := range []string{"/roadmaps?q=" + v, "/roadmaps?region=" + v, "/roadmaps?overdue=" + v,
				"/measures/" + v, "/deputies/" + v, "/councils/" + v, "/roadmaps/" + v} {
				if r := e.get(t, p); r.status >= 500 || (r.status == 200 && !strings.HasPrefix(p, "/roadmaps?q=%E2")) {
					t.Errorf("%.60s: %d, want a 4xx", p, r.status)
				}
			}
		}
	})

	t.Run("SearchFindsATerritoryInEveryScript", func(t *testing.T) {
		var counts []int
		for _, q := range []string{"Акмол", "Ақмол", "Akmol", "akmol", "АҚМОЛА"} {
			rows := e.csv(t, "/roadmaps?format=csv&q="+url.QueryEscape(q))
			if len(rows) < 2 {
				t.Errorf("q=%s found nothing", q)
				continue
			}
			counts = append(counts, len(rows))
			for _, row := range rows[1:] {
				if !strings.HasPrefix(row[2], "11") { // Akmola region's KATO codes start with 11
					t.Errorf("q=%s found %s (%s), outside Akmola", q, row[1], row[2])
				}
			}
		}
		if slices.Min(counts) != slices.Max(counts) {
			t.Errorf("the scripts find different roadmaps: %v", counts)
		}
		if rows := e.csv(t, "/roadmaps?format=csv&q=zzzznothing"); len(rows) != 1 {
			t.Errorf("nonsense search found %d roadmaps", len(rows)-1)
		}
	})

	t.Run("LanguageFromAcceptLanguageThenRememberedByCookie", func(t *testing.T) {
		if r := e.get(t, "/methods", "Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5"); !strings.Contains(r.body, `<html lang="ru">`) {
			t.Error("Accept-Language ru did not give Russian")
		}
		if r := e.get(t, "/methods", "Accept-Language", "de"); !strings.Contains(r.body, `<html lang="kk">`) {
			t.Error("an unknown language did not fall back to Kazakh")
		}
		r := e.get(t, "/methods?lang=en", "Accept-Language", "ru")
		if !strings.Contains(r.body, `<html lang="en">`) || !strings.Contains(r.header.Get("Set-Cookie"), "lang=en") {
			t.Errorf("?lang=en: not English or not remembered (%q)", r.header.Get("Set-Cookie"))
		}
		if r := e.get(t, "/methods", "Accept-Language", "ru", "Cookie", "lang=en"); !strings.Contains(r.body, `<html lang="en">`) {
			t.Error("the cookie did not win over Accept-Language")
		}
	})

	t.Run("MeasureToggleCarriesBothAxes", func(t *testing.T) {
		r := e.get(t, paths["measure"]+"?lang=en&on=2022-01-31&axis=reported")
		if r.status != 200 || !strings.Contains(r.body, "As it was reported on 2022-01-31") {
			t.Fatalf("%d %.200s", r.status, r.body)
		}
		if !strings.Contains(r.body, "as_of=2022-01-31&amp;known_at=2022-01-31&amp;lang=en") {
			t.Error("the permalink of the reported view lacks as_of and known_at")
		}
	})

	t.Run("CrawlFromHomeMeetsNoError", func(t *testing.T) {
		for _, lang := range languages {
			e.crawl(t, "/?lang="+lang, 3)
		}
	})
}

func trimNum(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func (e *env) csv(t testing.TB, path string) [][]string {
	t.Helper()
	r := e.get(t, path)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s: %d %s %.200s", path, r.status, r.header.Get("Content-Type"), r.body)
	}
	first, _, _ := strings.Cut(r.body, "\n")
	if !strings.HasPrefix(first, "# provenance basis=") {
		t.Fatalf("GET %s: the CSV does not start with its provenance line: %q", path, first)
	}
	cr := csv.NewReader(strings.NewReader(r.body))
	cr.Comment = '#'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("GET %s: CSV: %v", path, err)
	}
	return rows
}

var hrefRE = regexp.MustCompile(`(?:href|src)="([^"]+)"`)

// crawl follows every same-origin link from start, breadth first, to
// depth levels, and fails on any 4xx or 5xx. Only HTML pages are followed;
// downloads are fetched and checked.
func (e *env) crawl(t *testing.T, start string, depth int) {
	t.Helper()
	seen := map[string]bool{start: true}
	shapes := map[string]int{}
	level := []string{start}
	fetched := 0
	for d := 0; d <= depth && len(level) > 0; d++ {
		// A level's pages are fetched by a few workers at once: the crawl
		// is most of this package's test time, and the server is concurrent.
		results := make([]response, len(level))
		errs := make([]error, len(level))
		var wg sync.WaitGroup
		work := make(chan int)
		for range 4 {
			wg.Go(func() {
				for i := range work {
					results[i], errs[i] = e.fetch(level[i])
				}
			})
		}
		for i := range level {
			work <- i
		}
		close(work)
		wg.Wait()
		var next []string
		for i, p := range level {
			r := results[i]
			fetched++
			if errs[i] != nil {
				t.Errorf("crawl: GET %s: %v", p, errs[i])
				continue
			}
			if r.status >= 400 {
				t.Errorf("crawl: GET %s: %d", p, r.status)
				continue
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				continue
			}
			for _, m := range hrefRE.FindAllStringSubmatch(r.body, -1) {
				link := strings.ReplaceAll(m[1], "&amp;", "&")
				u, err := url.Parse(link)
				if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, "/") {
					continue
				}
				u.Fragment = ""
				if l := u.Query().Get("lang"); l != "" && !strings.Contains(start, "lang="+l) {
					continue // another language's crawl covers it
				}
				if strings.HasSuffix(u.Path, ".ndjson") || strings.HasSuffix(u.Path, ".csv") {
					continue // the whole feed: fetched once by the audit tests
				}
				if s := u.String(); !seen[s] {
					seen[s] = true
					// Every kind of page is crawled, but at most
					// crawlPerShape of each kind: the demo holds thousands
					// of measures and recommendations, and one more
					// measure page finds nothing the first forty did not.
					if shape := pageShape(u); shapes[shape] < crawlPerShape {
						shapes[shape]++
						next = append(next, s)
					}
				}
			}
		}
		level = next
	}
	t.Logf("crawl from %s: %d pages fetched", start, fetched)
}

// crawlPerShape bounds how many pages of one shape the crawl follows.
const crawlPerShape = 40

// pageShape is a link's kind: its path with every segment that holds a
// digit (an id, a KATO code, a date) replaced by {id}, and its query keys.
func pageShape(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		if strings.ContainsAny(s, "0123456789") {
			segs[i] = "{id}"
		}
	}
	keys := make([]string, 0, len(u.Query()))
	for k := range u.Query() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(segs, "/") + "?" + strings.Join(keys, "&")
}

// fetch is get for a worker goroutine: it returns the error instead of
// failing the test.
func (e *env) fetch(path string) (response, error) {
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}, nil
}

// TestPagesReviewFixes guards the defects a review of the pages found:
// each subtest failed on the pages as they were.
func TestPagesReviewFixes(t *testing.T) {
	e := newEnv(t)
	paths := e.samplePaths(t)
	deputies := e.ratedResponsibles(t)

	t.Run("DeputyPagesNeverPrintTheDomainsEnglishReason", func(t *testing.T) {
		unrated := 0
		for _, d := range deputies {
			if d.rated || unrated == 5 {
				continue // five unrated deputies in three languages are enough
			}
			unrated++
			for _, lang := range languages {
				body := e.get(t, "/deputies/"+d.id+"?lang="+lang).body
				for _, reason := range []string{"fewer components with data", "faction membership shorter"} {
					if strings.Contains(body, reason) {
						t.Errorf("%s %s: the domain's English %q is on the page", d.id, lang, reason)
					}
				}
			}
		}
		if unrated == 0 {
			t.Fatal("the demo has no unrated responsible deputy to check")
		}
	})

	t.Run("DeputyPageNamesTheAssemblyAndTheMethod", func(t *testing.T) {
		var rating struct {
			Current struct {
				AssemblyID string `json:"assembly_id"`
			} `json:"current"`
		}
		e.getJSON(t, "/v1/deputies/"+deputies[0].id+"/rating", &rating)
		kato := strings.TrimPrefix(rating.Current.AssemblyID, "maslikhat-")
		var ts struct {
			Items []struct {
				KATO string                      `json:"kato"`
				Name struct{ KK, RU, EN string } `json:"name"`
			} `json:"items"`
		}
		e.getJSON(t, "/v1/territories", &ts)
		terr := ts.Items[0]
		for _, it := range ts.Items {
			if it.KATO == kato {
				terr = it
			}
		}
		for _, lang := range languages {
			body := e.get(t, "/deputies/"+deputies[0].id+"?lang="+lang).body
			if strings.Contains(body, rating.Current.AssemblyID) {
				t.Errorf("%s: the page shows the assembly's id %q", lang, rating.Current.AssemblyID)
			}
			name := map[string]string{"kk": terr.Name.KK, "ru": terr.Name.RU, "en": terr.Name.EN}[lang]
			if name == "" || !strings.Contains(html.UnescapeString(body), name) {
				t.Errorf("%s: the page does not name the assembly's territory %q", lang, name)
			}
			if regexp.MustCompile(`>[a-z-]+-rating v\d+<`).MatchString(body) {
				t.Errorf("%s: the method is shown by its id, not its title", lang)
			}
		}
	})

	t.Run("NavigationMarksTheSectionOfADetailPage", func(t *testing.T) {
		for _, c := range []struct{ page, entry string }{{"roadmap", "/roadmaps"}, {"measure", "/roadmaps"}, {"deputy", "/roadmaps"}, {"council", "/councils"}} {
			body := e.get(t, paths[c.page]+"?lang=en").body
			if !regexp.MustCompile(`<a href="` + regexp.QuoteMeta(c.entry) + `\?lang=en" aria-current="true">`).MatchString(body) {
				t.Errorf("%s: the navigation does not mark %s as the current section", c.page, c.entry)
			}
		}
		if body := e.get(t, "/roadmaps?lang=en").body; !strings.Contains(body, `<a href="/roadmaps?lang=en" aria-current="page">`) {
			t.Error("/roadmaps: its own navigation entry is not aria-current=page")
		}
	})

	t.Run("PermalinkIsAbsoluteAndIgnoresAnUntrustedForwardedProto", func(t *testing.T) {
		r := e.get(t, "/methods?lang=en", "X-Forwarded-Proto", "https")
		if !strings.Contains(r.body, `class="permalink">`+e.srv.URL+`/methods?lang=en<`) {
			t.Errorf("the permalink is not %s/methods?lang=en (X-Forwarded-Proto must not count by default)", e.srv.URL)
		}
	})

	t.Run("AuditCommandsUseThisServersURL", func(t *testing.T) {
		body := e.get(t, "/audit?lang=en").body
		if strings.Contains(body, "this-server") || !strings.Contains(body, "--url "+e.srv.URL+" ") ||
			!strings.Contains(body, "curl -s "+e.srv.URL+"/v1/audit/checkpoint") {
			t.Error("the audit page's commands do not name this server's URL")
		}
	})

	t.Run("OverdueFilterTakesOnlyTrueOrFalse", func(t *testing.T) {
		for _, v := range []string{"1", "yes", "TRUE", "on", "", "true&overdue=false"} {
			r := e.get(t, "/roadmaps?lang=en&overdue="+v)
			if r.status != 400 || !strings.Contains(r.body, "overdue") {
				t.Errorf("overdue=%s: %d, want a 400 page naming the parameter", v, r.status)
			}
		}
		for _, v := range []string{"true", "false"} {
			if r := e.get(t, "/roadmaps?lang=en&overdue="+v); r.status != 200 {
				t.Errorf("overdue=%s: %d", v, r.status)
			}
		}
	})

	t.Run("StatusBadgeFollowsTheStatusAndTheMeasureSaysOverdue", func(t *testing.T) {
		var list struct {
			Items []struct {
				ID        string `json:"id"`
				RoadmapID string `json:"roadmap_id"`
				Status    string `json:"status"`
				Deadline  string `json:"deadline"`
			} `json:"items"`
		}
		e.getJSON(t, "/v1/indicators?overdue=true&limit=1", &list)
		if len(list.Items) == 0 {
			t.Fatal("the demo has no overdue measure")
		}
		m := list.Items[0]
		body := e.get(t, "/roadmaps/"+m.RoadmapID+"?lang=en").body
		if strings.Contains(body, `<span class="badge overdue">in progress</span>`) || strings.Contains(body, `<span class="badge overdue">not started</span>`) {
			t.Error("an overdue measure's status badge takes the overdue colour")
		}
		body = e.get(t, "/measures/"+m.ID+"?lang=en").body
		if !strings.Contains(body, "<dt>Overdue</dt><dd>yes: the deadline "+m.Deadline+" has passed</dd>") {
			t.Errorf("the page of overdue measure %s does not say it is overdue", m.ID)
		}
	})

	t.Run("MilestoneReadingsSayDoneOrNotYetDone", func(t *testing.T) {
		var list struct {
			Items []struct {
				ID          string `json:"id"`
				Kind        string `json:"kind"`
				ReportCount int    `json:"report_count"`
			} `json:"items"`
		}
		e.getJSON(t, "/v1/indicators?status=in_progress&limit=200", &list)
		checked := 0
		for _, m := range list.Items {
			if m.Kind != "milestone" || m.ReportCount == 0 {
				continue
			}
			checked++
			body := e.get(t, "/measures/"+m.ID+"?lang=en").body
			if strings.Contains(body, "<dt>What</dt><dd>not started</dd>") || strings.Contains(body, "<dt>Latest reading</dt><dd>no</dd>") {
				t.Errorf("milestone %s in progress reads as not started / no", m.ID)
			}
			if !strings.Contains(body, "not yet done") {
				t.Errorf("milestone %s in progress does not say it is not yet done", m.ID)
			}
		}
		if checked == 0 {
			t.Fatal("the demo has no reported milestone in progress")
		}
	})

	t.Run("RoadmapListsEachResponsibleOnceDeputiesApart", func(t *testing.T) {
		var list struct {
			Items []struct {
				ID           string `json:"id"`
				Responsibles []struct {
					PersonID string `json:"person_id"`
					Role     string `json:"role"`
				} `json:"responsibles"`
			} `json:"items"`
		}
		e.getJSON(t, "/v1/roadmaps?limit=200", &list)
		for _, rm := range list.Items[:min(40, len(list.Items))] {
			body := e.get(t, "/roadmaps/"+rm.ID+"?lang=en").body
			i, j := strings.Index(body, `id="people"`), strings.Index(body, `id="figures"`)
			if i < 0 || j < i {
				t.Fatalf("roadmap %s: no people section", rm.ID)
			}
			people := body[i:j]
			seen := map[string]bool{}
			for _, p := range rm.Responsibles {
				if p.Role != "deputy" || seen[p.PersonID] {
					continue
				}
				seen[p.PersonID] = true
				if n := strings.Count(people, `href="/deputies/`+p.PersonID+`?`); n != 1 {
					t.Errorf("roadmap %s lists deputy %s %d times", rm.ID, p.PersonID, n)
				}
			}
			if len(seen) > 0 && !strings.Contains(people, "<dt>Deputies</dt>") {
				t.Errorf("roadmap %s: deputies are not listed apart from officials", rm.ID)
			}
		}
	})
}

type ratedDeputy struct {
	id    string
	rated bool
}

// ratedResponsibles are the responsible deputies of the regional roadmaps
// that have a rating, and whether they are rated in its current period.
func (e *env) ratedResponsibles(t testing.TB) []ratedDeputy {
	t.Helper()
	var rms struct {
		Items []struct {
			Responsibles []struct {
				PersonID string `json:"person_id"`
				Role     string `json:"role"`
			} `json:"responsibles"`
		} `json:"items"`
	}
	e.getJSON(t, "/v1/roadmaps?level=regional&limit=50", &rms)
	var out []ratedDeputy
	seen := map[string]bool{}
	for _, rm := range rms.Items {
		for _, p := range rm.Responsibles {
			if p.Role != "deputy" || seen[p.PersonID] {
				continue
			}
			seen[p.PersonID] = true
			r := e.get(t, "/v1/deputies/"+p.PersonID+"/rating", "Accept", "application/json")
			if r.status != 200 {
				continue
			}
			var v struct {
				Current struct {
					Rated bool `json:"rated"`
				} `json:"current"`
			}
			if err := json.Unmarshal([]byte(r.body), &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, ratedDeputy{id: p.PersonID, rated: v.Current.Rated})
		}
	}
	if len(out) == 0 {
		t.Fatal("the demo has no rated responsible deputy")
	}
	return out
}
