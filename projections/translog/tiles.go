package translog

import (
	"context"
	"errors"
	"fmt"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/tlog"
)

// The log in C2SP tlog-tiles form (https://c2sp.org/tlog-tiles): hash
// tiles and entry bundles of height 8, read from the stored hashes and
// from the log's copy of each leaf's bytes. Tile paths and the bundle
// format are torchwood's (filippo.io/torchwood), the tile data
// golang.org/x/mod/sumdb/tlog's: nothing here is a format of its own.

// ErrEntryTooLarge: an entry bundle cannot hold a leaf of more than 65535
// bytes (tlog-tiles gives each entry a 16-bit length).
var ErrEntryTooLarge = errors.New("translog: a leaf is too large for a tlog-tiles entry bundle")

// checkTile fails with ErrInvalid on a tile tlog-tiles does not have and
// with ErrNotFound on one the first treeSize leaves do not complete.
func checkTile(t tlog.Tile, treeSize int64) error {
	if t.H != torchwood.TileHeight || t.L < -1 || t.L > 8 || t.W < 1 || t.W > torchwood.TileWidth || t.N < 0 {
		return fmt.Errorf("tile %+v: %w", t, ErrInvalid)
	}
	level := max(t.L, 0) * torchwood.TileHeight
	complete := treeSize >> level // nodes of that level the tree holds
	if t.N > complete/torchwood.TileWidth || t.N*torchwood.TileWidth+int64(t.W) > complete {
		return fmt.Errorf("tile %s: the tree of %d leaves does not hold it: %w", torchwood.TilePath(t), treeSize, ErrNotFound)
	}
	return nil
}

// HashTile returns the data of hash tile t (t.L >= 0) of the active
// generation, if the first treeSize leaves complete it.
func HashTile(ctx context.Context, q Querier, t tlog.Tile, treeSize int64) ([]byte, error) {
	if t.L < 0 {
		return nil, fmt.Errorf("tile %+v is an entry bundle: %w", t, ErrInvalid)
	}
	if err := checkTile(t, treeSize); err != nil {
		return nil, err
	}
	data, err := tlog.ReadTileData(t, NewHashReader(ctx, q))
	if err != nil {
		return nil, fmt.Errorf("translog: tile %s: %w", torchwood.TilePath(t), err)
	}
	return data, nil
}

// EntryBundle returns entry bundle t (t.L == -1): the exact bytes of
// leaves t.N*256 to t.N*256+t.W-1, from the log's own copy, each with
// its 16-bit length.
func EntryBundle(ctx context.Context, q Querier, t tlog.Tile, treeSize int64) ([]byte, error) {
	if t.L != -1 {
		return nil, fmt.Errorf("tile %+v is not an entry bundle: %w", t, ErrInvalid)
	}
	if err := checkTile(t, treeSize); err != nil {
		return nil, err
	}
	first := t.N * torchwood.TileWidth
	const query = `SELECT l.leaf_index, c.entry FROM translog_leaves l
LEFT JOIN translog_entries c ON c.generation = l.generation AND c.leaf_index = l.leaf_index
WHERE l.generation = ` + activeGeneration + ` AND l.leaf_index >= $1 AND l.leaf_index < $2 ORDER BY l.leaf_index`
	rows, err := q.QueryxContext(ctx, query, first, first+int64(t.W))
	if err != nil {
		return nil, fmt.Errorf("translog: entry bundle %s: %w", torchwood.TilePath(t), err)
	}
	defer rows.Close()
	var out []byte
	next := first
	for rows.Next() {
		var i int64
		var entry []byte
		if err := rows.Scan(&i, &entry); err != nil {
			return nil, fmt.Errorf("translog: entry bundle %s: %w", torchwood.TilePath(t), err)
		}
		if i != next {
			return nil, fmt.Errorf("translog: entry bundle %s: leaf %d is missing: %w", torchwood.TilePath(t), next, ErrNotFound)
		}
		if entry == nil {
			return nil, fmt.Errorf("translog: entry bundle %s: the log holds no copy of leaf %d: %w", torchwood.TilePath(t), i, ErrNotFound)
		}
		if out, err = torchwood.AppendTileEntry(out, entry); err != nil {
			return nil, fmt.Errorf("translog: entry bundle %s: leaf %d has %d bytes: %w", torchwood.TilePath(t), i, len(entry), ErrEntryTooLarge)
		}
		next++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("translog: entry bundle %s: %w", torchwood.TilePath(t), err)
	}
	if next != first+int64(t.W) {
		return nil, fmt.Errorf("translog: entry bundle %s: leaf %d is missing: %w", torchwood.TilePath(t), next, ErrNotFound)
	}
	return out, nil
}
