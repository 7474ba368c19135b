package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// conn is one esdb.Client. It contains three sharp edges of client v4.1.0:
//
//   - A call first asks the client's connection loop for a connection, and
//     that hand-off ignores ctx: while the loop (re)discovers the server, a
//     call can block past its ctx. conn runs every call in a goroutine and
//     returns when ctx ends, whatever the client does.
//   - When discovery fails (the server was unreachable for about a second)
//     the loop exits for good: every later call fails with
//     ErrorCodeConnectionClosed, and a call that raced with the exit blocks
//     forever. The Store then replaces the conn (Store.replace).
//     Calls that wait for a connection while discovery fails are the ones
//     that race with that exit, so during an outage this is common. Once the
//     Store gives up on a conn (gone), a call still inside it after the
//     client's own deadline can only be stuck there: do abandons it.
//   - esdb.Client.Close closes the channel of that hand-off, so it panics a
//     call waiting to hand a request over. conn closes the client only once
//     no call is in flight.
type conn struct {
	client *esdb.Client
	log    *slog.Logger
	// stuckAfter: once the conn is gone, a call still running after this
	// long never reached the server.
	stuckAfter time.Duration

	gone     chan struct{} // closed when the Store gives up on the conn
	goneOnce sync.Once

	mu     sync.Mutex
	closed bool
	calls  sync.WaitGroup // goroutines inside the client
}

func newConn(cfg esdb.Configuration, log *slog.Logger) (*conn, error) {
	cfg.Logger = clientLogger(log)
	// A unary call (an append) ends within the client's deadline: its
	// default, or defaultDeadline from the URL. Reads are retried safely.
	stuckAfter := 10 * time.Second
	if cfg.DefaultDeadline != nil {
		stuckAfter = max(stuckAfter, *cfg.DefaultDeadline)
	}
	client, err := esdb.NewClient(&cfg)
	if err != nil {
		return nil, err
	}
	return &conn{client: client, log: log, stuckAfter: stuckAfter + 5*time.Second, gone: make(chan struct{})}, nil
}

// giveUp marks the conn as gone: see conn.
func (c *conn) giveUp() { c.goneOnce.Do(func() { close(c.gone) }) }

// clientLogger sends the client library's log to slog at debug level: it
// logs every cancelled call as an error, which is routine here. The adapter
// logs what matters itself.
func clientLogger(log *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		log.Debug("kurrentdb client: "+fmt.Sprintf(format, args...), "client_level", level)
	}
}

// do runs f in a goroutine that the conn tracks and returns f's error, or
// ctx's error as soon as ctx ends. f must keep its results to itself until
// it returns: the caller reads them only when do returns f's error.
func (c *conn) do(ctx context.Context, f func() error) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClientGone
	}
	c.calls.Add(1)
	c.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		defer c.calls.Done()
		done <- f()
	}()
	select {
	case err := <-done:
		return deadlineOf(ctx, err)
	case <-ctx.Done():
		return settle(done, ctx.Err())
	case <-c.gone:
	}
	stuck := time.NewTimer(c.stuckAfter)
	defer stuck.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return settle(done, ctx.Err())
	case <-stuck.C:
		return settle(done, fmt.Errorf("%w: a call is stuck in the old client", errClientGone))
	}
}

// deadlineOf reports a failure at or after ctx's deadline as the deadline:
// gRPC's own timer for it can fire a moment before ctx's.
func deadlineOf(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}

// settle returns the result of a call that finished just now, else err.
func settle(done <-chan error, err error) error {
	select {
	case res := <-done:
		return res
	default:
		return err
	}
}

// close closes the client once no call is in flight, waiting up to wait for
// that; after it, the client is closed in the background when the last call
// returns. A call stuck in a dead client never returns: its client is then
// never closed (its connection loop has exited anyway), rather than risk the
// panic.
func (c *conn) close(wait time.Duration) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	c.giveUp()
	drained := make(chan struct{})
	go func() {
		c.calls.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		c.client.Close()
	case <-time.After(wait):
		c.log.Debug("kurrentdb: calls still inside the old client; closing it when they return", "waited", wait)
		go func() {
			<-drained
			c.client.Close()
		}()
	}
}

