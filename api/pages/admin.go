package pages

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"promiseledger/api"
	"promiseledger/api/session"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/projections"
)

// The administrator's forms: register a roadmap and issue or revoke
// tokens on /admin (linked from the header for administrators only);
// assign and unassign a roadmap's responsibles on the roadmap's page. The
// policies are the API's (api.MayAdminister, api.MayChangeRoadmap).

// issuedToken is a token issued by this very request: its secret is shown
// once, on the page answering the form, and never again.
type issuedToken struct {
	name, secret string
	// again: the form's key had issued a token before (a double submit);
	// its secret is not shown again.
	again bool
}

// mayAdminister asks the API's policy for the administrators' writes.
func mayAdminister(_ context.Context, _ *Handler, s *session.Session, _ string, _ url.Values) error {
	return api.MayAdminister(s.TokenHolder, "use the administration forms")
}

func mayChangeRoadmap(ctx context.Context, h *Handler, s *session.Session, id string, _ url.Values) error {
	return api.MayChangeRoadmap(ctx, h.cfg.WriteDB, h.cfg.Store, s.TokenHolder, id)
}

// admin is GET /admin: the administrator's forms and the tokens.
func (h *Handler) admin(q *request) (*pageData, error) {
	if h.cfg.Sessions == nil {
		return nil, notFound("signing in is off on this server")
	}
	if q.sess == nil {
		return nil, &pageError{status: http.StatusUnauthorized, key: "error.signin_required", detail: "sign in as an administrator first"}
	}
	if err := api.MayAdminister(q.sess.TokenHolder, "use the administration forms"); err != nil {
		return nil, policyError(err)
	}
	t := func(k string) string { return h.cat.t(q.lang, k) }
	d := &pageData{Title: t("admin.title"), Lead: t("admin.lead")}
	if it := q.issued; it != nil {
		sec := section{ID: "token-issued", Heading: t("admin.issued")}
		if it.again {
			sec.Paras = []string{fmt.Sprintf(t("admin.issued_again"), it.name)}
		} else {
			sec.Paras = []string{fmt.Sprintf(t("admin.issued_once"), it.name)}
			sec.Code = []string{it.secret}
		}
		d.Sections = append(d.Sections, sec)
	}
	programs, err := programOptions(q, h)
	if err != nil {
		return nil, err
	}
	levels := []formOption{{Value: string(domain.LevelRepublican), Label: t("level.republican")}, {Value: string(domain.LevelRegional), Label: t("level.regional")}}
	var fields []formField
	if len(programs) > 0 {
		fields = append(fields, formField{Name: "program_id", Label: t("form.roadmap.program_id"), Type: "select", Options: programs})
	} else {
		fields = append(fields, formField{Name: "program_id", Label: t("form.roadmap.program_id"), Type: "text"})
	}
	fields = append(fields,
		formField{Name: "territory_kato", Label: t("form.roadmap.territory_kato"), Hint: t("form.roadmap.territory_kato_hint"), Type: "text"},
		formField{Name: "level", Label: t("form.roadmap.level"), Type: "select", Options: levels},
		formField{Name: "title_kk", Label: t("form.draft.title_kk"), Type: "text"},
		formField{Name: "title_ru", Label: t("form.draft.title_ru"), Type: "text"},
		formField{Name: "title_en", Label: t("form.draft.title_en"), Type: "text"},
		formField{Name: "period_start", Label: t("form.roadmap.period_start"), Type: "date"},
		formField{Name: "period_end", Label: t("form.roadmap.period_end"), Type: "date"},
	)
	d.Forms = append(d.Forms, h.buildForm(q, "roadmap", "/admin/roadmap", 0, fields))
	roles := []formOption{}
	for _, r := range []api.Role{api.RoleOfficer, api.RoleCouncil, api.RoleDeputy, api.RoleAdmin} {
		roles = append(roles, formOption{Value: string(r), Label: t("actor." + string(r))})
	}
	d.Forms = append(d.Forms, h.buildForm(q, "token", "/admin/token", 0, []formField{
		{Name: "name", Label: t("form.token.name"), Hint: t("form.token.name_hint"), Type: "text"},
		{Name: "role", Label: t("form.token.role"), Type: "select", Options: roles},
		{Name: "person_id", Label: t("form.token.person_id"), Hint: t("form.token.person_id_hint"), Type: "text"},
	}))
	tokens, err := api.ListTokens(q.ctx, h.cfg.WriteDB)
	if err != nil {
		return nil, err
	}
	tab := &table{Caption: t("admin.tokens_caption"), Header: []string{t("col.name"), t("col.role"), t("form.token.person_id"), t("admin.created"),
		t("admin.last_used"), t("admin.revoked")}}
	var live []formOption
	for _, tk := range slices.Backward(tokens) {
		used, revoked := "—", "—"
		if tk.LastUsedAt != nil {
			used = stamp(*tk.LastUsedAt)
		}
		if tk.RevokedAt != nil {
			revoked = stamp(*tk.RevokedAt)
		} else {
			live = append(live, formOption{Value: tk.ID.String(), Label: tk.Name + " (" + t("actor."+string(tk.Role)) + personSuffix(tk.PersonID) + ")"})
		}
		person := tk.PersonID
		if person == "" {
			person = "—"
		}
		tab.Rows = append(tab.Rows, []cell{{Text: tk.Name, Head: true}, {Text: t("actor." + string(tk.Role))}, {Text: person},
			{Text: stamp(tk.CreatedAt), Nowrap: true}, {Text: used, Nowrap: true}, {Text: revoked, Nowrap: true}})
	}
	if len(live) > 0 {
		d.Forms = append(d.Forms, h.buildForm(q, "revoke", "/admin/revoke", 0, []formField{
			{Name: "token_id", Label: t("form.revoke.token_id"), Type: "select", Options: live},
		}))
	}
	d.Sections = append(d.Sections,
		section{ID: "tokens", Heading: fmt.Sprintf(t("admin.tokens"), len(tokens)), Table: tab},
		section{ID: "responsibles", Heading: t("admin.responsibles"), Paras: []string{t("admin.responsibles_text")},
			Links: []navLink{{Label: t("nav.roadmaps"), URL: q.link("/roadmaps")}}})
	return d, nil
}

