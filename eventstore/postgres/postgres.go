// Package postgres is the default event store: an append-only table in
// PostgreSQL, read in a global order that no concurrent commit can break.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgmigrate"
	"promiseledger/eventstore/repeatlog"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Component names the event store's migrations in ledger_migrations.
const Component = "eventstore"

// NotifyChannel is the LISTEN/NOTIFY channel appends announce themselves on.
const NotifyChannel = "ledger_events"

// Config configures a Store.
type Config struct {
	// URL is a lib/pq connection string. Subscribers open one extra
	// connection on it for LISTEN.
	URL string
	// MaxOpenConns caps the pool (default 20).
	MaxOpenConns int
	// PollInterval is how often an idle subscriber looks for events it was
	// not notified of (default 500ms): a notification can be lost with a
	// connection, and events can become readable when an unrelated long
	// transaction ends.
	PollInterval time.Duration
	// IdlePollInterval replaces PollInterval once a subscriber has seen no
	// event and no notification for IdleAfter while LISTEN is connected
	// (defaults 30s and 30s; never below PollInterval): an idle ledger
	// then costs the server a query per subscriber every half minute, not
	// twice a second. Hidden events (committed while another transaction
	// kept them unreadable) come right after activity, and are found at
	// the fast rate; a lost notification is noticed within a minute.
	IdlePollInterval time.Duration
	IdleAfter        time.Duration
	// AnyRetries bounds retries of an Append with eventstore.Any that lost a
	// race for the next version (default 10). Retrying is safe there: the
	// caller did not base a decision on the version.
	AnyRetries int
	// CommitWorkers is how many group-commit batches may be written at
	// once (default 4). Concurrent appends of up to 64 events share one
	// statement and one commit per worker; see groupcommit.go.
	CommitWorkers int
	// NoGroupCommit writes every Append in its own transaction, as before
	// group commit existed (for comparisons).
	NoGroupCommit bool
	Logger        *slog.Logger
}

func (c *Config) setDefaults() {
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = 20
	}
	if c.PollInterval == 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.IdlePollInterval == 0 {
		c.IdlePollInterval = 30 * time.Second
	}
	c.IdlePollInterval = max(c.IdlePollInterval, c.PollInterval)
	if c.IdleAfter == 0 {
		c.IdleAfter = 30 * time.Second
	}
	if c.AnyRetries == 0 {
		c.AnyRetries = 10
	}
	if c.CommitWorkers == 0 {
		c.CommitWorkers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("postgres: URL is required"))
	}
	if c.MaxOpenConns < 0 || c.PollInterval < 0 || c.IdlePollInterval < 0 || c.IdleAfter < 0 || c.AnyRetries < 0 || c.CommitWorkers < 0 {
		errs = append(errs, errors.New("postgres: MaxOpenConns, PollInterval, IdlePollInterval, IdleAfter, AnyRetries and CommitWorkers must not be negative"))
	}
	return errors.Join(errs...)
}

