package pglocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// process is a started postmaster.
type process struct {
	cmd       *exec.Cmd
	exited    chan struct{} // closed once cmd.Wait has returned
	err       error         // cmd.Wait's result; read it only after exited is closed
	logOffset int64         // size of the log when it started: its own output begins there
}

// startProcess starts cmd, whose output goes to log, and reaps it in the
// background so that its exit can be noticed at any time.
func startProcess(cmd *exec.Cmd, log *os.File) (*process, error) {
	info, err := log.Stat()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), logOffset: info.Size()}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// kill kills the process group and waits, briefly, for the postmaster to be
// reaped.
func (p *process) kill() {
	// Once reaped, the pid (and so the group id) may belong to someone else.
	if !p.hasExited() {
		_ = killGroup(p.cmd.Process.Pid) // ESRCH is the only plausible failure: already gone
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// shutdown asks postgres for a fast shutdown and kills it if that takes
// longer than timeout or ctx ends first.
func (p *process) shutdown(ctx context.Context, timeout time.Duration) error {
	if p.hasExited() {
		if p.err != nil {
			return fmt.Errorf("postgres had already exited: %w", p.err)
		}
		return nil
	}
	// SIGINT is a fast shutdown: clients are disconnected and a checkpoint
	// is written, so the next start needs no crash recovery.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("interrupt postgres: %w", err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.exited:
		return p.err
	case <-timer.C:
		p.kill()
		return fmt.Errorf("postgres did not shut down within %v; killed it", timeout)
	case <-ctx.Done():
		p.kill()
		return fmt.Errorf("postgres did not shut down before %w; killed it", ctx.Err())
	}
}
