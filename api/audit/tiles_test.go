package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/api/audit"
	"promiseledger/projections/translog"
)

// openTiles fetches and opens the tlog-tiles checkpoint with torchwood's
// fetcher, as any tlog-tiles client does.
func openTiles(t *testing.T, ctx context.Context, f *torchwood.TileFetcher, vkey string) torchwood.Checkpoint {
	t.Helper()
	msg, err := f.ReadEndpoint(ctx, "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("open the tlog-tiles checkpoint: %v\n%s", err, msg)
	}
	c, err := torchwood.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestThirdPartyTilesClientVerifiesTheLog: torchwood's tlog-tiles client,
// unmodified, reads the log from the tlog-tiles routes over a real
// PostgreSQL log: every entry of the tree (full and partial tiles, at two
// levels; level 1 partial) matches its leaf, an inclusion proof checks against the signed
// checkpoint, and a consistency proof from an earlier checkpoint checks
// against the later one.
func TestThirdPartyTilesClientVerifiesTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newLogServer(t, newKey(t, "tiles"))
	s.AppendMany(t, 2*256+37)
	s.CatchUp(t, 100)
	if _, _, err := s.cp.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := torchwood.NewTileFetcher(s.base+audit.TilesPrefix, torchwood.WithHTTPClient(s.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	old := openTiles(t, ctx, f, s.key.vkey)
	if old.N != 2*256+37 {
		t.Fatalf("tiles checkpoint at %d, want %d", old.N, 2*256+37)
	}

	s.AppendMany(t, 300)
	s.CatchUp(t, 1000)
	if _, _, err := s.cp.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	cur := openTiles(t, ctx, f, s.key.vkey)
	events := s.Events(t)
	if cur.N != int64(len(events)) {
		t.Fatalf("tiles checkpoint at %d, the log has %d", cur.N, len(events))
	}

	client, err := torchwood.NewClient(f)
	if err != nil {
		t.Fatal(err)
	}
	next := int64(0)
	for next < cur.N {
		before := next
		for i, entry := range client.Entries(ctx, cur.Tree, next) {
			if i != next || !bytes.Equal(entry, translog.EncodeLeaf(events[i])) {
				t.Fatalf("entry %d (want %d) is not the leaf's bytes", i, next)
			}
			next++
		}
		if err := client.Err(); err != nil {
			t.Fatal(err)
		}
		if next == before {
			t.Fatalf("the client stopped at entry %d of %d", next, cur.N)
		}
	}

	for _, i := range []int64{0, 300, cur.N - 1} {
		entry, proof, err := client.Entry(ctx, cur.Tree, i)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, cur.N, cur.Hash, i, tlog.RecordHash(entry)); err != nil {
			t.Errorf("inclusion proof of entry %d: %v", i, err)
		}
	}
	proof, err := tlog.ProveTree(cur.N, old.N, torchwood.TileHashReaderWithContext(ctx, cur.Tree, f))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(proof, cur.N, cur.Hash, old.N, old.Hash); err != nil {
		t.Errorf("consistency proof %d -> %d: %v", old.N, cur.N, err)
	}
}

// TestTilesRoutes: cache lifetimes (immutable full tiles, short-lived
// partial tiles and checkpoint), the key on checkpoint answers and at
// /key, and a clear 404 for paths tlog-tiles does not have or the
// checkpoint does not cover.
func TestTilesRoutes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newLogServer(t, newKey(t, "tileroutes"))
	s.AppendMany(t, 300)
	s.CatchUp(t, 100)
	if _, _, err := s.cp.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	s.AppendMany(t, 5) // logged but not yet in a checkpoint
	s.CatchUp(t, 100)
	for _, tc := range []struct {
		path, status, cache string
	}{
		{"/tlog/checkpoint", "200", "public, max-age=5"},
		{"/tlog/tile/0/000", "200", "public, max-age=31536000, immutable"},
		{"/tlog/tile/entries/000", "200", "public, max-age=31536000, immutable"},
		{"/tlog/tile/0/001.p/44", "200", "public, max-age=60"},
		{"/tlog/tile/1/000.p/1", "200", "public, max-age=60"},
		{"/tlog/tile/entries/001.p/44", "200", "public, max-age=60"},
		{"/tlog/tile/entries/001.p/45", "404", ""}, // logged, not checkpointed
		{"/tlog/tile/0/001", "404", ""},
		{"/tlog/tile/data/000", "404", ""}, // sumdb's spelling
		{"/tlog/tile/0/000.p/0", "404", ""},
		{"/tlog/tile/0/0", "404", ""},
		{"/tlog/tile/9/000", "400", ""}, // no such level
		{"/tlog/tile/", "404", ""},
	} {
		resp := get(t, s.base+tc.path)
		body, _ := io.ReadAll(resp.Body)
		if got := resp.Status[:3]; got != tc.status || resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("GET %s: %s, Cache-Control %q; want %s, %q\n%s", tc.path, resp.Status, resp.Header.Get("Cache-Control"), tc.status, tc.cache, body)
		}
	}
	if n := len(readBody(t, s.base+"/tlog/tile/0/001.p/44")); n != 44*tlog.HashSize {
		t.Errorf("partial hash tile of width 44: %d bytes", n)
	}

	for _, path := range []string{"/checkpoint", "/tlog/checkpoint", "/checkpoints/300"} {
		if got := get(t, s.base+path).Header.Get("Audit-Log-Key"); got != s.key.vkey {
			t.Errorf("GET %s: Audit-Log-Key %q, want %q", path, got, s.key.vkey)
		}
	}
	var k audit.LogKey
	if err := json.Unmarshal(readBody(t, s.base+"/key"), &k); err != nil {
		t.Fatal(err)
	}
	v, _ := note.NewVerifier(s.key.vkey)
	if k.VerifierKey != s.key.vkey || k.Origin != v.Name() || k.Algorithm != "Ed25519" || len(k.PublicKey) != 44 ||
		k.TilesURL != audit.PathPrefix+audit.TilesPrefix {
		t.Errorf("GET /key: %+v", k)
	}
}