// Store is the PostgreSQL event store.
type Store struct {
	db  *sqlx.DB
	cfg Config

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever new events may be readable
	listener *pq.Listener
	// heard: LISTEN is connected, notifications arrive. Not under mu: the
	// listener's callback sets it from lib/pq's connection loop, which
	// must never wait for a lock.
	heard atomic.Bool
	// listenStarting: a listen is waiting for its first connection.
	listenStarting bool
	closed         bool
	done           chan struct{}
	notify         chan struct{} // a NOTIFY is due

	stmtMu sync.Mutex
	stmts  map[int]*sql.Stmt // prepared appends, by number of events

	group *groupCommitter // nil with NoGroupCommit
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the database. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := sqlx.Open("postgres", cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{db: db, cfg: cfg, changed: make(chan struct{}), done: make(chan struct{}), notify: make(chan struct{}, 1)}
	go s.notifier()
	if !cfg.NoGroupCommit {
		s.startGroupCommit(cfg.CommitWorkers)
	}
	return s, nil
}

// DB returns the connection pool, for read models that live in the same
// database.
func (s *Store) DB() *sqlx.DB { return s.db }

// Migrate creates or upgrades the events table, then checks that the
// database's transaction ids are ahead of every stored event (see
// CheckTransactionIDs).
func Migrate(ctx context.Context, db *sqlx.DB) error {
	if err := pgmigrate.Run(ctx, db, Component, migrationFiles, "migrations"); err != nil {
		return err
	}
	return CheckTransactionIDs(ctx, db)
}

// ErrTransactionIDsBehind means the events table holds transaction ids that
// the server has not reached yet: the data was restored from a logical dump
// into a newer cluster. New events would sort before old ones, so the store
// refuses to run. docs/eventstore.md explains the fix (pg_resetwal -e).
var ErrTransactionIDsBehind = errors.New("postgres: stored transaction ids are ahead of the server's")

// CheckTransactionIDs returns ErrTransactionIDsBehind when the next
// transaction id of the server is not above every stored one.
func CheckTransactionIDs(ctx context.Context, db sqlx.QueryerContext) error {
	const q = `SELECT COALESCE((SELECT tx_id::text AS tx_text FROM events ORDER BY events.tx_id DESC LIMIT 1), '0'),
	                  pg_snapshot_xmax(pg_current_snapshot())::text`
	var maxStored, next string
	if err := db.QueryRowxContext(ctx, q).Scan(&maxStored, &next); err != nil {
		return fmt.Errorf("postgres: check transaction ids: %w", err)
	}
	a, _ := strconv.ParseUint(maxStored, 10, 64)
	b, _ := strconv.ParseUint(next, 10, 64)
	if a >= b {
		return fmt.Errorf("%w: newest stored %d, server's next %d; run pg_resetwal -e %d on the stopped server",
			ErrTransactionIDsBehind, a, b, a>>32+1)
	}
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops the listener and closes the pool.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	l := s.listener
	s.mu.Unlock()
	if l != nil {
		l.Close()
	}
	s.stopGroupCommit() // batches in flight finish before the pool closes
	s.stmtMu.Lock()
	for _, stmt := range s.stmts {
		if stmt != nil {
			stmt.Close()
		}
	}
	s.stmtMu.Unlock()
	return s.db.Close()
}

// appendValuesMax is the largest batch sent as one VALUES list with one
// parameter per field; larger batches go as arrays (one parameter each).
const appendValuesMax = 1000

// appendQuery builds the one statement of an append of n events: read the
// stream head (an index lookup), insert head+1... only if the head is the
// expected one ($2 < 0 means any). A concurrent append to the same stream
// makes one of the two fail on the (stream_id, version) unique index.
func appendQuery(n int) string {
	const head = `WITH head AS (
	SELECT COALESCE((SELECT version FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1), 0) AS v
)
INSERT INTO events (event_id, stream_id, version, type, data, metadata)
SELECT u.id, $1, head.v + u.ord, u.type, u.data, u.meta
FROM head, `
	const tail = `
WHERE $2::bigint < 0 OR head.v = $2::bigint
ORDER BY u.ord
RETURNING version, tx_id::text AS tx_text, seq`
	if n > appendValuesMax {
		return head + `unnest($3::uuid[], $4::text[], $5::bytea[], $6::bytea[]) WITH ORDINALITY AS u(id, type, data, meta, ord)` + tail
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(`(VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(`, `)
		}
		p := 3 + 4*i
		fmt.Fprintf(&b, `($%d::uuid, $%d::text, $%d::bytea, $%d::bytea, %d)`, p, p+1, p+2, p+3, i+1)
	}
	b.WriteString(`) AS u(id, type, data, meta, ord)`)
	b.WriteString(tail)
	return b.String()
}

// appendQueries caches the statements of small batches, the common case.
var appendQueries = func() []string {
	qs := make([]string, 17)
	for i := 1; i < len(qs); i++ {
		qs[i] = appendQuery(i)
	}
	return qs
}()

func appendArgs(stream string, want int64, events []eventstore.Event) (string, []any) {
	n := len(events)
	if n > appendValuesMax {
		ids := make([]string, n)
		types := make([]string, n)
		data := make([][]byte, n)
		meta := make([][]byte, n)
		for i, e := range events {
			ids[i], types[i], data[i], meta[i] = e.ID.String(), e.Type, nonNil(e.Data), nonNil(e.Metadata)
		}
		return appendQuery(n), []any{stream, want, pq.StringArray(ids), pq.StringArray(types), pq.ByteaArray(data), pq.ByteaArray(meta)}
	}
	args := make([]any, 0, 2+4*n)
	args = append(args, stream, want)
	for _, e := range events {
		args = append(args, e.ID.String(), e.Type, nonNil(e.Data), nonNil(e.Metadata))
	}
	if n < len(appendQueries) {
		return appendQueries[n], args
	}
	return appendQuery(n), args
}

// prepared returns the prepared statement for a small append on the pool,
// preparing it once; PostgreSQL then plans the statement once per
// connection instead of on every append. It returns nil inside a caller's
// transaction or for larger batches.
func (s *Store) prepared(ctx context.Context, q sqlx.QueryerContext, n int) *sql.Stmt {
	if q != sqlx.QueryerContext(s.db) || n > appendValuesMax {
		return nil
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if stmt, ok := s.stmts[n]; ok {
		return stmt
	}
	if len(s.stmts) >= maxPrepared {
		return nil // unusual batch sizes are planned each time
	}
	query := appendQuery(n)
	if n < len(appendQueries) {
		query = appendQueries[n]
	}
	stmt, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if s.stmts == nil {
		s.stmts = make(map[int]*sql.Stmt)
	}
	s.stmts[n] = stmt
	return stmt
}

// maxPrepared bounds the prepared append statements (one per batch size).
const maxPrepared = 64

// Append implements eventstore.Store. Small appends made concurrently share
// one statement and one commit (group commit, see groupcommit.go); each is
// still decided on its own expected version and answered after its commit.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if s.isClosed() {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if s.group != nil && len(events) <= groupMaxEvents {
		return s.appendGrouped(ctx, stream, expected, events)
	}
	return s.appendDirect(ctx, stream, expected, events)
}

// appendDirect is one append in its own transaction: one statement (one
// round trip) in the common case; duplicates and conflicts are diagnosed
// afterwards.
func (s *Store) appendDirect(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	for attempt := 0; ; attempt++ {
		res, err := s.appendOnce(ctx, s.db, stream, expected, events)
		if err == nil {
			s.announce()
			return res, nil
		}
		if errors.Is(err, errVersionTaken) && expected.IsAny() && attempt < s.cfg.AnyRetries {
			continue
		}
		return s.diagnose(ctx, stream, expected, events, err)
	}
}

// AppendInTx appends inside the caller's transaction: the events become
// readable when it commits. Conflicts surface as errors from this call or
// from the caller's commit; the caller must not reuse tx after an error.
func (s *Store) AppendInTx(ctx context.Context, tx *sqlx.Tx, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := s.appendOnce(ctx, tx, stream, expected, events)
	if err != nil {
		// The caller's transaction is aborted now; diagnose reads through
		// the pool, like Append: a retry of committed events is reported as
		// such, an id stored elsewhere as ErrDuplicateEvent.
		return s.diagnose(ctx, stream, expected, events, err)
	}
	return res, nil
}

var (
	errVersionTaken    = errors.New("version taken by a concurrent append")
	errEventIDTaken    = errors.New("event id already stored")
	errNothingInserted = errors.New("stream not at the expected version")
)

func (s *Store) appendOnce(ctx context.Context, q sqlx.QueryerContext, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	want := int64(-1)
	if !expected.IsAny() {
		want = expected.Version()
	}
	query, args := appendArgs(stream, want, events)
	var rows *sql.Rows
	var err error
	if stmt := s.prepared(ctx, q, len(events)); stmt != nil {
		rows, err = stmt.QueryContext(ctx, args...)
	} else {
		var xrows *sqlx.Rows
		xrows, err = q.QueryxContext(ctx, query, args...)
		if xrows != nil {
			rows = xrows.Rows
		}
	}
	if err != nil {
		return eventstore.AppendResult{}, classify(err)
	}
	defer rows.Close()
	var res eventstore.AppendResult
	n := 0
	for rows.Next() {
		var v int64
		var tx string
		var seq int64
		if err := rows.Scan(&v, &tx, &seq); err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("postgres: append to %q: %w", stream, err)
		}
		p := eventstore.Position{Commit: parseXID(tx), Prepare: uint64(seq)}
		if n == 0 {
			res.First = p
		}
		res.Last, res.Version = p, v
		n++
	}
	if err := rows.Err(); err != nil {
		return eventstore.AppendResult{}, classify(err)
	}
	if n == 0 {
		return eventstore.AppendResult{}, errNothingInserted
	}
	return res, nil
}

func classify(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		switch pqErr.Constraint {
		case "events_stream_version":
			return errVersionTaken
		case "events_event_id":
			return errEventIDTaken
		}
	}
	return err
}

// diagnose turns a failed append into the port's answer: the original result
// of an idempotent retry, a duplicate-id error, or a conflict.
func (s *Store) diagnose(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event, cause error) (eventstore.AppendResult, error) {
	if !errors.Is(cause, errVersionTaken) && !errors.Is(cause, errEventIDTaken) && !errors.Is(cause, errNothingInserted) {
		return eventstore.AppendResult{}, fmt.Errorf("postgres: append to %q: %w", stream, cause)
	}
	found, err := s.findByIDs(ctx, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	for _, f := range found {
		if f != nil {
			return eventstore.MatchDuplicate(stream, expected, events, found)
		}
	}
	v, err := s.StreamVersion(ctx, stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: v}
}

func (s *Store) findByIDs(ctx context.Context, events []eventstore.Event) ([]*eventstore.Recorded, error) {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID.String()
	}
	const q = `SELECT ` + columns + ` FROM events WHERE event_id = ANY($1::uuid[])`
	recs, err := s.query(ctx, q, pq.StringArray(ids))
	if err != nil {
		return nil, fmt.Errorf("postgres: look up event ids: %w", err)
	}
	byID := make(map[uuid.UUID]*eventstore.Recorded, len(recs))
	for i := range recs {
		byID[recs[i].ID] = &recs[i]
	}
	found := make([]*eventstore.Recorded, len(events))
	for i, e := range events {
		found[i] = byID[e.ID]
	}
	return found, nil
}

// announce wakes subscribers in this process at once and asks the notifier
// to tell other processes. NOTIFY is not sent inside the appending
// transaction: there it would take PostgreSQL's notify lock at commit and
// serialise every writer's commit behind it.
func (s *Store) announce() {
	s.wake()
	select {
	case s.notify <- struct{}{}:
	default: // a NOTIFY is already due; it covers this append too
	}
}

// notifier sends one NOTIFY per burst of appends, off the append path.
func (s *Store) notifier() {
	failures := repeatlog.New(s.cfg.Logger, slog.LevelWarn) // once per outage, not per burst
	for {
		select {
		case <-s.done:
			return
		case <-s.notify:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, '')`, NotifyChannel); err != nil {
			failures.Failed(ctx, "notify subscribers", err) // they poll anyway
		} else {
			failures.OK(ctx)
		}
		cancel()
		// Appends in the next moment share one NOTIFY: each costs a
		// transaction on the server, and under load one per append took a
		// tenth of the write throughput. Subscribers in this process were
		// woken directly; others wait at most this long more.
		select {
		case <-s.done:
			return
		case <-time.After(notifyEvery):
		}
	}
}

