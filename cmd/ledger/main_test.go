package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runCmd(t *testing.T, vars map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut syncBuffer
	err := run(context.Background(), args, envOf(vars), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"no command", nil, nil, "no command"},
		{"unknown command", []string{"frobnicate"}, nil, "unknown command"},
		{"serve without database", []string{"serve"}, nil, "LEDGER_DATABASE_URL"},
		{"bad flag", []string{"serve", "--no-such-flag"}, nil, "no-such-flag"},
		{"bad env duration", []string{"serve"}, map[string]string{"LEDGER_READY_MAX_LAG": "soon"}, "LEDGER_READY_MAX_LAG"},
		{"both only flags", []string{"serve", "--api-only", "--projectors-only", "--database-url", "postgres://x"}, nil, "exclude each other"},
		{"bad event store", []string{"migrate", "--event-store", "mongo", "--database-url", "postgres://x"}, nil, "--event-store"},
		{"token without subcommand", []string{"token"}, nil, "create, list or revoke"},
		{"dev bad scale", []string{"dev", "--demo-scale", "-1"}, nil, "--demo-scale"},
		{"dev negative GC headroom", []string{"dev", "--start-gc-headroom-mb", "-1"}, nil, "--start-gc-headroom-mb"},
		{"dev GC headroom past 1 TiB", []string{"dev"}, map[string]string{"LEDGER_START_GC_HEADROOM_MB": "1048577"}, "--start-gc-headroom-mb"},
		{"negative ratings cache", []string{"serve", "--ratings-cache-mb", "-1", "--database-url", "postgres://x"}, nil, "--ratings-cache-mb"},
		{"ratings cache not a number", []string{"serve", "--database-url", "postgres://x"}, map[string]string{"LEDGER_RATINGS_CACHE_MB": "lots"}, "LEDGER_RATINGS_CACHE_MB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, tc.vars, tc.args...)
			var u usageError
			if !errors.As(err, &u) {
				t.Fatalf("got %v, want a usage error (exit status 2)", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	out, _, err := runCmd(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commandList() {
		if !strings.Contains(out, c.name) {
			t.Errorf("help does not list %s", c.name)
		}
	}
	for _, c := range commandList() {
		stdout, _, err := runCmd(t, nil, c.name, "--help") // help_test.go checks every subcommand
		if err != nil {
			t.Errorf("%s --help: %v", c.name, err)
		}
		if err == nil && !strings.Contains(stdout, "Usage: ledger") {
			t.Errorf("%s --help printed no usage: %q", c.name, stdout)
		}
	}
}

// TestDevEndToEnd runs `ledger dev` against a test database with a small
// demo, waits for the API, reads figures, writes with the printed token,
// checks the projectors catch up, and shuts down with the context.
func TestDevEndToEnd(t *testing.T) {
	url := pgtest.NewURL(t)
	dir := t.TempDir()
	vars := map[string]string{"LEDGER_DATABASE_URL": url, "LEDGER_DATA_DIR": dir, "LEDGER_DEMO_SCALE": "0.05", "LEDGER_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dev"}, envOf(vars), &out, &errOut) }()
	base, token := waitForBanner(t, &out, &errOut, done)

	figures := getJSON(t, base+"/v1/figures?scope=level&id=regional", "")
	if !strings.Contains(figures, `"method":"share-done"`) {
		t.Fatalf("figures: %s", figures)
	}
	// A write without a token is refused; with the printed token it works.
	body := `{"kato":"999999999","name":{"kk":"Сынақ","ru":"Тест","en":"Test"},"kind":"region","parent_kato":"0"}`
	if code := post(t, base+"/v1/territories", "", body); code != http.StatusUnauthorized {
		t.Fatalf("write without a token: %d, want 401", code)
	}
	if code := post(t, base+"/v1/territories", token, body); code != http.StatusCreated {
		t.Fatalf("write with the dev admin token: %d, want 201", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(getJSON(t, base+"/v1/territories?parent=0", ""), "999999999") {
		if time.Now().After(deadline) {
			t.Fatal("the new territory never reached the read model")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not shut down")
	}

	// A second start reuses the data and the token.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	var out2, errOut2 syncBuffer
	done2 := make(chan error, 1)
	go func() { done2 <- run(ctx2, []string{"dev"}, envOf(vars), &out2, &errOut2) }()
	_, token2 := waitForBanner(t, &out2, &errOut2, done2)
	if token2 != token {
		t.Errorf("second start printed another token")
	}
	if strings.Contains(out2.String(), "loaded the demo") {
		t.Errorf("second start loaded the demo again")
	}
	cancel2()
	<-done2

	// Operator tools on the same database.
	stdout, _, err := runCmd(t, vars, "projections", "status")
	if err != nil || !strings.Contains(stdout, "indicators.v1") {
		t.Fatalf("projections status: %v\n%s", err, stdout)
	}
	stdout, _, err = runCmd(t, vars, "token", "create", "--name", "newsroom", "--role", "council", "--person", "c-1")
	if err != nil || !strings.Contains(stdout, "plt_") {
		t.Fatalf("token create: %v\n%s", err, stdout)
	}
	if _, _, err := runCmd(t, vars, "token", "create", "--name", "x", "--role", "emperor"); err == nil {
		t.Fatal("token create accepted an unknown role")
	}
	stdout, _, err = runCmd(t, vars, "projections", "rebuild", "catalog.v1")
	if err != nil || !strings.Contains(stdout, "generation 2") {
		t.Fatalf("projections rebuild: %v\n%s", err, stdout)
	}
	// Every read model at once: each into its own new generation.
	stdout, _, err = runCmd(t, vars, "projections", "rebuild", "all")
	if err != nil {
		t.Fatalf("projections rebuild all: %v\n%s", err, stdout)
	}
	for _, p := range projections.All() {
		want := p.Name() + " rebuilt into generation 2"
		if p.Name() == "catalog.v1" {
			want = p.Name() + " rebuilt into generation 3"
		}
		if !strings.Contains(stdout, want) {
			t.Errorf("projections rebuild all: no %q in\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "translog.v1") {
		t.Errorf("projections rebuild all rebuilt the transparency log (append-only: only when named):\n%s", stdout)
	}
	if !strings.Contains(stdout, fmt.Sprintf("%d read models rebuilt in", len(projections.All()))) {
		t.Errorf("projections rebuild all: no summary line in\n%s", stdout)
	}
	stdout, _, err = runCmd(t, vars, "projections", "status", "--json")
	if err != nil {
		t.Fatalf("projections status: %v", err)
	}
	var st []struct {
		Name             string `json:"name"`
		ActiveGeneration int    `json:"active_generation"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || len(st) != len(ledgerProjectors()) {
		t.Fatalf("projections status --json: %v\n%s", err, stdout)
	}
	for _, s := range st {
		want := map[bool]int{true: 3, false: 2}[s.Name == "catalog.v1"]
		if s.Name == "translog.v1" {
			want = 1
		}
		if s.ActiveGeneration != want {
			t.Errorf("%s: active generation %d after rebuild all, want %d", s.Name, s.ActiveGeneration, want)
		}
	}
	for _, args := range [][]string{{}, {"nope.v1"}, {"all", "catalog.v1"}, {"catalog.v1", "all"}} {
		_, _, err := runCmd(t, vars, append([]string{"projections", "rebuild"}, args...)...)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("projections rebuild %q: %v, want a usage error", args, err)
		}
	}
}

var bannerURL = regexp.MustCompile(`running at (http://\S+)`)
var bannerToken = regexp.MustCompile(`admin token \(demo only\): (\S+)`)

func waitForBanner(t *testing.T, out, errOut *syncBuffer, done <-chan error) (string, string) {
	t.Helper()
	// A safety net, not a speed target: on a loaded 2-core CI machine the
	// demo load alone can take minutes. The test binary's own -timeout
	// still bounds it.
	deadline := time.Now().Add(15 * time.Minute)
	for {
		if m := bannerURL.FindStringSubmatch(out.String()); m != nil {
			tok := bannerToken.FindStringSubmatch(out.String())
			if tok == nil {
				t.Fatalf("no token in the banner:\n%s", out.String())
			}
			return m[1], tok[1]
		}
		select {
		case err := <-done:
			t.Fatalf("dev exited early: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev did not start:\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if !json.Valid(b) {
		t.Fatalf("GET %s: not JSON: %s", url, b)
	}
	return string(b)
}

func post(t *testing.T, url, token, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body) //nolint:errcheck
	return resp.StatusCode
}

var _ = os.Getenv
