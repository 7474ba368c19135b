package postgres

import "time"

// QueueLen is how many appends wait in stream's group-commit queue.
func QueueLen(s *Store, stream string) int { return len(s.group.queueOf(stream)) }

// PollInterval is how long an idle subscriber of a store opened with cfg
// waits before it polls.
func PollInterval(cfg Config, listening bool, idle time.Duration) time.Duration {
	cfg.setDefaults()
	return pollInterval(cfg, listening, idle)
}
