package pages_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
		if !strings.Contains(r.body, `class="permalink">/?as_of=2022-01-01&amp;known_at=2022-06-30&amp;lang=ru<`) {
			t.Errorf("home permalink does not carry as_of and known_at")
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
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
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
	level := []string{start}
	fetched := 0
	for d := 0; d <= depth && len(level) > 0; d++ {
		var next []string
		for _, p := range level {
			r := e.get(t, p)
			fetched++
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
					next = append(next, s)
				}
			}
		}
		level = next
	}
	t.Logf("crawl from %s: %d pages fetched", start, fetched)
}
