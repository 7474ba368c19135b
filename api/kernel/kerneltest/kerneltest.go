// Package kerneltest holds the test helpers every route group's tests
// share: a database that cannot be reached, and the check that what a
// fuzzed write stored is clean.
package kerneltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the driver of the dead pool

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

// DeadDatabase returns a pool pointed at a port where no PostgreSQL
// listens any more, and that port: every use fails as with a stopped
// server.
func DeadDatabase(t testing.TB) (*sqlx.DB, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	db, err := sqlx.Open("postgres", fmt.Sprintf("postgres://ledger:secret@127.0.0.1:%d/ledger?sslmode=disable&connect_timeout=2", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, port
}

// CheckStored fails t unless the codec reads the stored event and writes
// the same bytes back, and each string of it keeps the text rules.
func CheckStored(t testing.TB, rec eventstore.Recorded) {
	t.Helper()
	ev, m, err := domain.Decode(rec.Type, rec.Data, rec.Metadata)
	if err != nil {
		t.Fatalf("stored %s does not decode: %v", rec.Type, err)
	}
	typ, data, meta, err := domain.Encode(ev, m)
	if err != nil || typ != rec.Type || !bytes.Equal(data, rec.Data) || !bytes.Equal(meta, rec.Metadata) {
		t.Fatalf("the codec changed a stored %s: %s → %s (%v)", rec.Type, rec.Data, data, err)
	}
	for _, raw := range [][]byte{rec.Data, rec.Metadata} {
		if err := domain.CheckJSONText(raw); err != nil {
			t.Fatalf("stored %s holds damaged text: %v", rec.Type, err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		eachString(v, func(s string) {
			if err := domain.ValidateText("", s, true, 0); err != nil {
				t.Fatalf("stored %s holds %q, which breaks the text rules: %v", rec.Type, s, err)
			}
		})
	}
}

func eachString(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, e := range v {
			eachString(e, fn)
		}
	case map[string]any:
		for k, e := range v {
			fn(k)
			eachString(e, fn)
		}
	}
}

// HostileText is hostile text as it arrives in a request body: each
// literal is the JSON string, bytes and escapes exactly as sent, so that
// invalid UTF-8 and lone surrogates reach the server (json.Marshal would
// have replaced them). Every route group refuses each with 422 naming the
// field; each test adds its own long value for its body limit.
var HostileText = []struct{ Name, Literal string }{
	{"NUL", `"a\u0000b"`},
	{"C0 escape", `"a\u001b[31mb"`},
	{"DEL", "\"a\x7fb\""},
	{"C1 next line", `"a\u0085b"`},
	{"C1 raw", "\"a\xc2\x9bb\""},
	{"invalid UTF-8", "\"a\xffb\""},
	{"overlong slash", "\"a\xc0\xafb\""},
	{"encoded surrogate", "\"a\xed\xa0\x80b\""},
	{"lone high surrogate escape", `"a\ud800b"`},
	{"lone low surrogate escape", `"\udc00"`},
	{"replacement character", `"a\ufffdb"`},
	{"right-to-left override", `"invoice\u202eFDP.exe"`},
	{"first strong isolate", "\"a\u2068b\""},
}

// MemoryCommands returns the real command handlers on an in-memory store,
// with a clock that starts at start and ticks a second each reading: the
// fuzz targets run thousands of bodies a second without a database.
func MemoryCommands(t testing.TB, start time.Time) (*memory.Store, *commands.Handlers) {
	t.Helper()
	store := memory.New()
	var mu sync.Mutex
	clock := start
	handlers, err := commands.New(commands.Deps{Store: store, Clock: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}})
	if err != nil {
		t.Fatal(err)
	}
	return store, handlers
}
