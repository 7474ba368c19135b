package translog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore"
	"promiseledger/projections"
)

// Projector appends every event to the log, in global order, once: the
// runner hands it each event exactly once per generation, inside the
// transaction that moves its checkpoint. A rebuild (projections.Rebuild)
// recomputes the log into a new generation; since a leaf depends only on
// the event and its place in the global order, the hashes come out the
// same, and checkpoints signed before stay valid. If they do not, the
// events were changed, and the Checkpointer refuses to sign the new tree.
type Projector struct{}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Reset implements projections.Projector. It deletes nothing: the log's
// tables are append-only (migration 0002), so a generation a rebuild
// leaves behind (the old active one, or an abandoned rebuild's) is kept as
// it was, a record of what the log held. A rebuild always writes a
// generation never used before (projections.Rebuild numbers them upwards),
// and Apply refuses to append to one that holds leaves past the events it
// is given.
func (Projector) Reset(ctx context.Context, tx *sqlx.Tx, gen int) error {
	return nil
}

// Apply implements projections.Projector: it appends events as leaves
// size, size+1, ... of generation gen, with the tree hashes they complete.
func (Projector) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	return apply(ctx, tx, gen, events, (*batch).write)
}

// apply computes the leaves and hashes of events, appended to generation
// gen, and has write store them.
func apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded,
	write func(b *batch, ctx context.Context, tx *sqlx.Tx, gen int) error) error {
	if len(events) == 0 {
		return nil
	}
	b, err := startBatch(ctx, tx, gen, events)
	if err != nil {
		return err
	}
	for _, e := range events {
		if err := b.addChecked(e); err != nil {
			return err
		}
	}
	return write(b, ctx, tx, gen)
}

// startBatch returns an empty batch that appends events to generation gen.
func startBatch(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) (*batch, error) {
	size, lastPos, err := generationEnd(ctx, tx, gen)
	if err != nil {
		return nil, err
	}
	if size > 0 && !lastPos.Less(events[0].Position) {
		// The generation was not empty when its projector started over:
		// appending would log events twice.
		return nil, fmt.Errorf("translog: generation %d already holds %d leaves, up to position %s, not before event %s at %s",
			gen, size, lastPos, events[0].ID, events[0].Position)
	}
	return newBatch(ctx, tx, gen, size)
}

// addChecked adds e to the batch, or says which event the log cannot take.
func (b *batch) addChecked(e eventstore.Recorded) error {
	if err := checkEncodable(e); err != nil {
		return &projections.EventError{Event: e, Err: err}
	}
	if err := b.add(e); err != nil {
		return &projections.EventError{Event: e, Err: err}
	}
	return nil
}

// batch computes the leaves and stored hashes of consecutive events in
// memory. The only earlier hashes new leaves can need are the roots of the
// complete subtrees along the old tree's right edge, one per bit set in its
// size; they are read in one query up front.
type batch struct {
	size   int64 // leaves before the batch
	base   int64 // stored-hash index of the batch's first hash
	edge   map[int64]tlog.Hash
	hashes []tlog.Hash // stored hashes from base on
	leaves []leafRow
	fetch  func(indexes []int64) ([]tlog.Hash, error) // for anything else (never, in practice)
}

type leafRow struct {
	id, position, stream, typ  string
	version                    int64
	hash                       tlog.Hash
	entry                      []byte // the leaf's exact bytes
	actor, effective, recorded string
}

// rightEdge returns the stored-hash indexes of the complete subtrees that
// make up a tree of n leaves, largest first.
func rightEdge(n int64) []int64 {
	var out []int64
	start := int64(0)
	for level := 62; level >= 0; level-- {
		if n&(1<<level) != 0 {
			out = append(out, tlog.StoredHashIndex(level, start>>level))
			start += 1 << level
		}
	}
	return out
}

func newBatch(ctx context.Context, tx *sqlx.Tx, gen int, size int64) (*batch, error) {
	r := hashReader{ctx: ctx, q: tx, gen: gen}
	b := &batch{size: size, base: tlog.StoredHashIndex(0, size), edge: map[int64]tlog.Hash{}, fetch: r.ReadHashes}
	if size > 0 {
		idx := rightEdge(size)
		hs, err := r.ReadHashes(idx)
		if err != nil {
			return nil, fmt.Errorf("translog: right edge of generation %d at size %d: %w", gen, size, err)
		}
		for i, h := range hs {
			b.edge[idx[i]] = h
		}
	}
	return b, nil
}

// ReadHashes serves tlog.StoredHashesForRecordHash from the batch.
func (b *batch) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		switch h, ok := b.edge[x]; {
		case ok:
			out[i] = h
		case x >= b.base && x-b.base < int64(len(b.hashes)):
			out[i] = b.hashes[x-b.base]
		default:
			missing = append(missing, x)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := b.fetch(missing)
	if err != nil {
		return nil, err
	}
	for i, x := range indexes {
		if len(missing) > 0 && x == missing[0] {
			out[i], got, missing = got[0], got[1:], missing[1:]
		}
	}
	return out, nil
}

