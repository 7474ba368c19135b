package projections

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/ThreeDotsLabs/watermill"

	"promiseledger/eventstore/repeatlog"
)

// quietErrors is the logger Watermill gets: its errors ("Error occurred,
// retrying", "Handler returned error") repeat for every retried batch while
// the database is down, so each distinct message of each handler goes
// through a repeatlog.Repeats — logged once, then counted. Other levels
// pass through.
type quietErrors struct {
	watermill.LoggerAdapter
	log    *slog.Logger
	scope  string // the stable fields given With, as text
	shared *quietRuns
}

type quietRuns struct {
	mu   sync.Mutex
	runs map[string]*repeatlog.Repeats
}

func newQuietErrors(log *slog.Logger) *quietErrors {
	return &quietErrors{LoggerAdapter: watermill.NewSlogLogger(log), log: log, shared: &quietRuns{runs: map[string]*repeatlog.Repeats{}}}
}

// stableFields are the fields that name where an error came from; the
// others (a message's uuid, a retry's attempt) change on every repeat.
var stableFields = []string{"handler_name", "topic", "subscriber_name", "consumer"}

func (q *quietErrors) Error(msg string, err error, fields watermill.LogFields) {
	var attrs []any
	key := q.scope + "|" + msg
	for _, k := range stableFields {
		if v, ok := fields[k]; ok {
			attrs = append(attrs, k, v)
			key += fmt.Sprintf("|%s=%v", k, v)
		}
	}
	q.shared.mu.Lock()
	r, ok := q.shared.runs[key]
	if !ok {
		r = repeatlog.New(q.log, slog.LevelError, attrs...)
		q.shared.runs[key] = r
	}
	q.shared.mu.Unlock()
	r.Failed(context.Background(), msg, err)
}

// Info goes to debug: Watermill's info lines (a handler added, started,
// stopped) are start-up and shut-down chatter that would bury what `ledger
// dev` prints once it is ready.
func (q *quietErrors) Info(msg string, fields watermill.LogFields) {
	q.LoggerAdapter.Debug(msg, fields)
}

func (q *quietErrors) With(fields watermill.LogFields) watermill.LoggerAdapter {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	scope := q.scope
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		scope += fmt.Sprintf("|%s=%v", k, fields[k])
		args = append(args, k, fields[k])
	}
	return &quietErrors{LoggerAdapter: q.LoggerAdapter.With(fields), log: q.log.With(args...), scope: scope, shared: q.shared}
}
