package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"promiseledger/eventstore/postgres/pgtest"
)

// tourCLIEnv makes the test binary behave as the ledger command, so the
// README tour's `go run ./cmd/ledger ...` lines run this package's code
// without a separate build. init runs before TestMain and testing's flag
// parsing, so the arguments are the command line's own.
const tourCLIEnv = "LEDGER_README_TOUR_CLI"

func init() {
	if os.Getenv(tourCLIEnv) == "" {
		return
	}
	runAndExit()
}

// tourCommand is one command of the README's tour: a line of a ```sh block
// (continuation lines joined) and the words its trailing comment shows in
// backticks, which the test reads as JSON keys the answer must have.
type tourCommand struct {
	line int    // in README.md, 1-based
	text string // the shell text, without its trailing comment
	keys []string
}

func (c tourCommand) String() string { return fmt.Sprintf("README.md:%d: %s", c.line, c.text) }

var backticked = regexp.MustCompile("`([A-Za-z_][A-Za-z0-9_]*)`")

// parseTour reads the ```sh blocks of README.md's section "A five-minute
// tour" into commands. Comment-only lines are prose and are skipped.
func parseTour(readme string) ([]tourCommand, error) {
	lines := strings.Split(readme, "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "## A five-minute tour") })
	if start < 0 {
		return nil, errors.New(`README.md has no section "## A five-minute tour"`)
	}
	var out []tourCommand
	inBlock := false
	for i := start + 1; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "## ") {
			break
		}
		trimmed := strings.TrimSpace(l)
		switch {
		case !inBlock && trimmed == "```sh":
			inBlock = true
			continue
		case inBlock && trimmed == "```":
			inBlock = false
			continue
		case !inBlock || trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		}
		first := i
		text := l
		for strings.HasSuffix(strings.TrimRight(text, " "), `\`) && i+1 < len(lines) {
			i++
			text = strings.TrimRight(strings.TrimSuffix(strings.TrimRight(text, " "), `\`), " ") + " " + strings.TrimSpace(lines[i])
		}
		code, comment, open := splitComment(text)
		if open {
			return nil, fmt.Errorf("README.md:%d: a quote is still open at the end of the command; the tour test reads one command per line (join lines with a backslash outside quotes)", first+1)
		}
		c := tourCommand{line: first + 1, text: strings.TrimSpace(code)}
		for _, m := range backticked.FindAllStringSubmatch(comment, -1) {
			c.keys = append(c.keys, m[1])
		}
		out = append(out, c)
	}
	if inBlock {
		return nil, errors.New("README.md: a ```sh block of the tour is not closed")
	}
	return out, nil
}

// splitComment splits a shell line at the `#` that starts its trailing
// comment: one that begins a word outside quotes. open reports a quote
// left open at the end.
func splitComment(s string) (code, comment string, open bool) {
	var quote rune
	prev := ' '
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (prev == ' ' || prev == '\t'):
			return s[:i], s[i+1:], false
		}
		prev = r
	}
	return s, "", quote != 0
}

