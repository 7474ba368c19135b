package translog_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The worked example of docs/audit.md: change both together.
func TestLeafEncodingWorkedExample(t *testing.T) {
	t.Parallel()
	r := eventstore.Recorded{
		ID:       uuid.MustParse("0192f0a4-6a2b-7c3d-8e4f-5a6b7c8d9e0f"),
		Stream:   "indicator-7",
		Version:  3,
		Type:     "indicator.progress_reported.v1",
		Data:     []byte(`{"value":42}`),
		Metadata: []byte(`{"actor_id":"officer-17"}`),
		StoredAt: time.Date(2021, 6, 30, 12, 0, 0, 123456000, time.UTC),
		Position: eventstore.Position{Commit: 99, Prepare: 7}, // not encoded
	}
	got := hex.EncodeToString(translog.EncodeLeaf(r))
	want := "70726f6d6973656c65646765722d6c6561662d76310a" +
		"0000000b" + hex.EncodeToString([]byte("indicator-7")) +
		"00000001" + hex.EncodeToString([]byte("3")) +
		"0000001e" + hex.EncodeToString([]byte("indicator.progress_reported.v1")) +
		"0000000c" + hex.EncodeToString([]byte(`{"value":42}`)) +
		"00000019" + hex.EncodeToString([]byte(`{"actor_id":"officer-17"}`)) +
		"00000024" + hex.EncodeToString([]byte("0192f0a4-6a2b-7c3d-8e4f-5a6b7c8d9e0f")) +
		"00000013" + hex.EncodeToString([]byte("1625054400123456000"))
	if got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	if h := translog.LeafHash(r); h.String() != docLeafHash {
		t.Errorf("leaf hash %s (hex %x), docs/audit.md says %s", h, h[:], docLeafHash)
	}
	r.Position = eventstore.Position{Commit: 1, Prepare: 1}
	if h := translog.LeafHash(r); h.String() != docLeafHash {
		t.Error("the position changed the leaf hash")
	}
}

// docLeafHash is the leaf hash docs/audit.md gives for the worked example.
const docLeafHash = "orOOLZO0NfJMBDnZidf3x6R7ysCZ07K1Fg2hNmiiCuA="

// reference is an in-memory log built one leaf at a time with tlog alone:
// the yardstick for what the database computes in batches.
type reference struct{ hashes []tlog.Hash }

func (r *reference) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = r.hashes[x]
	}
	return out, nil
}

func newReference(t testing.TB, events []eventstore.Recorded) *reference {
	t.Helper()
	r := &reference{}
	for n, e := range events {
		hs, err := tlog.StoredHashes(int64(n), translog.EncodeLeaf(e), r)
		if err != nil {
			t.Fatal(err)
		}
		r.hashes = append(r.hashes, hs...)
	}
	return r
}

