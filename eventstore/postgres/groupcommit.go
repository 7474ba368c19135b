package postgres

import (
	"context"
	"database/sql"
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"promiseledger/eventstore"
)

// Group commit. Each API write is one small append; alone, each pays a
// commit (a WAL flush and a server round of work). Appends that arrive while
// earlier ones are being written wait in a queue, and the next statement
// writes all of them at once: one statement, one transaction, one commit.
//
// Rules that keep this invisible to callers:
//   - A stream always goes to the same worker, so two batches in flight never
//     touch the same stream and never fail each other.
//   - Expected versions are decided per request. Requests on one stream form
//     a chain: the first one's expected version is the head the batch
//     assumes, later ones must follow the chain. The statement inserts a
//     stream's rows only if the stream's head really is the assumed one and
//     none of its event ids is stored yet; otherwise it skips that stream and
//     its requests are appended one by one afterwards (the path taken without
//     group commit), so a bad request never fails its neighbours.
//   - A request is answered only after the statement that wrote it has
//     committed (synchronous_commit as configured on the server).
//   - A worker that is idle (nothing queued, no statement running) is not
//     woken for a lone append: the appending goroutine takes the worker's
//     lock and writes the append itself, as the worker would (one
//     statement, the worker's head cache). This saves the hand-off to the
//     worker goroutine when there is nothing to share a commit with; appends
//     arriving meanwhile queue and go together once it is done.
//   - A request whose ctx ends while it waits in the queue is dropped and
//     returns ctx.Err(); nothing of it is written. Once a batch has taken it,
//     it waits for that batch's outcome, which is bounded by batchTimeout.

const (
	// batchMaxRequests and batchMaxEvents bound one batch statement.
	batchMaxRequests = 256
	batchMaxEvents   = 1000
	// groupMaxEvents: larger appends are already batches and go straight to
	// the database.
	groupMaxEvents = 64
	// batchTimeout bounds one batch statement, which runs on no caller's ctx.
	batchTimeout = 30 * time.Second
	// queueDepth is each worker's queue; a full queue makes Append wait.
	queueDepth = 1024
)

const (
	queued int32 = iota
	taken
	abandoned
)

type pendingAppend struct {
	ctx      context.Context
	stream   string
	expected eventstore.Expected
	events   []eventstore.Event
	state    atomic.Int32
	done     chan appendOutcome // buffered: the worker never blocks on it
}

type appendOutcome struct {
	res eventstore.AppendResult
	err error
}

func (p *pendingAppend) reply(res eventstore.AppendResult, err error) {
	p.done <- appendOutcome{res, err}
}

type groupCommitter struct {
	seed    maphash.Seed
	workers []*commitWorker
	stop    chan struct{}
	wg      sync.WaitGroup

	gate   sync.RWMutex // held shared while enqueueing, exclusively to close
	closed bool

	stmtOnce sync.Once
	stmt     *sql.Stmt // the batch statement, prepared once on the pool
}

// commitWorker is one queue and the right to write its streams: whoever
// holds mu (the worker goroutine, or an appending goroutine that found the
// worker idle) is the only one writing them, and owns heads.
type commitWorker struct {
	q       chan *pendingAppend
	mu      sync.Mutex
	holding atomic.Int32 // 1 while the worker goroutine holds an append it took and waits for mu
	heads   headCache
}

func (s *Store) startGroupCommit(workers int) {
	g := &groupCommitter{seed: maphash.MakeSeed(), stop: make(chan struct{})}
	g.workers = make([]*commitWorker, workers)
	s.group = g // before the workers read it
	for i := range g.workers {
		w := &commitWorker{q: make(chan *pendingAppend, queueDepth), heads: headCache{}}
		g.workers[i] = w
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			s.commitLoop(w)
		}()
	}
}

// stopGroupCommit lets the batches in flight finish and answers whatever is
// still queued with ErrClosed.
func (s *Store) stopGroupCommit() {
	g := s.group
	if g == nil {
		return
	}
	g.gate.Lock()
	g.closed = true
	g.gate.Unlock()
	close(g.stop)
	g.wg.Wait()
	if g.stmt != nil {
		g.stmt.Close()
	}
}

