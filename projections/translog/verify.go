package translog

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore"
)

// MismatchKind names what VerifyDatabase (or a client) found wrong.
type MismatchKind string

// Mismatch kinds. The set only grows.
const (
	// KindChanged: the stored event no longer hashes to its leaf.
	KindChanged MismatchKind = "changed"
	// KindMissing: the log has a leaf whose event the store no longer has.
	KindMissing MismatchKind = "missing"
	// KindTruncated: the store ends before the log does: every leaf from
	// LeafIndex on (Count of them) has no event.
	KindTruncated MismatchKind = "truncated"
	// KindMoved: the event is no longer where the log has it in the global
	// order (it was swapped or moved).
	KindMoved MismatchKind = "moved"
	// KindInserted: an event in the store's history, before logged events,
	// that the log never had.
	KindInserted MismatchKind = "inserted"
	// KindCheckpoint: a signed checkpoint's root is not the root of the
	// events (or of the stored tree) at its size, or the checkpoint's
	// stored tree size and root disagree with its signed note.
	KindCheckpoint MismatchKind = "checkpoint"
	// KindTree: the stored tree hashes disagree with the stored leaves.
	KindTree MismatchKind = "tree"
	// KindLeafMissing: the log itself lacks a leaf below its size (its
	// translog_leaves row was deleted), whether or not the store still has
	// the event that was logged there.
	KindLeafMissing MismatchKind = "leaf_missing"
)

// Mismatch is one difference between the event store and the log.
type Mismatch struct {
	Kind MismatchKind `json:"kind"`
	// LeafIndex is the leaf concerned, or -1.
	LeafIndex int64 `json:"leaf_index"`
	// Count is the number of leaves concerned (truncated), else 1.
	Count    int64     `json:"count"`
	EventID  uuid.UUID `json:"event_id,omitzero"`
	Stream   string    `json:"stream,omitempty"`
	Version  int64     `json:"version,omitempty"`
	TreeSize int64     `json:"tree_size,omitempty"`
	Detail   string    `json:"detail"`
}

func (m Mismatch) String() string {
	s := string(m.Kind)
	if m.LeafIndex >= 0 {
		s += fmt.Sprintf(" leaf %d", m.LeafIndex)
	}
	if m.EventID != uuid.Nil {
		s += fmt.Sprintf(" (event %s, %s v%d)", m.EventID, m.Stream, m.Version)
	}
	return s + ": " + m.Detail
}

// Report is the outcome of VerifyDatabase.
type Report struct {
	// Leaves is the size of the log when the check began; EventsRead the
	// events the store returned.
	Leaves, EventsRead int64
	// Pending counts events after the last logged one: the projector has
	// not logged them yet. They are not a mismatch.
	Pending int64
	// Checkpoints is how many signed checkpoints were checked; Latest is
	// the largest (nil if none).
	Checkpoints int
	Latest      *Checkpoint
	Mismatches  []Mismatch
	// Omitted counts mismatches left out of Mismatches (see MaxMismatches).
	Omitted int64
}

// OK reports whether nothing mismatched.
func (r Report) OK() bool { return len(r.Mismatches) == 0 && r.Omitted == 0 }

// MaxMismatches caps the mismatches a report lists one by one.
const MaxMismatches = 10000

func (r *Report) add(m Mismatch) {
	if m.Count == 0 {
		m.Count = 1
	}
	if len(r.Mismatches) >= MaxMismatches {
		r.Omitted++
		return
	}
	r.Mismatches = append(r.Mismatches, m)
}

// VerifyPage is how many events VerifyDatabase reads per page.
const VerifyPage = 1000