func (r *reference) root(t testing.TB, n int64) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(n, r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// storedHashes dumps the stored hashes of a generation.
func storedHashes(t testing.TB, e *logtest.Env, gen int) []tlog.Hash {
	t.Helper()
	var rows [][]byte
	if err := e.DB.Select(&rows, `SELECT hash FROM translog_hashes WHERE generation = $1 ORDER BY hash_index`, gen); err != nil {
		t.Fatal(err)
	}
	out := make([]tlog.Hash, len(rows))
	for i, b := range rows {
		out[i] = tlog.Hash(b)
	}
	return out
}

// TestBatchesMatchOneByOne: whatever the batch sizes, the stored hashes
// are exactly those of tlog adding one leaf at a time.
func TestBatchesMatchOneByOne(t *testing.T) {
	t.Parallel()
	e := logtest.New(t)
	e.Append(t, 300)
	rng := rand.New(rand.NewPCG(1, 2))
	for {
		e.CatchUp(t, 1+rng.IntN(40)) // one page, then another size
		if n, _ := translog.Size(context.Background(), e.DB); n == 300 {
			break
		}
	}
	ref := newReference(t, e.Events(t))
	if got := storedHashes(t, e, 1); !slices.Equal(got, ref.hashes) {
		t.Fatalf("stored %d hashes, want %d; first difference at %d", len(got), len(ref.hashes), firstDiff(got, ref.hashes))
	}
	if n := tlog.StoredHashCount(300); int64(len(ref.hashes)) != n {
		t.Fatalf("reference has %d hashes, tlog says %d", len(ref.hashes), n)
	}
}

func firstDiff(a, b []tlog.Hash) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestProofsUpTo1000 checks inclusion proofs of a few leaves in every tree
// size up to 1,000, consistency proofs from every size to 1,000 and
// between random pairs, against roots computed independently.
func TestProofsUpTo1000(t *testing.T) {
	t.Parallel()
	const n = 1000
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, n)
	e.CatchUp(t, 137)
	events := e.Events(t)
	ref := newReference(t, events)
	roots := make([]tlog.Hash, n+1)
	for size := int64(0); size <= n; size++ {
		roots[size] = ref.root(t, size)
	}
	leafHash := func(i int64) tlog.Hash { return translog.LeafHash(events[i]) }
	rng := rand.New(rand.NewPCG(3, 4))
	for size := int64(1); size <= n; size++ {
		got, err := translog.TreeHash(ctx, e.DB, size)
		if err != nil || got != roots[size] {
			t.Fatalf("TreeHash(%d) = %s, %v; want %s", size, got, err, roots[size])
		}
		for _, i := range []int64{0, size / 2, size - 1, rng.Int64N(size)} {
			p, err := translog.InclusionProof(ctx, e.DB, i, size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", i, size, err)
			}
			if err := tlog.CheckRecord(p, size, roots[size], i, leafHash(i)); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", i, size, err)
			}
			if size > 1 {
				wrong := (i + 1) % size
				if tlog.CheckRecord(p, size, roots[size], i, leafHash(wrong)) == nil {
					t.Fatalf("the proof of %d in %d also proves leaf %d's hash", i, size, wrong)
				}
			}
		}
		p, err := translog.ConsistencyProof(ctx, e.DB, size, n)
		if err != nil {
			t.Fatalf("ConsistencyProof(%d, %d): %v", size, n, err)
		}
		if err := tlog.CheckTree(p, n, roots[n], size, roots[size]); err != nil {
			t.Fatalf("consistency of %d with %d: %v", size, n, err)
		}
		if size < n && tlog.CheckTree(p, n, roots[n], size, roots[size+1]) == nil {
			t.Fatalf("the consistency proof of %d accepts the root of %d", size, size+1)
		}
	}
	for range 300 {
		a, b := 1+rng.Int64N(n), 1+rng.Int64N(n)
		a, b = min(a, b), max(a, b)
		p, err := translog.ConsistencyProof(ctx, e.DB, a, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p, b, roots[b], a, roots[a]); err != nil {
			t.Fatalf("consistency of %d with %d: %v", a, b, err)
		}
	}
	for _, c := range []struct{ leaf, size int64 }{{-1, 5}, {5, 5}, {0, n + 1}} {
		if _, err := translog.InclusionProof(ctx, e.DB, c.leaf, c.size); err == nil {
			t.Errorf("InclusionProof(%d, %d) did not fail", c.leaf, c.size)
		}
	}
	if _, err := translog.ConsistencyProof(ctx, e.DB, 10, n+1); !errors.Is(err, translog.ErrNotFound) {
		t.Errorf("consistency with a tree larger than the log: %v, want ErrNotFound", err)
	}
}

// TestExactlyOnceUnderRedelivery: redelivered and overlapping batches are
// logged once.
func TestExactlyOnceUnderRedelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 60)
	all := e.Events(t)
	for i := 0; i < len(all); i += 7 {
		page := all[i:min(i+7, len(all))]
		for range 2 {
			if err := projections.Process(ctx, e.DB, translog.Projector{}, page); err != nil {
				t.Fatal(err)
			}
		}
		if err := projections.Process(ctx, e.DB, translog.Projector{}, all[max(0, i-3):min(i+7, len(all))]); err != nil {
			t.Fatal(err)
		}
	}
	if got := storedHashes(t, e, 1); !slices.Equal(got, newReference(t, all).hashes) {
		t.Fatal("redelivery changed the log")
	}
}

