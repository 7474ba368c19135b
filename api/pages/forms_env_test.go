package pages_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/api"
	"promiseledger/api/audit"
	"promiseledger/api/councils"
	"promiseledger/api/pages"
	"promiseledger/api/session"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// writeEnv is a small world the form tests write to, apart from the
// shared demo (which no test changes): one roadmap with an officer and a
// deputy, served with sessions on and the projectors running, as `ledger
// serve` runs them, so read-your-writes is real.
type writeEnv struct {
	srv    *httptest.Server
	db     *sqlx.DB
	store  *postgres.Store
	cmds   *commands.Handlers
	tokens map[string]string // role name -> secret
	// cp signs the transparency log's checkpoints: the audit feed serves
	// the events a signed checkpoint covers.
	cp  *translog.Checkpointer
	seq atomic.Int64
}

const (
	wProgram = "0190a6a4-5e2b-7c3d-8e4f-0000000f0001"
	wRoadmap = "0190a6a4-5e2b-7c3d-8e4f-0000000f0002"
	wOfficer = "official-forms-1"
	wDeputy  = "deputy-forms-1"
)

var sharedWrite struct {
	once sync.Once
	env  *writeEnv
	err  error
}

func newWriteEnv(tb testing.TB) *writeEnv {
	tb.Helper()
	sharedWrite.once.Do(func() {
		sharedWrite.env, sharedWrite.err = buildWriteEnv(pgtest.NewURL(keepWriteDatabase{tb}))
	})
	if sharedWrite.err != nil {
		tb.Fatalf("build the write world: %v", sharedWrite.err)
	}
	return sharedWrite.env
}

type keepWriteDatabase struct{ testing.TB }

func (keepWriteDatabase) Cleanup(func()) {}

func (keepWriteDatabase) Name() string { return "forms_world" }

func buildWriteEnv(dbURL string) (*writeEnv, error) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	if err != nil {
		return nil, err
	}
	db := store.DB()
	if err := postgres.Migrate(ctx, db); err != nil {
		return nil, err
	}
	for _, m := range []func(context.Context, *sqlx.DB) error{projections.Migrate, translog.Migrate, api.Migrate} {
		if err := m(ctx, db); err != nil {
			return nil, err
		}
	}
	cmds, err := commands.New(commands.Deps{Store: store})
	if err != nil {
		return nil, err
	}
	h := commands.Header{Actor: commands.Actor{ID: "admin-setup", Role: "admin"}, EffectiveAt: time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)}
	text := domain.Text{KK: "Сынақ жол картасы", RU: "Тестовая дорожная карта", EN: "Test roadmap"}
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2030, 12, 31)}
	steps := []func() (commands.Result, error){
		func() (commands.Result, error) {
			return cmds.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: h, KATO: "0", Name: text, Kind: domain.TerritoryRepublic})
		},
		func() (commands.Result, error) {
			return cmds.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: h, KATO: "110000000", Name: text, Kind: domain.TerritoryRegion, ParentKATO: "0"})
		},
		func() (commands.Result, error) {
			return cmds.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: h, ID: wProgram, Name: text, Kind: domain.ProgramMain, Period: period})
		},
		func() (commands.Result, error) {
			return cmds.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: h, ID: wRoadmap, ProgramID: wProgram, TerritoryKATO: "110000000",
				Level: domain.LevelRegional, Title: text, Period: period})
		},
		func() (commands.Result, error) {
			return cmds.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: h, RoadmapID: wRoadmap, PersonID: wOfficer,
				Role: domain.RoleOfficial, DisplayName: "Дана Официалова"})
		},
		func() (commands.Result, error) {
			return cmds.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: h, RoadmapID: wRoadmap, PersonID: wDeputy,
				Role: domain.RoleDeputy, DisplayName: "Айгерим Сейткали"})
		},
		func() (commands.Result, error) {
			return cmds.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: h, RoadmapID: wRoadmap})
		},
	}
	for i, step := range steps {
		if _, err := step(); err != nil {
			return nil, fmt.Errorf("setup step %d: %w", i, err)
		}
	}
	tokens := map[string]string{}
	for _, spec := range []api.TokenSpec{
		{Name: "admin", Role: api.RoleAdmin},
		{Name: "officer", Role: api.RoleOfficer, PersonID: wOfficer},
		{Name: "other-officer", Role: api.RoleOfficer, PersonID: "official-elsewhere"},
		{Name: "council", Role: api.RoleCouncil, PersonID: "member-forms-1"},
		{Name: "deputy", Role: api.RoleDeputy, PersonID: wDeputy},
	} {
		secret, _, err := api.CreateToken(ctx, db, spec)
		if err != nil {
			return nil, err
		}
		tokens[spec.Name] = secret
	}
	router, err := projections.NewRouterWithConfig(ctx, projections.RouterConfig{DB: db, Store: store,
		Projectors: append(projections.All(), translog.Projector{})})
	if err != nil {
		return nil, err
	}
	go router.Run(context.Background()) //nolint:errcheck // runs for the test binary's life
	skey, vkey, err := translog.GenerateKey("pages.forms.test/log")
	if err != nil {
		return nil, err
	}
	signer, err := translog.LoadSigner(skey)
	if err != nil {
		return nil, err
	}
	cp, err := translog.NewCheckpointerWithConfig(translog.CheckpointerConfig{DB: db, Signer: signer})
	if err != nil {
		return nil, err
	}
	sessions, err := session.New(session.Config{DB: db})
	if err != nil {
		return nil, err
	}
	ph, err := pages.New(pages.Config{DB: db, LogPublicKey: vkey, Sessions: sessions, Commands: cmds, Store: store, WriteDB: db})
	if err != nil {
		return nil, err
	}
	councilRoutes, err := councils.NewHandler(councils.Config{DB: db, Commands: cmds, Idempotency: api.IdempotencyKeys(db),
		Authenticate: func(r *http.Request) (string, string, bool, error) {
			id, role, ok := api.Caller(r)
			return id, role, ok, nil
		}})
	if err != nil {
		return nil, err
	}
	auditRoutes, err := audit.NewHandler(audit.Config{DB: db, Store: store, Verifier: vkey})
	if err != nil {
		return nil, err
	}
	srv, err := api.New(api.Config{DB: db, Store: store, Commands: cmds, Mounts: []api.Mount{
		{Prefix: audit.PathPrefix, Handler: auditRoutes, Ops: audit.Operations()},
		{Prefix: "/v1", Handler: councilRoutes, Ops: councils.Operations(), KeepPrefix: true},
		{Handler: ph, Patterns: pages.Patterns()},
	}})
	if err != nil {
		return nil, err
	}
	e := &writeEnv{srv: httptest.NewServer(srv.Handler()), db: db, store: store, cmds: cmds, tokens: tokens, cp: cp}
	return e, nil
}

