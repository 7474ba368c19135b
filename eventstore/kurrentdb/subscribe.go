package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"promiseledger/eventstore"
)

// Subscribe implements eventstore.Store with a catch-up subscription to $all
// that the server filters (filter.server), checked again with filter.match.
// When the subscription drops (a server restart, a network fault, a leader
// change), Subscribe logs it once and resubscribes after the last event it
// delivered, pausing longer after every failed attempt; it gives up only
// when ctx ends, the store closes, handle fails, or the server refuses the
// request (credentials, permissions).
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.Recorded) error) error {
	ss, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer ss.cancel()
	if beyondLog(after) { // nothing can come after it
		<-ss.ctx.Done()
		return s.ended(ss)
	}
	last := after
	failures := 0 // attempts in a row that ended without an event
	for {
		c, err := s.current()
		if err != nil {
			return err
		}
		sub, err := c.subscribeAll(ss.ctx, allPosition(last), s.filter.server(), s.cfg.ConnectTimeout)
		if err == nil {
			err = s.consume(ss, sub, &last, &failures, handle)
			var he handlerError
			if errors.As(err, &he) {
				return he.err
			}
		}
		if end := s.ended(ss); end != nil {
			return end
		}
		if errors.Is(err, errRefused) {
			return fmt.Errorf("kurrentdb: subscribe: %w", err)
		}
		if errors.Is(err, errClientGone) {
			s.replace(c, err)
		}
		failures++
		if failures == 1 {
			s.log.Warn("kurrentdb: subscription dropped; resubscribing", "after", last.String(), "err", err)
		} else {
			s.log.Debug("kurrentdb: resubscribing failed", "after", last.String(), "attempt", failures, "err", err)
		}
		if !sleep(ss.ctx, s.backoff(failures)) {
			return s.ended(ss)
		}
	}
}

// handlerError carries the error of the subscriber's handler out of consume.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// consume delivers the events of sub after *last, moving *last, until sub
// drops or handle fails.
func (s *Store) consume(ss *session, sub subscription, last *eventstore.Position, failures *int, handle func(context.Context, eventstore.Recorded) error) error {
	defer sub.Close()
	recovered := func() {
		if *failures > 0 {
			s.log.Info("kurrentdb: resubscribed", "after", last.String(), "attempts", *failures)
			*failures = 0
		}
	}
	for {
		msg := sub.Recv()
		switch {
		case msg == nil:
			return errors.New("subscription ended without a reason")
		case msg.SubscriptionDropped != nil:
			return fmt.Errorf("subscription dropped: %w", msg.SubscriptionDropped.Error)
		case msg.EventAppeared != nil:
			recovered()
			ev := msg.EventAppeared.OriginalEvent()
			if ev == nil || !s.filter.match(ev) {
				continue
			}
			p := toPosition(ev.Position)
			if !last.Less(p) { // the server may start at the position itself
				continue
			}
			name, _ := s.names.port(ev.StreamID)
			if err := handle(ss.ctx, toRecorded(ev, name)); err != nil {
				return handlerError{err}
			}
			*last = p
		case msg.CaughtUp != nil, msg.CheckPointReached != nil:
			recovered()
		}
	}
}

// ended is why a call of the port stops early: the caller's ctx ended or the
// store closed; nil if neither.
func (s *Store) ended(ss *session) error {
	if err := ss.caller.Err(); err != nil {
		return err
	}
	if s.life.Err() != nil {
		return eventstore.ErrClosed
	}
	return nil
}

// backoff is the pause before attempt n+1 after n failures: it doubles from
// ReconnectMinDelay up to ReconnectMaxDelay, with up to half of it random so
// that many subscribers do not return in step.
func (s *Store) backoff(failures int) time.Duration {
	d := s.cfg.ReconnectMinDelay
	for i := 1; i < failures && d < s.cfg.ReconnectMaxDelay; i++ {
		d *= 2
	}
	d = min(d, s.cfg.ReconnectMaxDelay)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
