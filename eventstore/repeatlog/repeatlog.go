// Package repeatlog logs the failures of a loop that retries them once
// each, not once each retry: while a database is down, a loop that tries
// every second would otherwise write the same error every second, and the
// line that says what happened first scrolls out of sight.
package repeatlog

import (
	"context"
	"log/slog"
	"regexp"
	"sync"
	"time"
)

// Logger is what Repeats writes to; *slog.Logger is one.
type Logger interface {
	Log(ctx context.Context, level slog.Level, msg string, args ...any)
}

// DefaultRemind is how often a failure that goes on is mentioned again.
const DefaultRemind = 5 * time.Minute

// quiet is how long without a failure ends a run even when no OK came:
// callers that only see failures (a request handler) start a new run, with
// its first error logged, at the next outage.
const quiet = time.Minute

// Repeats follows the failures of one retrying loop. The first failure of a
// run is logged at once, with its error. The same failure again (the same
// message, and an error whose text differs at most in numbers, such as
// ports and pids) is only counted, and mentioned again every Remind while
// it goes on. When the failure changes or clears, one line summarises the
// run: "repeated N times over D". Safe for concurrent use.
type Repeats struct {
	log    Logger
	level  slog.Level
	attrs  []any
	remind time.Duration
	now    func() time.Time

	mu       sync.Mutex
	msg      string // message of the current run; "" when none
	key      string // what identifies the current run's failure
	lastErr  error
	count    int
	since    time.Time
	last     time.Time // of the latest failure
	reminded time.Time
}

// New returns a Repeats that logs at level, with attrs on every line (the
// loop's name, say).
func New(log Logger, level slog.Level, attrs ...any) *Repeats {
	return &Repeats{log: log, level: level, attrs: attrs, remind: DefaultRemind, now: time.Now}
}

// WithClock makes r read time from now and remind every remind; for tests.
func (r *Repeats) WithClock(now func() time.Time, remind time.Duration) *Repeats {
	r.now, r.remind = now, remind
	return r
}

// numbers are what may differ between two reports of the same failure.
var numbers = regexp.MustCompile(`[0-9]+`)

// Failed records one failure of the loop, described by msg and err.
func (r *Repeats) Failed(ctx context.Context, msg string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	key := msg + "\x00" + numbers.ReplaceAllString(errText(err), "#")
	if r.msg != "" && now.Sub(r.last) > quiet {
		r.endRun(ctx, r.last, "then stopped")
	}
	if r.msg != "" && key == r.key {
		r.count++
		r.lastErr, r.last = err, now
		if now.Sub(r.reminded) >= r.remind {
			r.reminded = now
			r.emit(ctx, r.level, msg+": still failing", "err", err, "repeated", r.count, "over", r.over(now))
		}
		return
	}
	r.endRun(ctx, now, "then failed differently")
	r.msg, r.key, r.lastErr, r.count, r.since, r.last, r.reminded = msg, key, err, 1, now, now, now
	r.emit(ctx, r.level, msg, "err", err)
}

// OK records that the loop succeeded: a run of failures ends with one line
// saying how many there were and how long they lasted.
func (r *Repeats) OK(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endRun(ctx, r.now(), "then recovered")
}

// endRun summarises the current run, if any, and forgets it.
func (r *Repeats) endRun(ctx context.Context, now time.Time, outcome string) {
	if r.msg == "" {
		return
	}
	if r.count == 1 && outcome != "then recovered" {
		// The one line already logged says it all.
		r.msg, r.key, r.lastErr, r.count = "", "", nil, 0
		return
	}
	level := slog.LevelInfo
	if outcome == "then failed differently" {
		level = r.level
	}
	r.emit(ctx, level, r.msg+": "+outcome, "err", r.lastErr, "repeated", r.count, "over", r.over(now))
	r.msg, r.key, r.lastErr, r.count = "", "", nil, 0
}

func (r *Repeats) over(now time.Time) string {
	return now.Sub(r.since).Round(time.Millisecond).String()
}

func (r *Repeats) emit(ctx context.Context, level slog.Level, msg string, args ...any) {
	r.log.Log(ctx, level, msg, append(append([]any{}, r.attrs...), args...)...)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