// notifyEvery is the shortest interval between two NOTIFYs of one store.
const notifyEvery = 2 * time.Millisecond

func (s *Store) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}

const columns = `event_id, stream_id, version, tx_id::text AS tx_text, seq, type, data, metadata, stored_at`

type row struct {
	ID       uuid.UUID `db:"event_id"`
	Stream   string    `db:"stream_id"`
	Version  int64     `db:"version"`
	TxID     string    `db:"tx_id"`
	Seq      int64     `db:"seq"`
	Type     string    `db:"type"`
	Data     []byte    `db:"data"`
	Metadata []byte    `db:"metadata"`
	StoredAt time.Time `db:"stored_at"`
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]eventstore.Recorded, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []eventstore.Recorded
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.ID, &r.Stream, &r.Version, &r.TxID, &r.Seq, &r.Type, &r.Data, &r.Metadata, &r.StoredAt); err != nil {
			return nil, err
		}
		out = append(out, eventstore.Recorded{
			ID: r.ID, Stream: r.Stream, Version: r.Version,
			Position: eventstore.Position{Commit: parseXID(r.TxID), Prepare: uint64(r.Seq)},
			Type:     r.Type, Data: r.Data, Metadata: r.Metadata, StoredAt: r.StoredAt.UTC(),
		})
	}
	return out, rows.Err()
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read stream %q: limit %d: %w", stream, limit, eventstore.ErrInvalid)
	}
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	const q = `SELECT ` + columns + ` FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3`
	recs, err := s.query(ctx, q, stream, from, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read stream %q: %w", stream, err)
	}
	return recs, nil
}