// TestParseTour guards the parser the README tour test relies on:
// continuation lines, comments after code, a `#` inside quotes, prose
// comment lines, keys in backticks, and the end of the section.
func TestParseTour(t *testing.T) {
	readme := "# X\n```sh\nnot-the-tour\n```\n## A five-minute tour\ntext\n```sh\n" +
		"# prose only\n" +
		"L=http://x\n" +
		"curl -s \"$L/a?b=1\"   # has `items` and `next_cursor`\n" +
		"curl -s -X POST \"$L/b\" \\\n  -d '{\"a\": \"#not a comment\"}'\n" +
		"```\n## Configuration\n```sh\nafter\n```\n"
	got, err := parseTour(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := []tourCommand{
		{line: 9, text: "L=http://x"},
		{line: 10, text: `curl -s "$L/a?b=1"`, keys: []string{"items", "next_cursor"}},
		{line: 11, text: `curl -s -X POST "$L/b" -d '{"a": "#not a comment"}'`},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if !slices.Equal(got[i].keys, want[i].keys) {
			t.Errorf("command %d: keys %q, want %q", i, got[i].keys, want[i].keys)
		}
	}
	if _, err := parseTour("# no tour\n"); err == nil {
		t.Error("a README without the tour section parsed")
	}
	if _, err := parseTour("## A five-minute tour\n```sh\ncurl -d '{\"a\":\n 1}'\n```\n"); err == nil {
		t.Error("a quote spanning two lines parsed")
	}
}

// TestReadmeTour runs the shell commands of README.md's five-minute tour, as
// written, against `ledger dev` on a test database with a small demo: curl
// is the real curl, `go run ./cmd/ledger` is this package's command, and
// python3 runs docs/check/recompute.py. Only the address in `L=` is
// replaced by the test server's. It fails naming the README line when a
// command fails or answers outside 2xx, when an answer lacks a JSON key the
// line's comment shows in backticks, when a list is longer than the
// `limit` the line asks for, or when another query parameter changes
// nothing (the same GET without it answers the same bytes): a parameter
// the server silently ignores.
func TestReadmeTour(t *testing.T) {
	tools := map[string]string{}
	for _, tool := range []string{"bash", "curl", "python3"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is not installed: the README tour runs it (Debian: apt-get install %s; .ci/run installs it)", tool, tool)
		}
		tools[tool] = p
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := parseTour(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) < 20 {
		t.Fatalf("found only %d commands in the README tour", len(cmds))
	}
	docs, err := filepath.Abs(filepath.Join("..", "..", "docs"))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	// The tour's working directory, as a new user's: .ledger is the data
	// directory and docs/ the repository's.
	work := t.TempDir()
	dataDir := filepath.Join(work, ".ledger")
	if err := os.Symlink(docs, filepath.Join(work, "docs")); err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewURL(t)
	vars := map[string]string{"LEDGER_DATABASE_URL": dbURL, "LEDGER_DATA_DIR": dataDir, "LEDGER_DEMO_SCALE": "0.1", "LEDGER_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dev"}, envOf(vars), &out, &errOut) }()
	defer func() {
		cancel()
		<-done
	}()
	base, _ := waitForBanner(t, &out, &errOut, done)
	// dev writes this file only for the private server it starts; the
	// tour's operator reads it.
	if err := os.WriteFile(filepath.Join(dataDir, "database-url"), []byte(dbURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	calls := filepath.Join(t.TempDir(), "calls")
	if err := os.Mkdir(calls, 0o755); err != nil {
		t.Fatal(err)
	}
	stepFile := filepath.Join(calls, "..", "step")
	script, err := tourScript(cmds)
	if err != nil {
		t.Fatal(err)
	}
	sh := exec.CommandContext(t.Context(), tools["bash"], "-c", script)
	sh.Dir = work
	sh.Env = append(withoutLedgerVars(os.Environ()),
		"TOUR_URL="+base, "TOUR_LEDGER="+self, "TOUR_CALLS="+calls, "TOUR_STEP_FILE="+stepFile)
	var shOut, shErr bytes.Buffer
	sh.Stdout, sh.Stderr = &shOut, &shErr
	if err := sh.Run(); err != nil {
		step, _ := os.ReadFile(stepFile)
		n, _ := strconv.Atoi(strings.TrimSpace(string(step)))
		what := "(before the first command)"
		if n > 0 && n <= len(cmds) {
			what = cmds[n-1].String()
		}
		t.Fatalf("%s\nfailed: %v\nstderr:\n%s\nstdout (end):\n%s", what, err, tail(shErr.String(), 3000), tail(shOut.String(), 2000))
	}

	// docs/api.md's table of write statuses against the served description.
	apiMD, err := os.ReadFile(filepath.Join(docs, "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	status, doc, err := httpGet(base + "/openapi.json")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %v", status, err)
	}
	for _, p := range writeStatusProblems(string(apiMD), doc) {
		t.Errorf("docs/api.md, Writes: %s", p)
	}

	recorded, err := readTourCalls(calls)
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) == 0 {
		t.Fatal("the tour made no curl request")
	}
	for i, c := range cmds {
		var mine []tourCall
		for _, rc := range recorded {
			if rc.step == i+1 {
				mine = append(mine, rc)
			}
		}
		for _, k := range c.keys {
			if !slices.ContainsFunc(mine, func(rc tourCall) bool { return hasKey(rc.body, k) }) {
				t.Errorf("%s\nthe comment shows `%s` but no answer has that key", c, k)
			}
		}
		for _, rc := range mine {
			for _, p := range tourCallProblems(rc, httpGet) {
				t.Errorf("%s\n%s", c, p)
			}
		}
	}
}