func (c *conn) append(ctx context.Context, stream string, expected esdb.ExpectedRevision, events ...esdb.EventData) (*esdb.WriteResult, error) {
	var res *esdb.WriteResult
	err := c.do(ctx, func() error {
		var err error
		res, err = c.client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, events...)
		return err
	})
	if err != nil {
		return nil, classify(err)
	}
	return res, nil
}

// read is what one read request returned.
type read struct {
	events []*esdb.RecordedEvent // the events accept took, in the order read
	raw    int                   // how many events the server sent
	last   *esdb.RecordedEvent   // the last event the server sent
	full   bool                  // stopped because max events were taken
}

// readStream reads up to count events of stream and keeps those accept
// takes (all if accept is nil), stopping after max of them (0: no limit).
// A stream without events is errStreamNotFound.
func (c *conn) readStream(ctx context.Context, stream string, dir esdb.Direction, from esdb.StreamPosition, count uint64, accept func(*esdb.RecordedEvent) bool, max int) (read, error) {
	var r read
	err := c.do(ctx, func() error {
		rs, err := c.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: dir, From: from}, count)
		if err != nil {
			return err
		}
		r, err = drain(rs, accept, max)
		return err
	})
	if err != nil {
		return read{}, classify(err) // r may still be written by an abandoned call
	}
	return r, nil
}

// readAll reads $all as readStream reads a stream.
func (c *conn) readAll(ctx context.Context, dir esdb.Direction, from esdb.AllPosition, count uint64, accept func(*esdb.RecordedEvent) bool, max int) (read, error) {
	var r read
	err := c.do(ctx, func() error {
		rs, err := c.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: dir, From: from}, count)
		if err != nil {
			return err
		}
		r, err = drain(rs, accept, max)
		return err
	})
	if err != nil {
		return read{}, classify(err) // r may still be written by an abandoned call
	}
	return r, nil
}

func drain(rs *esdb.ReadStream, accept func(*esdb.RecordedEvent) bool, max int) (read, error) {
	defer rs.Close()
	var r read
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		rec := ev.OriginalEvent()
		if rec == nil {
			continue
		}
		r.raw++
		r.last = rec
		if accept == nil || accept(rec) {
			r.events = append(r.events, rec)
			if max > 0 && len(r.events) >= max {
				r.full = true
				return r, nil
			}
		}
	}
}

// subscription is the part of *esdb.Subscription that Subscribe uses.
type subscription interface {
	Recv() *esdb.SubscriptionEvent
	Close() error
}

// subscribeAll starts a subscription to $all bound to ctx. Starting one
// takes a connection and the server's confirmation. The attempt is
// abandoned (the subscription closed if it arrives later) when the Store
// gives up on the conn, or after timeout: a healthy client connects or fails
// within it, so the caller then replaces the client. Either way the error is
// errClientGone; starting a subscription changes nothing on the server, so
// trying again is safe.
func (c *conn) subscribeAll(ctx context.Context, from esdb.AllPosition, f *esdb.SubscriptionFilter, timeout time.Duration) (subscription, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errClientGone
	}
	c.calls.Add(1)
	c.mu.Unlock()
	type result struct {
		sub *esdb.Subscription
		err error
	}
	done := make(chan result, 1)
	var (
		mu        sync.Mutex
		abandoned bool
	)
	go func() {
		defer c.calls.Done()
		sub, err := c.client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: from, Filter: f})
		mu.Lock()
		defer mu.Unlock()
		if abandoned && sub != nil {
			sub.Close()
			return
		}
		done <- result{sub, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	abandon := func() {
		mu.Lock()
		defer mu.Unlock()
		abandoned = true
		select {
		case r := <-done: // it arrived meanwhile
			if r.sub != nil {
				r.sub.Close()
			}
		default:
		}
	}
	select {
	case r := <-done:
		if r.err != nil {
			return nil, classify(r.err)
		}
		return r.sub, nil
	case <-ctx.Done():
		abandon()
		return nil, ctx.Err()
	case <-c.gone:
		abandon()
		return nil, fmt.Errorf("%w: the store gave up on this client", errClientGone)
	case <-timer.C:
		abandon()
		return nil, fmt.Errorf("%w: no subscription within %v", errClientGone, timeout)
	}
}
