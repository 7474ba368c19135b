package repeatlog_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"promiseledger/eventstore/repeatlog"
)

// capture logs to a buffer, one line per record, without the time.
func capture() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	return slog.New(h), &buf
}

func TestRepeatedFailuresAreLoggedOnceWithACount(t *testing.T) {
	refused := func(port int) error {
		return errors.New("dial tcp 127.0.0.1:" + string(rune('0'+port)) + "5432: connect: connection refused")
	}
	type step struct {
		msg string // "" means OK, "quiet" nothing
		err error
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  []string
	}{
		{
			name:  "a minute of the same error, then recovery",
			steps: append(repeat(step{"take lease", refused(1)}, 60), step{}),
			want: []string{
				`level=ERROR msg="take lease" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused"`,
				`level=INFO msg="take lease: then recovered" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused" repeated=60 over=1m0s`,
			},
		},
		{
			name:  "errors differing only in numbers are the same failure",
			steps: []step{{"take lease", refused(1)}, {"take lease", refused(2)}, {"take lease", refused(3)}, {}},
			want: []string{
				`level=ERROR msg="take lease" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused"`,
				`level=INFO msg="take lease: then recovered" loop=catalog.v1 err="dial tcp 127.0.0.1:35432: connect: connection refused" repeated=3 over=3s`,
			},
		},
		{
			name:  "a changed error ends the run and starts another",
			steps: []step{{"take lease", refused(1)}, {"take lease", refused(1)}, {"subscribe", errors.New("the database system is starting up")}, {}},
			want: []string{
				`level=ERROR msg="take lease" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused"`,
				`level=ERROR msg="take lease: then failed differently" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused" repeated=2 over=2s`,
				`level=ERROR msg=subscribe loop=catalog.v1 err="the database system is starting up"`,
				`level=INFO msg="subscribe: then recovered" loop=catalog.v1 err="the database system is starting up" repeated=1 over=1s`,
			},
		},
		{
			name: "a failure after a quiet minute starts a new run",
			steps: append(append(repeat(step{"take lease", refused(1)}, 2), repeat(step{"quiet", nil}, 61)...),
				step{"take lease", refused(1)}),
			want: []string{
				`level=ERROR msg="take lease" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused"`,
				`level=INFO msg="take lease: then stopped" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused" repeated=2 over=1s`,
				`level=ERROR msg="take lease" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused"`,
			},
		},
		{
			name:  "a single failure needs no summary when another follows",
			steps: []step{{"take lease", refused(1)}, {"subscribe", errors.New("the database system is starting up")}},
			want: []string{
				`level=ERROR msg="take lease" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused"`,
				`level=ERROR msg=subscribe loop=catalog.v1 err="the database system is starting up"`,
			},
		},
		{
			name:  "success without failures logs nothing",
			steps: []step{{}, {}},
		},
		{
			name:  "a long outage is mentioned again every reminder interval",
			steps: repeat(step{"take lease", refused(1)}, 301),
			want: []string{
				`level=ERROR msg="take lease" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused"`,
				`level=ERROR msg="take lease: still failing" loop=catalog.v1 err="dial tcp 127.0.0.1:15432: connect: connection refused" repeated=301 over=5m0s`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, buf := capture()
			now := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
			r := repeatlog.New(log, slog.LevelError, "loop", "catalog.v1").WithClock(func() time.Time { return now }, 5*time.Minute)
			for i, s := range tc.steps {
				if i > 0 {
					now = now.Add(time.Second)
				}
				switch s.msg {
				case "quiet":
				case "":
					r.OK(context.Background())
				default:
					r.Failed(context.Background(), s.msg, s.err)
				}
			}
			got := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if buf.Len() == 0 {
				got = nil
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}
