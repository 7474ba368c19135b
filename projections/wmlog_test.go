package projections

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
)

// While the database is down Watermill reports every retried batch; the
// log must say so once per handler and message, not once per retry.
func TestWatermillErrorsRepeatedDuringAnOutageAreLoggedOnce(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	q := newQuietErrors(slog.New(slog.NewTextHandler(&buf, nil)))
	down := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	for i := range 100 {
		l := q.With(watermill.LogFields{"router": "projections"})
		l.Error("Handler returned error", down, watermill.LogFields{"handler_name": "indicators.v1", "message_uuid": i, "retry_no": i % 5})
		l.Error("Handler returned error", down, watermill.LogFields{"handler_name": "councils.v1", "message_uuid": i})
	}
	q.Info("router started", nil)
	out := buf.String()
	if n := strings.Count(out, `msg="Handler returned error"`); n != 2 {
		t.Errorf("logged %d error lines for 200 failures of two handlers, want 2 (one each):\n%s", n, out)
	}
	for _, h := range []string{"indicators.v1", "councils.v1"} {
		if !strings.Contains(out, "handler_name="+h) {
			t.Errorf("no line names %s:\n%s", h, out)
		}
	}
}

// Watermill's info lines (handlers added and started) would bury the
// banner `ledger dev` prints once it is ready: they go to debug.
func TestWatermillInfoLinesGoToDebug(t *testing.T) {
	t.Parallel()
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var buf bytes.Buffer
		q := newQuietErrors(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level})))
		q.With(watermill.LogFields{"router": "projections"}).Info("Starting handler", watermill.LogFields{"handler_name": "indicators.v1"})
		shown := strings.Contains(buf.String(), "Starting handler")
		if shown != (level == slog.LevelDebug) {
			t.Errorf("at level %s the info line shown = %v:\n%s", level, shown, buf.String())
		}
	}
}
