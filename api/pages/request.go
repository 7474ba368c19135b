package pages

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"promiseledger/api"
	"promiseledger/api/params"
	"promiseledger/api/session"
	"promiseledger/domain"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// Languages, in the order the switch shows them.
var languages = []string{"kk", "ru", "en"}

var langMatcher = language.NewMatcher([]language.Tag{language.Kazakh, language.Russian, language.English})

// commonParams are accepted by every page.
var commonParams = []string{"lang", "format"}

// axisParams are accepted by the pages that show figures.
var axisParams = []string{"as_of", "known_at"}

// request is one page request, parsed.
type request struct {
	h     *Handler
	ctx   context.Context
	r     *http.Request
	route route
	lang  string
	csv   bool
	// asOf and knownAt are the axes as given (raw, for links) and parsed.
	asOfRaw, knownAtRaw string
	axes                projections.Axes
	errs                []fieldError
	// w is the response, for pages that set cookies (sign-in).
	w http.ResponseWriter
	// sess is the reader's session, when signed in; posted is a form sent
	// back to its page with its errors.
	sess   *session.Session
	posted *posted
	// issued is a token the admin form just issued (admin.go).
	issued *issuedToken
}

type fieldError struct{ Field, Problem string }

// pageError is an error with the status a page answers it with.
type pageError struct {
	status int
	key    string // catalog key of the message shown
	detail string // English detail for problem+json and logs
	fields []fieldError
}

func (e *pageError) Error() string { return e.detail }

func notFound(detail string) error {
	return &pageError{status: http.StatusNotFound, key: "error.not_found", detail: detail}
}

func (q *request) bad(field, problem string) { q.errs = append(q.errs, fieldError{field, problem}) }

func (q *request) str(name string) string { return strings.TrimSpace(q.r.URL.Query().Get(name)) }

func (q *request) enum(name string, allowed ...string) string {
	v := q.str(name)
	if v != "" && !slices.Contains(allowed, v) {
		q.bad(name, "must be one of "+strings.Join(allowed, ", "))
		return ""
	}
	return v
}

// instant reads a date (the end of that day, UTC) or an RFC 3339 time, as
// the API does.
func (q *request) instant(name string) (*time.Time, string) {
	v := q.str(name)
	if v == "" {
		return nil, ""
	}
	if d, err := domain.ParseDate(v); err == nil && d.Valid() {
		t := projections.EndOfDay(d)
		return &t, v
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		q.bad(name, "must be a date (YYYY-MM-DD) or an RFC 3339 time")
		return nil, ""
	}
	t = t.UTC()
	return &t, v
}

func (q *request) err() error {
	if len(q.errs) == 0 {
		return nil
	}
	parts := make([]string, len(q.errs))
	for i, e := range q.errs {
		parts[i] = e.Field + " " + e.Problem
	}
	return &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: strings.Join(parts, "; "), fields: q.errs}
}

// spec declares what a page takes, as the API's routes declare theirs in
// their OpenAPI operations: its path wildcards and query parameters.
func (rt route) spec() params.Spec {
	var s params.Spec
	for rest := rt.pattern; ; {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			break
		}
		if name := rest[i+1 : j]; name != "$" {
			s.Path = append(s.Path, params.Param{Name: name, MaxBytes: params.MaxValueBytes})
		}
		rest = rest[j+1:]
	}
	names := append(slices.Clone(commonParams), rt.params...)
	if rt.axes {
		names = append(names, axisParams...)
	}
	// Values are read by each page (overdue strictly, by params.Bool).
	for _, name := range names {
		s.Query = append(s.Query, params.Param{Name: name, MaxBytes: params.MaxValueBytes})
	}
	return s
}

