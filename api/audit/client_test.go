package audit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"promiseledger/api/audit"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

func TestVerifyWholeLogThenStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newLogServer(t, newKey(t, "ledger.example.kz/log"))
	s.grow(t, 60)
	state := stateFile(t)
	rep, err := audit.Verify(ctx, s.verifyConfig(state))
	if err != nil || !rep.OK() || !rep.StateUpdated || rep.EventsChecked != 60 || rep.Checkpoint.TreeSize != 60 {
		t.Fatalf("first run: %+v, %v", rep, err)
	}
	s.grow(t, 25)
	rep, err = audit.Verify(ctx, s.verifyConfig(state))
	if err != nil || !rep.OK() || rep.EventsChecked != 85 || !slices.Equal(rep.ConsistentWith, []int64{60}) {
		t.Fatalf("second run: %+v, %v", rep, err)
	}
	if st := readFile(t, state); strings.Count(st, `"tree_size"`) != 2 {
		t.Errorf("state file keeps %d checkpoints, want 2:\n%s", strings.Count(st, `"tree_size"`), st)
	}
	cfg := s.verifyConfig(state)
	cfg.Stream = logtest.Stream(3)
	rep, err = audit.Verify(ctx, cfg)
	if err != nil || !rep.OK() || rep.EventsChecked == 0 || !slices.Equal(rep.ConsistentWith, []int64{60, 85}) {
		t.Fatalf("stream: %+v, %v", rep, err)
	}
	want := 0
	for _, ev := range s.Events(t) {
		if ev.Stream == cfg.Stream {
			want++
		}
	}
	if rep.EventsChecked != int64(want) {
		t.Errorf("stream: checked %d events, the stream has %d", rep.EventsChecked, want)
	}
}

// TestClientDetectsTampering: a client that verified a checkpoint before
// the database was tampered with finds out, whether the owner left the log
// alone (the events no longer match their leaves) or rebuilt it from the
// tampered events and signed anew (the new checkpoint does not extend the
// old one). Its state file stays as it was.
func TestClientDetectsTampering(t *testing.T) {
	t.Parallel()
	const n = 50
	for _, tc := range logtest.Tamperings() {
		for _, rewrite := range []bool{false, true} {
			name := tc.Name + "/in_place"
			if rewrite {
				name = tc.Name + "/log_rewritten"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				s := newLogServer(t, newKey(t, "tamper"))
				ids := s.Append(t, n)
				s.CatchUp(t, 100)
				if _, _, err := s.cp.CheckpointOnce(ctx); err != nil {
					t.Fatal(err)
				}
				state := stateFile(t)
				if rep, err := audit.Verify(ctx, s.verifyConfig(state)); err != nil {
					t.Fatalf("before tampering: %v %v", err, rep.Findings)
				}
				before := readFile(t, state)
				streamOf := map[int64]string{}
				for i, ev := range s.Events(t) {
					streamOf[int64(i)] = ev.Stream
				}
				s.Tamper(t, tc.SQL(ids)...)
				s.Republish(t)
				if rewrite {
					s.Rewrite(t)
					rep, err := translog.VerifyDatabase(ctx, s.DB, s.Store)
					if err != nil || !rep.OK() {
						t.Fatalf("the rewritten database should look consistent to itself: %v %v", err, rep.Mismatches)
					}
				}
				if rewrite || tc.Kind != translog.KindTruncated {
					// Life goes on (after a truncated tail, new events
					// would make the deleted ones merely missing).
					s.grow(t, 10)
				}

				rep, err := audit.Verify(ctx, s.verifyConfig(state))
				if !errors.Is(err, audit.ErrVerificationFailed) {
					t.Fatalf("Verify: %v, want ErrVerificationFailed", err)
				}
				if after := readFile(t, state); after != before {
					t.Error("the state file changed after a failed verification")
				}
				var leaves []int64
				kinds := map[translog.MismatchKind]bool{}
				for _, f := range rep.Findings {
					t.Log(f)
					kinds[f.Kind] = true
					if f.Kind == tc.Kind {
						leaves = append(leaves, f.LeafIndex)
					}
				}
				if rewrite {
					if !kinds[audit.KindInconsistent] {
						t.Errorf("findings %v: the rewritten log was not found inconsistent", kinds)
					}
					return
				}
				slices.Sort(leaves)
				if want := tc.Leaves(n); !slices.Equal(leaves, want) {
					t.Errorf("%s at leaves %v, want %v", tc.Kind, leaves, want)
				}
				for k := range kinds {
					if k != tc.Kind {
						t.Errorf("unexpected finding kind %s", k)
					}
				}
				// One stream's history shows it too.
				cfg := s.verifyConfig(state)
				cfg.Stream = streamOf[tc.Leaves(n)[0]]
				rep, err = audit.Verify(ctx, cfg)
				if tc.Kind != translog.KindMoved && !errors.Is(err, audit.ErrVerificationFailed) {
					t.Errorf("stream %s: %v, %v", cfg.Stream, err, rep.Findings)
				}
				for _, f := range rep.Findings {
					t.Log("stream:", f)
				}
			})
		}
	}
}

func TestClientRejectsAnotherKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newLogServer(t, newKey(t, "ledger.example.kz/log"))
	s.grow(t, 5)
	impostor := newKey(t, "ledger.example.kz/log") // same name, another key
	cfg := s.verifyConfig(stateFile(t))
	cfg.VerifierKey = impostor.vkey
	rep, err := audit.Verify(ctx, cfg)
	if !errors.Is(err, audit.ErrVerificationFailed) || len(rep.Findings) != 1 || rep.Findings[0].Kind != audit.KindSignature {
		t.Fatalf("Verify with the wrong pinned key: %v, %v", err, rep.Findings)
	}
	if rep.StateUpdated {
		t.Error("state updated")
	}
}

// TestWitnessRefusesSplitView: a witness cosigns the log as it grows, then
// refuses a checkpoint of the same log key over another history — what a
// log showing different histories to different people would have to get
// witnessed. Clients that require the witness never accept that view.
func TestWitnessRefusesSplitView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logKey := newKey(t, "ledger.example.kz/log")
	w := newKey(t, "witness.example.org")
	honest := newLogServer(t, logKey, w.vkey)
	honest.grow(t, 20)
	wstate := stateFile(t)
	wcfg := audit.WitnessConfig{BaseURL: honest.base, LogVerifierKey: logKey.vkey, WitnessSignerKey: w.skey, StateFile: wstate, HTTPClient: honest.srv.Client()}
	if rep, err := audit.Witness(ctx, wcfg); err != nil || !rep.Cosigned || rep.Previous != nil {
		t.Fatalf("first cosignature: %+v, %v", rep, err)
	}
	honest.grow(t, 7)
	rep, err := audit.Witness(ctx, wcfg)
	if err != nil || !rep.Cosigned || rep.Previous == nil || rep.Previous.TreeSize != 20 || rep.Checkpoint.TreeSize != 27 {
		t.Fatalf("second cosignature: %+v, %v", rep, err)
	}
	resp := get(t, honest.base+"/checkpoint")
	body := readAll(t, resp)
	if !strings.Contains(body, "\n— witness.example.org ") {
		t.Fatalf("the served checkpoint has no cosignature:\n%s", body)
	}
	// A client that requires the witness accepts the honest log.
	state := stateFile(t)
	cfg := honest.verifyConfig(state)
	cfg.RequireWitnesses, cfg.WitnessKeys = 1, []string{w.vkey}
	vrep, err := audit.Verify(ctx, cfg)
	if err != nil || !slices.Equal(vrep.Witnesses, []string{"witness.example.org"}) {
		t.Fatalf("witnessed verify: %+v, %v", vrep, err)
	}

	// The same key signs another history, larger, in another database.
	forked := newLogServer(t, logKey, w.vkey)
	forked.grow(t, 40)
	before := readFile(t, wstate)
	wcfg.BaseURL, wcfg.HTTPClient = forked.base, forked.srv.Client()
	_, err = audit.Witness(ctx, wcfg)
	var inc *audit.InconsistencyError
	if !errors.As(err, &inc) || !errors.Is(err, translog.ErrInconsistent) {
		t.Fatalf("witness on the forked log: %v, want an InconsistencyError", err)
	}
	if !strings.Contains(inc.Cosigned, "\n27\n") || !strings.Contains(inc.Offered, "\n40\n") {
		t.Errorf("the refusal does not carry both signed checkpoints as evidence: %+v", inc)
	}
	if readFile(t, wstate) != before {
		t.Error("the witness's state changed")
	}
	if cs, err := translog.Cosignatures(ctx, forked.DB, 40); err != nil || len(cs) != 0 {
		t.Errorf("the forked checkpoint got cosignatures %v, %v", cs, err)
	}
	// The client that saw the honest log finds the fork inconsistent...
	cfg = forked.verifyConfig(state)
	vrep, err = audit.Verify(ctx, cfg)
	if !errors.Is(err, audit.ErrVerificationFailed) || vrep.Findings[0].Kind != audit.KindInconsistent {
		t.Fatalf("client on the fork: %v, %v", err, vrep.Findings)
	}
	// ...and a newcomer who requires the witness gets no witnessed view.
	cfg = forked.verifyConfig(stateFile(t))
	cfg.RequireWitnesses, cfg.WitnessKeys = 1, []string{w.vkey}
	if _, err := audit.Verify(ctx, cfg); err == nil {
		t.Fatal("a newcomer requiring the witness accepted the unwitnessed fork")
	}
}