// VerifyDatabase re-reads every event through the store, re-encodes and
// re-hashes it, and compares the result with the log: each event with its
// leaf, the order of events with the order of leaves, every signed
// checkpoint with the root of the events at its size, and the stored tree
// with the stored leaves. A checkpoint's size and root are read from its
// signed note, not from the unsigned columns beside it; a row whose
// columns disagree with its note is reported (KindCheckpoint). The
// signature itself is not checked: that needs the log's public key. It
// lists every mismatch. Memory grows by about eight bytes per event (the
// leaf order, to name moved events precisely).
func VerifyDatabase(ctx context.Context, db Querier, store eventstore.Store) (Report, error) {
	var rep Report
	// Checkpoints first: each was signed over a tree the log had, so the
	// size read next covers them all unless leaves were removed.
	cps, err := allCheckpoints(ctx, db, &rep)
	if err != nil {
		return rep, err
	}
	rep.Checkpoints = len(cps)
	if len(cps) > 0 {
		latest := cps[len(cps)-1]
		rep.Latest = &latest
	}
	size, err := Size(ctx, db)
	if err != nil {
		return rep, err
	}
	rep.Leaves = size
	if len(cps) > 0 && cps[len(cps)-1].TreeSize > size {
		rep.add(Mismatch{Kind: KindTree, LeafIndex: size, TreeSize: cps[len(cps)-1].TreeSize,
			Detail: fmt.Sprintf("checkpoint %d was signed, but the log has only %d leaves", cps[len(cps)-1].TreeSize, size)})
	}
	w := &walk{rep: &rep, size: size, seen: make([]uint64, (size+63)/64), cps: cps}
	if err := w.events(ctx, db, store); err != nil {
		return rep, err
	}
	if err := w.order(ctx, db); err != nil {
		return rep, err
	}
	if err := w.missing(ctx, db); err != nil {
		return rep, err
	}
	if err := checkStoredTree(ctx, db, size, cps, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// allCheckpoints returns every checkpoint as its signed note states it,
// smallest first, and reports those whose unsigned tree_size and root_hash
// columns disagree with the note: the rest of the check holds the events
// and the tree to what was signed.
func allCheckpoints(ctx context.Context, db Querier, rep *Report) ([]Checkpoint, error) {
	var cps []Checkpoint
	err := Checkpoints(ctx, db, func(c Checkpoint) error {
		signed, err := c.signed()
		if errors.Is(err, ErrInconsistent) {
			rep.add(Mismatch{Kind: KindCheckpoint, LeafIndex: -1, TreeSize: signed.TreeSize,
				Detail: fmt.Sprintf("the checkpoint's row says tree size %d and root %s, but its signed note says tree size %d and root %s: the row was changed",
					c.TreeSize, c.RootHash, signed.TreeSize, signed.RootHash)})
		} else if err != nil {
			return err
		}
		signed.Note = "" // not needed; keeps memory small
		cps = append(cps, signed)
		return nil
	})
	slices.SortStableFunc(cps, func(a, b Checkpoint) int { return cmp.Compare(a.TreeSize, b.TreeSize) })
	return cps, err
}

// unloggedEvent is an event without a leaf, with its place in the store's
// order: when the log lacks the leaf of that place, the log row was
// deleted, not the event inserted.
type unloggedEvent struct {
	e       eventstore.Recorded
	ordinal int64
}

// walk is the state of one pass over the event store.
type walk struct {
	rep  *Report
	size int64
	seen []uint64 // bit i: leaf i's event was found
	// seq is the leaf index of each logged event, in store order.
	seq []int64
	// unlogged holds events without a leaf since the last logged one:
	// inserted into history if a logged event follows (then they move to
	// inserted), pending if not.
	unlogged  []unloggedEvent
	nUnlogged int64
	inserted  []unloggedEvent
	// events is the compact range of the events' own tree.
	tree   CompactRange
	cps    []Checkpoint
	cpNext int
}

func (w *walk) events(ctx context.Context, db Querier, store eventstore.Store) error {
	pos := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, pos, VerifyPage)
		if err != nil {
			return fmt.Errorf("translog: verify: read events after %s: %w", pos, err)
		}
		if len(page) == 0 {
			break
		}
		ids := make([]uuid.UUID, len(page))
		for i, e := range page {
			ids[i] = e.ID
		}
		leaves, err := EventLeaves(ctx, db, ids, w.size)
		if err != nil {
			return err
		}
		for _, e := range page {
			w.event(e, leaves)
		}
		pos = page[len(page)-1].Position
	}
	w.rep.Pending = w.nUnlogged
	// Checkpoints larger than the store: the events are gone.
	for ; w.cpNext < len(w.cps); w.cpNext++ {
		cp := w.cps[w.cpNext]
		w.rep.add(Mismatch{Kind: KindCheckpoint, LeafIndex: -1, TreeSize: cp.TreeSize,
			Detail: fmt.Sprintf("checkpoint %d was signed, but the store holds only %d events", cp.TreeSize, w.tree.Size())})
	}
	return nil
}