// parse reads the common parameters and refuses unknown ones.
func (h *Handler) parse(w http.ResponseWriter, r *http.Request, rt route) *request {
	q := &request{h: h, ctx: r.Context(), r: r, w: w, route: rt}
	// The API's one parameter check: unknown names, repeats, bytes that
	// are not text, over-long values, booleans other than true/false.
	if err := rt.spec().Check(r); err != nil {
		var pe *params.Error
		if !errors.As(err, &pe) {
			pe = &params.Error{Problems: []params.Problem{{Field: "query", Problem: err.Error()}}}
		}
		for _, p := range pe.Problems {
			q.bad(p.Field, p.Problem)
		}
	}
	q.lang = h.negotiate(w, r, q)
	switch q.enum("format", "csv", "html") {
	case "csv":
		q.csv = true
	}
	if rt.axes {
		q.axes.AsOf, q.asOfRaw = q.instant("as_of")
		q.axes.KnownAt, q.knownAtRaw = q.instant("known_at")
	}
	return q
}

// negotiate picks the language: ?lang= (remembered in a cookie), the
// cookie, then Accept-Language, then Kazakh.
func (h *Handler) negotiate(w http.ResponseWriter, r *http.Request, q *request) string {
	if v := q.enum("lang", languages...); v != "" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: v, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
		return v
	}
	if c, err := r.Cookie("lang"); err == nil && slices.Contains(languages, c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, i, conf := langMatcher.Match(tags...)
			if conf != language.No {
				return languages[i]
			}
		}
	}
	return "kk"
}

// today is the date overdue is judged against.
func (h *Handler) today() domain.Date { return domain.DateOf(h.cfg.Now().In(h.cfg.Location)) }

// on is "today" for recommendations: now, or the as-of time.
func (h *Handler) on(q *request) time.Time {
	if q.axes.AsOf != nil {
		return q.axes.AsOf.In(h.cfg.Location)
	}
	return h.cfg.Now().In(h.cfg.Location)
}

func (q *request) hasAxes() bool { return q.axes.AsOf != nil || q.axes.KnownAt != nil }

// axesPtr is the axes for the queries that take *Axes (nil: now).
func (q *request) axesPtr() *projections.Axes {
	if !q.hasAxes() {
		return nil
	}
	a := q.axes
	return &a
}

// link builds a same-origin URL to a page, carrying the language and,
// when the target page reads figures, the axes.
func (q *request) link(p string, extra ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			v.Set(extra[i], extra[i+1])
		}
	}
	v.Set("lang", q.lang)
	if q.h.takesAxes(p) {
		if q.asOfRaw != "" {
			v.Set("as_of", q.asOfRaw)
		}
		if q.knownAtRaw != "" {
			v.Set("known_at", q.knownAtRaw)
		}
	}
	return p + "?" + v.Encode()
}

// takesAxes reports whether the page at path p accepts as_of/known_at.
func (h *Handler) takesAxes(p string) bool {
	req, err := http.NewRequest(http.MethodGet, p, nil)
	if err != nil {
		return false
	}
	_, pat := h.axesMux.Handler(req)
	return pat != ""
}

// self is the current page's URL with some parameters replaced ("" removes).
func (q *request) self(set ...string) string {
	v := q.r.URL.Query()
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			v.Del(set[i])
		} else {
			v.Set(set[i], set[i+1])
		}
	}
	if v.Get("lang") == "" {
		v.Set("lang", q.lang)
	}
	return q.r.URL.Path + "?" + v.Encode()
}

// page wraps a page function with parsing, rendering and error pages.
func (h *Handler) page(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := h.parse(w, r, rt)
		if err := q.err(); err != nil {
			h.fail(w, q, err)
			return
		}
		if h.cfg.Sessions != nil {
			sess, err := h.cfg.Sessions.FromRequest(r)
			if err != nil {
				h.fail(w, q, err)
				return
			}
			if sess != nil {
				// A signed-in page holds forms with this session's CSRF
				// token: never for a shared cache.
				w.Header().Set("Cache-Control", "private, no-store")
				q.sess = sess
			}
		}
		d, err := rt.handle(h, q)
		if err != nil {
			h.fail(w, q, err)
			return
		}
		if q.csv {
			h.writeCSV(w, q, d)
			return
		}
		if err := h.finishChrome(q, d); err != nil {
			h.fail(w, q, err)
			return
		}
		h.render(w, q, rt.name, http.StatusOK, d)
	})
}