// TestWitnessRefusesRollback: a smaller tree than the one cosigned.
func TestWitnessRefusesRollback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logKey := newKey(t, "rollback")
	w := newKey(t, "witness")
	big := newLogServer(t, logKey, w.vkey)
	big.grow(t, 12)
	wstate := stateFile(t)
	wcfg := audit.WitnessConfig{BaseURL: big.base, LogVerifierKey: logKey.vkey, WitnessSignerKey: w.skey, StateFile: wstate}
	if _, err := audit.Witness(ctx, wcfg); err != nil {
		t.Fatal(err)
	}
	small := newLogServer(t, logKey, w.vkey)
	small.grow(t, 5)
	wcfg.BaseURL = small.base
	if _, err := audit.Witness(ctx, wcfg); !errors.Is(err, translog.ErrInconsistent) {
		t.Fatalf("witness on a smaller log: %v", err)
	}
	// A client's view of the same: a rollback.
	state := stateFile(t)
	if _, err := audit.Verify(ctx, big.verifyConfig(state)); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, small.verifyConfig(state))
	if !errors.Is(err, audit.ErrVerificationFailed) || rep.Findings[0].Kind != audit.KindRollback {
		t.Fatalf("client on a smaller log: %v %v", err, rep.Findings)
	}
}

func ExampleVerify() {
	rep, err := audit.Verify(context.Background(), audit.VerifyConfig{
		BaseURL:     "https://ledger.example.kz/v1/audit",
		VerifierKey: "ledger.example.kz/log+c74f20a3+AXX...", // pinned, from a trusted source
		StateFile:   "ledger-checkpoints.json",
	})
	for _, f := range rep.Findings {
		fmt.Println(f)
	}
	if err != nil {
		fmt.Println("NOT VERIFIED:", err)
	}
}

// TestVerifyRejectsRollback: a log that serves a smaller checkpoint than one
// the client saw before fails verification, even when the smaller tree is a
// prefix of the larger (entries after it were removed).
func TestVerifyRejectsRollback(t *testing.T) {
	t.Parallel()
	s := newLogServer(t, newKey(t, "rollback.example/log"))
	s.grow(t, 5)
	state := stateFile(t)
	if _, err := audit.Verify(context.Background(), s.verifyConfig(state)); err != nil {
		t.Fatalf("first verify: %v", err)
	}
	big := s.grow(t, 7)
	if _, err := audit.Verify(context.Background(), s.verifyConfig(state)); err != nil {
		t.Fatalf("second verify: %v", err)
	}
	before := readFile(t, state)
	s.TamperLog(t, fmt.Sprintf(`DELETE FROM translog_checkpoints WHERE tree_size = %d`, big.TreeSize))
	rep, err := audit.Verify(context.Background(), s.verifyConfig(state))
	if err == nil {
		t.Fatalf("verify accepted a log that went back from %d to 5 leaves: %+v", big.TreeSize, rep)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || f.Kind == audit.KindRollback
	}
	if !found {
		t.Errorf("no rollback finding: %+v", rep.Findings)
	}
	if readFile(t, state) != before {
		t.Error("a failed verification changed the state file")
	}
}

// TestVerifyStreamFollowsPages: a stream longer than the server's page
// size is verified whole, page after page.
func TestVerifyStreamFollowsPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newLogServerWith(t, newKey(t, "paged"), func(c *audit.Config) { c.MaxPageSize = 3 })
	s.grow(t, 120)
	cfg := s.verifyConfig("")
	cfg.Stream = logtest.Stream(3)
	want := 0
	for _, ev := range s.Events(t) {
		if ev.Stream == cfg.Stream {
			want++
		}
	}
	if want <= 3 {
		t.Fatalf("stream %s has %d events, want more than a page", cfg.Stream, want)
	}
	rep, err := audit.Verify(ctx, cfg)
	if err != nil || !rep.OK() || rep.EventsChecked != int64(want) {
		t.Fatalf("checked %d of %d events: %v, %v", rep.EventsChecked, want, rep.Findings, err)
	}
}