// StreamVersion implements eventstore.Store.
func (s *Store) StreamVersion(ctx context.Context, stream string) (eventstore.Version, error) {
	// ORDER BY ... LIMIT 1 stays an index lookup; max(version) can be
	// planned as a walk over the whole stream when statistics are stale.
	const q = `SELECT COALESCE((SELECT version FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1), 0)`
	var v int64
	if err := s.db.GetContext(ctx, &v, q, stream); err != nil {
		return 0, fmt.Errorf("postgres: version of %q: %w", stream, err)
	}
	return v, nil
}

// readAllQuery is the heart of the ordering rule: only rows of transactions
// older than every transaction that may still append are read, so no row can
// later appear before the last row returned (events_readable_below,
// migration 0002; docs/eventstore.md).
const readAllQuery = `SELECT ` + columns + ` FROM events
WHERE (tx_id, seq) > ($1::text::xid8, $2::bigint)
  AND tx_id < (SELECT events_readable_below())
ORDER BY events.tx_id, events.seq
LIMIT $3`

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Recorded, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read all: limit %d: %w", limit, eventstore.ErrInvalid)
	}
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	recs, err := s.query(ctx, readAllQuery, strconv.FormatUint(after.Commit, 10), int64(after.Prepare), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read all after %s: %w", after, err)
	}
	return recs, nil
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	const q = `SELECT tx_id::text AS tx_text, seq FROM events
WHERE tx_id < (SELECT events_readable_below())
ORDER BY events.tx_id DESC, events.seq DESC LIMIT 1`
	var tx string
	var seq int64
	err := s.db.QueryRowContext(ctx, q).Scan(&tx, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Start, fmt.Errorf("postgres: head: %w", err)
	}
	return eventstore.Position{Commit: parseXID(tx), Prepare: uint64(seq)}, nil
}

