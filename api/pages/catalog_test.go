package pages_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func readCatalogs(t testing.TB) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, l := range languages {
		b, err := os.ReadFile(filepath.Join("messages", l+".json"))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s.json: %v", l, err)
		}
		out[l] = m
	}
	return out
}

// usedKeyRE finds catalog keys in templates ({{.T "key"}}) and Go code
// (t("key"), cat.t(lang, "key")).
var usedKeyRE = regexp.MustCompile(`(?:\.T |\bt\(|\.t\([a-zA-Z.]+, )"([a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)+)"`)

// dynamicKeys are built from values at run time ("status." + status): the
// values each prefix takes.
var dynamicKeys = map[string][]string{
	"status.":   {"registered", "active", "closed", "not_started", "in_progress", "done", "cancelled"},
	"level.":    {"republican", "regional", "district"},
	"role.":     {"deputy", "official"},
	"method.":   {"share-done", "weighted-progress"},
	"kind.":     {"milestone", "numeric"},
	"rstatus.":  {"drafted", "submitted", "acknowledged", "answered", "implemented", "not_implemented", "withdrawn"},
	"decision.": {"accepted", "partially_accepted", "rejected"},
	"position.": {"agree", "disagree"},
	"member.":   {"chair", "member"},
	"source.": {"receptions_held", "people_received", "appeals_handled", "appeals_positive_share", "appeals_closed_share",
		"indicators_done_share", "indicators_progress", "assessment_reply_share"},
	"actor.": {"admin", "officer", "council", "deputy"},
	// The write forms: "form." + name + ".heading" / ".lead" / ".submit".
	"form.": {"report.heading", "report.lead", "report.submit", "correct.heading", "correct.lead", "correct.submit",
		"retarget.heading", "retarget.lead", "retarget.submit", "cancel.heading", "cancel.lead", "cancel.submit",
		"assess.heading", "assess.lead", "assess.submit", "reply.heading", "reply.lead", "reply.submit"},
	"scope.": {"all", "republican", "regional"},
	"nav.":   {"home", "roadmaps", "councils", "overdue", "bodies", "audit", "methods"},
}

// sameInEveryLanguage may read the same in kk and ru as in en: codes,
// names of formats, numbers.
var sameInEveryLanguage = []string{"CSV", "JSON", "KATO"}

func TestCatalogHasEveryKeyInEveryLanguage(t *testing.T) {
	cat := readCatalogs(t)
	used := map[string]bool{}
	files, _ := filepath.Glob("templates/*.html")
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range append(files, gofiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range usedKeyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for prefix, values := range dynamicKeys {
		for _, v := range values {
			used[prefix+v] = true
		}
	}
	for _, methodKey := range []string{"numerator", "denominator", "plain"} {
		used["methods.share-done."+methodKey], used["methods.weighted-progress."+methodKey] = true, true
	}
	if len(used) < 200 {
		t.Fatalf("found only %d keys in use: the key pattern no longer matches the code", len(used))
	}
	for key := range used {
		for _, l := range languages {
			if _, ok := cat[l][key]; !ok {
				t.Errorf("%s.json lacks %q", l, key)
			}
		}
	}
	for _, l := range languages {
		for key := range cat[l] {
			for _, other := range languages {
				if _, ok := cat[other][key]; !ok {
					t.Errorf("%q is in %s.json but not in %s.json", key, l, other)
				}
			}
		}
	}
}

func TestCatalogKazakhAndRussianAreTranslated(t *testing.T) {
	cat := readCatalogs(t)
	letters := regexp.MustCompile(`\p{L}{2,}`)
	for _, l := range []string{"kk", "ru"} {
		for key, en := range cat["en"] {
			v := cat[l][key]
			if v != en || slices.Contains(sameInEveryLanguage, v) {
				continue
			}
			// Only symbols and format verbs ("%s%% — %s") may be equal.
			if letters.MatchString(strings.NewReplacer("%s", "", "%d", "").Replace(v)) {
				t.Errorf("%s.json %q is the English %q", l, key, en)
			}
		}
		latin := regexp.MustCompile(`\b[A-Za-z]{4,}\b`)
		for key, v := range cat[l] {
			// Latin words in kk/ru labels are names of things (JSON,
			// NDJSON, verify) or examples of a search in English.
			for _, w := range latin.FindAllString(v, -1) {
				if !slices.Contains([]string{"JSON", "NDJSON", "verify", "Akmola", "Ақмола", "UTC", "http", "https"}, w) {
					t.Errorf("%s.json %q has the Latin word %q", l, key, w)
				}
			}
		}
	}
}
