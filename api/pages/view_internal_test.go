package pages

import (
	"crypto/tls"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"
)

func TestChartGridStepsAreRoundNumbers(t *testing.T) {
	for _, c := range []struct{ max, step, top float64 }{
		{0, 1, 1}, {3.2, 1, 4}, {9, 2, 10}, {18, 5, 20}, {37.4, 10, 40}, {48, 10, 50}, {62, 20, 80}, {91, 20, 100}, {100, 20, 100},
	} {
		step, top := gridStep(c.max)
		if step != c.step || top != c.top {
			t.Errorf("gridStep(%g) = %g up to %g, want %g up to %g", c.max, step, top, c.step, c.top)
		}
	}
}

// The pages translate every reason the domain gives for leaving a deputy
// unrated: a reason added to the domain fails here until it has a key.
func TestEveryDomainNotRatedReasonHasACatalogKey(t *testing.T) {
	src, err := os.ReadFile("../../domain/rating_compute.go")
	if err != nil {
		t.Fatal(err)
	}
	reasons := regexp.MustCompile(`NotRated = "([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(reasons) == 0 {
		t.Fatal("found no NotRated reason in the domain: the pattern no longer matches")
	}
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"deputy.not_rated.other"}
	for _, r := range reasons {
		k, ok := notRatedKeys[r[1]]
		if !ok {
			t.Errorf("the domain's reason %q has no catalog key in notRatedKeys", r[1])
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		for _, l := range languages {
			if _, ok := cat[l][k]; !ok {
				t.Errorf("catalog %s lacks %s", l, k)
			}
		}
	}
}

func TestBaseURLTrustsForwardedProtoOnlyWhenConfigured(t *testing.T) {
	for _, c := range []struct {
		name  string
		trust bool
		tls   bool
		proto string
		want  string
	}{
		{"plain request", false, false, "", "http://ledger.example"},
		{"TLS connection", false, true, "", "https://ledger.example"},
		{"untrusted header is ignored", false, false, "https", "http://ledger.example"},
		{"trusted header counts", true, false, "https", "https://ledger.example"},
		{"trusted header, nonsense value", true, true, "gopher", "https://ledger.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/methods", nil)
			r.Host = "ledger.example"
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if c.proto != "" {
				r.Header.Set("X-Forwarded-Proto", c.proto)
			}
			q := &request{h: &Handler{cfg: Config{TrustForwardedProto: c.trust}}, r: r}
			if got := q.baseURL(); got != c.want {
				t.Errorf("baseURL = %q, want %q", got, c.want)
			}
		})
	}
}
