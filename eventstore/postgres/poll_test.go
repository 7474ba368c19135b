package postgres_test

import (
	"testing"
	"time"

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
		{"idle, listening", defaults, true, 30 * time.Second, 5 * time.Second},
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
