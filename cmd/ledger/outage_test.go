package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// TestDevSurvivesItsPostgresBeingKilled runs `ledger dev` on its own
// private PostgreSQL (in a folder the unprivileged server user cannot
// enter, when run as root), SIGKILLs the postmaster while writers send
// writes through the HTTP API, and checks that:
//   - while it is down, writes answer 503 (never 500 or anything else);
//   - dev restarts it, saying so once;
//   - every acknowledged write's event is in the log exactly once (writers
//     retry a 503 with the same Idempotency-Key);
//   - the read model afterwards holds exactly what the log says.
func TestDevSurvivesItsPostgresBeingKilled(t *testing.T) {
	dir := t.TempDir() // 0700: as root, the cluster must go elsewhere
	t.Cleanup(func() {
		if target, err := os.Readlink(filepath.Join(dir, "postgres")); err == nil {
			os.RemoveAll(target)
		}
	})
	vars := map[string]string{"LEDGER_DATA_DIR": dir, "LEDGER_DEMO": "false", "LEDGER_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dev"}, envOf(vars), &out, &errOut) }()
	base, token := waitForBanner(t, &out, &errOut, done)
	if os.Geteuid() == 0 && !strings.Contains(out.String(), "so the cluster lives in") {
		t.Errorf("dev did not say where the cluster went:\n%s", out.String())
	}
	if code := post(t, base+"/v1/territories", token, `{"kato":"0","name":{"kk":"Қазақстан","ru":"Казахстан","en":"Kazakhstan"},"kind":"republic"}`); code != http.StatusCreated {
		t.Fatalf("register the republic: %d", code)
	}

	const writers, writesEach = 6, 40
	var (
		acked       atomic.Int64
		unavailable atomic.Int64
		mu          sync.Mutex
		ackedKATOs  []string
		wrong       []string // answers other than 201 and 503
		wg          sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for n := range writesEach {
				kato := fmt.Sprintf("%d%08d", w+1, n)
				body := fmt.Sprintf(`{"kato":%q,"name":{"kk":"А %[1]s","ru":"Р %[1]s","en":"R %[1]s"},"kind":"region","parent_kato":"0"}`, kato)
				for {
					status, answer := postKeyed(base+"/v1/territories", token, "outage-"+kato, body)
					if status == http.StatusCreated {
						break
					}
					if status != http.StatusServiceUnavailable {
						mu.Lock()
						wrong = append(wrong, fmt.Sprintf("%s: %d %s", kato, status, answer))
						mu.Unlock()
						return
					}
					unavailable.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
				acked.Add(1)
				mu.Lock()
				ackedKATOs = append(ackedKATOs, kato)
				mu.Unlock()
			}
		})
	}

	// Kill the postmaster once the writers are well under way.
	for acked.Load() < 30 {
		time.Sleep(10 * time.Millisecond)
	}
	pid := postmasterPID(t, filepath.Join(dir, "postgres"))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(wrong) > 0 {
		t.Fatalf("answers other than 201 and 503 (%d):\n%s\nstderr:\n%s", len(wrong), strings.Join(wrong, "\n"), errOut.String())
	}
	t.Logf("%d writes acknowledged, %d answers 503 while PostgreSQL was down", acked.Load(), unavailable.Load())
	if unavailable.Load() == 0 {
		t.Errorf("no write saw the outage: the kill did not take effect")
	}
	if n := strings.Count(errOut.String(), "postgres exited unexpectedly"); n != 1 {
		t.Errorf("the death was logged %d times, want once", n)
	}
	if !strings.Contains(errOut.String(), "postgres restarted") {
		t.Errorf("no restart logged:\n%s", errOut.String())
	}
	if postmasterPID(t, filepath.Join(dir, "postgres")) == pid {
		t.Errorf("the postmaster was not replaced")
	}

	// The log holds each acknowledged write exactly once.
	url, err := os.ReadFile(filepath.Join(dir, "database-url"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", strings.TrimSpace(string(url)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logged []string
	if err := db.SelectContext(t.Context(), &logged, `SELECT substr(stream_id, length('territory-') + 1) FROM events
WHERE type = 'territory.registered.v1' AND stream_id <> 'territory-0' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ackedKATOs)
	if !slices.Equal(logged, ackedKATOs) {
		t.Fatalf("the log holds %d registrations, %d were acknowledged (lost or duplicated)", len(logged), len(ackedKATOs))
	}

	// The read model catches up and then says exactly what the log says.
	var listed []string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		listed = listedChildren(t, base+"/v1/territories?parent=0")
		if slices.Equal(listed, logged) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.Equal(listed, logged) {
		t.Errorf("the read model lists %d territories, the log has %d", len(listed), len(logged))
	}
	var stopped []string
	if err := db.SelectContext(t.Context(), &stopped, `SELECT name FROM projectors WHERE stopped`); err != nil || len(stopped) > 0 {
		t.Errorf("stopped projectors after the outage: %v (%v)", stopped, err)
	}
	var logged2 []string
	for line := range strings.SplitSeq(errOut.String(), "\n") {
		if !strings.Contains(line, `msg="http request"`) {
			logged2 = append(logged2, line)
		}
	}
	t.Logf("dev logged, besides requests:\n%s", strings.Join(logged2, "\n"))

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("dev did not shut down")
	}
}

// postKeyed posts body with an Idempotency-Key; a transport error counts
// as a 503 (the request may or may not have arrived).
func postKeyed(url, token, key, body string) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func listedChildren(t *testing.T, url string) []string {
	t.Helper()
	var page struct {
		Items []struct {
			KATO string `json:"kato"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(getJSON(t, url, "")), &page); err != nil {
		t.Fatal(err)
	}
	var katos []string
	for _, it := range page.Items {
		katos = append(katos, it.KATO)
	}
	slices.Sort(katos)
	return katos
}
