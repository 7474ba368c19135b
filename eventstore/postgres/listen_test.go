package postgres_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
)

// While the LISTEN connection waits for a server that does not answer (a
// database down or unreachable at start), the store's lock is free:
// another subscriber's Changed and an append, which both take it, go on.
// listen() once held it while lib/pq waited for its first connection.
func TestListenWaitingForTheServerHoldsNoLock(t *testing.T) {
	s := newStore(t)
	// A server that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		// Lets the waiting listener fail, so that its goroutine ends.
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	postgres.SetListenURL(s, "postgres://nobody@"+ln.Addr().String()+"/x?sslmode=disable")

	waiting := make(chan struct{})
	go func() {
		close(waiting)
		s.Changed() // starts the listener, which waits for the server
	}()
	<-waiting
	time.Sleep(200 * time.Millisecond) // the listener is dialling by now

	done := make(chan error, 1)
	go func() {
		_ = s.Changed()
		id := uuid.Must(uuid.NewV7())
		_, err := s.Append(context.Background(), "listen-test-1", eventstore.Any(),
			[]eventstore.Event{{ID: id, Type: "test.happened.v1", Data: []byte(`{}`), Metadata: []byte(`{}`)}})
		done <- err
	}()
	// A safety net, not a speed target: a held lock blocks for as long as
	// the server does not answer, which is for ever here.
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("append while the listener waits: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Changed and Append blocked while the LISTEN connection waited for its server: the store's lock is held")
	}
}