func (b *batch) add(e eventstore.Recorded) error {
	n := b.size + int64(len(b.leaves))
	entry := EncodeLeaf(e)
	h := tlog.RecordHash(entry)
	hs, err := tlog.StoredHashesForRecordHash(n, h, b)
	if err != nil {
		return fmt.Errorf("translog: hashes of leaf %d: %w", n, err)
	}
	b.hashes = append(b.hashes, hs...)
	row := leafRow{id: e.ID.String(), position: e.Position.String(), stream: e.Stream, typ: e.Type, version: e.Version, hash: h, entry: entry}
	row.actor, row.effective, row.recorded = FeedFields(e.Metadata)
	b.leaves = append(b.leaves, row)
	return nil
}

func (b *batch) write(ctx context.Context, tx *sqlx.Tx, gen int) error {
	n := len(b.leaves)
	ids := make(pq.StringArray, n)
	positions := make(pq.StringArray, n)
	streams := make(pq.StringArray, n)
	types := make(pq.StringArray, n)
	actors := make(pq.StringArray, n)
	effective := make(pq.StringArray, n)
	recorded := make(pq.StringArray, n)
	versions := make(pq.Int64Array, n)
	leafHashes := make([]byte, 0, n*tlog.HashSize)
	entries := make(pq.ByteaArray, n)
	for i, l := range b.leaves {
		ids[i], positions[i], streams[i], types[i] = l.id, l.position, l.stream, l.typ
		actors[i], effective[i], recorded[i], versions[i] = l.actor, l.effective, l.recorded, l.version
		leafHashes = append(leafHashes, l.hash[:]...)
		entries[i] = l.entry
	}
	const qLeaves = `INSERT INTO translog_leaves (generation, leaf_index, event_id, position, leaf_hash, stream, version, type,
	actor_id, effective_at, recorded_at)
SELECT $1, $2 + u.o - 1, u.id, u.pos, substring($3::bytea FROM ((u.o - 1) * 32 + 1)::int FOR 32), u.stream, u.version, u.type,
	NULLIF(u.actor, ''), NULLIF(u.eff, '')::timestamptz, NULLIF(u.rec, '')::timestamptz
FROM unnest($4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[])
	WITH ORDINALITY AS u(id, pos, stream, version, type, actor, eff, rec, o)`
	if _, err := tx.ExecContext(ctx, qLeaves, gen, b.size, leafHashes, ids, positions, streams, versions, types, actors, effective, recorded); err != nil {
		return fmt.Errorf("translog: insert leaves %d..%d: %w", b.size, b.size+int64(n)-1, err)
	}
	// The log's own copy of the bytes it hashed: the audit surface serves
	// it, whatever the event store (migration 0003).
	const qEntries = `INSERT INTO translog_entries (generation, leaf_index, entry)
SELECT $1, $2 + u.o - 1, u.entry FROM unnest($3::bytea[]) WITH ORDINALITY AS u(entry, o)`
	if _, err := tx.ExecContext(ctx, qEntries, gen, b.size, entries); err != nil {
		return fmt.Errorf("translog: insert entries %d..%d: %w", b.size, b.size+int64(n)-1, err)
	}
	flat := make([]byte, 0, len(b.hashes)*tlog.HashSize)
	for _, h := range b.hashes {
		flat = append(flat, h[:]...)
	}
	const qHashes = `INSERT INTO translog_hashes (generation, hash_index, hash)
SELECT $1, $2 + i, substring($3::bytea FROM i * 32 + 1 FOR 32) FROM generate_series(0, $4::int - 1) AS i`
	if _, err := tx.ExecContext(ctx, qHashes, gen, b.base, flat, len(b.hashes)); err != nil {
		return fmt.Errorf("translog: insert tree hashes from %d: %w", b.base, err)
	}
	return nil
}

// The replay writes what write writes, row for row, with COPY: its pages
// are large (projections.ReplayPageSize), and COPY sends each value once
// in its text form where write's array parameters are hex-encoded,
// quoted and parsed whole before the first row (docs/performance.md, "7
// December, third round"). Like write's INSERTs, COPY fails on a key
// stored already; startBatch's check of the generation's end keeps that
// from happening.

const leafCopyColumns = `generation, leaf_index, event_id, position, leaf_hash, stream, version, type, actor_id, effective_at, recorded_at`

// leafValues is the row of translog_leaves of leaf index of generation gen.
func leafValues(gen int, index int64, l *leafRow) []any {
	return []any{int64(gen), index, l.id, l.position, l.hash[:], l.stream, l.version, l.typ,
		nullIfEmpty(l.actor), nullIfEmpty(l.effective), nullIfEmpty(l.recorded)}
}