// CountAfter returns how many readable events lie after p: a subscriber's
// lag in events. It costs an index scan over that many rows.
func (s *Store) CountAfter(ctx context.Context, p eventstore.Position) (int64, error) {
	const q = `SELECT count(*) FROM events
WHERE (tx_id, seq) > ($1::text::xid8, $2::bigint) AND tx_id < (SELECT events_readable_below())`
	var n int64
	if err := s.db.GetContext(ctx, &n, q, strconv.FormatUint(p.Commit, 10), int64(p.Prepare)); err != nil {
		return 0, fmt.Errorf("postgres: count after %s: %w", p, err)
	}
	return n, nil
}

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
	if err := s.listen(); err != nil {
		s.cfg.Logger.Warn("LISTEN failed; subscribers will poll", "err", err)
	}
	poll := time.NewTimer(s.cfg.PollInterval)
	defer poll.Stop()
	active := time.Now() // the last event or notification seen
	for {
		changed, err := s.waitChannel()
		if err != nil {
			return err
		}
		page, err := s.ReadAll(ctx, after, eventstore.DefaultPageSize)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return err
		}
		for _, r := range page {
			if err := handle(ctx, r); err != nil {
				return err
			}
			after = r.Position
		}
		if len(page) > 0 {
			active = time.Now()
		}
		if len(page) == eventstore.DefaultPageSize {
			continue
		}
		poll.Reset(pollInterval(s.cfg, s.listening(), time.Since(active)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return eventstore.ErrClosed
		case <-changed:
			active = time.Now()
		case <-poll.C:
		}
	}
}

// pollInterval is how long an idle subscriber waits before it looks for
// events it was not told of: PollInterval, or IdlePollInterval once it has
// been idle for IdleAfter with LISTEN connected.
func pollInterval(cfg Config, listening bool, idle time.Duration) time.Duration {
	if listening && idle >= cfg.IdleAfter {
		return cfg.IdlePollInterval
	}
	return cfg.PollInterval
}

func (s *Store) listening() bool { return s.heard.Load() }