func (w *walk) event(e eventstore.Recorded, leaves map[uuid.UUID]Leaf) {
	ordinal := w.rep.EventsRead
	w.rep.EventsRead++
	h := LeafHash(e)
	w.tree.Push(h)
	for w.cpNext < len(w.cps) && w.cps[w.cpNext].TreeSize == w.tree.Size() {
		cp := w.cps[w.cpNext]
		if root := w.tree.Root(); root != cp.RootHash {
			w.rep.add(Mismatch{Kind: KindCheckpoint, LeafIndex: -1, TreeSize: cp.TreeSize,
				Detail: fmt.Sprintf("the first %d events in the store hash to %s, checkpoint %d says %s", cp.TreeSize, root, cp.TreeSize, cp.RootHash)})
		}
		w.cpNext++
	}
	l, logged := leaves[e.ID]
	if !logged {
		w.nUnlogged++
		if len(w.unlogged) < MaxMismatches {
			w.unlogged = append(w.unlogged, unloggedEvent{e: e, ordinal: ordinal})
		}
		return
	}
	// Reported by missing, which can tell them from deleted leaf rows.
	for _, u := range w.unlogged {
		if len(w.inserted) < MaxMismatches {
			w.inserted = append(w.inserted, u)
		} else {
			w.rep.Omitted++
		}
	}
	w.rep.Omitted += w.nUnlogged - int64(len(w.unlogged))
	w.unlogged, w.nUnlogged = w.unlogged[:0], 0
	w.seen[l.Index/64] |= 1 << (l.Index % 64)
	w.seq = append(w.seq, l.Index)
	if h != l.Hash {
		w.rep.add(Mismatch{Kind: KindChanged, LeafIndex: l.Index, EventID: e.ID, Stream: e.Stream, Version: e.Version,
			Detail: fmt.Sprintf("the stored event hashes to %s, the log has %s", h, l.Hash)})
	}
}

// order reports the events that are out of log order: those outside one
// longest run of events whose leaf indexes increase.
func (w *walk) order(ctx context.Context, db Querier) error {
	moved := Displaced(len(w.seq), func(i, j int) bool { return w.seq[i] < w.seq[j] })
	if len(moved) == 0 {
		return nil
	}
	idx := make([]int64, len(moved))
	for i, m := range moved {
		idx[i] = w.seq[m]
	}
	leaves, err := leavesAt(ctx, db, idx)
	if err != nil {
		return err
	}
	for _, m := range moved {
		l := leaves[w.seq[m]]
		w.rep.add(Mismatch{Kind: KindMoved, LeafIndex: l.Index, EventID: l.EventID, Stream: l.Stream, Version: l.Version,
			Detail: fmt.Sprintf("logged as leaf %d, but it is event number %d in the store's order", l.Index, m)})
	}
	return nil
}