func newSigner(t testing.TB, name string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := translog.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := translog.LoadSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func newCheckpointer(t testing.TB, e *logtest.Env, s note.Signer) *translog.Checkpointer {
	t.Helper()
	c, err := translog.NewCheckpointerWithConfig(translog.CheckpointerConfig{DB: e.DB, Signer: s, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	signer, vkey := newSigner(t, "ledger.example.kz/log")
	verifier, err := translog.LoadVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	c := newCheckpointer(t, e, signer)
	if _, signed, err := c.CheckpointOnce(ctx); err != nil || signed {
		t.Fatalf("empty log: signed %v, %v", signed, err)
	}
	var sizes []int64
	for _, n := range []int{5, 0, 12, 1} {
		e.Append(t, n)
		e.CatchUp(t, 100)
		cp, signed, err := c.CheckpointOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if signed != (n > 0) {
			t.Fatalf("after %d more events: signed %v", n, signed)
		}
		_, opened, err := translog.OpenCheckpoint([]byte(cp.Note), verifier)
		if err != nil {
			t.Fatal(err)
		}
		root, err := translog.TreeHash(ctx, e.DB, cp.TreeSize)
		if err != nil {
			t.Fatal(err)
		}
		if opened.TreeSize != cp.TreeSize || opened.RootHash != root || opened.Origin != "ledger.example.kz/log" {
			t.Fatalf("checkpoint %+v does not say what was signed: %+v", cp, opened)
		}
		if want := fmt.Sprintf("ledger.example.kz/log\n%d\n%s\n", cp.TreeSize, root); cp.Body() != want {
			t.Fatalf("body %q, want %q", cp.Body(), want)
		}
		if signed {
			sizes = append(sizes, cp.TreeSize)
		}
	}
	var kept []int64
	if err := translog.Checkpoints(ctx, e.DB, func(c translog.Checkpoint) error { kept = append(kept, c.TreeSize); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kept, sizes) || !slices.Equal(sizes, []int64{5, 17, 18}) {
		t.Fatalf("kept checkpoints %v, signed %v", kept, sizes)
	}
	// Another key's verifier does not open them.
	_, other := newSigner(t, "ledger.example.kz/log")
	ov, _ := translog.LoadVerifier(other)
	latest, _ := translog.LatestCheckpoint(ctx, e.DB)
	if _, _, err := translog.OpenCheckpoint([]byte(latest.Note), ov); err == nil {
		t.Fatal("a checkpoint opened with another key of the same name")
	}
}

// TestRunPacesCheckpoints: Run signs when the tree grew, at most once per
// interval.
func TestRunPacesCheckpoints(t *testing.T) {
	t.Parallel()
	e := logtest.New(t)
	signer, _ := newSigner(t, "pace")
	c, err := translog.NewCheckpointerWithConfig(translog.CheckpointerConfig{DB: e.DB, Signer: signer, Interval: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	start := time.Now()
	for time.Since(start) < 1500*time.Millisecond {
		e.Append(t, 1)
		e.CatchUp(t, 100)
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	var times []time.Time
	if err := e.DB.Select(&times, `SELECT created_at FROM translog_checkpoints ORDER BY tree_size`); err != nil {
		t.Fatal(err)
	}
	if len(times) < 2 || len(times) > 7 {
		t.Fatalf("%d checkpoints in 1.5s at one per 300ms", len(times))
	}
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d < 290*time.Millisecond {
			t.Errorf("checkpoints %v apart", d)
		}
	}
}

// TestRunRestsWhileTheLogIsIdle: with Changed, Run stops looking once
// nothing has changed for IdleAfter: a tree grown unannounced is not
// signed, not even at IdleInterval's pace; a change wakes it, and it signs
// at the next tick. Without the rest it would sign within an Interval.
func TestRunRestsWhileTheLogIsIdle(t *testing.T) {
	t.Parallel()
	e := logtest.New(t)
	signer, _ := newSigner(t, "idle")
	var mu sync.Mutex
	changed := make(chan struct{})
	announce := func() {
		mu.Lock()
		defer mu.Unlock()
		close(changed)
		changed = make(chan struct{})
	}
	c, err := translog.NewCheckpointerWithConfig(translog.CheckpointerConfig{DB: e.DB, Signer: signer, Interval: 20 * time.Millisecond,
		IdleAfter: 100 * time.Millisecond, IdleInterval: time.Hour,
		Changed: func() <-chan struct{} { mu.Lock(); defer mu.Unlock(); return changed }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	}()
	signed := func() int {
		var n int
		if err := e.DB.Get(&n, `SELECT count(*) FROM translog_checkpoints`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	time.Sleep(300 * time.Millisecond) // idle since the start
	e.Append(t, 3)
	e.CatchUp(t, 100)
	time.Sleep(500 * time.Millisecond) // 25 intervals
	if n := signed(); n != 0 {
		t.Fatalf("%d checkpoints signed while idle, with no change heard", n)
	}
	announce()
	deadline := time.Now().Add(10 * time.Second)
	for signed() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint signed after a change was heard")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRebuildReproducesTheLog: a rebuild recomputes identical hashes, so
// checkpoints stay valid and the next one extends them.
func TestRebuildReproducesTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 200)
	e.CatchUp(t, 33)
	signer, _ := newSigner(t, "rebuild")
	c := newCheckpointer(t, e, signer)
	if _, _, err := c.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	before := storedHashes(t, e, 1)
	gen, err := projections.Rebuild(ctx, e.DB, e.Store, translog.Projector{})
	if err != nil || gen != 2 {
		t.Fatalf("rebuild: generation %d, %v", gen, err)
	}
	if after := storedHashes(t, e, 2); !slices.Equal(before, after) {
		t.Fatal("the rebuilt log differs")
	}
	// The log is append-only: the old generation stays as it was.
	if left := storedHashes(t, e, 1); !slices.Equal(before, left) {
		t.Fatalf("generation 1 changed: %d hashes, had %d", len(left), len(before))
	}
	e.Append(t, 10)
	e.CatchUp(t, 100)
	if _, signed, err := c.CheckpointOnce(ctx); err != nil || !signed {
		t.Fatalf("after the rebuild: signed %v, %v", signed, err)
	}
	rep, err := translog.VerifyDatabase(ctx, e.DB, e.Store)
	if err != nil || !rep.OK() || rep.Leaves != 210 || rep.Checkpoints != 2 {
		t.Fatalf("verify after rebuild: %+v, %v", rep, err)
	}
}

// TestCheckpointerRefusesRewrittenLog: after events were changed and the
// log rebuilt from them, the checkpointer will not sign the new tree.
func TestCheckpointerRefusesRewrittenLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	ids := e.Append(t, 50)
	e.CatchUp(t, 100)
	signer, _ := newSigner(t, "refuse")
	c := newCheckpointer(t, e, signer)
	if _, _, err := c.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e.Tamper(t, logtest.Tamperings()[0].SQL(ids)...)
	if _, err := projections.Rebuild(ctx, e.DB, e.Store, translog.Projector{}); err != nil {
		t.Fatal(err)
	}
	e.Append(t, 3)
	e.CatchUp(t, 100)
	if _, signed, err := c.CheckpointOnce(ctx); !errors.Is(err, translog.ErrInconsistent) || signed {
		t.Fatalf("signed %v, %v; want ErrInconsistent", signed, err)
	}
}

// TestVerifyDatabaseDetectsTampering changes history in every way
// logtest knows and requires VerifyDatabase to name exactly the leaves
// concerned, and the checkpoint that no longer matches.
func TestVerifyDatabaseDetectsTampering(t *testing.T) {
	t.Parallel()
	const n = 50
	for _, tc := range logtest.Tamperings() {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := logtest.New(t)
			ids := e.Append(t, n)
			e.CatchUp(t, 100)
			signer, _ := newSigner(t, "verify")
			if _, _, err := newCheckpointer(t, e, signer).CheckpointOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if rep, err := translog.VerifyDatabase(ctx, e.DB, e.Store); err != nil || !rep.OK() {
				t.Fatalf("before tampering: %+v, %v", rep.Mismatches, err)
			}
			e.Tamper(t, tc.SQL(ids)...)
			rep, err := translog.VerifyDatabase(ctx, e.DB, e.Store)
			if err != nil {
				t.Fatal(err)
			}
			var leaves []int64
			checkpoint := false
			for _, m := range rep.Mismatches {
				t.Log(m)
				switch m.Kind {
				case tc.Kind:
					leaves = append(leaves, m.LeafIndex)
				case translog.KindCheckpoint:
					checkpoint = true
				default:
					t.Errorf("unexpected mismatch %s", m)
				}
			}
			slices.Sort(leaves)
			if want := tc.Leaves(n); !slices.Equal(leaves, want) {
				t.Errorf("%s at leaves %v, want %v", tc.Kind, leaves, want)
			}
			if !checkpoint {
				t.Error("the signed checkpoint was not found wrong")
			}
			for _, m := range rep.Mismatches {
				if m.Kind == translog.KindTruncated && m.Count != 5 {
					t.Errorf("truncated count %d, want 5", m.Count)
				}
			}
		})
	}
}

// TestVerifyDatabaseSeesCoveredTracks: an owner who changes an event and
// its stored leaf hash still cannot match the signed checkpoint.
func TestVerifyDatabaseSeesCoveredTracks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	ids := e.Append(t, 40)
	e.CatchUp(t, 100)
	signer, _ := newSigner(t, "covered")
	if _, _, err := newCheckpointer(t, e, signer).CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e.Tamper(t, fmt.Sprintf(`UPDATE events SET data = convert_to('{}', 'UTF8') WHERE event_id = '%s'`, ids[3]))
	var changed eventstore.Recorded
	for _, ev := range e.Events(t) {
		if ev.ID == ids[3] {
			changed = ev
		}
	}
	h := translog.LeafHash(changed)
	e.TamperLog(t, fmt.Sprintf(`UPDATE translog_leaves SET leaf_hash = '\x%x' WHERE event_id = '%s'`, h[:], ids[3]))
	rep, err := translog.VerifyDatabase(ctx, e.DB, e.Store)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[translog.MismatchKind]int{}
	for _, m := range rep.Mismatches {
		t.Log(m)
		kinds[m.Kind]++
	}
	if kinds[translog.KindCheckpoint] != 2 || kinds[translog.KindTree] != 1 || len(kinds) != 2 {
		t.Errorf("mismatches %v: want the checkpoint wrong against events and leaves, and the tree against the leaves", kinds)
	}
}

// TestVerifyDatabaseInsertedAndPending: an event slipped into history is
// inserted; events the projector has not logged yet are only pending.
func TestVerifyDatabaseInsertedAndPending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 30)
	e.CatchUp(t, 100)
	evs := e.Events(t)
	var tx string
	var seq int64
	if err := e.DB.QueryRow(`SELECT tx_id::text, seq FROM events WHERE event_id = $1`, evs[4].ID).Scan(&tx, &seq); err != nil {
		t.Fatal(err)
	}
	forged := uuid.New()
	if _, err := e.DB.Exec(`INSERT INTO events (seq, tx_id, event_id, stream_id, version, type, data, metadata)
OVERRIDING SYSTEM VALUE VALUES ($1, $2::text::xid8, $3, 'forged', 1, 'x.v1', '\x7b7d', '\x7b7d')`, seq+1_000_000, tx, forged); err != nil {
		t.Fatal(err)
	}
	e.Append(t, 4) // not logged
	e.AwaitReadable(t)
	rep, err := translog.VerifyDatabase(ctx, e.DB, e.Store)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Mismatches) != 1 || rep.Mismatches[0].Kind != translog.KindInserted || rep.Mismatches[0].EventID != forged {
		t.Fatalf("mismatches %v, want the forged event inserted", rep.Mismatches)
	}
	if rep.Pending != 4 || rep.EventsRead != 35 || rep.Leaves != 30 {
		t.Errorf("pending %d, read %d, leaves %d", rep.Pending, rep.EventsRead, rep.Leaves)
	}
}

func TestDisplaced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		seq  []int
		want []int
	}{
		{nil, nil},
		{[]int{0, 1, 2, 3}, nil},
		{[]int{0, 2, 1, 3}, []int{1}},
		{[]int{0, 7, 2, 3, 4, 5, 6, 1, 8}, []int{1, 7}},
		{[]int{1, 2, 3, 0}, []int{3}},
		{[]int{3, 0, 1, 2}, []int{0}},
	} {
		got := translog.Displaced(len(tc.seq), func(i, j int) bool { return tc.seq[i] < tc.seq[j] })
		if !slices.Equal(got, tc.want) {
			t.Errorf("Displaced(%v) = %v, want %v", tc.seq, got, tc.want)
		}
	}
}

func TestFeedFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 100)
	e.CatchUp(t, 100)
	count := func(f translog.FeedFilter) []int64 {
		t.Helper()
		var got []int64
		if err := translog.ScanFeed(ctx, e.DB, f, func(fe translog.FeedEvent) error {
			if !fe.Present || translog.LeafHash(fe.Event) != fe.Leaf.Hash {
				t.Fatalf("leaf %d: the feed's event does not match its leaf", fe.Leaf.Index)
			}
			got = append(got, fe.Leaf.Index)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Leaf i is the i-th event appended, whose metadata logtest derives from i.
	want := func(keep func(i int) bool) []int64 {
		var out []int64
		for i := range 100 {
			if keep(i) {
				out = append(out, int64(i))
			}
		}
		return out
	}
	at := func(h int) time.Time { return logtest.Base.Add(time.Duration(h) * time.Hour) }
	for _, tc := range []struct {
		name string
		f    translog.FeedFilter
		keep func(int) bool
	}{
		{"all", translog.FeedFilter{After: -1}, func(int) bool { return true }},
		{"after and before", translog.FeedFilter{After: 10, Before: 20}, func(i int) bool { return i > 10 && i < 20 }},
		{"limit", translog.FeedFilter{After: -1, Limit: 7}, func(i int) bool { return i < 7 }},
		{"actor", translog.FeedFilter{After: -1, Actor: "officer-3"}, func(i int) bool { return i%7 == 3 }},
		{"effective", translog.FeedFilter{After: -1, EffectiveFrom: at(10), EffectiveTo: at(15)}, func(i int) bool { return i >= 10 && i < 15 }},
		{"recorded", translog.FeedFilter{After: -1, RecordedFrom: at(10)}, func(i int) bool { return i >= 9 }},
		{"type", translog.FeedFilter{After: -1, Type: "other"}, func(int) bool { return false }},
	} {
		if got, w := count(tc.f), want(tc.keep); !slices.Equal(got, w) {
			t.Errorf("%s: leaves %v, want %v", tc.name, got, w)
		}
	}
	// A stream: its leaves, whichever they are.
	var inStream []int64
	for i, ev := range e.Events(t) {
		if ev.Stream == logtest.Stream(0) {
			inStream = append(inStream, int64(i))
		}
	}
	if got := count(translog.FeedFilter{After: -1, Stream: logtest.Stream(0)}); !slices.Equal(got, inStream) || len(got) == 0 {
		t.Errorf("stream: %v, want %v", got, inStream)
	}
}

// coverTracks does what an owner without the signing key would do to hide
// a changed event: rebuild the log from the events as they are now and
// write the rebuilt tree's roots into the checkpoints' (unsigned) columns,
// leaving the signed notes as they were.
func coverTracks(t *testing.T, e *logtest.Env, ids []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	e.Tamper(t, logtest.Tamperings()[0].SQL(ids)...)
	if _, err := projections.Rebuild(ctx, e.DB, e.Store, translog.Projector{}); err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	if err := e.DB.Select(&sizes, `SELECT tree_size FROM translog_checkpoints`); err != nil {
		t.Fatal(err)
	}
	for _, size := range sizes {
		root, err := translog.TreeHash(ctx, e.DB, size)
		if err != nil {
			t.Fatal(err)
		}
		e.TamperLog(t, fmt.Sprintf(`UPDATE translog_checkpoints SET root_hash = '\x%x' WHERE tree_size = %d`, root[:], size))
	}
}

// TestVerifyDatabaseChecksCheckpointRows: the tree_size and root_hash
// columns of a checkpoint are not signed; VerifyDatabase holds the log to
// the signed note and reports a row whose columns disagree with it.
func TestVerifyDatabaseChecksCheckpointRows(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*logtest.Env, []uuid.UUID) {
		e := logtest.New(t)
		ids := e.Append(t, 40)
		e.CatchUp(t, 100)
		signer, _ := newSigner(t, "rows")
		c := newCheckpointer(t, e, signer)
		if _, _, err := c.CheckpointOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.Append(t, 10)...)
		e.CatchUp(t, 100)
		if _, _, err := c.CheckpointOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if rep, err := translog.VerifyDatabase(context.Background(), e.DB, e.Store); err != nil || !rep.OK() || rep.Checkpoints != 2 {
			t.Fatalf("before tampering: %+v, %v", rep, err)
		}
		return e, ids
	}
	verify := func(t *testing.T, e *logtest.Env) (rows []int64, kinds map[translog.MismatchKind]int) {
		t.Helper()
		rep, err := translog.VerifyDatabase(context.Background(), e.DB, e.Store)
		if err != nil {
			t.Fatal(err)
		}
		kinds = map[translog.MismatchKind]int{}
		for _, m := range rep.Mismatches {
			t.Log(m)
			kinds[m.Kind]++
			if m.Kind == translog.KindCheckpoint && strings.Contains(m.Detail, "signed note says") {
				rows = append(rows, m.TreeSize)
			}
		}
		slices.Sort(rows)
		return rows, kinds
	}

	t.Run("root_column", func(t *testing.T) {
		t.Parallel()
		e, _ := setup(t)
		e.TamperLog(t, `UPDATE translog_checkpoints SET root_hash = sha256('x') WHERE tree_size = 40`)
		// The log itself still matches what was signed: only the row is wrong.
		if rows, kinds := verify(t, e); !slices.Equal(rows, []int64{40}) || len(kinds) != 1 || kinds[translog.KindCheckpoint] != 1 {
			t.Errorf("rows %v, mismatches %v: want only checkpoint 40's row", rows, kinds)
		}
	})
	t.Run("size_column", func(t *testing.T) {
		t.Parallel()
		e, _ := setup(t)
		e.TamperLog(t, `UPDATE translog_checkpoints SET tree_size = 45 WHERE tree_size = 50`)
		if rows, kinds := verify(t, e); !slices.Equal(rows, []int64{50}) || len(kinds) != 1 || kinds[translog.KindCheckpoint] != 1 {
			t.Errorf("rows %v, mismatches %v: want only checkpoint 50's row", rows, kinds)
		}
	})
	t.Run("covered_tracks", func(t *testing.T) {
		t.Parallel()
		e, ids := setup(t)
		coverTracks(t, e, ids)
		rows, kinds := verify(t, e)
		if !slices.Equal(rows, []int64{40, 50}) {
			t.Errorf("rows %v reported, want both checkpoints' rows", rows)
		}
		// And the log no longer matches either signed root.
		if kinds[translog.KindCheckpoint] < 4 || kinds[translog.KindTree] != 1 || len(kinds) != 2 {
			t.Errorf("mismatches %v: want the signed roots wrong against events and leaves, and the tree", kinds)
		}
	})
}

