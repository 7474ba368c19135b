package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"promiseledger/commands/batch"
	"promiseledger/eventstore/postgres/pgtest"
)

// recordedAt matches the one part of a plan that is not fixed by the seed
// and the clock given: the councils demo's handlers stamp their events with
// the wall clock.
var recordedAt = regexp.MustCompile(`"recorded_at":"[^"]*"`)

// planHash hashes a plan as it is written: every append in order, its
// stream, expected version and events (id, type, data, metadata without
// recorded_at).
func planHash(log []batch.Append) string {
	h := sha256.New()
	put := func(b []byte) {
		h.Write(binary.AppendUvarint(nil, uint64(len(b))))
		h.Write(b)
	}
	for _, a := range log {
		put([]byte(a.Stream))
		h.Write(binary.AppendVarint(nil, int64(a.Expected)))
		for _, e := range a.Events {
			put(e.ID[:])
			put([]byte(e.Type))
			put(e.Data)
			put(recordedAt.ReplaceAll(e.Metadata, []byte(`"recorded_at":""`)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDevDemoPlanIsUnchanged pins what a first start writes, event for
// event and in order, at a fixed seed and clock: planning moved (it now
// runs while PostgreSQL starts, and hands its log on in parts while it
// plans) and may get faster, but its output is the demo every ledger dev
// has, and the order is the log's.
func TestDevDemoPlanIsUnchanged(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		scale  float64
		events int
		hash   string
	}{
		// Measured on the code before planning moved (commit 9d02c53).
		{"small", 0.05, 18524, "ca068d9a324f872ee54a58739dfb50f059be4f223f36940fda0f3276cbb7111e"},
		{"full", 1, 111154, "571544de40432d805dc8ea0b1bf70be337c86e4ef73fa22797937bae43bcb2b1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.scale == 1 && testing.Short() {
				t.Skip("the full demo takes seconds to plan")
			}
			var parts []batch.Append // as handed on while planned
			log, err := planDemosEmitting(context.Background(), newProgress(io.Discard), 2021, tt.scale, now, func(part []batch.Append) {
				parts = append(parts, part...)
			})
			if err != nil {
				t.Fatal(err)
			}
			if n, h := batch.Events(log), planHash(log); n != tt.events || h != tt.hash {
				t.Errorf("plan at scale %v: %d events, hash %s; want %d, %s", tt.scale, n, h, tt.events, tt.hash)
			}
			if len(parts) != len(log) || planHash(parts) != planHash(log) {
				t.Errorf("plan at scale %v: the parts handed on while planned (%d appends) are not the log (%d)", tt.scale, len(parts), len(log))
			}
		})
	}
}

// TestDevDemoPlanAheadStops: a plan made in the background and abandoned
// (dev failed before it needed it) ends without printing.
func TestDevDemoPlanAheadStops(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	p := planDemosAhead(context.Background(), newProgress(&out), 2021, 1)
	p.stop()
	if _, err := p.wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned plan: err %v, want context.Canceled", err)
	}
}

// TestDevBannerIsLast: a first start signs the checkpoint of the demo it
// loaded before printing the banner, so the checkpointer that runs behind
// the API has nothing left to announce, and the banner stays the last
// thing on the screen.
func TestDevBannerIsLast(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"LEDGER_DATABASE_URL": pgtest.NewURL(t), "LEDGER_DATA_DIR": t.TempDir(), "LEDGER_DEMO_SCALE": "0.05", "LEDGER_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dev"}, envOf(vars), &out, &errOut) }()
	base, _ := waitForBanner(t, &out, &errOut, done)
	// The latest checkpoint covers the whole demo once it is signed; wait
	// for that (on a start that signs it only behind the banner, the
	// checkpointer's log line is then written).
	for !signedCheckpoint(t, base) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("dev: %v", err)
	}
	stdout := out.String()
	signed, banner := strings.Index(stdout, "signed a checkpoint of the transparency log"), strings.Index(stdout, "PromiseLedger is running at")
	if signed < 0 || signed > banner {
		t.Errorf("the checkpoint line is not before the banner:\n%s", stdout)
	}
	if strings.Contains(errOut.String(), "checkpoint signed") {
		t.Errorf("a checkpoint was announced behind the banner:\n%s", errOut.String())
	}
}