func readBody(t *testing.T, url string) []byte {
	t.Helper()
	resp := get(t, url)
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return b
}

// recorder is an http.RoundTripper that remembers the paths requested.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.paths
	r.paths = nil
	return out
}

// TestVerifyFromTilesColdThenIncremental: Verify reads the whole log from
// the tiles and checks every leaf; a later run, after the log grew, proves
// the old checkpoint a prefix of the new one and downloads only what is
// new: no full tile it fetched before. A copy of a leaf changed in the
// log's table, a wrong key, and a log rewritten after the first run each
// fail the verification.
func TestVerifyFromTilesColdThenIncremental(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newLogServer(t, newKey(t, "tilesverify"))
	s.AppendMany(t, 600)
	s.CatchUp(t, 1000)
	if _, _, err := s.cp.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	dir := t.TempDir()
	cfg := audit.VerifyConfig{BaseURL: s.base, VerifierKey: s.key.vkey, StateFile: filepath.Join(dir, "state.json"),
		HTTPClient: &http.Client{Transport: rec}, Tiles: true, TileCache: filepath.Join(dir, "tiles")}
	rep, err := audit.Verify(ctx, cfg)
	if err != nil || rep.EventsChecked != 600 || rep.FirstChecked != 0 {
		t.Fatalf("cold: %d events from leaf %d, %v %v", rep.EventsChecked, rep.FirstChecked, err, rep.Findings)
	}
	cold := rec.take()
	if int64(len(cold)) != rep.Downloads {
		t.Errorf("report counts %d downloads, %d made", rep.Downloads, len(cold))
	}
	for _, p := range cold {
		if !strings.HasPrefix(p, audit.PathPrefix+audit.TilesPrefix+"/") {
			t.Errorf("cold run fetched %s, outside the tiles", p)
		}
	}

	s.AppendMany(t, 300)
	s.CatchUp(t, 1000)
	if _, _, err := s.cp.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err = audit.Verify(ctx, cfg)
	if err != nil || rep.EventsChecked != 300 || rep.FirstChecked != 600 || !slices.Equal(rep.ConsistentWith, []int64{600}) {
		t.Fatalf("incremental: %d events from leaf %d, consistent with %v, %v %v", rep.EventsChecked, rep.FirstChecked, rep.ConsistentWith, err, rep.Findings)
	}
	for _, p := range rec.take() {
		if slices.Contains(cold, p) && !strings.Contains(p, ".p/") && !strings.HasSuffix(p, "/checkpoint") {
			t.Errorf("incremental run downloaded full tile %s again", p)
		}
	}

	t.Run("wrong_key", func(t *testing.T) {
		other := newKey(t, "tilesverify")
		c := cfg
		c.VerifierKey, c.StateFile, c.TileCache = other.vkey, "", ""
		rep, err := audit.Verify(ctx, c)
		if !errors.Is(err, audit.ErrVerificationFailed) || len(rep.Findings) != 1 || rep.Findings[0].Kind != audit.KindSignature {
			t.Errorf("wrong key: %v %v", err, rep.Findings)
		}
	})
	t.Run("changed_copy", func(t *testing.T) {
		s.TamperLog(t, `UPDATE translog_entries SET entry = entry || '\x00'::bytea
WHERE leaf_index = 700 AND generation = (SELECT active_generation FROM projectors WHERE name = 'translog.v1')`)
		c := cfg
		c.StateFile, c.TileCache = "", ""
		rep, err := audit.Verify(ctx, c)
		if !errors.Is(err, audit.ErrVerificationFailed) || len(rep.Findings) == 0 || rep.Findings[0].Kind != translog.KindChanged {
			t.Errorf("changed copy: %v %v", err, rep.Findings)
		}
	})
}
