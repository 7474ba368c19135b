package translog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore"
)

// hashReader reads stored hashes of one generation (or of the active one
// when gen is 0). tlog.HashReader has no context, so the reader carries
// the one of the call that made it; it never outlives that call.
type hashReader struct {
	ctx context.Context
	q   Querier
	gen int
}

// NewHashReader returns a tlog.HashReader over the active generation of
// the log, for the duration of one call that uses ctx.
func NewHashReader(ctx context.Context, q Querier) tlog.HashReader {
	return hashReader{ctx: ctx, q: q}
}

// ReadHashes implements tlog.HashReader.
func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	const qActive = `SELECT hash_index, hash FROM translog_hashes WHERE generation = ` + activeGeneration + ` AND hash_index = ANY($1::bigint[])`
	const qGen = `SELECT hash_index, hash FROM translog_hashes WHERE generation = $2 AND hash_index = ANY($1::bigint[])`
	var rows *sql.Rows
	var err error
	if r.gen == 0 {
		rows, err = queryRows(r.ctx, r.q, qActive, pq.Int64Array(indexes))
	} else {
		rows, err = queryRows(r.ctx, r.q, qGen, pq.Int64Array(indexes), r.gen)
	}
	if err != nil {
		return nil, fmt.Errorf("translog: read hashes: %w", err)
	}
	defer rows.Close()
	found := make(map[int64]tlog.Hash, len(indexes))
	for rows.Next() {
		var i int64
		var b []byte
		if err := rows.Scan(&i, &b); err != nil {
			return nil, fmt.Errorf("translog: read hashes: %w", err)
		}
		if len(b) != tlog.HashSize {
			return nil, fmt.Errorf("translog: stored hash %d has %d bytes", i, len(b))
		}
		found[i] = tlog.Hash(b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("translog: read hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for k, i := range indexes {
		h, ok := found[i]
		if !ok {
			return nil, fmt.Errorf("translog: stored hash %d is missing: %w", i, ErrNotFound)
		}
		out[k] = h
	}
	return out, nil
}

func queryRows(ctx context.Context, q Querier, query string, args ...any) (*sql.Rows, error) {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows.Rows, nil
}

// Size returns the number of leaves in the active generation of the log.
func Size(ctx context.Context, q Querier) (int64, error) {
	const query = `SELECT COALESCE((SELECT leaf_index FROM translog_leaves WHERE generation = ` + activeGeneration + `
ORDER BY leaf_index DESC LIMIT 1) + 1, 0)`
	var n int64
	if err := q.QueryRowxContext(ctx, query).Scan(&n); err != nil {
		return 0, fmt.Errorf("translog: size: %w", err)
	}
	return n, nil
}

// generationEnd returns the number of leaves of generation gen and the
// store position of its last leaf's event.
func generationEnd(ctx context.Context, q Querier, gen int) (int64, eventstore.Position, error) {
	const query = `SELECT leaf_index, position FROM translog_leaves WHERE generation = $1 ORDER BY leaf_index DESC LIMIT 1`
	var last int64
	var pos string
	err := q.QueryRowxContext(ctx, query, gen).Scan(&last, &pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, eventstore.Start, nil
	}
	if err != nil {
		return 0, eventstore.Start, fmt.Errorf("translog: size of generation %d: %w", gen, err)
	}
	p, err := eventstore.ParsePosition(pos)
	if err != nil {
		return 0, eventstore.Start, fmt.Errorf("translog: generation %d, leaf %d: position %q: %w", gen, last, pos, err)
	}
	return last + 1, p, nil
}

// checkSize fails unless the log holds at least size leaves.
func checkSize(ctx context.Context, q Querier, size int64) error {
	if size < 0 {
		return fmt.Errorf("tree size %d: %w", size, ErrInvalid)
	}
	n, err := Size(ctx, q)
	if err != nil {
		return err
	}
	if size > n {
		return fmt.Errorf("tree size %d: the log has %d leaves: %w", size, n, ErrNotFound)
	}
	return nil
}

// TreeHash returns the root hash of the log's first size leaves.
func TreeHash(ctx context.Context, q Querier, size int64) (tlog.Hash, error) {
	if err := checkSize(ctx, q, size); err != nil {
		return tlog.Hash{}, err
	}
	h, err := tlog.TreeHash(size, NewHashReader(ctx, q))
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("translog: tree hash of size %d: %w", size, err)
	}
	return h, nil
}

