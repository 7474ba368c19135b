// Package logsub is a Watermill message.Subscriber over the event store's
// global log. The topic is the consumer's name; every subscription starts at
// the consumer's checkpoint, which the consumer itself stores in the same
// transaction as its read model (so this package never writes one).
//
// One message carries a batch of consecutive events, in global order: a
// projector that writes a batch in one transaction catches up at batch speed.
// The next batch is delivered only after the message is acked; a nacked
// message is delivered again (after NackDelay), so nothing is skipped.
package logsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"promiseledger/eventstore"
	"promiseledger/eventstore/repeatlog"
)

// Metadata keys set on every message.
const (
	MetaFirst = "first_position"
	MetaLast  = "last_position"
	MetaCount = "count"
)

// CheckpointFunc returns where consumer should resume (eventstore.Start if it
// has never run).
type CheckpointFunc func(ctx context.Context, consumer string) (eventstore.Position, error)

// LeaseFunc blocks until this process may consume for consumer, and returns
// a context that ends when the lease is lost, and a release function.
type LeaseFunc func(ctx context.Context, consumer string) (context.Context, func(), error)

// Config configures a Subscriber.
type Config struct {
	Store      eventstore.Store
	Checkpoint CheckpointFunc
	// Lease, when set, is taken before a subscription reads its checkpoint
	// and held while it delivers, so one consumer runs in one process at a
	// time. Correctness does not depend on it (consumers skip what they
	// have applied); it avoids doing the work twice.
	Lease LeaseFunc
	// MaxBatch caps the events in one message (default 500).
	MaxBatch int
	// NackDelay is the pause before a nacked batch is delivered again
	// (default 1s).
	NackDelay time.Duration
	Logger    watermill.LoggerAdapter
}

func (c *Config) setDefaults() {
	if c.MaxBatch == 0 {
		c.MaxBatch = 500
	}
	if c.NackDelay == 0 {
		c.NackDelay = time.Second
	}
	if c.Logger == nil {
		c.Logger = watermill.NopLogger{}
	}
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("logsub: Store is required"))
	}
	if c.Checkpoint == nil {
		errs = append(errs, errors.New("logsub: Checkpoint is required"))
	}
	if c.MaxBatch < 0 || c.NackDelay < 0 {
		errs = append(errs, errors.New("logsub: MaxBatch and NackDelay must not be negative"))
	}
	return errors.Join(errs...)
}

// Subscriber implements message.Subscriber.
type Subscriber struct {
	cfg     Config
	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

var _ message.Subscriber = (*Subscriber)(nil)

// NewSubscriberWithConfig returns a Subscriber.
func NewSubscriberWithConfig(cfg Config) (*Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Subscriber{cfg: cfg, closing: make(chan struct{})}, nil
}

// Subscribe implements message.Subscriber. topic is the consumer name.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, errors.New("logsub: subscriber closed")
	}
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.run(ctx, topic, out)
	}()
	return out, nil
}

// run takes the lease (if any), then delivers from the checkpoint until ctx
// ends, the subscriber closes or the lease is lost; a lost lease is taken
// again, from the checkpoint then stored.
func (s *Subscriber) run(ctx context.Context, topic string, out chan *message.Message) {
	defer close(out)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	// While the database is down this loop fails every NackDelay: each
	// failure is logged once, with a count when it ends.
	failures := repeatlog.New(watermillLog{s.cfg.Logger}, slog.LevelError, "consumer", topic)
	for ctx.Err() == nil {
		leaseCtx, release := ctx, func() {}
		if s.cfg.Lease != nil {
			var err error
			leaseCtx, release, err = s.cfg.Lease(ctx, topic)
			if err != nil {
				if ctx.Err() == nil {
					failures.Failed(ctx, "take lease", err)
					sleep(ctx, s.cfg.NackDelay)
				}
				continue
			}
		}
		if err := s.subscribeOnce(leaseCtx, topic, out, func() { failures.OK(ctx) }); err != nil && ctx.Err() == nil {
			failures.Failed(ctx, "event log subscription", err)
			sleep(ctx, s.cfg.NackDelay)
		}
		release()
	}
}