// copyEntriesAndHashes copies the batch's entries and tree hashes.
func (b *batch) copyEntriesAndHashes(ctx context.Context, tx *sqlx.Tx, gen int) error {
	err := projections.CopyInto(ctx, tx, "translog_entries", "generation, leaf_index, entry", len(b.leaves), func(i int) []any {
		return []any{int64(gen), b.size + int64(i), b.leaves[i].entry}
	})
	if err != nil {
		return fmt.Errorf("translog: copy entries %d..%d: %w", b.size, b.size+int64(len(b.leaves))-1, err)
	}
	err = projections.CopyInto(ctx, tx, "translog_hashes", "generation, hash_index, hash", len(b.hashes), func(i int) []any {
		return []any{int64(gen), b.base + int64(i), b.hashes[i][:]}
	})
	if err != nil {
		return fmt.Errorf("translog: copy tree hashes from %d: %w", b.base, err)
	}
	return nil
}

// nullIfEmpty is NULL for the empty string, as write's NULLIF does.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// FeedFields takes the public feed's filter fields from metadata, when it
// is a JSON object that has them; anything else leaves them empty. They
// are copies for filtering only: the leaf hashes the metadata bytes.
func FeedFields(metadata []byte) (actor, effective, recorded string) {
	if len(metadata) == 0 || !bytes.Contains(metadata, []byte(`"`)) {
		return "", "", ""
	}
	var m struct {
		ActorID     json.RawMessage `json:"actor_id"`
		EffectiveAt json.RawMessage `json:"effective_at"`
		RecordedAt  json.RawMessage `json:"recorded_at"`
	}
	if json.Unmarshal(metadata, &m) != nil {
		return "", "", ""
	}
	return cleanText(jsonString(m.ActorID), 512), instant(jsonString(m.EffectiveAt)), instant(jsonString(m.RecordedAt))
}

func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// cleanText keeps s only if PostgreSQL text can hold it.
func cleanText(s string, maxLen int) string {
	if len(s) > maxLen || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return ""
	}
	return s
}

// instant returns an RFC 3339 time in a form PostgreSQL accepts, or "".
func instant(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// NewReplay implements projections.Replayer: a replay appends pages of
// projections.ReplayPageSize events as Apply does, so the right edge is
// read once per 20,000 leaves instead of once per 1,000, and writes them
// with COPY (batch.copy) instead of Apply's array parameters.
func (p Projector) NewReplay(gen int) projections.Replay {
	return replay{gen: gen, add: (*batch).addChecked}
}

type replay struct {
	gen int
	add func(*batch, eventstore.Recorded) error // (*batch).addChecked; tests make it fail
}

func (r replay) Apply(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error {
	if len(events) == 0 {
		return nil
	}
	b, err := startBatch(ctx, tx, r.gen, events)
	if err != nil {
		return err
	}
	// The leaves are computed (encoded, hashed, their feed fields parsed)
	// by a goroutine while the ones before them are copied, so the page's
	// CPU work in Go and PostgreSQL's overlap. The goroutine owns the
	// batch until it closes ready; the COPY reads only the leaves it was
	// told are ready, in an array append never moves (its capacity is the
	// page's). It cannot read the database, which the COPY holds, and has
	// no need to: every hash it needs is on the old tree's edge or in the
	// batch.
	b.leaves = make([]leafRow, 0, len(events))
	b.fetch = func(indexes []int64) ([]tlog.Hash, error) {
		return nil, fmt.Errorf("translog: stored hashes %v are not on the edge of the tree of %d leaves", indexes, b.size)
	}
	leaves := b.leaves[:len(events)]
	ready := make(chan int, len(events)/replayChunk+1)
	stop := make(chan struct{})
	var addErr error
	go func() {
		defer close(ready)
		for i, e := range events {
			if addErr = r.add(b, e); addErr != nil {
				return
			}
			if n := i + 1; n%replayChunk == 0 || n == len(events) {
				select {
				case <-stop:
					return
				default:
					ready <- n
				}
			}
		}
	}()
	wait := func() {
		for range ready { // until the goroutine ends and b is ours again
		}
	}
	copied, computed := 0, 0
	err = projections.CopyRows(ctx, tx, "translog_leaves", leafCopyColumns, func() ([]any, error) {
		if copied == len(events) {
			return nil, nil
		}
		for copied == computed {
			n, ok := <-ready
			if !ok {
				return nil, addErr
			}
			computed = n
		}
		copied++
		return leafValues(r.gen, b.size+int64(copied-1), &leaves[copied-1]), nil
	})
	if err != nil {
		close(stop)
		wait()
		var ee *projections.EventError
		if errors.As(err, &ee) {
			return err
		}
		return fmt.Errorf("translog: copy leaves %d..%d: %w", b.size, b.size+int64(len(events))-1, err)
	}
	wait()
	return b.copyEntriesAndHashes(ctx, tx, r.gen)
}

// replayChunk is how many leaves the replay's goroutine computes before it
// hands them to the COPY.
const replayChunk = 512

// Flush implements projections.Replay: Apply wrote everything.
func (replay) Flush(context.Context, *sqlx.Tx) error { return nil }