// InclusionProof proves that leaf leafIndex is in the tree of size
// treeSize (an RFC 6962 audit path, checked with tlog.CheckRecord).
func InclusionProof(ctx context.Context, q Querier, leafIndex, treeSize int64) (tlog.RecordProof, error) {
	if leafIndex < 0 || leafIndex >= treeSize {
		return nil, fmt.Errorf("leaf %d is not in a tree of size %d: %w", leafIndex, treeSize, ErrInvalid)
	}
	if err := checkSize(ctx, q, treeSize); err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(treeSize, leafIndex, NewHashReader(ctx, q))
	if err != nil {
		return nil, fmt.Errorf("translog: prove leaf %d in %d: %w", leafIndex, treeSize, err)
	}
	return p, nil
}

// ConsistencyProof proves that the tree of size oldSize is a prefix of the
// tree of size newSize (RFC 6962, checked with tlog.CheckTree).
func ConsistencyProof(ctx context.Context, q Querier, oldSize, newSize int64) (tlog.TreeProof, error) {
	if oldSize < 1 || oldSize > newSize {
		return nil, fmt.Errorf("consistency of %d with %d: want 1 <= old <= new: %w", oldSize, newSize, ErrInvalid)
	}
	if err := checkSize(ctx, q, newSize); err != nil {
		return nil, err
	}
	p, err := tlog.ProveTree(newSize, oldSize, NewHashReader(ctx, q))
	if err != nil {
		return nil, fmt.Errorf("translog: prove %d in %d: %w", oldSize, newSize, err)
	}
	return p, nil
}

// Leaf is what the log keeps of one event.
type Leaf struct {
	Index    int64
	EventID  uuid.UUID
	Hash     tlog.Hash
	Position string // where the store had the event when it was logged
	Stream   string
	Version  int64
	Type     string
}

const leafColumns = `leaf_index, event_id, leaf_hash, position, stream, version, type`

func scanLeaf(row interface{ Scan(...any) error }) (Leaf, error) {
	var l Leaf
	var h []byte
	if err := row.Scan(&l.Index, &l.EventID, &h, &l.Position, &l.Stream, &l.Version, &l.Type); err != nil {
		return l, err
	}
	if len(h) != tlog.HashSize {
		return l, fmt.Errorf("translog: leaf %d: hash has %d bytes", l.Index, len(h))
	}
	l.Hash = tlog.Hash(h)
	return l, nil
}

// LeafAt returns leaf index of the active generation.
func LeafAt(ctx context.Context, q Querier, index int64) (Leaf, error) {
	const query = `SELECT ` + leafColumns + ` FROM translog_leaves WHERE generation = ` + activeGeneration + ` AND leaf_index = $1`
	l, err := scanLeaf(q.QueryRowxContext(ctx, query, index))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("leaf %d: %w", index, ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("translog: leaf %d: %w", index, err)
	}
	return l, nil
}

// LeafOf returns the leaf of an event.
func LeafOf(ctx context.Context, q Querier, eventID uuid.UUID) (Leaf, error) {
	const query = `SELECT ` + leafColumns + ` FROM translog_leaves WHERE generation = ` + activeGeneration + ` AND event_id = $1`
	l, err := scanLeaf(q.QueryRowxContext(ctx, query, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("event %s is not in the log (yet): %w", eventID, ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("translog: leaf of %s: %w", eventID, err)
	}
	return l, nil
}