func personSuffix(id string) string {
	if id == "" {
		return ""
	}
	return ", " + id
}

// programOptions offers the registered programs.
func programOptions(q *request, h *Handler) ([]formOption, error) {
	ps, err := projections.ListPrograms(q.ctx, h.cfg.DB)
	if err != nil {
		return nil, err
	}
	var out []formOption
	for _, p := range ps {
		out = append(out, formOption{Value: p.ID, Label: text(p.Name, q.lang) + " (" + p.Period.Start.String() + " – " + p.Period.End.String() + ")"})
	}
	return out, nil
}

func runRegisterRoadmap(ctx context.Context, h *Handler, hd commands.Header, _ string, v url.Values, fe *formErrors) (commands.Result, error) {
	start, end := fe.date(v, "period_start"), fe.date(v, "period_end")
	if start == nil && !fe.any() {
		fe.add("period_start", "form.err.date")
	}
	if end == nil && !fe.any() {
		fe.add("period_end", "form.err.date")
	}
	if fe.any() {
		return commands.Result{}, errFormInvalid
	}
	return h.cfg.Commands.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: hd,
		ProgramID: strings.TrimSpace(v.Get("program_id")), TerritoryKATO: strings.TrimSpace(v.Get("territory_kato")),
		Level:  domain.RoadmapLevel(v.Get("level")),
		Title:  domain.Text{KK: strings.TrimSpace(v.Get("title_kk")), RU: strings.TrimSpace(v.Get("title_ru")), EN: strings.TrimSpace(v.Get("title_en"))},
		Period: domain.Period{Start: *start, End: *end}})
}

func runAssign(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	return h.cfg.Commands.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: hd, RoadmapID: id,
		PersonID: strings.TrimSpace(v.Get("person_id")), Role: domain.ResponsibleRole(v.Get("role")), DisplayName: strings.TrimSpace(v.Get("display_name"))})
}

func runUnassign(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	if hd.Reason == "" {
		fe.add("reason", "form.err.reason")
		return commands.Result{}, errFormInvalid
	}
	return h.cfg.Commands.UnassignRoadmapResponsible.Handle(ctx, commands.UnassignRoadmapResponsible{Header: hd, RoadmapID: id,
		PersonID: strings.TrimSpace(v.Get("person_id"))})
}