// tourScript is the bash program that runs the commands in order in one
// shell, so variables (L, TOKEN, R, I, N, KEY) carry from line to line.
// curl and go are functions: curl records each answer for the checks
// after the run and fails outside 2xx; go runs only `go run ./cmd/ledger`.
func tourScript(cmds []tourCommand) (string, error) {
	var b strings.Builder
	b.WriteString(`set -eE -o pipefail
go() {
	if [ "$#" -ge 2 ] && [ "$1" = run ] && [ "$2" = ./cmd/ledger ]; then
		shift 2
		` + tourCLIEnv + `=1 "$TOUR_LEDGER" "$@"
	else
		echo "the README tour test runs only 'go run ./cmd/ledger ...', not: go $*" >&2
		return 2
	fi
}
curl() {
	local f meta
	f=$(mktemp "$TOUR_CALLS/$TOUR_STEP.XXXXXX")
	meta=$(command curl "$@" -o "$f.body" -w '%{http_code} %{method} %{url_effective}')
	printf '%s\n' "$meta" >"$f"
	cat "$f.body"
	case "$meta" in
	2??' '*) ;;
	*) echo "curl $*: HTTP ${meta%% *}: $(head -c 600 "$f.body")" >&2; return 22 ;;
	esac
}
`)
	sawL := false
	for i, c := range cmds {
		fmt.Fprintf(&b, "TOUR_STEP=%d; echo %d >\"$TOUR_STEP_FILE\"\n%s\n", i+1, i+1, c.text)
		if strings.HasPrefix(c.text, "L=") {
			// The one change to the README's text: the test server's address.
			b.WriteString("L=\"$TOUR_URL\"\n")
			sawL = true
		}
	}
	if !sawL {
		return "", errors.New("the README tour never sets L, the server's address")
	}
	b.WriteString("echo 0 >\"$TOUR_STEP_FILE\"\n")
	return b.String(), nil
}

func withoutLedgerVars(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "LEDGER_") || strings.HasPrefix(kv, "TOUR_")
	})
}

// tourCall is one curl request the tour made.
type tourCall struct {
	step   int
	status int
	method string
	url    string
	body   []byte
}

func readTourCalls(dir string) ([]tourCall, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []tourCall
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".body") {
			continue
		}
		step, err := strconv.Atoi(strings.SplitN(name, ".", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("call file %s: %w", name, err)
		}
		meta, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		fields := strings.SplitN(strings.TrimSpace(string(meta)), " ", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("call file %s: %q", name, meta)
		}
		status, _ := strconv.Atoi(fields[0])
		body, err := os.ReadFile(filepath.Join(dir, name+".body"))
		if err != nil {
			return nil, err
		}
		out = append(out, tourCall{step: step, status: status, method: fields[1], url: fields[2], body: body})
	}
	return out, nil
}