// TestCheckpointerRefusesChangedCheckpointRow: the checkpointer extends the
// checkpoint its note signed, not what the row's columns say.
func TestCheckpointerRefusesChangedCheckpointRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	ids := e.Append(t, 50)
	e.CatchUp(t, 100)
	signer, _ := newSigner(t, "row")
	c := newCheckpointer(t, e, signer)
	if _, _, err := c.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	coverTracks(t, e, ids)
	e.Append(t, 3)
	e.CatchUp(t, 100)
	if _, signed, err := c.CheckpointOnce(ctx); !errors.Is(err, translog.ErrInconsistent) || signed {
		t.Fatalf("signed %v, %v; want ErrInconsistent", signed, err)
	}
}

// TestVerifyDatabaseNamesTheSideThatLostARow: a leaf row deleted from the
// log is reported as the log's loss (leaf_missing, naming the event the
// store still has there), not as an event the store lost or an event
// slipped into history; an event deleted from the store is named as the
// store's loss.
func TestVerifyDatabaseNamesTheSideThatLostARow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, e *logtest.Env, ids []uuid.UUID)
		kind   translog.MismatchKind
		detail string
	}{
		{"log_row_deleted", func(t *testing.T, e *logtest.Env, ids []uuid.UUID) {
			e.TamperLog(t, fmt.Sprintf(`DELETE FROM translog_leaves WHERE event_id = '%s'`, ids[20]))
		}, translog.KindLeafMissing, "the log has no leaf 20"},
		{"event_deleted", func(t *testing.T, e *logtest.Env, ids []uuid.UUID) {
			e.Tamper(t, fmt.Sprintf(`DELETE FROM events WHERE event_id = '%s'`, ids[20]))
		}, translog.KindMissing, "the event store does not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := logtest.New(t)
			ids := e.Append(t, 40)
			e.CatchUp(t, 100)
			tc.tamper(t, e, ids)
			rep, err := translog.VerifyDatabase(context.Background(), e.DB, e.Store)
			if err != nil {
				t.Fatal(err)
			}
			var named []translog.Mismatch
			for _, m := range rep.Mismatches {
				t.Log(m)
				switch m.Kind {
				case translog.KindTree: // the stored leaves skip a leaf: also the log's side
				case tc.kind:
					named = append(named, m)
				default:
					t.Errorf("unexpected mismatch %s", m)
				}
			}
			if len(named) != 1 || named[0].LeafIndex != 20 || named[0].EventID != ids[20] || !strings.Contains(named[0].Detail, tc.detail) {
				t.Fatalf("%s mismatches %v, want one at leaf 20 naming event %s and saying %q", tc.kind, named, ids[20], tc.detail)
			}
		})
	}
}

