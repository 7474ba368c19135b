package postgres

import "time"

// QueueLen is how many appends wait in stream's group-commit queue (the
// one its worker took and holds while another goroutine writes included).
func QueueLen(s *Store, stream string) int {
	w := s.group.workerOf(stream)
	return len(w.q) + int(w.holding.Load())
}

// PollInterval is how long an idle subscriber of a store opened with cfg
// waits before it polls.
func PollInterval(cfg Config, listening bool, idle time.Duration) time.Duration {
	cfg.setDefaults()
	return pollInterval(cfg, listening, idle)
}

// SetListenURL points the store's LISTEN connection, not yet started, at
// u (the store's pool keeps its own database).
func SetListenURL(s *Store, u string) { s.cfg.URL = u }
