// Package auditsurface_test checks the public audit API (package audit)
// over a log whose events live in KurrentDB: the transparency log's
// projector reads them from KurrentDB, and the feed, exports and stream
// histories serve the log's own copy of each leaf from PostgreSQL, where
// no events table exists at all.
package auditsurface_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"promiseledger/api/audit"
	"promiseledger/eventstore"
	"promiseledger/eventstore/kurrentdb"
	"promiseledger/eventstore/kurrentdb/internal/fakeserver"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestAuditRoutesOverKurrentDBFake runs the audit routes over the
// KurrentDB imitation in internal/fakeserver.
func TestAuditRoutesOverKurrentDBFake(t *testing.T) {
	t.Parallel()
	srv, err := fakeserver.Start(fakeserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	checkAuditRoutes(t, srv.URL())
}

// TestAuditRoutesOverKurrentDB runs them over the server in KURRENTDB_URL.
func TestAuditRoutesOverKurrentDB(t *testing.T) {
	url := os.Getenv("KURRENTDB_URL")
	if url == "" {
		t.Skip("KURRENTDB_URL is not set: the audit routes did not run over a real KurrentDB (no server on this machine)")
	}
	t.Parallel()
	checkAuditRoutes(t, url)
}

// checkAuditRoutes appends events to KurrentDB (in a stream namespace of
// its own, so a shared server will do), logs them, signs a checkpoint and
// reads every audit route; then Verify checks the whole log and one
// stream as a journalist's client would.
func checkAuditRoutes(t *testing.T, url string) {
	ctx := context.Background()
	ns := make([]byte, 6)
	rand.Read(ns) //nolint:errcheck // never fails
	store, err := kurrentdb.Open(ctx, kurrentdb.Config{URL: url, StreamPrefix: "audit-" + hex.EncodeToString(ns) + "-",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	// The read models' database has the projections' and the log's tables
	// and no events table: nothing may read one.
	db, err := sqlx.Open("postgres", pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, step := range []func() error{
		func() error { return projections.Migrate(ctx, db) },
		func() error { return translog.Migrate(ctx, db) },
		func() error { return projections.Register(ctx, db, translog.Name) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	var events *string
	if err := db.Get(&events, `SELECT to_regclass('events')::text`); err != nil || events != nil {
		t.Fatalf("the read models' database has an events table (%v): the test would not show the audit API does without it", err)
	}

	const n = 120
	streams := map[string]int{}
	for i := 0; i < n; {
		stream := fmt.Sprintf("indicator-%02d", i%7)
		batch := min(1+i%3, n-i)
		evs := make([]eventstore.Event, batch)
		for k := range evs {
			id := uuid.Must(uuid.NewV7())
			evs[k] = eventstore.Event{ID: id, Type: "indicator.progress_reported.v1",
				Data: fmt.Appendf(nil, `{"value":%d,"note":"Ақмола <%d> & \"more\""}`, i+k, i+k), Metadata: logtest.Metadata(i+k, id)}
		}
		if _, err := store.Append(ctx, stream, eventstore.Any(), evs); err != nil {
			t.Fatal(err)
		}
		streams[stream] += batch
		i += batch
	}
	for {
		pos, err := projections.Checkpoint(ctx, db, translog.Name)
		if err != nil {
			t.Fatal(err)
		}
		page, err := store.ReadAll(ctx, pos, 25)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if err := projections.Process(ctx, db, translog.Projector{}, page); err != nil {
			t.Fatal(err)
		}
	}
	skey, vkey, err := translog.GenerateKey("kurrentdb.audit.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := translog.LoadSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := translog.NewCheckpointerWithConfig(translog.CheckpointerConfig{DB: db, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err := cp.CheckpointOnce(ctx); err != nil || c.TreeSize != n {
		t.Fatalf("checkpoint: %+v, %v; want tree size %d", c, err, n)
	}
	h, err := audit.NewHandler(audit.Config{DB: db, Store: store, Verifier: vkey, MaxPageSize: 50, FeedPageSize: 17})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(audit.PathPrefix+"/", http.StripPrefix(audit.PathPrefix, h))
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)
	base := web.URL + audit.PathPrefix

	getBody := func(path string) []byte {
		t.Helper()
		resp, err := web.Client().Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v\n%s", path, resp.StatusCode, err, b)
		}
		return b
	}
	checkEvent := func(where string, e audit.Event) {
		t.Helper()
		r, err := e.Recorded()
		if err != nil {
			t.Fatalf("%s: leaf %d: %v", where, e.LeafIndex, err)
		}
		if got := translog.LeafHash(r).String(); got != e.LeafHash {
			t.Errorf("%s: leaf %d: the served event hashes to %s, the leaf is %s", where, e.LeafIndex, got, e.LeafHash)
		}
	}

	t.Run("events", func(t *testing.T) {
		seen := 0
		cursor := ""
		for {
			var page audit.EventsPage
			if err := json.Unmarshal(getBody("/events?limit=50"+cursor), &page); err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Items {
				checkEvent("events", e)
				seen++
			}
			if page.NextCursor == nil {
				break
			}
			cursor = "&cursor=" + *page.NextCursor
		}
		if seen != n {
			t.Errorf("the paged feed has %d events, want %d", seen, n)
		}
	})
	t.Run("ndjson", func(t *testing.T) {
		sc := bufio.NewScanner(strings.NewReader(string(getBody("/events.ndjson"))))
		sc.Buffer(nil, 1<<20)
		lines, got := 0, 0
		var end struct {
			End *audit.ExportEnd `json:"end"`
		}
		for sc.Scan() {
			lines++
			if lines == 1 {
				continue // the header
			}
			if err := json.Unmarshal(sc.Bytes(), &end); err == nil && end.End != nil {
				break
			}
			var e audit.Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			checkEvent("ndjson", e)
			got++
		}
		if got != n || end.End == nil || end.End.Events != n {
			t.Errorf("NDJSON export: %d events, end line %+v; want %d", got, end.End, n)
		}
	})
	t.Run("csv", func(t *testing.T) {
		body := string(getBody("/events.csv"))
		if want := fmt.Sprintf("# end events=%d\n", n); !strings.HasSuffix(body, want) {
			t.Errorf("CSV export ends %q, want %q", body[max(0, len(body)-40):], want)
		}
		if strings.Contains(body, ",true,") {
			t.Error("CSV export marks events missing")
		}
	})
	t.Run("stream_history", func(t *testing.T) {
		var hist audit.StreamHistory
		if err := json.Unmarshal(getBody("/streams/indicator-03/history?limit=50"), &hist); err != nil {
			t.Fatal(err)
		}
		if len(hist.Items) != streams["indicator-03"] || hist.CurrentVersion == nil || *hist.CurrentVersion != int64(streams["indicator-03"]) {
			t.Fatalf("history: %d events, current version %v; want %d", len(hist.Items), hist.CurrentVersion, streams["indicator-03"])
		}
		for _, e := range hist.Items {
			checkEvent("history", e)
			if len(e.Proof) == 0 {
				t.Errorf("leaf %d: no inclusion proof", e.LeafIndex)
			}
		}
	})
	t.Run("verify", func(t *testing.T) {
		for _, stream := range []string{"", "indicator-05"} {
			rep, err := audit.Verify(ctx, audit.VerifyConfig{BaseURL: base, VerifierKey: vkey, Stream: stream,
				StateFile: filepath.Join(t.TempDir(), "state.json"), HTTPClient: web.Client()})
			if err != nil || len(rep.Findings) > 0 {
				t.Fatalf("Verify (stream %q): %v %v", stream, err, rep.Findings)
			}
			want := int64(n)
			if stream != "" {
				want = int64(streams[stream])
			}
			if rep.EventsChecked != want {
				t.Errorf("Verify (stream %q) checked %d events, want %d", stream, rep.EventsChecked, want)
			}
		}
	})
}