// roadmapForms are the forms on a roadmap's page for whoever may assign
// its responsibles.
func (h *Handler) roadmapForms(q *request, id string, version int64, current []domain.Responsible) ([]pageForm, error) {
	if q.sess == nil || q.hasAxes() {
		return nil, nil
	}
	if err := api.MayChangeRoadmap(q.ctx, h.cfg.WriteDB, h.cfg.Store, q.sess.TokenHolder, id); err != nil {
		if api.PolicyStatus(err) != 0 {
			return nil, nil
		}
		return nil, err
	}
	t := func(k string) string { return h.cat.t(q.lang, k) }
	roles := []formOption{{Value: string(domain.RoleOfficial), Label: t("role.official")}, {Value: string(domain.RoleDeputy), Label: t("role.deputy")}}
	forms := []pageForm{h.buildForm(q, "assign", "/roadmaps/"+id+"/assign", version, []formField{
		{Name: "person_id", Label: t("form.token.person_id"), Hint: t("form.assign.person_id_hint"), Type: "text"},
		{Name: "role", Label: t("form.token.role"), Type: "select", Options: roles},
		{Name: "display_name", Label: t("form.assign.display_name"), Type: "text"},
	})}
	if len(current) > 0 {
		var opts []formOption
		for _, p := range current {
			opts = append(opts, formOption{Value: p.PersonID, Label: p.DisplayName + " (" + t("role."+string(p.Role)) + ", " + p.PersonID + ")"})
		}
		forms = append(forms, h.buildForm(q, "unassign", "/roadmaps/"+id+"/unassign", version, []formField{
			{Name: "person_id", Label: t("form.unassign.person_id"), Type: "select", Options: opts},
			{Name: "reason", Label: t("form.reason"), Type: "textarea"},
		}))
	}
	return forms, nil
}

// tokenFields are the fields of the token forms besides csrf and key.
var tokenFields = map[string][]string{"token": {"name", "role", "person_id"}, "revoke": {"token_id"}}

// tokenPost serves POST /admin/token (issue) and /admin/revoke: not
// commands (tokens are the API's access list, not the record), but the
// same session, CSRF and policy checks as every form.
func (h *Handler) tokenPost(name string) http.Handler {
	pattern := "POST /admin/" + name
	rt := route{name: "admin", pattern: pattern}
	for _, r := range routeTable() {
		if r.name == "admin" {
			rt = r
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, ok := h.startPost(w, r, rt, pattern, "forms are off on this server")
		if !ok {
			return
		}
		sess, v, ok := h.formSession(w, r, q)
		if !ok {
			return
		}
		if err := api.MayAdminister(sess.TokenHolder, "issue and revoke tokens"); err != nil {
			h.fail(w, q, policyError(err))
			return
		}
		fe := &formErrors{}
		for field, vals := range v {
			if !slices.Contains(tokenFields[name], field) && !slices.Contains([]string{"csrf", "key", "version"}, field) {
				h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "the form has a field it does not take: " + field,
					fields: []fieldError{{field, "unknown field"}}})
				return
			}
			for _, s := range vals {
				if !plainText(s) || len(s) > 200 {
					fe.add(field, "form.err.text")
				}
			}
		}
		key, kerr := uuid.Parse(v.Get("key"))
		if kerr != nil {
			h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "the form lacks its key: reload the page"})
			return
		}
		f := formDef{name: name, page: "admin", fields: tokenFields[name], redisp: (*Handler).admin}
		if fe.any() {
			h.redisplay(w, q, f, http.StatusUnprocessableEntity, &posted{name: name, values: v, errs: h.messages(q.lang, fe)})
			return
		}
		if name == "revoke" {
			id, err := uuid.Parse(v.Get("token_id"))
			if err == nil {
				err = api.RevokeToken(q.ctx, h.cfg.WriteDB, id)
			}
			if err != nil && (errors.Is(err, api.ErrTokenNotFound) || id == uuid.Nil) {
				fe.add("token_id", "form.err.token")
				h.redisplay(w, q, f, http.StatusUnprocessableEntity, &posted{name: name, values: v, errs: h.messages(q.lang, fe)})
				return
			}
			if err != nil {
				h.fail(w, q, err)
				return
			}
			http.Redirect(w, r, "/admin?lang="+q.lang+"#tokens", http.StatusSeeOther)
			return
		}
		issued, err := h.issueToken(q.ctx, sess, key, api.TokenSpec{Name: v.Get("name"), Role: api.Role(v.Get("role")), PersonID: v.Get("person_id")})
		var ve domain.ValidationErrors
		switch {
		case errors.As(err, &ve):
			for _, e := range ve {
				switch e.Field {
				case "name":
					fe.add("name", "form.err.required")
				case "role":
					fe.add("role", "form.err.role")
				case "person_id":
					fe.add("person_id", "form.err.person_required")
				}
			}
			h.redisplay(w, q, f, http.StatusUnprocessableEntity, &posted{name: name, values: v, errs: h.messages(q.lang, fe)})
			return
		case err != nil:
			h.fail(w, q, err)
			return
		}
		// The secret is in this answer only: no redirect (the page it would
		// lead to cannot show it again), never cached (startPost).
		q.issued = issued
		h.redisplay(w, q, f, http.StatusOK, &posted{name: name, values: url.Values{}, fresh: true})
	})
}

