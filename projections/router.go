package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgerr"
	"promiseledger/projections/logsub"
)

// RouterConfig configures the projections router.
type RouterConfig struct {
	DB         *sqlx.DB
	Store      eventstore.Store
	Projectors []Projector
	Logger     *slog.Logger
	// MaxBatch caps the events per transaction (default 500).
	MaxBatch int
	// Retries before a projector is stopped on an event (default 5), with
	// exponential backoff from RetryInterval (default 100ms) up to 5s.
	Retries       int
	RetryInterval time.Duration
	// Applied, when set, is called after a projector committed a batch
	// (benchmarks measure lag with it).
	Applied func(projector string, events []eventstore.Recorded)
	// Settled, when set, is called after a projector that settles apart
	// from its batches (the ratings) committed work covering every event up
	// to covered (benchmarks measure lag with it).
	Settled func(projector string, covered eventstore.Position)
	// NoLease turns off the per-projector lease (AdvisoryLease); tests that
	// race two routers on purpose use it.
	NoLease bool
}

func (c *RouterConfig) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 500
	}
	if c.Retries == 0 {
		c.Retries = 5
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = 100 * time.Millisecond
	}
}

// Validate reports configuration errors.
func (c RouterConfig) Validate() error {
	var errs []error
	if c.DB == nil {
		errs = append(errs, errors.New("projections: DB is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("projections: Store is required"))
	}
	seen := map[string]bool{}
	for _, p := range c.Projectors {
		if seen[p.Name()] {
			errs = append(errs, fmt.Errorf("projections: two projectors named %q", p.Name()))
		}
		seen[p.Name()] = true
	}
	return errors.Join(errs...)
}

// Router runs every projector as a Watermill handler.
type Router struct {
	cfg     RouterConfig
	router  *message.Router
	sub     *logsub.Subscriber
	settles []settleLoop
}

// settleLoop settles a liveSettler apart from its batches: the handler
// applies a batch (facts, marks) in a short transaction and asks for a
// settle; the loop recomputes whatever is pending, once for every batch
// that arrived while it computed. A batch no longer waits for the
// recomputation of the last, so the projector keeps up with the log even
// when a level takes longer to compute than batches take to arrive.
type settleLoop struct {
	p   liveSettler
	due chan struct{}
}

// NewRouterWithConfig registers the projectors and wires the middleware:
// correlation ids, a stop-and-report poison guard, retry with backoff, and
// panic recovery (innermost, so a panic is retried like an error).
func NewRouterWithConfig(ctx context.Context, cfg RouterConfig) (*Router, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := newQuietErrors(cfg.Logger)
	var lease logsub.LeaseFunc
	if !cfg.NoLease {
		lease = AdvisoryLease(cfg.DB, cfg.Logger)
	}
	sub, err := logsub.NewSubscriberWithConfig(logsub.Config{
		Store: cfg.Store,
		Checkpoint: func(ctx context.Context, consumer string) (eventstore.Position, error) {
			return Checkpoint(ctx, cfg.DB, consumer)
		},
		MaxBatch: cfg.MaxBatch,
		Logger:   logger,
		Lease:    lease,
	})
	if err != nil {
		return nil, err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	r := &Router{cfg: cfg, router: router, sub: sub}
	for _, p := range cfg.Projectors {
		if err := ensure(ctx, cfg.DB, p.Name()); err != nil {
			return nil, err
		}
		r.add(p, logger)
	}
	return r, nil
}

func (r *Router) add(p Projector, logger watermill.LoggerAdapter) {
	var due chan struct{}
	if l, ok := p.(liveSettler); ok {
		due = make(chan struct{}, 1)
		due <- struct{}{} // whatever an earlier run left pending
		r.settles = append(r.settles, settleLoop{p: l, due: due})
	}
	h := r.router.AddConsumerHandler(p.Name(), p.Name(), r.sub, func(msg *message.Message) error {
		events, err := logsub.Decode(msg.Payload)
		if err != nil {
			return err
		}
		if due == nil {
			err = Process(msg.Context(), r.cfg.DB, p, events)
		} else {
			err = process(msg.Context(), r.cfg.DB, p, events, true)
		}
		if err != nil {
			return err
		}
		if due != nil {
			select {
			case due <- struct{}{}:
			default: // a settle is due already; it will see this batch
			}
		}
		if r.cfg.Applied != nil {
			r.cfg.Applied(p.Name(), events)
		}
		return nil
	})
	retry := middleware.Retry{
		MaxRetries:          r.cfg.Retries,
		InitialInterval:     r.cfg.RetryInterval,
		MaxInterval:         5 * time.Second,
		Multiplier:          2,
		RandomizationFactor: 0.2,
		Logger:              logger,
		ShouldRetry: func(params middleware.RetryParams) bool {
			return !errors.Is(params.Err, context.Canceled)
		},
	}
	h.AddMiddleware(
		middleware.CorrelationID,
		r.stopOnPoison(p.Name(), func() { h.Stop() }),
		retry.Middleware,
		middleware.Recoverer,
	)
}

// stopOnPoison stops a projector whose batch still fails after every retry,
// and records the failing event: a projector never skips an event, so the
// only safe thing is to stop and say why. It resumes from its checkpoint
// when the process restarts (after the cause is fixed).
func (r *Router) stopOnPoison(name string, stop func()) message.HandlerMiddleware {
	return func(next message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := next(msg)
			// An unreachable database is no fault of the event: the batch
			// is delivered again (after the subscription's NackDelay) until
			// the database is back, never a reason to stop the projector.
			if err == nil || errors.Is(err, context.Canceled) || pgerr.Unavailable(err) {
				return out, err
			}
			ctx := context.WithoutCancel(msg.Context())
			if rerr := recordFailure(ctx, r.cfg.DB, name, err, true); rerr != nil {
				r.cfg.Logger.Error("record projector failure", "projector", name, "err", rerr)
			}
			r.cfg.Logger.Error("projector stopped on an event it cannot apply", "projector", name, "err", err,
				"first_position", msg.Metadata.Get(logsub.MetaFirst), "last_position", msg.Metadata.Get(logsub.MetaLast))
			stop()
			return nil, err
		}
	}
}

// Run runs until ctx ends or every projector has stopped.
func (r *Router) Run(ctx context.Context) error {
	if _, err := r.cfg.DB.ExecContext(ctx, `UPDATE projectors SET stopped = false WHERE stopped`); err != nil {
		return fmt.Errorf("projections: %w", err)
	}
	loops, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, l := range r.settles {
		wg.Go(func() { r.settle(loops, l) })
	}
	err := r.router.Run(ctx)
	stop()
	wg.Wait()
	if cerr := r.sub.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// settle runs one settleLoop until ctx ends. A failed settle is retried
// with backoff; the pending marks stay in the database meanwhile, so
// nothing is lost, only late.
func (r *Router) settle(ctx context.Context, l settleLoop) {
	name := l.p.Name()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.due:
		}
		wait := r.cfg.RetryInterval
		for {
			covered, err := l.p.SettleLive(ctx, r.cfg.DB)
			if err == nil {
				if r.cfg.Settled != nil {
					r.cfg.Settled(name, covered)
				}
				break
			}
			if ctx.Err() != nil {
				return
			}
			r.cfg.Logger.Warn("projector could not settle; retrying", "projector", name, "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 5*time.Second)
		}
	}
}

// Running is closed once every handler runs.
func (r *Router) Running() <-chan struct{} { return r.router.Running() }

// Close stops the router.
func (r *Router) Close() error {
	err := r.router.Close()
	return errors.Join(err, r.sub.Close())
}

// All returns every projector the ledger runs, in a stable order.
func All() []Projector { return []Projector{Catalog{}, Indicators{}, Councils{}, Ratings{}} }

// ByName finds a projector of All by its permanent name.
func ByName(name string) (Projector, bool) {
	for _, p := range All() {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}
