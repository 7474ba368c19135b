// Package kurrentdb is the event store for KurrentDB (formerly EventStoreDB)
// clusters, through the gRPC client github.com/EventStore/EventStore-Client-Go
// v4.1.0. It passes the conformance suite against internal/fakeserver, an
// imitation of KurrentDB's protocol; against a real server the suite runs
// only when KURRENTDB_URL is set, and it has not been run yet.
// docs/kurrentdb.md explains what differs from the postgres adapter
// (positions, id claims, filters) and what is unverified.
package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"promiseledger/eventstore"
)

// closeWait bounds how long Close and a client replacement wait for calls
// still inside an old client before giving up on closing it.
const closeWait = 5 * time.Second

// Store is the KurrentDB event store. It is safe for concurrent use.
type Store struct {
	cfg    Config
	names  names
	filter filter
	log    *slog.Logger
	client esdb.Configuration // parsed URL, a template for new clients

	life context.Context // ends when the store is closed
	stop context.CancelFunc

	mu       sync.Mutex
	conn     *conn
	closed   bool
	replaced time.Time // when the last warning about a replaced client was logged
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the server in cfg.URL and checks within
// cfg.ConnectTimeout that it answers a read of $all. The error names the URL
// without its password.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	esdbCfg, err := esdb.ParseConnectionString(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: URL %s: %w", redactURL(cfg.URL), err)
	}
	if esdbCfg.DisableTLS && esdbCfg.Username != "" {
		cfg.Logger.Warn("kurrentdb: the URL has credentials but tls=false: the client does not send them without TLS", "url", redactURL(cfg.URL))
	}
	c, err := newConn(*esdbCfg, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: client for %s: %w", redactURL(cfg.URL), err)
	}
	n := names{prefix: cfg.StreamPrefix}
	life, stop := context.WithCancel(context.Background())
	s := &Store{cfg: cfg, names: n, filter: filter{names: n}, log: cfg.Logger, client: *esdbCfg, life: life, stop: stop, conn: c}
	if err := s.ping(ctx, c); err != nil {
		s.stop()
		s.closed = true
		// The ping may still be inside the client's discovery loop: close the
		// client once it returns, without making the caller wait.
		go c.close(closeWait)
		return nil, err
	}
	return s, nil
}

// ping reads the last event of $all: the cheapest request that needs a
// working connection and read permission on $all.
func (s *Store) ping(ctx context.Context, c *conn) error {
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	_, err := c.readAll(pctx, esdb.Backwards, esdb.End{}, 1, nil, 0)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %v", s.cfg.ConnectTimeout)
	}
	return fmt.Errorf("kurrentdb: cannot reach %s: %w", redactURL(s.cfg.URL), err)
}

// Close ends subscriptions and calls in flight and closes the client.
// Later calls fail with eventstore.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	c := s.conn
	s.mu.Unlock()
	s.stop()
	c.close(closeWait)
	return nil
}

// session is one call of the port: its ctx ends with the caller's or when
// the store closes.
type session struct {
	ctx    context.Context
	caller context.Context
	cancel context.CancelFunc
}

func (s *Store) begin(ctx context.Context) (*session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, eventstore.ErrClosed
	}
	sctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.life, cancel)
	return &session{ctx: sctx, caller: ctx, cancel: func() { stop(); cancel() }}, nil
}

func (s *Store) current() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	return s.conn, nil
}

// replace swaps in a new client if old is still the current one: old gave up
// on the server for good (see conn).
func (s *Store) replace(old *conn, cause error) {
	s.mu.Lock()
	if s.closed || s.conn != old {
		s.mu.Unlock()
		return
	}
	c, err := newConn(s.client, s.log)
	if err != nil { // esdb.NewClient v4.1.0 never fails; keep the old one if it does
		s.mu.Unlock()
		s.log.Error("kurrentdb: cannot create a new client", "err", err)
		return
	}
	s.conn = c
	// During an outage every failed call replaces the client: warn once a
	// minute at most.
	level := slog.LevelDebug
	if time.Since(s.replaced) > time.Minute {
		level, s.replaced = slog.LevelWarn, time.Now()
	}
	s.mu.Unlock()
	old.giveUp()
	s.log.Log(context.Background(), level, "kurrentdb: the client gave up on the server; using a new one", "url", redactURL(s.cfg.URL), "cause", cause)
	go old.close(closeWait)
}

// run calls f with the current client. If the client turns out to be dead,
// run replaces it and calls f once more: f then failed before it reached the
// server, so repeating it is safe. Errors after the caller's ctx or the
// store ended become the caller's ctx error or ErrClosed.
func (s *Store) run(ss *session, f func(c *conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := s.current()
		if err != nil {
			return err
		}
		err = f(c)
		switch {
		case err == nil:
			return nil
		case ss.caller.Err() != nil:
			return ss.caller.Err()
		case s.life.Err() != nil:
			return eventstore.ErrClosed
		case errors.Is(err, errClientGone) && attempt == 0:
			s.replace(c, err)
			continue
		}
		return err
	}
}