// watermillLog lets repeatlog write through the Watermill logger this
// package is given.
type watermillLog struct{ l watermill.LoggerAdapter }

func (w watermillLog) Log(_ context.Context, level slog.Level, msg string, args ...any) {
	fields := watermill.LogFields{}
	var err error
	for i := 0; i+1 < len(args); i += 2 {
		key, _ := args[i].(string)
		if e, ok := args[i+1].(error); ok && key == "err" {
			err = e
			continue
		}
		fields[key] = args[i+1]
	}
	if level >= slog.LevelError {
		w.l.Error(msg, err, fields)
		return
	}
	if err != nil {
		fields["err"] = err.Error()
	}
	w.l.Info(msg, fields)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// subscribeOnce delivers from the stored checkpoint until ctx ends or the
// store's subscription fails; started is called once the checkpoint is read.
func (s *Subscriber) subscribeOnce(ctx context.Context, topic string, out chan<- *message.Message, started func()) error {
	from, err := s.cfg.Checkpoint(ctx, topic)
	if err != nil {
		return fmt.Errorf("logsub: checkpoint of %q: %w", topic, err)
	}
	started()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan eventstore.Recorded, s.cfg.MaxBatch)
	readErr := make(chan error, 1)
	go func() {
		defer close(events)
		readErr <- s.cfg.Store.Subscribe(ctx, from, func(ctx context.Context, r eventstore.Recorded) error {
			select {
			case events <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	s.deliver(ctx, topic, events, out)
	cancel()
	for range events { // let the reader finish
	}
	if err := <-readErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// deliver sends batches until ctx ends or the store subscription stops.
func (s *Subscriber) deliver(ctx context.Context, topic string, events <-chan eventstore.Recorded, out chan<- *message.Message) {
	for {
		batch, ok := s.nextBatch(ctx, events)
		if !ok {
			return
		}
		for {
			acked, ok := s.send(ctx, topic, batch, out)
			if !ok {
				return
			}
			if acked {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.cfg.NackDelay):
			}
		}
	}
}

// nextBatch waits for one event, then takes what is already buffered, up to
// MaxBatch: under load batches fill up, when idle an event goes out alone.
func (s *Subscriber) nextBatch(ctx context.Context, events <-chan eventstore.Recorded) ([]eventstore.Recorded, bool) {
	var first eventstore.Recorded
	select {
	case <-ctx.Done():
		return nil, false
	case r, ok := <-events:
		if !ok {
			return nil, false
		}
		first = r
	}
	batch := []eventstore.Recorded{first}
	for len(batch) < s.cfg.MaxBatch {
		select {
		case r, ok := <-events:
			if !ok {
				return batch, true
			}
			batch = append(batch, r)
		default:
			return batch, true
		}
	}
	return batch, true
}

// send delivers one message and reports whether it was acked.
func (s *Subscriber) send(ctx context.Context, topic string, batch []eventstore.Recorded, out chan<- *message.Message) (acked, ok bool) {
	msg := message.NewMessage(watermill.NewUUID(), Encode(batch))
	msg.Metadata.Set(MetaFirst, batch[0].Position.String())
	msg.Metadata.Set(MetaLast, batch[len(batch)-1].Position.String())
	msg.Metadata.Set(MetaCount, strconv.Itoa(len(batch)))
	msgCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg.SetContext(msgCtx)
	select {
	case out <- msg:
	case <-ctx.Done():
		return false, false
	}
	select {
	case <-msg.Acked():
		return true, true
	case <-msg.Nacked():
		return false, true
	case <-ctx.Done():
		return false, false
	}
}

// Close ends every subscription and waits for them.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