// signedCheckpoint reports whether the ledger at base serves a signed
// checkpoint yet.
func signedCheckpoint(t *testing.T, base string) bool {
	t.Helper()
	resp, err := http.Get(base + "/v1/audit/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte("promiseledger.local/log\n"))
}

// TestInfoAsDebug: the private PostgreSQL's start-up chatter goes to debug;
// its warnings stay.
func TestInfoAsDebug(t *testing.T) {
	t.Parallel()
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var buf bytes.Buffer
		log := slog.New(infoAsDebug{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level})}).With("part", "pg")
		log.Info("postgres ready")
		log.Warn("postgres exited unexpectedly; restarting it")
		got := buf.String()
		if strings.Contains(got, "postgres ready") != (level == slog.LevelDebug) {
			t.Errorf("at %v: the info line shows %v:\n%s", level, strings.Contains(got, "postgres ready"), got)
		}
		if !strings.Contains(got, "level=WARN msg=\"postgres exited unexpectedly; restarting it\" part=pg") {
			t.Errorf("at %v: the warning is missing:\n%s", level, got)
		}
		if level == slog.LevelDebug && !strings.Contains(got, "level=DEBUG msg=\"postgres ready\"") {
			t.Errorf("at debug: the info line is not at debug:\n%s", got)
		}
	}
}

// TestDevFirstStartOnItsOwnPostgres: on a folder without a cluster the
// demo is planned while PostgreSQL starts, written once, and the banner
// comes last; the private server's start-up messages are not at info.
func TestDevFirstStartOnItsOwnPostgres(t *testing.T) {
	dir := t.TempDir() // 0700: as root, the cluster must go elsewhere
	t.Cleanup(func() {
		if target, err := os.Readlink(filepath.Join(dir, "postgres")); err == nil {
			os.RemoveAll(target)
		}
	})
	vars := map[string]string{"LEDGER_DATA_DIR": dir, "LEDGER_DEMO_SCALE": "0.05", "LEDGER_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dev"}, envOf(vars), &out, &errOut) }()
	waitForBanner(t, &out, &errOut, done)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("dev: %v", err)
	}
	stdout := out.String()
	for _, want := range []string{"PostgreSQL is ready: a new cluster", "planned the demo data set", "planned the councils demo",
		"loaded the demo data set and the councils demo", "brought read model ratings.v1 up to date", "signed a checkpoint"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q line:\n%s", want, stdout)
		}
	}
	// Every planned event was written, once: the load (each part as it
	// was planned) and a read model's catch-up count what the two plans
	// count.
	count := func(line string) int {
		m := regexp.MustCompile(regexp.QuoteMeta(line) + `[^\n]*\(([0-9,]+) events in`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no count on the %q line:\n%s", line, stdout)
		}
		n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		return n
	}
	planned := count("planned the demo data set") + count("planned the councils demo")
	if loaded, caught := count("loaded the demo data set and the councils demo"), count("brought read model catalog.v1 up to date"); loaded != planned || caught != planned {
		t.Errorf("planned %d events, loaded %d, catalog.v1 caught up on %d", planned, loaded, caught)
	}
	if i := strings.Index(stdout, "PromiseLedger is running at"); i < strings.LastIndex(stdout, "signed a checkpoint") {
		t.Errorf("the banner is not last:\n%s", stdout)
	}
	if strings.Contains(errOut.String(), `msg="postgres ready"`) {
		t.Errorf("the private server's start-up shows at info:\n%s", errOut.String())
	}
}