// TestLogTablesAreAppendOnly: UPDATE, DELETE and TRUNCATE on the log's
// tables fail for everyone, even when they match no row and with
// session_replication_role = replica, and change nothing; a rebuild still
// works (it writes a new generation).
func TestLogTablesAreAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 20)
	e.CatchUp(t, 100)
	signer, _ := newSigner(t, "append-only")
	if _, _, err := newCheckpointer(t, e, signer).CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Exec(`INSERT INTO translog_cosignatures (tree_size, witness, key_hash, signature) VALUES (20, 'w', 1, 'x')`); err != nil {
		t.Fatal(err)
	}
	count := func() string {
		var s string
		if err := e.DB.Get(&s, `SELECT (SELECT count(*) FROM translog_leaves) || '/' || (SELECT count(*) FROM translog_hashes) || '/' ||
	(SELECT count(*) FROM translog_entries) || '/' || (SELECT count(*) FROM translog_checkpoints) || '/' || (SELECT count(*) FROM translog_cosignatures)`); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := count()
	set := map[string]string{"translog_leaves": "leaf_hash = leaf_hash", "translog_hashes": "hash = hash",
		"translog_entries": "entry = entry", "translog_checkpoints": "note = note", "translog_cosignatures": "signature = signature"}
	for _, table := range logtest.LogTables {
		for _, stmt := range []string{
			`UPDATE ` + table + ` SET ` + set[table],
			`UPDATE ` + table + ` SET ` + set[table] + ` WHERE false`,
			`DELETE FROM ` + table,
			`DELETE FROM ` + table + ` WHERE false`,
			`TRUNCATE ` + table + ` CASCADE`,
		} {
			for _, replica := range []bool{false, true} {
				tx, err := e.DB.Beginx()
				if err != nil {
					t.Fatal(err)
				}
				if replica {
					if _, err := tx.Exec(`SET LOCAL session_replication_role = replica`); err != nil {
						t.Fatal(err)
					}
				}
				_, err = tx.Exec(stmt)
				tx.Rollback() //nolint:errcheck
				var pqErr *pq.Error
				if !errors.As(err, &pqErr) || pqErr.Code != "42501" || !strings.Contains(pqErr.Message, "append-only") {
					t.Errorf("%s (replica %v): %v, want the append-only error 42501", stmt, replica, err)
				}
			}
		}
	}
	if after := count(); after != before {
		t.Errorf("rows %s, were %s", after, before)
	}
	gen, err := projections.Rebuild(ctx, e.DB, e.Store, translog.Projector{})
	if err != nil {
		t.Fatalf("rebuild over append-only tables: %v", err)
	}
	if rep, err := translog.VerifyDatabase(ctx, e.DB, e.Store); err != nil || !rep.OK() {
		t.Fatalf("after rebuild into generation %d: %v, %v", gen, rep.Mismatches, err)
	}
}
