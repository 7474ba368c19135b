package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
)

// A generation that starts empty (a rebuild, or a first catch-up such as
// `ledger dev`'s first start) can be built faster than page by page: a
// Replayer keeps what it folded in memory between pages, so it never reads
// its own rows back, and takes pages of ReplayPageSize events, runs of
// ReplayRunSize in a transaction. Each run is one transaction that writes
// its rows and moves the checkpoint past exactly the events they cover, so a crash or a cancellation leaves
// a generation as consistent (and as far from caught up) as the page path
// would. The read model it builds is the one the page path builds, byte
// for byte (replay_test.go).
//
// A replay never decides that an event is poison: when a page fails, or
// when anything else moved the generation meanwhile (a router's Process
// beside a catch-up), the replay is dropped and the page path resumes from
// the last committed checkpoint, where it applies, locates and records a
// failing event as it always has.

// ReplayPageSize is how many events a replay applies per transaction.
const ReplayPageSize = 20_000

// ReplayRunSize is about how many events a replay applies per
// transaction: it reads them in pages of ReplayPageSize and writes what
// the pages touched (Flush) once per run, so that an aggregate the whole
// log keeps touching is written a few times, not once per page.
const ReplayRunSize = 250_000

// replayPageSize and replayRunSize are ReplayPageSize and ReplayRunSize;
// tests make them small to cross pages and runs.
var (
	replayPageSize = ReplayPageSize
	replayRunSize  = ReplayRunSize
)

// Replayer is a Projector that can replay into an empty generation.
type Replayer interface {
	Projector
	// NewReplay starts a replay of generation gen, which holds nothing
	// yet; it is fed every event from the first one, in order.
	NewReplay(gen int) Replay
}

// Replay folds consecutive pages of the log into one generation.
type Replay interface {
	// Apply writes the effect of events (the next ones after those given
	// before, minus skipped ones) inside tx. After an error, or when tx is
	// rolled back, the Replay is not used again.
	Apply(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error
	// Flush writes, inside tx, what Apply deferred, so that the read
	// model covers every event applied so far; it is called before each
	// commit.
	Flush(ctx context.Context, tx *sqlx.Tx) error
}

// ReplaySettler is a Replay that leaves work for the head of the log: the
// ratings compute every level once, from what the replay folded, when the
// log has no more events. The run that reaches the head calls Settle after
// Flush, in the same transaction. A replay that stops before the head
// leaves that work pending, for the page path's settle.
type ReplaySettler interface {
	Replay
	// Settle writes, inside tx, what the replay leaves for the head.
	Settle(ctx context.Context, tx *sqlx.Tx) error
}

// replayLog replays generation gen of r from pos (the start of the log)
// up to the head, page by page. With active, gen is the projector's active
// generation and each page is applied under the projector's lock, as
// Process takes it. It returns where the generation stands (its checkpoint
// as committed), how many events it applied, and whether it reached the
// head; it stops short without error when a page fails to apply or the
// generation moved under it, and the caller goes on page by page. Errors
// are those of reading the log and of cancellation.
//
// The log is read one page ahead of the page being applied (a feed of
// one subscriber), so that reading the next page and writing this one
// overlap, as they do in a catch-up's shared reading.
func replayLog(ctx context.Context, db *sqlx.DB, store eventstore.Store, r Replayer, gen int, pos eventstore.Position, active bool) (eventstore.Position, int, bool, error) {
	f := feed{from: pos}
	sub := f.subscribeAhead(1)
	feedCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.run(feedCtx, store)
	}()
	defer func() {
		close(sub.quit)
		stop()
		<-done
	}()
	return replayFrom(ctx, db, r, gen, pos, active, sub.next)
}

// replayFrom is replayLog with the pages read by next: the page after pos,
// empty at the head.
func replayFrom(ctx context.Context, db *sqlx.DB, r Replayer, gen int, pos eventstore.Position, active bool,
	next func(eventstore.Position) ([]eventstore.Recorded, error)) (eventstore.Position, int, bool, error) {
	rp := r.NewReplay(gen)
	pages := func(pos eventstore.Position) ([]eventstore.Recorded, decodedPage, error) {
		page, err := next(pos)
		return page, nil, err
	}
	if d, ok := rp.(aheadDecoder); ok {
		var stop func()
		pages, stop = decodeAhead(next, pos, d.decodes)
		defer stop()
	}
	total := 0
	for {
		n, at, head, ok, err := replayRun(ctx, db, r, rp, gen, pos, active, pages)
		if err != nil || !ok {
			return pos, total, false, err
		}
		pos, total = at, total+n
		if head {
			if k, ok := rp.(replayHandsOn); ok {
				k.handOn(ctx, db)
			}
			return pos, total, true, nil
		}
	}
}

