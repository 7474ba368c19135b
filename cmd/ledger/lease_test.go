package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/commands/demo"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// asLedger makes the test binary behave as the ledger command when the
// variable is set, so a test can start real ledger processes.
func init() {
	if os.Getenv("LEDGER_TEST_RUN_AS_MAIN") == "1" {
		os.Args = append([]string{"ledger"}, strings.Fields(os.Getenv("LEDGER_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
}

type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
}

func startLedger(t *testing.T, url string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LEDGER_TEST_RUN_AS_MAIN=1", "LEDGER_TEST_ARGS="+strings.Join(args, " "), "LEDGER_DATABASE_URL="+url)
	p := &process{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	cmd.Stdout = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck
		cmd.Wait()         //nolint:errcheck
	})
	return p
}

func (p *process) leases() int { return strings.Count(p.stderr.String(), "projector lease taken") }

// TestTwoProcessesLease runs two projector processes against one database:
// only one applies each projector; when it is killed, the other takes over
// and the read model ends exactly as a rebuild from scratch.
func TestTwoProcessesLease(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	url := pgtest.NewURL(t)
	if _, _, err := runCmd(t, map[string]string{"LEDGER_DATABASE_URL": url}, "migrate"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Load(ctx, store, demo.Config{Seed: 7, Now: now, Scale: 0.02}); err != nil {
		t.Fatal(err)
	}
	a := startLedger(t, url, "serve", "--projectors-only", "--addr", "127.0.0.1:0", "--log-level", "debug")
	b := startLedger(t, url, "serve", "--projectors-only", "--addr", "127.0.0.1:0", "--log-level", "debug")
	total := func() int64 {
		var n int64
		if err := store.DB().Get(&n, `SELECT count(*) FROM events`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitApplied(t, store.DB(), total())
	// Each projector runs in exactly one of the two processes.
	if a.leases()+b.leases() != len(ledgerProjectors()) {
		t.Fatalf("leases taken: %d and %d, want %d in all\nA:\n%s\nB:\n%s", a.leases(), b.leases(), len(ledgerProjectors()), a.stderr, b.stderr)
	}
	holder, other := a, b
	if a.leases() == 0 {
		holder, other = b, a
	}
	before := other.leases()
	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	holder.cmd.Wait() //nolint:errcheck
	// More history arrives while the survivor takes over.
	if _, err := demo.Load(ctx, store, demo.Config{Seed: 7, Now: now.AddDate(1, 0, 0), Scale: 0.02, Resume: true}); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, store.DB(), total())
	if other.leases() != len(ledgerProjectors()) {
		t.Fatalf("the surviving process holds %d leases (had %d), want %d\n%s", other.leases(), before, len(ledgerProjectors()), other.stderr)
	}
	for _, p := range ledgerProjectors() {
		before := dumpActive(t, store.DB(), p.Name())
		if _, err := projections.Rebuild(ctx, store.DB(), store, p); err != nil {
			t.Fatal(err)
		}
		if after := dumpActive(t, store.DB(), p.Name()); after != before {
			t.Errorf("%s after fail-over differs from a rebuild", p.Name())
		}
	}
}

func waitApplied(t *testing.T, db *sqlx.DB, want int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var done int
		err := db.Get(&done, `SELECT count(*) FROM projectors p JOIN projector_checkpoints c
ON c.name = p.name AND c.generation = p.active_generation WHERE c.events_total = $1`, want)
		if err == nil && done == len(ledgerProjectors()) {
			return
		}
		if time.Now().After(deadline) {
			var st []string
			db.Select(&st, `SELECT p.name || ' ' || c.events_total || ' ' || coalesce(p.last_error, '') FROM projectors p JOIN projector_checkpoints c ON c.name = p.name AND c.generation = p.active_generation`) //nolint:errcheck
			t.Fatalf("projectors did not apply %d events (err %v): %v", want, err, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var tables = map[string][]string{
	projections.CatalogName:    {"rm_programs", "rm_territories", "rm_roadmaps"},
	projections.IndicatorsName: {"rm_indicator_events", "rm_indicators", "rm_roadmap_figures"},
	"councils.v1":              {"rm_council_events", "rm_councils", "rm_council_members", "rm_recommendations", "rm_assessments"},
	"ratings.v1":               {"rm_rating_events", "rm_rating_deputies", "rm_rating_links", "rm_rating_indicators", "rm_deputy_ratings"},
	translog.Name:              {"translog_leaves", "translog_hashes"},
}

func dumpActive(t *testing.T, db *sqlx.DB, name string) string {
	t.Helper()
	var b strings.Builder
	for _, table := range tables[name] {
		var rows []string
		q := fmt.Sprintf(`SELECT (to_jsonb(t) - 'generation')::text FROM %s t
WHERE generation = (SELECT active_generation FROM projectors WHERE name = $1) ORDER BY 1`, table)
		if err := db.Select(&rows, q, name); err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.Join(rows, "\n"))
	}
	return b.String()
}
