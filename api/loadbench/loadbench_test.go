//go:build loadbench

package loadbench_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/api"
	"promiseledger/api/councils"
	"promiseledger/api/pages"
	"promiseledger/commands"
	"promiseledger/commands/demo"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

var (
	runFor    = flag.Duration("loadbench.run", 3*time.Second, "how long each measurement runs")
	demoScale = flag.Float64("loadbench.scale", 0.05, "Scale of the demo data set loaded first (1 is full size)")
	withReads = flag.Bool("loadbench.reads", true, "measure the reads (false: only the writes)")
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// demoNow is the demo's "today": the data set is the same on every run.
var demoNow = time.Date(2026, time.November, 15, 9, 0, 0, 0, time.UTC)

// BenchmarkHTTP starts the server twice over one database (the store with
// group commit, and with NoGroupCommit as before it), loads the demo, runs
// the projectors, and measures reads and progress reports over HTTP beside
// raw PostgreSQL inserts. Run with -benchtime=1x.
func BenchmarkHTTP(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.NewURL(b)
	group := openStore(b, postgres.Config{URL: url})
	plain := openStore(b, postgres.Config{URL: url, NoGroupCommit: true})
	db := group.DB()
	for _, migrate := range []func(context.Context, *sqlx.DB) error{postgres.Migrate, projections.Migrate, translog.Migrate, api.Migrate} {
		if err := migrate(ctx, db); err != nil {
			b.Fatal(err)
		}
	}
	stats, err := demo.Load(ctx, group, demo.Config{Seed: 1, Now: demoNow, Scale: *demoScale})
	if err != nil {
		b.Fatal(err)
	}
	out("demo Scale %g: %d events loaded in %s", *demoScale, stats.Events, stats.Elapsed.Round(time.Millisecond))

	router, err := projections.NewRouterWithConfig(ctx, projections.RouterConfig{
		DB: db, Store: group, Projectors: append(projections.All(), translog.Projector{}),
	})
	if err != nil {
		b.Fatal(err)
	}
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(ctx) }()
	began := time.Now()
	waitCaughtUp(b, ctx, db, group)
	out("projectors caught up in %s", time.Since(began).Round(time.Millisecond))

	groupURL := serve(b, db, group)
	plainURL := serve(b, db, plain)
	secret, _, err := api.CreateToken(ctx, db, api.TokenSpec{Name: "loadbench", Role: api.RoleAdmin, PersonID: "admin-loadbench"})
	if err != nil {
		b.Fatal(err)
	}
	c := &client{http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}, token: secret}

	roadmap := firstID(b, c, groupURL+"/v1/roadmaps?level=regional&limit=1")
	indicator := firstID(b, c, groupURL+"/v1/indicators?roadmap="+roadmap+"&limit=1")
	reads := []struct{ name, path string }{
		{"figures now", "/v1/figures?scope=level&id=republican"},
		{"figures as_of+known_at", "/v1/figures?scope=level&id=regional&as_of=2021-08-01&known_at=2021-08-01"},
		{"roadmap", "/v1/roadmaps/" + roadmap},
		{"measure history", "/v1/indicators/" + indicator + "/history"},
		{"roadmap history (its event feed)", "/v1/roadmaps/" + roadmap + "/history"},
		{"indicator list page", "/v1/indicators?limit=100"},
		{"page /roadmaps", "/roadmaps"},
	}
	b.ResetTimer()
	out("\n| read (8 clients, %s, gzip) | requests/s | p50 ms | p99 ms | non-2xx |", *runFor)
	out("|---|---|---|---|---|")
	for _, rd := range reads {
		if !*withReads {
			break
		}
		probe(c, "GET", groupURL+rd.path, nil)
		r := drive(8, *runFor, func(int) (int, error) { return c.get(groupURL + rd.path) })
		out("| %s | %.0f | %.1f | %.1f | %d |", rd.name, r.rate(), r.pct(50), r.pct(99), r.bad)
	}

	writable := reportable(b, c, groupURL, 68)
	distinct, shared := writable[:64], writable[64:68]
	raw := newRaw(b, db)
	out("\n| writes: progress reports (%s) | clients | group commit rep/s | p50 / p99 ms | without group commit rep/s | p50 / p99 ms | group / without | raw 1-row tx ev/s | raw 100-row tx ×4 ev/s | group / raw 1-row | group / raw 100-row | non-2xx (group, without) |", *runFor)
	out("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, clients := range []int{1, 8, 64} {
		for _, mode := range []string{"distinct measures", "4 shared measures"} {
			target := func(w int) string {
				if mode == "distinct measures" {
					return distinct[w]
				}
				return shared[w%len(shared)]
			}
			g := drive(clients, *runFor, func(w int) (int, error) { return c.report(groupURL, target(w)) })
			p := drive(clients, *runFor, func(w int) (int, error) { return c.report(plainURL, target(w)) })
			r1 := drive(clients, *runFor, func(w int) (int, error) { return raw.insert(w, 1) })
			rb := drive(4, *runFor, func(w int) (int, error) { return raw.insert(w, 100) })
			out("| %s | %d | %.0f | %.1f / %.1f | %.0f | %.1f / %.1f | %.2f | %.0f | %.0f | %.2f | %.2f | %d, %d |",
				mode, clients, g.rate(), g.pct(50), g.pct(99), p.rate(), p.pct(50), p.pct(99), g.rate()/p.rate(),
				r1.rate(), rb.rate(), g.rate()/r1.rate(), g.rate()/rb.rate(), g.bad, p.bad)
			if clients == 64 && mode == "distinct measures" {
				b.ReportMetric(g.rate(), "writes64-group-rep/s")
				b.ReportMetric(p.rate(), "writes64-plain-rep/s")
				b.ReportMetric(g.pct(99), "writes64-group-p99-ms")
				b.ReportMetric(g.rate()/rb.rate(), "writes64-group/raw100")
			}
		}
	}
	b.ReportMetric(0, "ns/op")
	cancel()
	<-routerDone
}