func (s *Store) setListening(ok bool) { s.heard.Store(ok) }

// Changed returns a channel closed when new events may be readable: an
// append by this process, or a notification of one by another (it starts
// the shared LISTEN connection). Take a fresh one after each close. A
// closed store returns a channel that is never closed. A checkpointer
// waits on it so that an idle ledger asks the database nothing.
func (s *Store) Changed() <-chan struct{} {
	if err := s.listen(); err != nil {
		s.cfg.Logger.Debug("LISTEN failed; changes by other processes are not heard", "err", err)
	}
	ch, err := s.waitChannel()
	if err != nil {
		return nil
	}
	return ch
}

func (s *Store) waitChannel() (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	return s.changed, nil
}

// listen starts the shared LISTEN connection once.
func (s *Store) listen() error {
	s.mu.Lock()
	if s.listener != nil || s.listenStarting || s.closed {
		s.mu.Unlock()
		return nil
	}
	// Listen waits for the listener's first connection: not under mu,
	// which every append takes to wake subscribers.
	s.listenStarting = true
	s.mu.Unlock()
	// The listener reconnects on its own, with backoff: each outage is
	// logged once, and its end.
	failures := repeatlog.New(s.cfg.Logger, slog.LevelWarn)
	l := pq.NewListener(s.cfg.URL, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		// Not listening: subscribers poll at the fast rate.
		s.setListening(err == nil && (ev == pq.ListenerEventConnected || ev == pq.ListenerEventReconnected))
		switch {
		case err != nil:
			failures.Failed(context.Background(), "event listener", err)
		case ev == pq.ListenerEventConnected || ev == pq.ListenerEventReconnected:
			failures.OK(context.Background())
		}
	})
	err := l.Listen(NotifyChannel)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listenStarting = false
	if err != nil || s.closed {
		l.Close()
		return err
	}
	s.listener = l
	go s.relay(l)
	return nil
}

// relay turns notifications (and reconnects, after which some may have been
// lost) into wake-ups.
func (s *Store) relay(l *pq.Listener) {
	for {
		select {
		case <-s.done:
			return
		case _, ok := <-l.Notify:
			if !ok {
				return
			}
			s.wake()
		}
	}
}