// replayHandsOn is a Replay whose state, once it reached the head, is
// worth keeping for the live path (the indicators' folds). handOn is
// called once, after the last run committed; the Replay is not used again.
type replayHandsOn interface {
	handOn(ctx context.Context, db *sqlx.DB)
}

// replayRun applies pages to generation gen from pos in one transaction,
// until about replayRunSize events or the head, then has the replay
// write what it deferred (Flush) and commits, the checkpoint with the
// rows. It returns the events applied, where they end, whether it reached
// the head, and false when the replay cannot go on (a page failed, or the
// generation is not where the replay left it); its error is only a
// failure to read the log or a cancellation.
func replayRun(ctx context.Context, db *sqlx.DB, p Projector, rp Replay, gen int, pos eventstore.Position, active bool,
	next pageSource) (n int, at eventstore.Position, head, ok bool, err error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return 0, pos, false, false, replayStop(ctx, err)
	}
	defer conn.Close()
	// A run on the active generation commits durably: the live
	// subscription starts from the checkpoint it leaves, and goes on from
	// there in memory (process). A rebuild's runs need not: a lost one is
	// seen by the next run's check below, and the pages after the replay
	// read the stored checkpoint (rebuildPage).
	begin := beginProjectionOn
	if active {
		begin = beginDurableOn
	}
	tx, err := begin(ctx, conn)
	if err != nil {
		return 0, pos, false, false, replayStop(ctx, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// The run's COPYs write their text straight to the connection.
	ctx = withRawConn(ctx, tx, conn)
	var st generationState
	if active {
		if _, settles := rp.(ReplaySettler); settles {
			// Its Settle writes the active generation's rows under the
			// projector's row: the settle lock first, as runner's settle.
			if err := lockSettle(ctx, tx, p.Name()); err != nil {
				return 0, pos, false, false, replayStop(ctx, err)
			}
		}
		st, err = lockActive(ctx, tx, p.Name())
	} else {
		st.gen = gen
		st.pos, err = generationCheckpoint(ctx, tx, p.Name(), gen)
	}
	if err != nil {
		return 0, pos, false, false, replayStop(ctx, err)
	}
	if st.gen != gen || st.pos != pos {
		return 0, pos, false, false, nil // someone else applied events: the page path takes over
	}
	at = pos
	for n < replayRunSize {
		page, decoded, err := next(at)
		if err != nil {
			return 0, pos, false, false, err
		}
		if len(page) == 0 {
			head = true
			break
		}
		events := after(page, at)
		if len(events) == 0 {
			return 0, pos, false, false, nil
		}
		todo, err := withoutSkipped(ctx, tx, p.Name(), events)
		if err != nil {
			return 0, pos, false, false, replayStop(ctx, err)
		}
		if len(todo) > 0 {
			applyCtx := ctx
			if decoded != nil {
				applyCtx = context.WithValue(ctx, aheadKey{}, decoded)
			}
			if err := rp.Apply(applyCtx, tx, todo); err != nil {
				return 0, pos, false, false, replayStop(ctx, err)
			}
		}
		if err := moveCheckpoint(ctx, tx, p.Name(), gen, events); err != nil {
			return 0, pos, false, false, replayStop(ctx, err)
		}
		at = events[len(events)-1].Position
		n += len(events)
	}
	settler, settles := rp.(ReplaySettler)
	settles = settles && head
	if n == 0 && !settles {
		return 0, pos, head, true, nil
	}
	if n > 0 {
		if err := rp.Flush(ctx, tx); err != nil {
			return 0, pos, false, false, replayStop(ctx, err)
		}
	}
	if settles {
		// A run at the head with no event (the last run ended where the
		// log does) still settles what the runs before left pending.
		if err := settler.Settle(ctx, tx); err != nil {
			return 0, pos, false, false, replayStop(ctx, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, pos, false, false, replayStop(ctx, err)
	}
	return n, at, head, true, nil
}

// pageSource serves replayRun: the page after pos (empty at the head),
// with the events decoded ahead, if any.
type pageSource func(pos eventstore.Position) ([]eventstore.Recorded, decodedPage, error)

// decodeAhead reads the pages of next from pos in a goroutine, one page
// ahead of the caller, and decodes the events of the streams wants names
// before handing each page on, so that decoding a page and applying the
// one before overlap. The source it returns must be asked for the pages
// in order, each from where the last one ended, as replayRun does; stop
// ends the goroutine (at once, or when next returns, if it is waiting
// in next: the feed's end, which follows a replay's, releases it).
func decodeAhead(next func(eventstore.Position) ([]eventstore.Recorded, error), pos eventstore.Position,
	wants func(string) bool) (pages pageSource, stop func()) {
	type ahead struct {
		page    []eventstore.Recorded
		decoded decodedPage
		err     error
	}
	ch := make(chan ahead, 1)
	quit := make(chan struct{})
	go func() {
		defer close(ch)
		at := pos
		for {
			var a ahead
			a.page, a.err = next(at)
			if a.err == nil && len(a.page) > 0 {
				a.decoded = decodePage(a.page, wants)
				at = a.page[len(a.page)-1].Position
			}
			select {
			case ch <- a:
			case <-quit:
				return
			}
			if a.err != nil || len(a.page) == 0 {
				return
			}
		}
	}()
	at := pos
	pages = func(from eventstore.Position) ([]eventstore.Recorded, decodedPage, error) {
		if from != at {
			return nil, nil, fmt.Errorf("replay: the pages decoded ahead are at %s, not %s", at, from)
		}
		a, ok := <-ch
		if !ok {
			return nil, nil, errors.New("replay: the pages decoded ahead ended")
		}
		if len(a.page) > 0 {
			at = a.page[len(a.page)-1].Position
		}
		return a.page, a.decoded, a.err
	}
	return pages, sync.OnceFunc(func() { close(quit) })
}

// replayStop is what a failed replay page returns: the cancellation, if
// that is why it failed, and nothing otherwise (the page path retries).
func replayStop(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return errors.Join(cerr, err)
	}
	return nil
}

// generationCheckpoint reads, and locks for the transaction, the
// checkpoint of one generation.
func generationCheckpoint(ctx context.Context, tx *sqlx.Tx, name string, gen int) (eventstore.Position, error) {
	var c, p int64
	const q = `SELECT position_commit, position_prepare FROM projector_checkpoints WHERE name = $1 AND generation = $2 FOR UPDATE`
	if err := tx.QueryRowxContext(ctx, q, name, gen).Scan(&c, &p); err != nil {
		return eventstore.Start, fmt.Errorf("checkpoint of %s generation %d: %w", name, gen, err)
	}
	return eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}, nil
}

// feed reads the log once, from the start, for several replays in a
// catch-up: each page goes to every subscriber still reading. A
// subscriber's channel holds feedAhead pages, so a replay that is faster
// than the others goes on at its own pace until it is that far ahead of
// the slowest (then the reader waits for the slowest): the whole log of a
// first start (~6 pages) fits, and at most feedAhead+1 pages are held
// beyond what every replay has taken. Replays only read the pages.
type feed struct {
	from eventstore.Position // where it starts reading (the start of the log unless set)
	subs []*feedSub
}

// feedAhead is how many pages a feed reads ahead of its slowest subscriber.
const feedAhead = 8

// feedSub is one replay's end of a feed.
type feedSub struct {
	pages chan []eventstore.Recorded
	quit  chan struct{} // closed by the subscriber when it reads no more
	err   error         // why the feed ended, set before pages is closed
	at    eventstore.Position
	gone  bool // the reader's note that quit was closed
}

func (f *feed) subscribe() *feedSub { return f.subscribeAhead(feedAhead) }

// subscribeAhead is subscribe for a subscriber that lets the feed read at
// most ahead pages before it.
func (f *feed) subscribeAhead(ahead int) *feedSub {
	s := &feedSub{pages: make(chan []eventstore.Recorded, ahead), quit: make(chan struct{}), at: f.from}
	f.subs = append(f.subs, s)
	return s
}

// run reads the log until the head, an error, or every subscriber quit.
func (f *feed) run(ctx context.Context, store eventstore.Store) {
	pos := f.from
	var err error
	defer func() {
		for _, s := range f.subs {
			s.err = err
			close(s.pages)
		}
	}()
	for {
		var page []eventstore.Recorded
		page, err = store.ReadAll(ctx, pos, replayPageSize)
		if err != nil || len(page) == 0 {
			return
		}
		live := 0
		for _, s := range f.subs {
			select {
			case <-s.quit:
				s.gone = true // its channel may have room, but nobody reads it
			default:
			}
			if s.gone {
				continue
			}
			select {
			case s.pages <- page:
				live++
			case <-s.quit:
				s.gone = true
			}
		}
		if live == 0 {
			return
		}
		pos = page[len(page)-1].Position
	}
}

// next serves replayFrom: the page after pos, which must be where the
// subscriber's last page ended.
func (s *feedSub) next(pos eventstore.Position) ([]eventstore.Recorded, error) {
	if pos != s.at {
		return nil, fmt.Errorf("replay: the feed is at %s, not %s", s.at, pos)
	}
	page, ok := <-s.pages
	if !ok {
		return nil, s.err
	}
	s.at = page[len(page)-1].Position
	return page, nil
}