func out(format string, args ...any) { fmt.Fprintf(os.Stdout, format+"\n", args...) }

func openStore(b *testing.B, cfg postgres.Config) *postgres.Store {
	b.Helper()
	s, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func waitCaughtUp(b *testing.B, ctx context.Context, db *sqlx.DB, store *postgres.Store) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		sts, err := projections.Statuses(ctx, db, store, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		behind := 0
		for _, s := range sts {
			if s.Stopped {
				b.Fatalf("projector %s stopped: %+v", s.Name, s)
			}
			if s.LagEvents != 0 {
				behind++
			}
		}
		if behind == 0 && len(sts) > 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("projectors still behind: %+v", sts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serve starts the API as `ledger serve` assembles it (without the audit
// routes, which need a signing key) on a real listener.
func serve(b *testing.B, db *sqlx.DB, store *postgres.Store) string {
	b.Helper()
	logger := slog.New(slog.DiscardHandler)
	cmds, err := commands.New(commands.Deps{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	councilRoutes, err := councils.NewHandler(councils.Config{
		DB: db, Commands: cmds, Logger: logger, MaxBodyBytes: api.DefaultMaxBodyBytes, MaxPageSize: api.DefaultMaxPageSize,
		Idempotency: api.IdempotencyKeys(db),
		Authenticate: func(r *http.Request) (string, string, bool, error) {
			id, role, ok := api.Caller(r)
			return id, role, ok, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	pageRoutes, err := pages.New(pages.Config{DB: db, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.Config{
		Mounts: []api.Mount{
			{Prefix: "/v1", Handler: councilRoutes, Ops: councils.Operations(), KeepPrefix: true},
			{Handler: pageRoutes, Patterns: pages.Patterns()},
		},
		DB: db, Store: store, Commands: cmds, Logger: logger,
	})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	return ts.URL
}

type client struct {
	http  *http.Client
	token string
}

// get returns the status (the body is read and dropped).
func (c *client) get(url string) (int, error) {
	resp, err := c.http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

var (
	reportBody    = []byte(`{"value": 1, "evidence": {"url": "https://example.kz/loadbench", "description": "load benchmark"}}`)
	milestoneBody = []byte(`{"done": false, "evidence": {"url": "https://example.kz/loadbench", "description": "load benchmark"}}`)
	// milestones are the measures that take milestoneBody.
	milestones sync.Map
)

func (c *client) report(base, indicator string) (int, error) {
	body := reportBody
	if _, ok := milestones.Load(indicator); ok {
		body = milestoneBody
	}
	req, err := http.NewRequest("POST", base+"/v1/indicators/"+indicator+"/reports", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func firstID(b *testing.B, c *client, url string) string {
	b.Helper()
	ids := listIDs(b, c, url)
	if len(ids) == 0 {
		b.Fatalf("%s: no items", url)
	}
	return ids[0]
}

func listIDs(b *testing.B, c *client, url string) []string {
	b.Helper()
	resp, err := c.http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		b.Fatalf("%s: %v", url, err)
	}
	ids := make([]string, len(page.Items))
	for i, it := range page.Items {
		ids[i] = it.ID
	}
	return ids
}

// reportable finds n measures that accept a progress report (one report
// each, sent now).
func reportable(b *testing.B, c *client, base string, n int) []string {
	b.Helper()
	var ok []string
	refused := map[int]int{}
	for _, id := range listIDs(b, c, base+"/v1/indicators?limit=500") {
		status, err := c.report(base, id)
		if err != nil {
			b.Fatal(err)
		}
		if status == http.StatusUnprocessableEntity { // a milestone: done, not a value
			milestones.Store(id, true)
			if status, err = c.report(base, id); err != nil {
				b.Fatal(err)
			}
		}
		if status == http.StatusCreated || status == http.StatusOK {
			ok = append(ok, id)
		} else if refused[status]++; refused[status] == 1 {
			probe(c, "POST", base+"/v1/indicators/"+id+"/reports", reportBody)
		}
		if len(ok) == n {
			return ok
		}
	}
	b.Fatalf("only %d of the first 500 measures accept a report (refused: %v); want %d", len(ok), refused, n)
	return nil
}

// probe sends one request and prints the answer if it is not a success, so
// that a run measuring errors says which.
func probe(c *client, method, url string, body []byte) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		out("probe %s: %v", url, err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		out("probe %s: %v", url, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 400))
		out("probe %s %s: %d %s", method, url, resp.StatusCode, msg)
	}
}

// raw inserts into a table shaped like events, with the version kept by
// the client: the ceiling of PostgreSQL itself on this machine now.
type raw struct {
	db    *sqlx.DB
	run   string
	mu    sync.Mutex
	next  map[int]int64
	stmts map[int]*sql.Stmt
}

func newRaw(b *testing.B, db *sqlx.DB) *raw {
	b.Helper()
	if _, err := db.Exec(`CREATE TABLE raw_events (
	seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL,
	version bigint NOT NULL, type text NOT NULL, data bytea NOT NULL, metadata bytea NOT NULL,
	stored_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream_id, version))`); err != nil {
		b.Fatal(err)
	}
	return &raw{db: db, run: uuid.NewString()[:8], next: map[int]int64{}, stmts: map[int]*sql.Stmt{}}
}

var (
	rawData = []byte(`{"indicator_id":"0192f0a4-6a2b-7c3d-8e4f-5a6b7c8d9e0f","value":1,"evidence":{"url":"https://example.kz/loadbench","description":"load benchmark"}}`)
	rawMeta = []byte(`{"actor_id":"admin-loadbench","actor_role":"admin"}`)
)

func (r *raw) insert(w, n int) (int, error) {
	r.mu.Lock()
	stmt := r.stmts[n]
	if stmt == nil {
		var q strings.Builder
		q.WriteString(`INSERT INTO raw_events (event_id, stream_id, version, type, data, metadata) VALUES `)
		for i := range n {
			if i > 0 {
				q.WriteString(", ")
			}
			p := 6 * i
			fmt.Fprintf(&q, "($%d::uuid, $%d, $%d, $%d, $%d::bytea, $%d::bytea)", p+1, p+2, p+3, p+4, p+5, p+6)
		}
		var err error
		if stmt, err = r.db.Prepare(q.String()); err != nil {
			r.mu.Unlock()
			return 0, err
		}
		r.stmts[n] = stmt
	}
	key := w*1000 + n
	from := r.next[key] + 1
	r.next[key] += int64(n)
	r.mu.Unlock()
	stream := fmt.Sprintf("raw-%s-%d-%d", r.run, n, w)
	args := make([]any, 0, 6*n)
	for i := range n {
		args = append(args, uuid.NewString(), stream, from+int64(i), "indicator.progress_reported.v1", rawData, rawMeta)
	}
	if _, err := stmt.Exec(args...); err != nil {
		return 0, err
	}
	return n, nil
}

// measured is what drive saw.
type measured struct {
	done    int // events (writes) or requests (reads) that succeeded
	bad     int // answers that were not 2xx
	elapsed time.Duration
	lat     []time.Duration
}

func (m measured) rate() float64 { return float64(m.done) / m.elapsed.Seconds() }

func (m measured) pct(p int) float64 {
	if len(m.lat) == 0 {
		return 0
	}
	s := slices.Clone(m.lat)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100].Microseconds()) / 1000
}

// drive runs op on clients goroutines in a closed loop for d. op returns an
// HTTP status (a count of rows for raw inserts: any value >= 1 under 200
// counts as that many successes).
func drive(clients int, d time.Duration, op func(w int) (int, error)) measured {
	var (
		mu  sync.Mutex
		m   measured
		wg  sync.WaitGroup
		err error
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			var lat []time.Duration
			done, bad := 0, 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				v, e := op(w)
				if e != nil {
					mu.Lock()
					err = e
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t0))
				switch {
				case v >= 200 && v < 300:
					done++
				case v >= 300:
					bad++
				default:
					done += v
				}
			}
			mu.Lock()
			m.done += done
			m.bad += bad
			m.lat = append(m.lat, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	m.elapsed = time.Since(start)
	if err != nil {
		out("error during the run: %v", err)
	}
	return m
}