func parseXID(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// StreamAppend is one stream's part of an AppendAll.
type StreamAppend struct {
	Stream   string
	Expected eventstore.Expected
	Events   []eventstore.Event
}

// AppendAll writes several streams' events in one transaction: all of them
// or none (an import is never half done). A conflict on any stream fails
// the whole call with that stream's *eventstore.ConflictError.
func (s *Store) AppendAll(ctx context.Context, appends []StreamAppend) error {
	for _, a := range appends {
		// With Any, a later statement of the transaction could read a
		// version committed after the transaction's id was taken, and give a
		// stream a version whose global position comes first.
		if a.Expected.IsAny() {
			return fmt.Errorf("postgres: append all to %q: every stream needs an exact expected version: %w", a.Stream, eventstore.ErrInvalid)
		}
	}
	for _, a := range appends {
		if err := eventstore.ValidateAppend(a.Stream, a.Events); err != nil {
			return err
		}
	}
	if len(appends) > 1 {
		err := s.copyAll(ctx, appends)
		if err == nil {
			s.announce()
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("postgres: append all: %w", ctx.Err())
		}
		// Nothing of the copy was committed. Append by append, the same
		// failure gets the answer each AppendInTx gives it: a conflict on
		// its stream, a duplicate id, a retry of stored events.
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: append all: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for _, a := range appends {
		if _, err := s.AppendInTx(ctx, tx, a.Stream, a.Expected, a.Events); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: append all: commit: %w", classify(err))
	}
	s.announce()
	return nil
}

// AppendAllFrom is AppendAll for appends made while they are written (a
// first start's demo: what is planned is copied while the rest is
// planned): next returns the next appends, nil after the last, or an
// error, which AppendAllFrom returns having written nothing. Every append
// goes in one transaction, committed after the last: the result, and the
// error when an append is refused, are those of AppendAll given all of
// them at once.
func (s *Store) AppendAllFrom(ctx context.Context, next func() ([]StreamAppend, error)) error {
	var all []StreamAppend
	var nextErr error
	err := s.copyFrom(ctx, func() ([]StreamAppend, error) {
		appends, err := next()
		if err != nil {
			nextErr = err
			return nil, err
		}
		all = append(all, appends...)
		for _, a := range appends {
			if a.Expected.IsAny() || eventstore.ValidateAppend(a.Stream, a.Events) != nil {
				return nil, errCopyRefused // AppendAll says why
			}
		}
		return appends, nil
	})
	switch {
	case err == nil:
		s.announce()
		return nil
	case nextErr != nil:
		return nextErr
	case ctx.Err() != nil:
		return fmt.Errorf("postgres: append all: %w", ctx.Err())
	}
	// Nothing was committed: AppendAll, given everything, finds out why
	// (or writes it, if what failed was a transient error).
	for {
		appends, err := next()
		if err != nil {
			return err
		}
		if appends == nil {
			return s.AppendAll(ctx, all)
		}
		all = append(all, appends...)
	}
}

// errCopyRefused means copyAll found a stream not at its expected version
// before writing anything.
var errCopyRefused = errors.New("a stream is not at its expected version")

// copyAll is AppendAll's fast path: one transaction that reads the head of
// every stream once, checks each append's expected version against the
// head the appends before it leave, and sends every event with COPY, in
// the order given (so seq, and the global order, follow it) at the
// versions so derived. A statement per append cost ~0.3 ms each: 30 s for
// the 111,000 demo events of a first start. The (stream_id, version) and
// event_id unique indexes still refuse what a concurrent writer took
// meanwhile, or an id stored already; the append-only triggers are
// untouched (COPY only inserts). On any error nothing is committed.
func (s *Store) copyAll(ctx context.Context, appends []StreamAppend) error {
	return s.copyFrom(ctx, func() ([]StreamAppend, error) {
		out := appends
		appends = nil
		return out, nil
	})
}

// copyFrom is copyAll for appends that come in parts: next returns the
// next part, nil after the last one, or an error, which copyFrom returns
// as it is. The heads of the streams a part writes first are read before
// its COPY (the transaction's later statements see what others committed
// meanwhile, which the expected versions then refuse, as they refuse a
// stream ahead of its expected version in copyAll); every part goes in the
// same transaction, committed after the last.
func (s *Store) copyFrom(ctx context.Context, next func() ([]StreamAppend, error)) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	heads := map[string]int64{}
	for {
		appends, err := next()
		if err != nil {
			return err
		}
		if appends == nil {
			return tx.Commit()
		}
		var streams []string
		for _, a := range appends {
			if _, ok := heads[a.Stream]; !ok {
				heads[a.Stream] = 0
				streams = append(streams, a.Stream)
			}
		}
		if err := readHeads(ctx, tx, streams, heads); err != nil {
			return err
		}
		for _, a := range appends {
			if heads[a.Stream] != a.Expected.Version() {
				return errCopyRefused
			}
			heads[a.Stream] += int64(len(a.Events))
		}
		if err := copyEvents(ctx, tx, appends); err != nil {
			return err
		}
	}
}

// readHeads sets the version of each of streams in heads.
func readHeads(ctx context.Context, tx *sqlx.Tx, streams []string, heads map[string]int64) error {
	if len(streams) == 0 {
		return nil
	}
	const q = `SELECT s.id, COALESCE((SELECT version FROM events WHERE stream_id = s.id ORDER BY version DESC LIMIT 1), 0)
FROM unnest($1::text[]) AS s(id)`
	rows, err := tx.QueryContext(ctx, q, pq.StringArray(streams))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		heads[id] = v
	}
	return rows.Err()
}

// copyEvents sends the events of appends with one COPY, at the versions
// their expected versions give.
func copyEvents(ctx context.Context, tx *sqlx.Tx, appends []StreamAppend) error {
	stmt, err := tx.PrepareContext(ctx, `COPY events (event_id, stream_id, version, type, data, metadata) FROM STDIN`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, a := range appends {
		v := a.Expected.Version()
		for _, e := range a.Events {
			v++
			if _, err := stmt.ExecContext(ctx, e.ID.String(), a.Stream, v, e.Type, nonNil(e.Data), nonNil(e.Metadata)); err != nil {
				return err
			}
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // ends the COPY
		return err
	}
	return stmt.Close()
}
