package audit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/projections/translog"
)

// The tlog-tiles side of Verify: torchwood's fetcher, cache and client
// read the tiles and check every hash against the signed root; this file
// only decides where to start and turns what they find into findings.

// newTileReader returns torchwood's fetcher for the log's tiles, behind a
// cache of verified full tiles in dir when dir is given.
func newTileReader(c client, dir string) (torchwood.TileReader, error) {
	f, err := torchwood.NewTileFetcher(c.base+TilesPrefix, torchwood.WithHTTPClient(c.http),
		torchwood.WithUserAgent("promiseledger-verify"))
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return f, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tile cache: %w", err)
	}
	return torchwood.NewPermanentCache(f, dir)
}

// proveConsistentFromTiles proves old a prefix of new from the hash tiles
// of new's tree (which the tile reader checks against new's root).
func (c client) proveConsistentFromTiles(ctx context.Context, old, new translog.Checkpoint) (bool, error) {
	tree := tlog.Tree{N: new.TreeSize, Hash: new.RootHash}
	proof, err := tlog.ProveTree(new.TreeSize, old.TreeSize, torchwood.TileHashReaderWithContext(ctx, tree, c.tiles))
	if err != nil {
		if tileMismatch(err) {
			return false, nil
		}
		var se *StatusError
		if errors.As(err, &se) || strings.Contains(err.Error(), "unexpected status code 404") {
			return false, nil
		}
		return false, fmt.Errorf("audit: tiles: %w", err)
	}
	return tlog.CheckTree(proof, new.TreeSize, new.RootHash, old.TreeSize, old.RootHash) == nil, nil
}

// incrementalStart is the first leaf a tiles verification must check:
// the leaves a previous whole-log run re-hashed stay verified when their
// checkpoint was just proved a prefix of cp.
func incrementalStart(st State, consistent []int64, cp translog.Checkpoint) int64 {
	var start int64
	for _, size := range consistent {
		if size <= cp.TreeSize && size <= st.VerifiedLeaves && size > start {
			start = size
		}
	}
	return start
}

// tileMismatch tells a tile or entry that does not match the signed tree
// (a finding) from a failed download (an error).
func tileMismatch(err error) bool {
	s := err.Error()
	return slices.ContainsFunc([]string{"hash mismatch", "inconsistent", "cut entry", "tile data", "leftover data", "malformed"},
		func(m string) bool { return strings.Contains(s, m) })
}

// verifyTiles downloads the entries from leaf start to the end of cp with
// torchwood's client, which checks each against the signed root, and
// checks that each is a leaf of the documented encoding.
func (c client) verifyTiles(ctx context.Context, rep *VerifyReport, cp translog.Checkpoint, start int64, progress func(VerifyProgress)) error {
	rep.FirstChecked = start
	tc, err := torchwood.NewClient(c.tiles)
	if err != nil {
		return err
	}
	report := func(done bool) {
		if progress != nil {
			progress(VerifyProgress{Checked: rep.EventsChecked, Total: cp.TreeSize - start, Done: done})
		}
	}
	tree := tlog.Tree{N: cp.TreeSize, Hash: cp.RootHash}
	next := start
	for next < cp.TreeSize {
		before := next
		for i, entry := range tc.Entries(ctx, tree, next) {
			if i != next {
				rep.find(KindOrder, next, "the tiles gave entry %d where %d was due", i, next)
				return nil
			}
			next++
			rep.EventsChecked++
			if _, err := translog.DecodeLeaf(entry); err != nil {
				rep.find(KindIncomplete, i, "entry %d is in the tree but is not a leaf of the documented encoding: %v", i, err)
			}
			if rep.EventsChecked%ProgressEvery == 0 {
				report(false)
			}
		}
		if err := tc.Err(); err != nil {
			if tileMismatch(err) {
				rep.find(translog.KindChanged, next, "the tiles do not match signed checkpoint %d from leaf %d on: %v", cp.TreeSize, next, err)
				report(true)
				return nil
			}
			return fmt.Errorf("audit: tiles: %w", err)
		}
		if next == before {
			rep.find(translog.KindTruncated, next, "the tiles end at leaf %d, checkpoint %d has %d", next, cp.TreeSize, cp.TreeSize)
			break
		}
	}
	report(true)
	return nil
}

// countingTransport counts the requests of one verification.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

// wrap returns a copy of hc (http.DefaultClient if nil) that counts its
// requests.
func (t *countingTransport) wrap(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	out := *hc
	t.base = out.Transport
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	out.Transport = t
	return &out
}
