package pglocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// RestartPolicy bounds how Supervise brings back a server that died.
type RestartPolicy struct {
	// MaxRestarts is how many restart attempts may fall within Window
	// before Supervise gives up (default 5 within 10 minutes): a server
	// that keeps dying has a cause that restarting will not fix.
	MaxRestarts int
	Window      time.Duration
	// Backoff is the pause before the first attempt after a death; it
	// doubles after each failed attempt, up to MaxBackoff (default 500ms
	// and 10s).
	Backoff, MaxBackoff time.Duration
}

func (p *RestartPolicy) setDefaults() {
	if p.MaxRestarts <= 0 {
		p.MaxRestarts = 5
	}
	if p.Window <= 0 {
		p.Window = 10 * time.Minute
	}
	if p.Backoff <= 0 {
		p.Backoff = 500 * time.Millisecond
	}
	if p.MaxBackoff < p.Backoff {
		p.MaxBackoff = max(10*time.Second, p.Backoff)
	}
}

// ErrGaveUp marks Supervise's error when the server could not be kept
// running.
var ErrGaveUp = errors.New("pglocal: postgres keeps dying")

// Supervise watches the server until ctx ends or Stop is called, both of
// which return nil. When postgres exits on its own (killed, crashed), it is
// started again on the same data dir and port, so clients reconnect to the
// same URL, after a backoff; each death and each restart is logged once.
// When policy's attempts are spent, Supervise returns an error wrapping
// ErrGaveUp that says why, and the server stays down.
func (s *Server) Supervise(ctx context.Context, policy RestartPolicy) error {
	policy.setDefaults()
	s.mu.Lock()
	select {
	case <-s.stopping:
		s.mu.Unlock()
		return nil
	default:
	}
	s.supervisors.Add(1)
	s.mu.Unlock()
	defer s.supervisors.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()

	var attempts []time.Time // restart attempts within policy.Window
	for {
		s.mu.Lock()
		proc := s.proc
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-proc.exited:
		}
		if ctx.Err() != nil {
			return nil
		}
		pid := proc.cmd.Process.Pid
		s.log.Error("postgres exited unexpectedly; restarting it", "pid", pid, "status", exitStatus(proc.err),
			"data_dir", s.dataDir, "log", s.LogPath())
		killLeftovers(s.dataDir)
		backoff := policy.Backoff
		for {
			now := time.Now()
			for len(attempts) > 0 && attempts[0].Before(now.Add(-policy.Window)) {
				attempts = attempts[1:]
			}
			if len(attempts) >= policy.MaxRestarts {
				return fmt.Errorf("%w: postgres on %s exited (%s) and %d restarts within %v did not keep it running; giving up (its log: %s)\n--- end of the log ---\n%s",
					ErrGaveUp, s.dataDir, exitStatus(proc.err), len(attempts), policy.Window, s.LogPath(), s.logTail(proc.logOffset))
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			attempts = append(attempts, time.Now())
			err := s.restart(ctx)
			if err == nil {
				s.log.Warn("postgres restarted", "pid", s.PID(), "port", s.Port(), "attempt", len(attempts), "of", policy.MaxRestarts)
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("postgres restart failed", "attempt", len(attempts), "of", policy.MaxRestarts, "err", err)
			backoff = min(2*backoff, policy.MaxBackoff)
		}
	}
}

// Kill kills the server at once, the postmaster and every process of it,
// as a crash or the OOM killer would, and leaves its files as they are. It
// is for tests of outages; Supervise restarts a killed server like any
// other that died.
func (s *Server) Kill() {
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	proc.kill()
	killLeftovers(s.dataDir)
}

// killLeftovers kills what is left of a postmaster that died: its backends
// and auxiliary processes outlive it for a moment, and while they hold its
// shared memory a new postmaster refuses to start. It waits, briefly,
// until they are gone.
func killLeftovers(dataDir string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := serverProcesses(dataDir)
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range pids {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill() // it may have exited meanwhile
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// restart starts postgres again on the port it had, replacing the admin
// connection pool.
func (s *Server) restart(ctx context.Context) error {
	if err := checkNotRunning(s.dataDir, s.log); err != nil {
		return err
	}
	s.mu.Lock()
	old, port := s.admin, s.port
	s.mu.Unlock()
	if err := s.tryStart(ctx, s.binDir, port, s.settings, s.acct); err != nil {
		return err
	}
	_ = old.Close() // its connections died with the old server
	return nil
}

// exitStatus describes how a postmaster ended, for logs.
func exitStatus(err error) string {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &exit):
		return exit.String()
	}
	return err.Error()
}