// newIndicator adds a measure of its own to the roadmap, so that tests do
// not see each other's writes, and waits until its page shows it.
func (e *writeEnv) newIndicator(t *testing.T, kind domain.IndicatorKind) string {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("0190a6a4-5e2b-7c3d-8e4f-%012x", 0xf0100+e.seq.Add(1))
	h := commands.Header{Actor: commands.Actor{ID: "admin-setup", Role: "admin"}}
	c := commands.AddIndicator{Header: h, ID: id, RoadmapID: wRoadmap, Kind: kind, Weight: 1,
		Title:    domain.Text{KK: "Жол салу " + id[len(id)-4:], RU: "Строительство дороги " + id[len(id)-4:], EN: "Build the road " + id[len(id)-4:]},
		Deadline: domain.NewDate(2029, 12, 31), ResponsibleID: wOfficer}
	if kind == domain.KindNumeric {
		zero, target := 0.0, 100.0
		c.Baseline, c.Target, c.Unit = &zero, &target, domain.Text{KK: "км", RU: "км", EN: "km"}
	}
	if _, err := e.cmds.AddIndicator.Handle(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.waitProjected(t)
	return id
}

// waitProjected waits until the projectors a measure's page reads (its
// roadmap from the catalog, its history from the indicators) have applied
// every event stored so far.
func (e *writeEnv) waitProjected(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	// Head is the readable head: below the oldest transaction running in
	// the whole cluster, which other tests share. pgtest.Head waits until it
	// is the newest event stored so far.
	head := pgtest.Head(t, e.store)
	for _, name := range []string{projections.CatalogName, projections.IndicatorsName} {
		for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
			cp, err := projections.Checkpoint(ctx, e.db, name)
			if err != nil {
				t.Fatal(err)
			}
			if !cp.Less(head) {
				break
			}
			if time.Since(start) > time.Minute {
				t.Fatalf("projector %s is at %s, the log at %s after a minute", name, cp, head)
			}
		}
	}
}

// streamVersion is how many events a measure has.
func (e *writeEnv) streamVersion(t *testing.T, id string) int64 {
	t.Helper()
	v, err := e.store.StreamVersion(context.Background(), domain.IndicatorStream(id))
	if err != nil {
		t.Fatal(err)
	}
	return int64(v)
}

// browserClient is a client with a cookie jar that does not follow
// redirects, so that tests see each 303.
type browserClient struct {
	t    *testing.T
	e    *writeEnv
	http *http.Client
}

func (e *writeEnv) client(t *testing.T) *browserClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browserClient{t: t, e: e, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *browserClient) do(method, path string, form url.Values) response {
	c.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: sb.String()}
}

func (c *browserClient) get(path string) response {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil)
}

func (c *browserClient) post(path string, form url.Values) response {
	c.t.Helper()
	return c.do(http.MethodPost, path, form)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// signIn signs the client in with a role's token.
func (c *browserClient) signIn(role string) {
	c.t.Helper()
	page := c.get("/signin?lang=en")
	if page.status != 200 {
		c.t.Fatalf("GET /signin: %d", page.status)
	}
	form := formValues(c.t, page.body, "form-signin")
	form.Set("token", c.e.tokens[role])
	res := c.post("/signin?lang=en", form)
	if res.status != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: %d %s", role, res.status, res.body)
	}
}

// formValues reads a form's hidden fields (csrf, key, version) from a page.
func formValues(t *testing.T, body, formID string) url.Values {
	t.Helper()
	i := strings.Index(body, `id="`+formID+`"`)
	if i < 0 {
		main := body
		if j := strings.Index(body, `<main`); j >= 0 {
			main = body[j:]
		}
		t.Fatalf("the page has no form %s; it reads: %.600s", formID, main)
	}
	rest := body[i:]
	if j := strings.Index(rest, "</form>"); j >= 0 {
		rest = rest[:j]
	}
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(rest, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// eventsAfter counts the events stored after a position.
func (e *writeEnv) head(t *testing.T) eventstore.Position {
	t.Helper()
	return pgtest.Head(t, e.store)
}
