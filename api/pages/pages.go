// Package pages serves the public web pages: server-rendered HTML in
// Kazakh, Russian and English over the same read models and query
// functions as the JSON API. The API mounts the handler on the same origin
// (see api.Mount.Patterns), behind the same request ids, logs, metrics and
// timeouts. Templates get ready values; every label comes from the message
// catalog of the page's language (messages/*.json).
package pages

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/api/session"
	"promiseledger/commands"
	"promiseledger/eventstore"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Config configures the pages.
type Config struct {
	// DB holds the read models and the transparency log.
	DB sqlx.QueryerContext
	// Logger gets every unexpected error, once. Default: discard.
	Logger *slog.Logger
	// Now is the clock for "today" (overdue). Default time.Now.
	Now func() time.Time
	// Location is where "today" is judged. Default Asia/Almaty (UTC+5
	// without a time zone database).
	Location *time.Location
	// LogPublicKey is the transparency log's public key (note verifier
	// format), shown on the audit page; empty when the audit API is off.
	LogPublicKey string
	// TrustForwardedProto makes absolute links (the permalink to cite, the
	// audit page's commands) take their scheme from X-Forwarded-Proto: set
	// it only behind a proxy that sets the header. Default: the scheme of
	// the connection itself.
	TrustForwardedProto bool
	// SeriesStart is the first day of the home page's chart. Default
	// 2021-03-01, when the roadmaps took effect.
	SeriesStart time.Time

	// Sessions turns on signing in (/signin) and the write forms; nil
	// serves the pages read-only, as before. The forms then need the
	// following three.
	Sessions *session.Store
	// Commands are the API's command handlers: every form writes through
	// them.
	Commands *commands.Handlers
	// Store and WriteDB are what the API's policies read (who may write
	// where) and where a stale form's news is read.
	Store   eventstore.Store
	WriteDB *sqlx.DB
	// ReadYourWrites bounds the wait, after a write, for the projector to
	// apply it before the page showing it is served (default 3 s).
	ReadYourWrites time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		loc, err := time.LoadLocation("Asia/Almaty")
		if err != nil {
			loc = time.FixedZone("UTC+5", 5*60*60)
		}
		c.Location = loc
	}
	if c.ReadYourWrites <= 0 {
		c.ReadYourWrites = 3 * time.Second
	}
	if c.SeriesStart.IsZero() {
		c.SeriesStart = time.Date(2021, time.March, 1, 0, 0, 0, 0, time.UTC)
	}
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	if c.DB == nil {
		return errors.New("pages: Config.DB is required")
	}
	if c.Sessions != nil && (c.Commands == nil || c.Store == nil || c.WriteDB == nil) {
		return errors.New("pages: with Sessions, Config.Commands, Store and WriteDB are required (the forms write through them)")
	}
	return nil
}

// Handler serves the pages.
type Handler struct {
	cfg Config
	mux *http.ServeMux
	// axesMux matches the pages that take as_of and known_at.
	axesMux *http.ServeMux
	tmpl    map[string]*template.Template
	cat     catalog
	cache   seriesCache
}

// route is one page: its mux pattern, the query parameters it accepts
// beyond the common ones, and whether it reads figures on the time axes.
type route struct {
	name    string // template name
	pattern string
	params  []string
	axes    bool
	handle  func(*Handler, *request) (*pageData, error)
}

// routeTable lists the pages; a browser-test suite relies on these paths.
func routeTable() []route {
	return []route{
		{"home", "GET /{$}", []string{"table"}, true, (*Handler).home},
		{"roadmaps", "GET /roadmaps", []string{"level", "region", "status", "overdue", "q"}, false, (*Handler).roadmaps},
		{"roadmap", "GET /roadmaps/{id}", nil, true, (*Handler).roadmap},
		{"measure", "GET /measures/{id}", []string{"on", "axis"}, true, (*Handler).measure},
		{"deputy", "GET /deputies/{id}", []string{"version"}, true, (*Handler).deputy},
		{"councils", "GET /councils", nil, false, (*Handler).councils},
		{"council", "GET /councils/{id}", nil, true, (*Handler).council},
		{"overdue", "GET /recommendations/overdue", nil, true, (*Handler).overdue},
		{"recommendation", "GET /recommendations/{id}", nil, true, (*Handler).recommendation},
		{"bodies", "GET /state-bodies", nil, true, (*Handler).stateBodies},
		{"audit", "GET /audit", nil, false, (*Handler).audit},
		{"methods", "GET /methods", nil, false, (*Handler).methods},
		{"signin", "GET /signin", []string{"next"}, false, (*Handler).signinPage},
		{"admin", "GET /admin", nil, false, (*Handler).admin},
	}
}

// Patterns are the mux patterns the pages answer, for api.Mount.
func Patterns() []string {
	out := []string{"GET /assets/{file}"}
	for _, r := range routeTable() {
		out = append(out, r.pattern)
	}
	out = append(out, "POST /signin", "POST /signout")
	for _, f := range formDefs() {
		out = append(out, f.pattern())
	}
	return append(out, "POST /admin/token", "POST /admin/revoke")
}

// New builds the pages handler.
func New(cfg Config) (*Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), cat: cat, tmpl: map[string]*template.Template{}}
	names := []string{"error"}
	for _, r := range routeTable() {
		names = append(names, r.name)
	}
	for _, n := range names {
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("pages: template %s: %w", n, err)
		}
		h.tmpl[n] = t
	}
	assets, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET /assets/{file}", assetHandler(assets))
	h.axesMux = http.NewServeMux()
	for _, rt := range routeTable() {
		h.mux.Handle(rt.pattern, h.page(rt))
		if rt.axes {
			h.axesMux.Handle(rt.pattern, http.NotFoundHandler())
		}
	}
	h.mux.Handle("POST /signin", h.signin())
	h.mux.Handle("POST /signout", h.signout())
	for _, f := range formDefs() {
		h.mux.Handle(f.pattern(), h.post(f))
	}
	h.mux.Handle("POST /admin/token", h.tokenPost("token"))
	h.mux.Handle("POST /admin/revoke", h.tokenPost("revoke"))
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// seriesCache keeps the home chart's series per log position: folding
// every measure's history per day is the costly part of the home page,
// and its inputs change only when the indicators read model moves.
type seriesCache struct {
	mu      sync.Mutex
	entries map[string]any
}

func (c *seriesCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[key]
	return v, ok
}

func (c *seriesCache) put(key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 64 {
		c.entries = map[string]any{}
	}
	c.entries[key] = v
}