func (g *groupCommitter) workerOf(stream string) *commitWorker {
	return g.workers[maphash.String(g.seed, stream)%uint64(len(g.workers))]
}

func (g *groupCommitter) queueOf(stream string) chan *pendingAppend { return g.workerOf(stream).q }

// enqueue hands p to its stream's worker. It returns ErrClosed after Close,
// or ctx.Err() if ctx ends while the queue is full.
func (g *groupCommitter) enqueue(p *pendingAppend) error {
	g.gate.RLock()
	defer g.gate.RUnlock()
	if g.closed {
		return eventstore.ErrClosed
	}
	select {
	case g.queueOf(p.stream) <- p:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// appendGrouped is Append through the group committer.
func (s *Store) appendGrouped(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	p := &pendingAppend{ctx: ctx, stream: stream, expected: expected, events: events, done: make(chan appendOutcome, 1)}
	if done, err := s.group.appendIfIdle(s, p); done || err != nil {
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		out := <-p.done
		return out.res, out.err
	}
	if err := s.group.enqueue(p); err != nil {
		return eventstore.AppendResult{}, err
	}
	select {
	case out := <-p.done:
		return out.res, out.err
	case <-ctx.Done():
		if p.state.CompareAndSwap(queued, abandoned) {
			return eventstore.AppendResult{}, ctx.Err() // never written
		}
		out := <-p.done // a batch holds it: its outcome is what happened
		return out.res, out.err
	}
}

// appendIfIdle writes p on the caller's goroutine when p's worker is idle:
// nothing queued, no statement running. done reports that p was written
// (its outcome is in p.done, or will be once a diagnosis finishes).
func (g *groupCommitter) appendIfIdle(s *Store, p *pendingAppend) (done bool, err error) {
	w := g.workerOf(p.stream)
	if len(w.q) > 0 || w.holding.Load() != 0 {
		return false, nil
	}
	g.gate.RLock() // Close waits for the append to finish
	defer g.gate.RUnlock()
	if g.closed {
		return false, eventstore.ErrClosed
	}
	if !w.mu.TryLock() {
		return false, nil
	}
	defer w.mu.Unlock()
	if len(w.q) > 0 {
		return false, nil // queued ones came first
	}
	p.state.Store(taken)
	s.appendEach([]*pendingAppend{p}, w.heads)
	return true, nil
}

// commitLoop is one worker: it takes what its queue holds and writes it.
// heads caches the stream heads this worker last wrote or saw. Every
// append of this process to a stream goes through its worker, so the cache
// is right unless another process wrote; the statement checks it anyway,
// and a conflict is only reported once read back.
func (s *Store) commitLoop(w *commitWorker) {
	g := s.group
	q, heads := w.q, w.heads
	for {
		var first *pendingAppend
		select {
		case first = <-q:
		case <-g.stop:
			for {
				select {
				case p := <-q:
					if p.state.CompareAndSwap(queued, taken) {
						p.reply(eventstore.AppendResult{}, eventstore.ErrClosed)
					}
				default:
					return
				}
			}
		}
		// An appending goroutine may be writing on the worker's behalf;
		// what queues meanwhile goes together once it is done.
		w.holding.Store(1)
		w.mu.Lock()
		w.holding.Store(0)
		batch := make([]*pendingAppend, 0, 16)
		events := 0
		take := func(p *pendingAppend) {
			if p.state.CompareAndSwap(queued, taken) {
				batch = append(batch, p)
				events += len(p.events)
			}
		}
		take(first)
	drain:
		for len(batch) < batchMaxRequests && events < batchMaxEvents {
			select {
			case p := <-q:
				take(p)
			default:
				break drain
			}
		}
		s.commitBatch(batch, heads)
		w.mu.Unlock()
	}
}

// headCache maps streams to the head last seen by a worker.
type headCache map[string]int64

const headCacheMax = 100_000

func (c headCache) set(stream string, head int64) {
	if len(c) >= headCacheMax {
		clear(c) // rebuilt as streams are written again
	}
	c[stream] = head
}

// commitBatch writes a batch and answers each of its requests.
func (s *Store) commitBatch(batch []*pendingAppend, cache headCache) {
	switch len(batch) {
	case 0:
		return
	case 1:
		s.appendEach(batch, cache)
		return
	}
	known := map[string]int64{}
	for _, p := range batch {
		if h, ok := cache[p.stream]; ok {
			known[p.stream] = h
		}
	}
	s.commitPlanned(batch, known, 0, cache)
}

// commitPlanned writes what can be decided of batch given the stream heads
// known so far (none at first) and answers each request. Streams whose head
// was not the assumed one are planned once more with the head the statement
// saw: under contention the first append of a stream is often stale, and
// its neighbours should not pay for it.
func (s *Store) commitPlanned(batch []*pendingAppend, heads map[string]int64, round int, cache headCache) {
	plan := planBatch(batch, heads)
	if len(plan.rows) < 2 && len(heads) == 0 {
		// Nothing to share a commit with: one by one, as without grouping.
		s.appendEach(batch, cache)
		return
	}
	var written map[uuid.UUID]writtenRow
	var skipped map[string]skippedStream
	if len(plan.rows) > 0 {
		var err error
		written, skipped, err = s.writeBatch(plan)
		if err != nil {
			// Not one request's fault (a concurrent writer in another
			// process, a lost connection, text the server refuses): each
			// request again on its own, where only a bad one fails. A batch
			// that committed before the error is reported comes back as
			// idempotent retries.
			s.cfg.Logger.Debug("group commit: batch failed; appending one by one", "requests", len(batch), "err", err)
			s.appendEach(batch, cache)
			return
		}
	}
	for _, w := range written {
		if w.version > cache[w.stream] {
			cache.set(w.stream, w.version)
		}
	}
	for stream, sk := range skipped {
		cache.set(stream, sk.head)
	}
	var later, again []*pendingAppend
	var againHeads map[string]int64
	announced := false
	for _, p := range batch {
		d := plan.decision[p]
		_, headKnown := heads[p.stream]
		sk, isSkipped := skipped[p.stream]
		switch {
		case d == decideAccept && written[p.events[0].ID].ok:
			res := eventstore.AppendResult{}
			for i, e := range p.events {
				w := written[e.ID]
				if i == 0 {
					res.First = w.pos
				}
				res.Last, res.Version = w.pos, w.version
			}
			if !announced {
				s.announce()
				announced = true
			}
			p.reply(res, nil)
		case d == decideConflict && (headKnown || plan.streamWritten(p.stream, written)):
			// It expected another version than its stream's chain had.
			s.group.wg.Go(func() { // before Close closes the pool
				p.reply(s.confirmConflict(p))
			})
		case isSkipped && !sk.dup && round == 0 && d != decideLater:
			if againHeads == nil {
				againHeads = map[string]int64{}
			}
			againHeads[p.stream] = sk.head
			again = append(again, p)
		default:
			later = append(later, p)
		}
	}
	if len(again) > 0 {
		s.commitPlanned(again, againHeads, round+1, cache)
	}
	s.appendEach(later, cache)
}

// confirmConflict answers an append decided to be a conflict: diagnose reads
// the committed state to tell a conflict from an idempotent retry. If the
// stream turns out to be at the expected version after all (the head the
// decision used was stale: another process wrote), it is appended instead.
func (s *Store) confirmConflict(p *pendingAppend) (eventstore.AppendResult, error) {
	res, err := s.diagnose(p.ctx, p.stream, p.expected, p.events, errNothingInserted)
	var ce *eventstore.ConflictError
	if errors.As(err, &ce) && !p.expected.IsAny() && ce.Actual == p.expected.Version() {
		return s.appendDirect(p.ctx, p.stream, p.expected, p.events)
	}
	return res, err
}

// appendEach appends requests one at a time, in arrival order. Only the
// writes hold up the worker: telling a conflict from a retry is a read,
// done beside it.
func (s *Store) appendEach(ps []*pendingAppend, cache headCache) {
	for _, p := range ps {
		if h, ok := cache[p.stream]; ok && !p.expected.IsAny() && p.expected.Version() != h {
			s.group.wg.Go(func() { p.reply(s.confirmConflict(p)) })
			continue
		}
		res, err := s.appendOnce(p.ctx, s.db, p.stream, p.expected, p.events)
		for attempt := 0; errors.Is(err, errVersionTaken) && p.expected.IsAny() && attempt < s.cfg.AnyRetries; attempt++ {
			res, err = s.appendOnce(p.ctx, s.db, p.stream, p.expected, p.events)
		}
		if err == nil {
			s.announce()
			cache.set(p.stream, res.Version)
			p.reply(res, nil)
			continue
		}
		delete(cache, p.stream)
		s.group.wg.Go(func() { p.reply(s.diagnose(p.ctx, p.stream, p.expected, p.events, err)) })
	}
}

type decision uint8

const (
	decideLater    decision = iota // appended on its own after the batch
	decideAccept                   // written by the batch statement
	decideConflict                 // a conflict, if its stream's chain is written
)

type batchRow struct {
	id       string
	stream   string
	assumed  int64 // the head the stream's chain assumes; -1: any
	offset   int64 // position in the chain: the version is head + offset
	typ      string
	data     []byte
	metadata []byte
}

type batchPlan struct {
	rows     []batchRow
	decision map[*pendingAppend]decision
	first    map[string]uuid.UUID // the first event written to each stream
}

func (b batchPlan) streamWritten(stream string, written map[uuid.UUID]writtenRow) bool {
	id, ok := b.first[stream]
	return ok && written[id].ok
}

// planBatch decides, request by request in arrival order, what the batch
// statement writes.
func planBatch(batch []*pendingAppend, heads map[string]int64) batchPlan {
	type chain struct {
		assumed int64 // -1: the chain started with Any
		next    int64 // the offset of the chain's next event
		closed  bool  // a request was left for later: later ones follow it
	}
	plan := batchPlan{decision: make(map[*pendingAppend]decision, len(batch)), first: map[string]uuid.UUID{}}
	chains := map[string]*chain{}
	ids := map[uuid.UUID]struct{}{}
	for _, p := range batch {
		c := chains[p.stream]
		if c == nil {
			c = &chain{assumed: -1}
			if h, ok := heads[p.stream]; ok {
				c.assumed = h
			} else if !p.expected.IsAny() {
				c.assumed = p.expected.Version()
			}
			chains[p.stream] = c
		}
		repeated := false
		for _, e := range p.events {
			if _, ok := ids[e.ID]; ok {
				repeated = true
			}
		}
		switch {
		case c.closed || repeated:
			// A repeated id is an idempotent retry racing its original:
			// answered once the original is committed.
			c.closed = true
			plan.decision[p] = decideLater
			continue
		case p.expected.IsAny():
			// Any follows the chain; in a chain of unknown head it is
			// placed by the statement.
		case c.assumed < 0:
			// An exact version after Any: the head is not known here.
			c.closed = true
			plan.decision[p] = decideLater
			continue
		case p.expected.Version() != c.assumed+c.next:
			plan.decision[p] = decideConflict
			continue
		}
		plan.decision[p] = decideAccept
		if _, ok := plan.first[p.stream]; !ok {
			plan.first[p.stream] = p.events[0].ID
		}
		for _, e := range p.events {
			ids[e.ID] = struct{}{}
			c.next++
			plan.rows = append(plan.rows, batchRow{
				id: e.ID.String(), stream: p.stream, assumed: c.assumed, offset: c.next,
				typ: e.Type, data: nonNil(e.Data), metadata: nonNil(e.Metadata),
			})
		}
	}
	return plan
}

// batchQuery writes the rows of every stream whose head is the one its
// chain assumes (or any, for chains that began with Any) and none of whose
// event ids is stored, and skips the other streams. It is one statement:
// its snapshot is taken before its transaction id, so every head it builds
// on sorts before the events it writes, as with a single append.
const batchQuery = `WITH u AS (
	SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bytea[], $7::bytea[])
		WITH ORDINALITY AS u(id, stream, assumed, off, type, data, meta, ord)
), g AS (
	SELECT u.stream, min(u.assumed) AS assumed,
	       bool_or(EXISTS (SELECT 1 FROM events e WHERE e.event_id = u.id)) AS dup
	FROM u GROUP BY u.stream
), h AS (
	SELECT g.stream, g.assumed, g.dup,
	       COALESCE((SELECT e.version FROM events e WHERE e.stream_id = g.stream ORDER BY e.version DESC LIMIT 1), 0) AS head
	FROM g
), ins AS (
	INSERT INTO events (event_id, stream_id, version, type, data, metadata)
	SELECT u.id, u.stream, h.head + u.off, u.type, u.data, u.meta
	FROM u JOIN h ON h.stream = u.stream
	WHERE NOT h.dup AND (h.assumed < 0 OR h.head = h.assumed)
	ORDER BY u.ord
	RETURNING event_id, stream_id, version, tx_id::text AS tx_text, seq
)
SELECT event_id, stream_id, version, tx_text, seq, NULL::boolean AS dup FROM ins
UNION ALL
SELECT NULL, h.stream, h.head, NULL, NULL, h.dup FROM h
WHERE h.dup OR NOT (h.assumed < 0 OR h.head = h.assumed)`

// skippedStream is a stream the batch statement did not write: its head
// then, and whether an id of the batch was already stored.
type skippedStream struct {
	head int64
	dup  bool
}

type writtenRow struct {
	ok      bool
	stream  string
	version int64
	pos     eventstore.Position
}

func (s *Store) writeBatch(plan batchPlan) (map[uuid.UUID]writtenRow, map[string]skippedStream, error) {
	g := s.group
	g.stmtOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		defer cancel()
		g.stmt, _ = s.db.PrepareContext(ctx, batchQuery) // nil: planned each time
	})
	n := len(plan.rows)
	ids, streams, types := make([]string, n), make([]string, n), make([]string, n)
	assumed, offsets := make([]int64, n), make([]int64, n)
	data, meta := make([][]byte, n), make([][]byte, n)
	for i, r := range plan.rows {
		ids[i], streams[i], types[i] = r.id, r.stream, r.typ
		assumed[i], offsets[i] = r.assumed, r.offset
		data[i], meta[i] = r.data, r.metadata
	}
	args := []any{pq.StringArray(ids), pq.StringArray(streams), pq.Int64Array(assumed), pq.Int64Array(offsets),
		pq.StringArray(types), pq.ByteaArray(data), pq.ByteaArray(meta)}
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	var rows *sql.Rows
	var err error
	if g.stmt != nil {
		rows, err = g.stmt.QueryContext(ctx, args...)
	} else {
		rows, err = s.db.QueryContext(ctx, batchQuery, args...)
	}
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	written := make(map[uuid.UUID]writtenRow, n)
	skipped := map[string]skippedStream{}
	for rows.Next() {
		var (
			id     uuid.NullUUID
			stream sql.NullString
			v      int64
			tx     sql.NullString
			seq    sql.NullInt64
			dup    sql.NullBool
		)
		if err := rows.Scan(&id, &stream, &v, &tx, &seq, &dup); err != nil {
			return nil, nil, err
		}
		if !id.Valid {
			skipped[stream.String] = skippedStream{head: v, dup: dup.Bool}
			continue
		}
		written[id.UUID] = writtenRow{ok: true, stream: stream.String, version: v, pos: eventstore.Position{Commit: parseXID(tx.String), Prepare: uint64(seq.Int64)}}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return written, skipped, nil
}