func (h *Handler) render(w http.ResponseWriter, q *request, name string, status int, d *pageData) {
	var buf bytes.Buffer
	if err := h.tmpl[name].Execute(&buf, d); err != nil {
		h.cfg.Logger.ErrorContext(q.ctx, "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", q.lang)
	w.Header().Set("Vary", "Accept-Language, Cookie")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// fail answers an error: an HTML page for browsers, problem+json for
// clients that do not ask for HTML.
func (h *Handler) fail(w http.ResponseWriter, q *request, err error) {
	var pe *pageError
	switch {
	case errors.As(err, &pe):
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, projections.ErrNoSuchRecord), errors.Is(err, projections.ErrUnknownScope):
		pe = &pageError{status: http.StatusNotFound, key: "error.not_found", detail: err.Error()}
	default:
		h.cfg.Logger.ErrorContext(q.ctx, "page", "path", q.r.URL.Path, "err", err)
		pe = &pageError{status: http.StatusInternalServerError, key: "error.internal", detail: "something went wrong on our side; quote the request id when you report it"}
	}
	if !wantsHTML(q.r) {
		writeProblem(w, pe)
		return
	}
	d := &pageData{Title: h.cat.t(q.lang, "error.title")}
	d.Message = h.cat.t(q.lang, pe.key)
	for _, f := range pe.fields {
		d.Fields = append(d.Fields, f.Field+": "+f.Problem)
	}
	if err := h.finishChrome(q, d); err != nil {
		h.cfg.Logger.ErrorContext(q.ctx, "error page", "err", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, q, "error", pe.status, d)
}

// wantsHTML: browsers list text/html in Accept; API clients do not.
func wantsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
			return true
		}
	}
	return false
}