// tourCallProblems checks one answer: the limit asked for holds, and every
// other query parameter of a GET changes the answer (get fetches the same
// URL without it).
func tourCallProblems(rc tourCall, get func(string) (int, []byte, error)) []string {
	u, err := url.Parse(rc.url)
	if err != nil {
		return []string{fmt.Sprintf("request URL %q: %v", rc.url, err)}
	}
	var problems []string
	q := u.Query()
	if s := q.Get("limit"); s != "" {
		limit, _ := strconv.Atoi(s)
		var top map[string]json.RawMessage
		if json.Unmarshal(rc.body, &top) == nil {
			for _, k := range slices.Sorted(maps.Keys(top)) {
				var list []map[string]any
				if json.Unmarshal(top[k], &list) == nil && len(list) > limit {
					problems = append(problems, fmt.Sprintf("limit=%d is ignored: %q has %d entries", limit, k, len(list)))
				}
			}
		}
	}
	if rc.method != http.MethodGet {
		return problems
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if name == "limit" {
			continue // checked by the list's length above: a short list answers the same with or without it
		}
		less := *u
		qq := u.Query()
		qq.Del(name)
		less.RawQuery = qq.Encode()
		status, body, err := get(less.String())
		if err != nil {
			problems = append(problems, fmt.Sprintf("GET %s: %v", less.String(), err))
			continue
		}
		if status == rc.status && bytes.Equal(body, rc.body) {
			problems = append(problems, fmt.Sprintf("the query parameter %q changes nothing: %s answers the same without it", name, u.Path))
		}
	}
	return problems
}

func httpGet(u string) (int, []byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// hasKey reports whether a JSON document has an object key k at any depth.
func hasKey(doc []byte, k string) bool {
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v[k]; ok {
				return true
			}
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// TestTourCallProblems: the checks find a limit the server ignores, a query
// parameter it ignores, and pass a server that honours both.
func TestTourCallProblems(t *testing.T) {
	// The server honours level; it honours limit unless told to ignore it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows := []string{`{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`}
		if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && r.URL.Path == "/honours" && n < len(rows) {
			rows = rows[:n]
		}
		fmt.Fprintf(w, `{"level":%q,"rows":[%s],"versions":[1,2,3]}`, r.URL.Query().Get("level"), strings.Join(rows, ","))
	}))
	defer srv.Close()
	call := func(path string) tourCall {
		status, body, err := httpGet(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return tourCall{status: status, method: http.MethodGet, url: srv.URL + path, body: body}
	}
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"limit and level honoured", "/honours?level=regional&limit=2", nil},
		{"limit ignored", "/ignores?level=regional&limit=2", []string{`limit=2 is ignored: "rows" has 3 entries`}},
		{"parameter ignored", "/honours?level=regional&limit=2&colour=red", []string{`the query parameter "colour" changes nothing`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tourCallProblems(call(tc.path), httpGet)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %q, want %q…", got[i], tc.want[i])
				}
			}
		})
	}
}

// writeRow is one route of docs/api.md's table of writes with the status
// the table says it answers.
type writeRow struct {
	line         int
	method, path string
	status       string
}

var (
	backtickedCode = regexp.MustCompile("`([^`]+)`")
	statusCode     = regexp.MustCompile("^[1-5][0-9][0-9]$")
)