// missing reports leaves whose events the store did not return, naming
// the side that lacks something: a leaf row gone from the log
// (KindLeafMissing) or an event gone from the store (KindMissing). Then
// it reports the events inserted into the store's history.
func (w *walk) missing(ctx context.Context, db Querier) error {
	has := func(i int64) bool { return w.seen[i/64]&(1<<(i%64)) != 0 }
	tail := w.size
	for tail > 0 && !has(tail-1) {
		tail--
	}
	var idx []int64
	for i := int64(0); i < tail && len(idx) < MaxMismatches; i++ {
		if !has(i) {
			idx = append(idx, i)
		}
	}
	if tail < w.size {
		idx = append(idx, tail)
	}
	leaves, err := leavesAt(ctx, db, idx)
	if err != nil {
		return err
	}
	// An unlogged event at the place of a leaf the log lacks is the event
	// that was logged there: the log lost its row, the store kept it.
	unloggedAt := make(map[int64]int, len(w.inserted))
	for k, u := range w.inserted {
		unloggedAt[u.ordinal] = k
	}
	explained := make(map[int]bool)
	for _, i := range idx {
		l, logged := leaves[i]
		if !logged {
			m := Mismatch{Kind: KindLeafMissing, LeafIndex: i,
				Detail: fmt.Sprintf("the log has no leaf %d (its translog_leaves row was deleted), though the log has %d leaves", i, w.size)}
			if k, ok := unloggedAt[i]; ok {
				u := w.inserted[k].e
				explained[k] = true
				m.EventID, m.Stream, m.Version = u.ID, u.Stream, u.Version
				m.Detail = fmt.Sprintf("the log has no leaf %d (its translog_leaves row was deleted); the store still has this event at that place (%s)", i, u.Position)
			}
			w.rep.add(m)
			continue
		}
		if i == tail {
			w.rep.add(Mismatch{Kind: KindTruncated, LeafIndex: tail, Count: w.size - tail, EventID: l.EventID, Stream: l.Stream, Version: l.Version,
				Detail: fmt.Sprintf("the store ends before the log: leaves %d to %d have no events", tail, w.size-1)})
			continue
		}
		w.rep.add(Mismatch{Kind: KindMissing, LeafIndex: i, EventID: l.EventID, Stream: l.Stream, Version: l.Version,
			Detail: "the log has this event, the event store does not: it was deleted from the store"})
	}
	for k, u := range w.inserted {
		if explained[k] {
			continue
		}
		w.rep.add(Mismatch{Kind: KindInserted, LeafIndex: -1, EventID: u.e.ID, Stream: u.e.Stream, Version: u.e.Version,
			Detail: fmt.Sprintf("the store has this event at %s, among logged events, but the log never had it", u.e.Position)})
	}
	return nil
}