// issueToken issues the token the form's key names, once: a second post
// of the same form finds the first token and shows no secret.
func (h *Handler) issueToken(ctx context.Context, s *session.Session, key uuid.UUID, spec api.TokenSpec) (*issuedToken, error) {
	tx, err := h.cfg.WriteDB.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// One issue per key, also for two posts at the same moment.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "api_token_issues:"+key.String()); err != nil {
		return nil, err
	}
	var name string
	err = tx.GetContext(ctx, &name, `SELECT t.name FROM api_token_issues i JOIN api_tokens t ON t.id = i.token_id WHERE i.form_key = $1`, key)
	switch {
	case err == nil:
		return &issuedToken{name: name, again: true}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	secret, tok, err := api.CreateToken(ctx, tx, spec)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_token_issues (form_key, token_id, issued_by) VALUES ($1, $2, $3)`, key, tok.ID, s.TokenID); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &issuedToken{name: tok.Name, secret: secret}, nil
}

// roadmapHistory is a roadmap's events, newest first, from the log.
func (h *Handler) roadmapHistory(q *request, id string) ([]timelineItem, error) {
	if h.cfg.Store == nil {
		return nil, nil
	}
	t := func(k string) string { return h.cat.t(q.lang, k) }
	recs, err := h.cfg.Store.ReadStream(q.ctx, domain.RoadmapStream(id), eventstore.Version(1), 1000)
	if err != nil {
		return nil, err
	}
	proof := "/v1/audit/streams/" + domain.RoadmapStream(id) + "/history"
	var items []timelineItem
	for _, rec := range recs {
		ev, m, err := domain.Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			return nil, err
		}
		if q.axes.KnownAt != nil && m.RecordedAt.After(*q.axes.KnownAt) {
			continue
		}
		kind, detail := h.describeRoadmap(q.lang, ev)
		it := timelineItem{Kind: kind, Badge: "status", EventID: m.EventID.String(), Facts: []fact{
			{Term: t("event.recorded"), Value: stamp(m.RecordedAt), Nowrap: true},
			{Term: t("event.who"), Value: h.who(q.lang, people{}, m)},
		}}
		it.Facts = append(it.Facts, closingFacts(t, detail, m, proof)...)
		items = append(items, it)
	}
	slices.Reverse(items)
	return items, nil
}

func (h *Handler) describeRoadmap(lang string, e domain.Event) (kind, detail string) {
	t := func(k string) string { return h.cat.t(lang, k) }
	switch e := e.(type) {
	case domain.RoadmapRegistered:
		return t("mevent.registered"), text(e.Title, lang) + " (" + e.Period.Start.String() + " – " + e.Period.End.String() + ")"
	case domain.RoadmapActivated:
		return t("mevent.activated"), ""
	case domain.RoadmapClosed:
		return t("mevent.closed"), ""
	case domain.RoadmapResponsibleAssigned:
		return t("mevent.assigned"), e.DisplayName + " (" + t("role."+string(e.Role)) + ", " + e.PersonID + ")"
	case domain.RoadmapResponsibleUnassigned:
		return t("mevent.unassigned"), e.PersonID
	}
	return e.EventType(), ""
}