// writeRows reads the "## Writes" table of docs/api.md. Its first column
// names routes as `POST /v1/roadmaps/{id}/activate` · `/close` (the last
// segment replaced) or · `DELETE …/responsibles/{person_id}` (the path from
// that segment on replaced); its last column the status in backticks.
func writeRows(md string) ([]writeRow, error) {
	lines := strings.Split(md, "\n")
	start := slices.Index(lines, "## Writes")
	if start < 0 {
		return nil, errors.New(`no section "## Writes"`)
	}
	var rows []writeRow
	for i := start + 1; i < len(lines) && !strings.HasPrefix(lines[i], "## "); i++ {
		cells := strings.Split(strings.Trim(lines[i], "|"), "|")
		if !strings.HasPrefix(lines[i], "| `") || len(cells) < 3 {
			continue
		}
		var status string
		if m := backtickedCode.FindStringSubmatch(cells[len(cells)-1]); m != nil && statusCode.MatchString(m[1]) {
			status = m[1]
		} else {
			return nil, fmt.Errorf("line %d: the last column names no status in backticks", i+1)
		}
		method, prev := "", ""
		for _, m := range backtickedCode.FindAllStringSubmatch(cells[0], -1) {
			piece := m[1]
			if f := strings.Fields(piece); len(f) == 2 {
				method, piece = f[0], f[1]
			}
			path := piece
			switch {
			case strings.HasPrefix(piece, "…"):
				rest := strings.TrimPrefix(piece, "…")
				seg := "/" + strings.SplitN(strings.TrimPrefix(rest, "/"), "/", 2)[0]
				j := strings.LastIndex(prev, seg)
				if j < 0 {
					return nil, fmt.Errorf("line %d: %q: %s is not in %s", i+1, piece, seg, prev)
				}
				path = prev[:j] + rest
			case !strings.HasPrefix(piece, "/v1/"):
				if prev == "" {
					return nil, fmt.Errorf("line %d: %q follows no full path", i+1, piece)
				}
				path = prev[:strings.LastIndex(prev, "/")] + piece
			}
			if method == "" {
				return nil, fmt.Errorf("line %d: %q has no method", i+1, piece)
			}
			rows = append(rows, writeRow{line: i + 1, method: method, path: path, status: status})
			prev = path
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("the Writes table lists no route")
	}
	return rows, nil
}

// writeStatusProblems compares docs/api.md's write table with an OpenAPI
// document: each listed route exists, and its one success status is the
// table's.
func writeStatusProblems(md string, openapi []byte) []string {
	rows, err := writeRows(md)
	if err != nil {
		return []string{err.Error()}
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapi, &doc); err != nil {
		return []string{"the OpenAPI document: " + err.Error()}
	}
	var problems []string
	for _, r := range rows {
		op, ok := doc.Paths[r.path][strings.ToLower(r.method)]
		if !ok {
			problems = append(problems, fmt.Sprintf("line %d: %s %s is not in the OpenAPI document", r.line, r.method, r.path))
			continue
		}
		var ok2xx []string
		for code := range op.Responses {
			if strings.HasPrefix(code, "2") {
				ok2xx = append(ok2xx, code)
			}
		}
		slices.Sort(ok2xx)
		if !slices.Equal(ok2xx, []string{r.status}) {
			problems = append(problems, fmt.Sprintf("line %d: %s %s: the table says %s, the server answers %s", r.line, r.method, r.path, r.status, strings.Join(ok2xx, ", ")))
		}
	}
	return problems
}

// TestWriteStatusProblems: the table's shorthand expands to full routes,
// and a status the document does not give is named.
func TestWriteStatusProblems(t *testing.T) {
	md := "## Writes\n| route | does | answers |\n|---|---|---|\n" +
		"| `POST /v1/roadmaps/{id}/activate` · `/close` | lifecycle | `200` |\n" +
		"| `POST /v1/roadmaps/{id}/responsibles` · `DELETE …/responsibles/{person_id}` | assign | `200` |\n" +
		"| `POST /v1/indicators/{id}/reports` | report | `200` |\n" +
		"## Errors\n| `GET /v1/x` | not a write | `404` |\n"
	rows, err := writeRows(md)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.method+" "+r.path+" "+r.status)
	}
	want := []string{"POST /v1/roadmaps/{id}/activate 200", "POST /v1/roadmaps/{id}/close 200",
		"POST /v1/roadmaps/{id}/responsibles 200", "DELETE /v1/roadmaps/{id}/responsibles/{person_id} 200", "POST /v1/indicators/{id}/reports 200"}
	if !slices.Equal(got, want) {
		t.Fatalf("rows\n%q\nwant\n%q", got, want)
	}
	doc := `{"paths":{
		"/v1/roadmaps/{id}/activate":{"post":{"responses":{"200":{},"409":{}}}},
		"/v1/roadmaps/{id}/close":{"post":{"responses":{"200":{}}}},
		"/v1/roadmaps/{id}/responsibles":{"post":{"responses":{"200":{}}}},
		"/v1/roadmaps/{id}/responsibles/{person_id}":{"delete":{"responses":{"200":{}}}},
		"/v1/indicators/{id}/reports":{"post":{"responses":{"201":{},"422":{}}}}}}`
	problems := writeStatusProblems(md, []byte(doc))
	if len(problems) != 1 || !strings.Contains(problems[0], "the table says 200, the server answers 201") {
		t.Fatalf("problems %q, want one naming 200 against 201", problems)
	}
}