func leavesAt(ctx context.Context, db Querier, idx []int64) (map[int64]Leaf, error) {
	out := make(map[int64]Leaf, len(idx))
	if len(idx) == 0 {
		return out, nil
	}
	query := `SELECT ` + leafColumns + ` FROM translog_leaves WHERE generation = ` + activeGeneration + ` AND leaf_index = ANY($1::bigint[])`
	rows, err := db.QueryxContext(ctx, query, pq.Int64Array(idx))
	if err != nil {
		return nil, fmt.Errorf("translog: leaves: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLeaf(rows)
		if err != nil {
			return nil, err
		}
		out[l.Index] = l
	}
	return out, rows.Err()
}

// checkStoredTree recomputes the tree from the stored leaf hashes and
// compares it with the stored tree hashes (what proofs are made of) and
// with every checkpoint.
func checkStoredTree(ctx context.Context, db Querier, size int64, cps []Checkpoint, rep *Report) error {
	var cr CompactRange
	next := 0
	check := func() {
		for next < len(cps) && cps[next].TreeSize == cr.Size() {
			if root := cr.Root(); root != cps[next].RootHash {
				rep.add(Mismatch{Kind: KindCheckpoint, LeafIndex: -1, TreeSize: cr.Size(),
					Detail: fmt.Sprintf("the log's first %d leaves hash to %s, checkpoint %d says %s", cr.Size(), root, cr.Size(), cps[next].RootHash)})
			}
			next++
		}
	}
	for after := int64(-1); ; {
		query := `SELECT leaf_index, leaf_hash FROM translog_leaves WHERE generation = ` + activeGeneration + `
AND leaf_index > $1 AND leaf_index < $2 ORDER BY leaf_index LIMIT $3`
		rows, err := db.QueryxContext(ctx, query, after, size, VerifyPage)
		if err != nil {
			return fmt.Errorf("translog: verify tree: %w", err)
		}
		n := 0
		for rows.Next() {
			var i int64
			var h []byte
			if err := rows.Scan(&i, &h); err != nil {
				rows.Close()
				return err
			}
			if i != cr.Size() || len(h) != tlog.HashSize {
				rows.Close()
				rep.add(Mismatch{Kind: KindTree, LeafIndex: cr.Size(), Detail: fmt.Sprintf("the stored leaves skip from %d to %d", cr.Size(), i)})
				return nil
			}
			cr.Push(tlog.Hash(h))
			check()
			after, n = i, n+1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n < VerifyPage {
			break
		}
	}
	if size == 0 {
		return nil
	}
	stored, err := tlog.TreeHash(size, NewHashReader(ctx, db))
	if err != nil {
		rep.add(Mismatch{Kind: KindTree, LeafIndex: -1, TreeSize: size, Detail: fmt.Sprintf("the stored tree of size %d cannot be read: %v", size, err)})
		return nil
	}
	if root := cr.Root(); root != stored {
		rep.add(Mismatch{Kind: KindTree, LeafIndex: -1, TreeSize: size,
			Detail: fmt.Sprintf("the stored leaves hash to %s, the stored tree hashes to %s", root, stored)})
	}
	if len(cps) > 0 && cps[len(cps)-1].TreeSize <= size {
		cp := cps[len(cps)-1]
		if h, err := tlog.TreeHash(cp.TreeSize, NewHashReader(ctx, db)); err != nil || h != cp.RootHash {
			rep.add(Mismatch{Kind: KindTree, LeafIndex: -1, TreeSize: cp.TreeSize,
				Detail: fmt.Sprintf("the stored tree at the latest checkpoint's size %d does not hash to its root %s (%v)", cp.TreeSize, cp.RootHash, err)})
		}
	}
	return nil
}

// CompactRange is the right edge of a growing tree (RFC 6962): the roots
// of its complete subtrees, largest first. It computes the root hash of a
// log of any size in O(log n) memory, one leaf hash at a time.
type CompactRange struct {
	size  int64
	nodes []tlog.Hash
}

// Push appends a leaf hash.
func (c *CompactRange) Push(h tlog.Hash) {
	c.nodes = append(c.nodes, h)
	for n := c.size; n&1 == 1; n >>= 1 {
		last := len(c.nodes) - 1
		c.nodes[last-1] = tlog.NodeHash(c.nodes[last-1], c.nodes[last])
		c.nodes = c.nodes[:last]
	}
	c.size++
}

// Size is the number of leaves pushed.
func (c *CompactRange) Size() int64 { return c.size }

// Root is the tree hash of the leaves pushed so far (the hash of the empty
// string for none, as RFC 6962 defines it).
func (c *CompactRange) Root() tlog.Hash {
	if len(c.nodes) == 0 {
		return sha256.Sum256(nil)
	}
	h := c.nodes[len(c.nodes)-1]
	for i := len(c.nodes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(c.nodes[i], h)
	}
	return h
}

// Displaced returns, in increasing order, the indexes i in [0, n) outside
// one longest subsequence that is strictly increasing under less: the
// fewest elements whose removal leaves the rest in order. It is how moved
// events are named precisely: swapping two events displaces those two,
// not everything between them.
func Displaced(n int, less func(i, j int) bool) []int {
	inOrder := true
	for i := 1; i < n && inOrder; i++ {
		inOrder = less(i-1, i)
	}
	if inOrder {
		return nil
	}
	tails := make([]int, 0, 64) // tails[k]: last element of the best run of length k+1
	prev := make([]int, n)
	for i := range n {
		k := sort.Search(len(tails), func(k int) bool { return !less(tails[k], i) })
		prev[i] = -1
		if k > 0 {
			prev[i] = tails[k-1]
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	keep := make([]bool, n)
	for i := tails[len(tails)-1]; i >= 0; i = prev[i] {
		keep[i] = true
	}
	var out []int
	for i, k := range keep {
		if !k {
			out = append(out, i)
		}
	}
	return slices.Clip(out)
}
