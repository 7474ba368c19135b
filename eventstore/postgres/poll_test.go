package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"promiseledger/eventstore"

	"promiseledger/eventstore/postgres"
)

// TestIdleSubscribersPollSlowlyOnlyWhileListening: a subscriber polls at
// PollInterval while events or notifications are recent or while LISTEN is
// down, and at IdlePollInterval (never faster than PollInterval) only once
// it has been idle for IdleAfter with LISTEN connected. An idle `ledger
// dev` polled twice a second per projector before.
func TestIdleSubscribersPollSlowlyOnlyWhileListening(t *testing.T) {
	defaults := postgres.Config{URL: "x"}
	for _, tc := range []struct {
		name      string
		cfg       postgres.Config
		listening bool
		idle      time.Duration
		want      time.Duration
	}{
		{"active, listening", defaults, true, time.Second, 500 * time.Millisecond},
		{"idle, listening", defaults, true, 30 * time.Second, 30 * time.Second},
		{"idle, not listening", defaults, false, time.Hour, 500 * time.Millisecond},
		{"just below IdleAfter", defaults, true, 30*time.Second - time.Nanosecond, 500 * time.Millisecond},
		{"custom", postgres.Config{URL: "x", PollInterval: 50 * time.Millisecond, IdlePollInterval: time.Second, IdleAfter: time.Minute}, true, time.Minute, time.Second},
		{"idle interval below the poll interval", postgres.Config{URL: "x", PollInterval: 10 * time.Second, IdlePollInterval: time.Second}, true, time.Hour, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := postgres.PollInterval(tc.cfg, tc.listening, tc.idle); got != tc.want {
				t.Errorf("poll interval = %s, want %s", got, tc.want)
			}
		})
	}
	if err := (postgres.Config{URL: "x", IdlePollInterval: -1}).Validate(); err == nil {
		t.Error("a negative IdlePollInterval was accepted")
	}
}

// TestChangedSaysWhenTheLogMayHaveGrown: the channel Changed returns is
// closed by an append of this store, and by one of another store on the
// same database (through LISTEN), and not before.
func TestChangedSaysWhenTheLogMayHaveGrown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	u, _ := storeURLs.Load(s)
	other := newStoreAt(t, u.(string))
	for _, tc := range []struct {
		name   string
		writer *postgres.Store
	}{{"this store", s}, {"another process", other}} {
		// The NOTIFY of the previous append comes back through LISTEN
		// too: wait until the channel stays open.
		ch := s.Changed()
		for quiet, since := false, time.Now(); !quiet; {
			select {
			case <-ch:
				if time.Since(since) > 5*time.Second {
					t.Fatalf("%s: the channel keeps closing with no append", tc.name)
				}
				ch = s.Changed()
			case <-time.After(200 * time.Millisecond):
				quiet = true
			}
		}
		if _, err := tc.writer.Append(ctx, "changed-"+strings.ReplaceAll(tc.name, " ", "-"), eventstore.NoStream(), appendAllEvents(1, "x")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: an append did not close the channel", tc.name)
		}
	}
	s.Close()
	if s.Changed() != nil {
		t.Error("a closed store's channel is not the never-closed nil channel")
	}
}