func writeProblem(w http.ResponseWriter, pe *pageError) {
	slug := map[int]string{400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 500: "internal"}[pe.status]
	if slug == "" {
		slug = "internal"
	}
	body := map[string]any{"type": "urn:promiseledger:problem:" + slug, "title": http.StatusText(pe.status), "status": pe.status, "detail": pe.detail}
	if len(pe.fields) > 0 {
		var errs []map[string]string
		for _, f := range pe.fields {
			errs = append(errs, map[string]string{"field": f.Field, "problem": f.Problem})
		}
		body["errors"] = errs
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(pe.status)
	json.NewEncoder(w).Encode(body) //nolint:errcheck // the client went away
}

// finishChrome fills what every page shows: language switch, navigation,
// permalink, the checkpoint to cite.
func (h *Handler) finishChrome(q *request, d *pageData) error {
	d.Lang = q.lang
	d.cat = h.cat
	for _, l := range languages {
		d.Languages = append(d.Languages, langLink{Code: l, Name: h.cat.t(l, "lang.name"), URL: q.self("lang", l), Current: l == q.lang})
	}
	for _, n := range []struct{ key, path string }{
		{"nav.home", "/"}, {"nav.roadmaps", "/roadmaps"}, {"nav.councils", "/councils"},
		{"nav.overdue", "/recommendations/overdue"}, {"nav.bodies", "/state-bodies"}, {"nav.audit", "/audit"}, {"nav.methods", "/methods"},
	} {
		d.Nav = append(d.Nav, navLink{Label: h.cat.t(q.lang, n.key), URL: q.link(n.path), Current: navCurrent(q.r.URL.Path, n.path)})
	}
	if q.sess != nil && api.MayAdminister(q.sess.TokenHolder, "administer") == nil {
		// Only administrators see the way to their forms.
		d.Nav = append(d.Nav, navLink{Label: h.cat.t(q.lang, "nav.admin"), URL: q.link("/admin"), Current: navCurrent(q.r.URL.Path, "/admin")})
	}
	d.Permalink = q.baseURL() + q.self()
	if h.cfg.Sessions != nil {
		if q.sess != nil {
			d.User = &signedIn{Name: q.sess.Name, Role: h.cat.t(q.lang, "actor."+string(q.sess.Role)), CSRF: q.sess.CSRF(),
				SignOut: "/signout?lang=" + q.lang}
		} else if q.r.URL.Path != "/signin" {
			d.SignIn = "/signin?" + url.Values{"lang": {q.lang}, "next": {q.r.URL.Path}}.Encode()
		}
	}
	if q.route.axes {
		d.ShowsAxes = true
		d.AsOf, d.KnownAt = q.asOfRaw, q.knownAtRaw
	}
	if d.CSV {
		d.CSVURL = q.self("format", "csv")
	}
	cp, err := translog.LatestCheckpoint(q.ctx, h.cfg.DB)
	switch {
	case errors.Is(err, translog.ErrNotFound):
		d.Cite = h.cat.t(q.lang, "cite.none")
	case err != nil:
		return err
	default:
		d.Cite = fmt.Sprintf(h.cat.t(q.lang, "cite.checkpoint"), cp.TreeSize, cp.RootHash.String(), cp.CreatedAt.Format("2006-01-02 15:04 UTC"))
		d.CheckpointSize = cp.TreeSize
		d.CheckpointRoot = cp.RootHash.String()
	}
	return nil
}

// navSections maps a detail page's path prefix to the navigation entry
// it belongs under: measures and deputies are reached from roadmaps.
var navSections = map[string]string{"/roadmaps/": "/roadmaps", "/measures/": "/roadmaps", "/deputies/": "/roadmaps", "/councils/": "/councils"}

// navCurrent is the aria-current value of the navigation entry at entry
// on the page at path: "page" on the entry's own page, "true" on a page
// within its section.
func navCurrent(path, entry string) string {
	if path == entry {
		return "page"
	}
	for prefix, section := range navSections {
		if section == entry && strings.HasPrefix(path, prefix) {
			return "true"
		}
	}
	return ""
}

// baseURL is the scheme and host the request reached this server at, for
// absolute links a person can cite elsewhere. The scheme is the
// connection's (TLS or not); X-Forwarded-Proto counts only when the server
// is configured to trust its proxy, as anyone can send the header.
func (q *request) baseURL() string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	if q.h.cfg.TrustForwardedProto {
		if p := strings.ToLower(strings.TrimSpace(q.r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
	}
	host := q.r.Host
	if host == "" || strings.ContainsAny(host, "/\\ \"<>") {
		host = "localhost"
	}
	return scheme + "://" + host
}

// writeCSV answers the page's main table as CSV.
func (h *Handler) writeCSV(w http.ResponseWriter, q *request, d *pageData) {
	if d.Table == nil {
		h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "this page has no table to download",
			fields: []fieldError{{"format", "this page has no table to download"}}})
		return
	}
	var buf bytes.Buffer
	// The first line names where the numbers come from, as the API's CSV
	// does: a "#" comment spreadsheet tools skip or show as one cell.
	buf.WriteString(d.provenanceLine())
	buf.WriteByte('\n')
	cw := csv.NewWriter(&buf)
	header, rows := d.Table.csv()
	cw.Write(header) //nolint:errcheck // a bytes.Buffer does not fail
	for _, row := range rows {
		cw.Write(row) //nolint:errcheck // a bytes.Buffer does not fail
	}
	cw.Flush()
	name := strings.Trim(strings.ReplaceAll(q.r.URL.Path, "/", "-"), "-")
	if name == "" {
		name = "figures"
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"-"+q.lang+`.csv"`)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// assetHandler serves the embedded stylesheet and images; they change
// only with the binary.
func assetHandler(assets fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(b) //nolint:errcheck // the client went away
	})
}

// provenanceLine is a CSV download's first line: the checkpoint the page
// read its numbers at (or that none is signed yet), its time axes and
// the permalink that shows the same table again.
func (d *pageData) provenanceLine() string {
	var b strings.Builder
	b.WriteString("# provenance")
	if d.CheckpointSize > 0 {
		fmt.Fprintf(&b, " basis=latest-checkpoint tree_size=%d root_hash=%s", d.CheckpointSize, d.CheckpointRoot)
	} else {
		b.WriteString(" basis=live checkpoint=none")
	}
	if d.AsOf != "" {
		b.WriteString(" as_of=" + d.AsOf)
	}
	if d.KnownAt != "" {
		b.WriteString(" known_at=" + d.KnownAt)
	}
	if d.Permalink != "" {
		b.WriteString(" permalink=" + strings.ReplaceAll(d.Permalink, " ", "%20"))
	}
	return b.String()
}
