package pages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"promiseledger/api"
	"promiseledger/api/councils"
	"promiseledger/api/session"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/projections"
)

// The write forms. Each posts through the same command handlers as the
// API, after the same policy (api.MayChangeIndicator...), and a refused
// form appends nothing:
//
//  1. a live session (401 page), else nothing is read;
//  2. the session's CSRF token in the form (403);
//  3. the policy (403, 404);
//  4. the fields: errors shown next to each field (422);
//  5. the command, with the event id derived from the form's key (a
//     double submit records once) and the version the form was rendered
//     at (a stale form is refused, 409, naming what changed);
//  6. read-your-writes: wait for the projector to pass the new event, then
//     303 to the page that shows it.

// maxFormBytes caps a posted form.
const maxFormBytes = 64 << 10

// formKeyNamespace derives event ids from form keys. Fixed forever.
var formKeyNamespace = uuid.MustParse("2d0c7b8e-3f51-4a8f-9a0e-6b1d5f4c2e97")

// pageForm is a form as the template shows it.
type pageForm struct {
	ID      string
	Heading string
	Lead    string
	Action  string
	Submit  string
	Hidden  []hiddenField
	Fields  []formField
	// Error is the form's own problem (stale, refused), shown above it;
	// Changes name what changed since the form was rendered.
	Error   string
	Changes []string
}

type hiddenField struct{ Name, Value string }

type formField struct {
	Name, Label, Hint, Type, Value, Error string
	Checked                               bool
	Options                               []formOption
}

// ID is the control's id, unique on the page: forms share field names.
func (f formField) ID(form string) string { return form + "-" + strings.ReplaceAll(f.Name, "_", "-") }

// InputType is the input's type: numbers are text with a decimal
// keyboard, so that "12,5" (as kk and ru write it) is not refused by the
// browser before the server can say what it reads.
func (f formField) InputType() string {
	if f.Type == "number" {
		return "text"
	}
	return f.Type
}

func (f formField) InputMode() string {
	if f.Type == "number" {
		return "decimal"
	}
	return ""
}

type formOption struct {
	Value, Label string
	Selected     bool
}

// posted is a form sent back to its page: its values, errors and the
// problem of the whole form.
type posted struct {
	name    string
	values  url.Values
	errs    map[string]string // field -> message, in the page's language
	problem string
	changes []string
	// fresh: render a new key and the current version (the form was
	// stale and may be redone), rather than the posted ones.
	fresh bool
}

// formDef is one form: where it lives and what it runs.
type formDef struct {
	name   string // path suffix and form id: POST /measures/{id}/report
	page   string // the page's template and route name
	fields []string
	// policy is the API's policy for the same write; v is the posted form
	// (an assessment names its council there).
	policy  func(ctx context.Context, h *Handler, s *session.Session, id string, v url.Values) error
	run     func(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error)
	reader  string // the projector whose checkpoint the page reads
	redisp  func(h *Handler, q *request) (*pageData, error)
	landing func(id string, res commands.Result) string
}

// formDefs lists the forms; their routes are POST <page path>/<name>.
func formDefs() []formDef {
	indicator := func(ctx context.Context, h *Handler, s *session.Session, id string, _ url.Values) error {
		return api.MayChangeIndicator(ctx, h.cfg.WriteDB, h.cfg.Store, s.TokenHolder, id)
	}
	// A deputy replies on their own page, to an assessment the API lets
	// them answer.
	respondent := func(ctx context.Context, h *Handler, s *session.Session, id string, v url.Values) error {
		if id != s.Actor().ID {
			return &pageError{status: http.StatusForbidden, key: "error.forbidden", detail: "reply on your own page"}
		}
		return councils.MayReply(ctx, h.cfg.WriteDB, v.Get("assessment_id"), s.Actor().ID)
	}
	member := func(ctx context.Context, h *Handler, s *session.Session, _ string, v url.Values) error {
		return councils.MayAssess(ctx, h.cfg.WriteDB, v.Get("council_id"), s.Actor().ID)
	}
	measure := func(id string, res commands.Result) string {
		return "/measures/" + id
	}
	roadmap := func(id string, _ commands.Result) string { return "/roadmaps/" + id }
	return []formDef{
		{name: "report", page: "measure", fields: []string{"value", "done", "evidence_url", "evidence_description", "evidence_sha256"},
			policy: indicator, run: runReport, reader: projections.IndicatorsName, redisp: (*Handler).measure, landing: measure},
		{name: "correct", page: "measure", fields: []string{"corrects", "value", "done", "evidence_url", "evidence_description", "evidence_sha256", "reason"},
			policy: indicator, run: runCorrect, reader: projections.IndicatorsName, redisp: (*Handler).measure, landing: measure},
		{name: "retarget", page: "measure", fields: []string{"target", "deadline", "reason"},
			policy: indicator, run: runRetarget, reader: projections.IndicatorsName, redisp: (*Handler).measure, landing: measure},
		{name: "cancel", page: "measure", fields: []string{"reason"},
			policy: indicator, run: runCancel, reader: projections.IndicatorsName, redisp: (*Handler).measure, landing: measure},
		{name: "reply", page: "deputy", fields: []string{"assessment_id", "reply", "evidence_url", "evidence_description", "evidence_sha256"},
			policy: respondent, run: runReply, reader: projections.CouncilsName, redisp: (*Handler).deputy,
			landing: func(id string, _ commands.Result) string { return "/deputies/" + id }},
		{name: "draft", page: "council", fields: draftFields, policy: mayDraft, run: runDraft, reader: projections.CouncilsName,
			redisp: (*Handler).council, landing: func(_ string, res commands.Result) string { return "/recommendations/" + res.ID }},
		{name: "roadmap", page: "admin", fields: []string{"program_id", "territory_kato", "level", "title_kk", "title_ru", "title_en", "period_start", "period_end"},
			policy: mayAdminister, run: runRegisterRoadmap, reader: projections.CatalogName, redisp: (*Handler).admin,
			landing: func(_ string, res commands.Result) string { return "/roadmaps/" + res.ID }},
		{name: "assign", page: "roadmap", fields: []string{"person_id", "role", "display_name"},
			policy: mayChangeRoadmap, run: runAssign, reader: projections.CatalogName, redisp: (*Handler).roadmap, landing: roadmap},
		{name: "unassign", page: "roadmap", fields: []string{"person_id", "reason"},
			policy: mayChangeRoadmap, run: runUnassign, reader: projections.CatalogName, redisp: (*Handler).roadmap, landing: roadmap},
		{name: "rating_reply", page: "deputy", fields: ratingReplyFields, policy: ownPage, run: runRatingReply, reader: projections.RatingsName,
			redisp: (*Handler).deputy, landing: func(id string, _ commands.Result) string { return "/deputies/" + id }},
		{name: "assess", page: "measure", fields: []string{"council_id", "position", "comment", "evidence_url", "evidence_description", "evidence_sha256"},
			policy: member, run: runAssess, reader: projections.CouncilsName, redisp: (*Handler).measure, landing: measure},
	}
}

// formPattern is a form's POST route.
func (f formDef) pattern() string {
	switch f.page {
	case "measure":
		return "POST /measures/{id}/" + f.name
	case "deputy":
		return "POST /deputies/{id}/" + f.name
	case "council":
		return "POST /councils/{id}/" + f.name
	case "roadmap":
		return "POST /roadmaps/{id}/" + f.name
	case "admin":
		return "POST /admin/" + f.name
	}
	panic("pages: form on unknown page " + f.page)
}

// formErrors collects field errors as catalog keys.
type formErrors struct {
	errs map[string]string // field -> catalog key
}

func (fe *formErrors) add(field, key string) {
	if fe.errs == nil {
		fe.errs = map[string]string{}
	}
	if _, ok := fe.errs[field]; !ok {
		fe.errs[field] = key
	}
}

func (fe *formErrors) any() bool { return len(fe.errs) > 0 }

// errFormInvalid stops a run whose fields were refused.
var errFormInvalid = errors.New("pages: the form has field errors")

// number reads an optional decimal number ("12.5" or "12,5").
func (fe *formErrors) number(v url.Values, field string) *float64 {
	s := strings.ReplaceAll(strings.TrimSpace(v.Get(field)), ",", ".")
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f > 1e15 || f < -1e15 {
		fe.add(field, "form.err.number")
		return nil
	}
	return &f
}

func (fe *formErrors) date(v url.Values, field string) *domain.Date {
	s := strings.TrimSpace(v.Get(field))
	if s == "" {
		return nil
	}
	d, err := domain.ParseDate(s)
	if err != nil || !d.Valid() {
		fe.add(field, "form.err.date")
		return nil
	}
	return &d
}

func evidenceOf(v url.Values) domain.Evidence {
	return domain.Evidence{URL: strings.TrimSpace(v.Get("evidence_url")), Description: strings.TrimSpace(v.Get("evidence_description")),
		SHA256: strings.TrimSpace(v.Get("evidence_sha256"))}
}

// reading reads the value or done box the measure's kind takes.
func (fe *formErrors) reading(ctx context.Context, h *Handler, id string, v url.Values) domain.Reading {
	r := domain.Reading{Value: fe.number(v, "value"), Done: v.Get("done") == "on" || v.Get("done") == "true"}
	cur, err := projections.GetIndicator(ctx, h.cfg.DB, id, h.today())
	if err == nil && cur.Kind != domain.KindMilestone && r.Value == nil && !fe.any() {
		fe.add("value", "form.err.value_required")
	}
	return r
}

func runReport(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	r := fe.reading(ctx, h, id, v)
	ev := evidenceOf(v)
	if ev.URL == "" && ev.SHA256 == "" {
		fe.add("evidence_url", "form.err.evidence")
	}
	if fe.any() {
		return commands.Result{}, errFormInvalid
	}
	return h.cfg.Commands.ReportProgress.Handle(ctx, commands.ReportProgress{Header: hd, IndicatorID: id, Value: r.Value, Done: r.Done, Evidence: ev})
}

func runCorrect(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	corrects := strings.TrimSpace(v.Get("corrects"))
	if corrects == "" {
		fe.add("corrects", "form.err.corrects")
	}
	r := fe.reading(ctx, h, id, v)
	ev := evidenceOf(v)
	if ev.URL == "" && ev.SHA256 == "" {
		fe.add("evidence_url", "form.err.evidence")
	}
	if hd.Reason == "" {
		fe.add("reason", "form.err.reason")
	}
	if fe.any() {
		return commands.Result{}, errFormInvalid
	}
	return h.cfg.Commands.CorrectReport.Handle(ctx, commands.CorrectReport{Header: hd, IndicatorID: id, Corrects: corrects, Value: r.Value, Done: r.Done, Evidence: ev})
}

func runRetarget(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	target := fe.number(v, "target")
	deadline := fe.date(v, "deadline")
	if hd.Reason == "" {
		fe.add("reason", "form.err.reason")
	}
	if target == nil && deadline == nil && !fe.any() {
		fe.add("target", "form.err.retarget_nothing")
	}
	if fe.any() {
		return commands.Result{}, errFormInvalid
	}
	return h.cfg.Commands.RetargetIndicator.Handle(ctx, commands.RetargetIndicator{Header: hd, IndicatorID: id, Target: target, Deadline: deadline})
}

// runAssess records a council's assessment of the measure through the
// API's RecordAssessment handler. The assessment is a new stream (its id is
// the event id the form's key derives, so a double submit finds it); the
// form's version is the measure's, so that an assessment of a measure that
// changed since the page was read is refused as stale, naming the change.
func runAssess(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	pos := domain.AssessmentPosition(strings.TrimSpace(v.Get("position")))
	if !pos.Valid() {
		fe.add("position", "form.err.position")
	}
	comment := strings.TrimSpace(v.Get("comment"))
	if comment == "" {
		fe.add("comment", "form.err.comment")
	}
	if fe.any() {
		return commands.Result{}, errFormInvalid
	}
	cur, err := h.cfg.Store.StreamVersion(ctx, domain.IndicatorStream(id))
	if err != nil {
		return commands.Result{}, err
	}
	// post always pins the form's version.
	if int64(cur) != *hd.ExpectedVersion {
		return commands.Result{}, &eventstore.ConflictError{Stream: domain.IndicatorStream(id), Expected: eventstore.Exactly(*hd.ExpectedVersion), Actual: cur}
	}
	fresh := int64(0)
	hd.ExpectedVersion = &fresh
	return h.cfg.Commands.RecordAssessment.Handle(ctx, commands.RecordAssessment{Header: hd, CouncilID: strings.TrimSpace(v.Get("council_id")),
		IndicatorID: id, Position: pos, Comment: comment, Evidence: evidenceOf(v)})
}

// runReply records the signed-in deputy's reply through the API's
// ReplyToAssessment handler, pinned to the assessment's version as read.
func runReply(ctx context.Context, h *Handler, hd commands.Header, _ string, v url.Values, fe *formErrors) (commands.Result, error) {
	reply := strings.TrimSpace(v.Get("reply"))
	if reply == "" {
		fe.add("reply", "form.err.reply")
		return commands.Result{}, errFormInvalid
	}
	return h.cfg.Commands.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{Header: hd, AssessmentID: strings.TrimSpace(v.Get("assessment_id")),
		RespondentID: hd.Actor.ID, Reply: reply, Evidence: evidenceOf(v)})
}

func runCancel(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	if hd.Reason == "" {
		fe.add("reason", "form.err.reason")
		return commands.Result{}, errFormInvalid
	}
	return h.cfg.Commands.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: hd, IndicatorID: id})
}

// domainField maps a domain validation error's field to the form field
// it is shown next to, and the catalog key that says it in the page's
// language.
func domainField(f formDef, e *domain.ValidationError) (field, key string) {
	switch {
	case errors.Is(e.Err, domain.ErrReasonRequired):
		return "reason", "form.err.reason"
	case e.Field == "evidence":
		return "evidence_url", "form.err.evidence"
	case e.Field == "evidence.url":
		return "evidence_url", "form.err.url"
	case e.Field == "evidence.sha256":
		return "evidence_sha256", "form.err.sha256"
	case e.Field == "evidence.description":
		return "evidence_description", "form.err.text"
	case e.Field == "reason":
		return "reason", "form.err.text"
	case e.Field == "comment":
		return "comment", "form.err.text"
	case e.Field == "reply":
		return "reply", "form.err.text"
	case e.Field == "position":
		return "position", "form.err.position"
	case e.Field == "council_id" && slices.Contains(f.fields, "council_id"):
		return "council_id", "form.err.rejected"
	case strings.HasPrefix(e.Field, "links.indicator_ids") && slices.Contains(f.fields, "measure_id"):
		return "measure_id", "form.err.measure"
	case e.Field == "person_id" && slices.Contains(f.fields, "person_id") && !strings.HasPrefix(e.Problem, "is required"):
		return "person_id", "form.err.person"
	case errors.Is(e.Err, domain.ErrUnknownReference) && slices.Contains(f.fields, flatField(e.Field)):
		return flatField(e.Field), "form.err.unknown"
	case slices.Contains(f.fields, flatField(e.Field)):
		// A field the form names as the domain does (title.kk as title_kk).
		if strings.HasPrefix(e.Problem, "is required") {
			return flatField(e.Field), "form.err.required"
		}
		if e.Field == "addressee.id" {
			return "addressee_id", "form.err.slug"
		}
		return flatField(e.Field), "form.err.text"
	case e.Field == "value" || e.Field == "done" || e.Field == "target" || e.Field == "deadline" || e.Field == "corrects":
		if slices.Contains(f.fields, e.Field) {
			return e.Field, "form.err.rejected"
		}
	}
	return "", "form.err.rejected"
}

// flatField is the form's name of a domain field: title.kk is title_kk,
// and a state body's name addressee.name.kk is addressee_kk.
func flatField(field string) string {
	return strings.ReplaceAll(strings.Replace(field, "addressee.name.", "addressee.", 1), ".", "_")
}

// startPost begins every POST of the pages (forms, sign-in, sign-out):
// never cached, the shared parameter check of the URL (pattern names its
// path values), the reader's language, and a 404 when sessions are off.
// rt is the page the answer renders as.
func (h *Handler) startPost(w http.ResponseWriter, r *http.Request, rt route, pattern, off string) (*request, bool) {
	w.Header().Set("Cache-Control", "no-store")
	q := &request{h: h, ctx: r.Context(), r: r, w: w, route: rt}
	if err := (route{pattern: pattern}).spec().Check(r); err != nil {
		h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: err.Error()})
		return nil, false
	}
	q.lang = h.negotiate(w, r, q)
	q.errs = nil
	if h.cfg.Sessions == nil {
		h.fail(w, q, notFound(off))
		return nil, false
	}
	return q, true
}

// formSession is the first part of every form's POST: a live session
// (401), the form read (400), the session's CSRF token in it (403). It
// answers the refusal itself.
func (h *Handler) formSession(w http.ResponseWriter, r *http.Request, q *request) (*session.Session, url.Values, bool) {
	sess, err := h.cfg.Sessions.FromRequest(r)
	if err != nil {
		h.fail(w, q, err)
		return nil, nil, false
	}
	if sess == nil {
		h.fail(w, q, &pageError{status: http.StatusUnauthorized, key: "error.signin_required", detail: "sign in first: this form needs a session"})
		return nil, nil, false
	}
	q.sess = sess
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "the form could not be read: " + err.Error()})
		return nil, nil, false
	}
	if !sess.CheckCSRF(r.PostForm.Get("csrf")) {
		h.fail(w, q, &pageError{status: http.StatusForbidden, key: "error.csrf", detail: "the form's security token is missing or not this session's: reload the page and send it again"})
		return nil, nil, false
	}
	return sess, r.PostForm, true
}

func (h *Handler) post(f formDef) http.Handler {
	rt := route{name: f.page, pattern: f.pattern()}
	for _, r := range routeTable() {
		if r.name == f.page {
			rt = r
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, ok := h.startPost(w, r, rt, f.pattern(), "forms are off on this server")
		if !ok {
			return
		}
		sess, v, ok := h.formSession(w, r, q)
		if !ok {
			return
		}
		id := r.PathValue("id")
		validID := domain.ValidateID
		if f.page == "deputy" {
			validID = domain.ValidatePersonID
		}
		if f.page != "admin" && validID("id", id) != nil {
			h.fail(w, q, notFound("there is no such record"))
			return
		}
		var err error
		if err = f.policy(q.ctx, h, sess, id, v); err != nil {
			var pe *pageError
			if errors.As(err, &pe) {
				h.fail(w, q, pe)
				return
			}
			h.fail(w, q, policyError(err))
			return
		}
		fe := &formErrors{}
		for name, vals := range v {
			if !slices.Contains(f.fields, name) && !slices.Contains([]string{"csrf", "key", "version"}, name) {
				h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "the form has a field it does not take: " + name,
					fields: []fieldError{{name, "unknown field"}}})
				return
			}
			for _, s := range vals {
				if !plainText(s) {
					fe.add(name, "form.err.text")
				}
			}
		}
		key := v.Get("key")
		version, verr := strconv.ParseInt(v.Get("version"), 10, 64)
		if _, kerr := uuid.Parse(key); kerr != nil || verr != nil || version < 0 {
			h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "the form lacks its key or version: reload the page"})
			return
		}
		hd := commands.Header{Actor: sess.Actor(), Reason: strings.TrimSpace(v.Get("reason")), ExpectedVersion: &version,
			EventID: uuid.NewSHA1(formKeyNamespace, []byte(sess.TokenID.String()+"\n"+f.pattern()+"\n"+id+"\n"+key))}
		var res commands.Result
		if !fe.any() {
			res, err = f.run(q.ctx, h, hd, id, v, fe)
		}
		var ve domain.ValidationErrors
		var conflict *eventstore.ConflictError
		switch {
		case fe.any() || errors.Is(err, errFormInvalid):
			h.redisplay(w, q, f, http.StatusUnprocessableEntity, &posted{name: f.name, values: v, errs: h.messages(q.lang, fe)})
			return
		case errors.As(err, &ve):
			p := &posted{name: f.name, values: v, errs: map[string]string{}}
			for _, e := range ve {
				field, k := domainField(f, e)
				if field == "" {
					p.problem = h.cat.t(q.lang, k)
					continue
				}
				if _, ok := p.errs[field]; !ok {
					p.errs[field] = h.cat.t(q.lang, k)
				}
			}
			h.redisplay(w, q, f, http.StatusUnprocessableEntity, p)
			return
		case errors.As(err, &conflict):
			// Show the page as it is now: wait for the projector to pass the
			// events that made the form stale.
			reader := f.reader
			if conflict.Stream == domain.IndicatorStream(id) {
				reader = projections.IndicatorsName
			}
			if err := h.awaitProjection(q.ctx, reader, commands.Result{Stream: conflict.Stream, Version: int64(conflict.Actual)}); err != nil {
				h.fail(w, q, err)
				return
			}
			changes, cerr := h.changesSince(q.ctx, q.lang, conflict.Stream, version)
			if cerr != nil {
				h.fail(w, q, cerr)
				return
			}
			stale := h.cat.t(q.lang, "form.stale")
			switch f.name {
			case "reply", "rating_reply":
				stale = h.cat.t(q.lang, "form."+f.name+".stale")
			}
			h.redisplay(w, q, f, http.StatusConflict, &posted{name: f.name, values: v, problem: stale, changes: changes, fresh: true})
			return
		case errors.Is(err, domain.ErrNotFound):
			h.fail(w, q, notFound(err.Error()))
			return
		case errors.As(err, new(*pageError)):
			h.fail(w, q, err)
			return
		case err != nil:
			if field, k, ok := ruleError(err); ok {
				p := &posted{name: f.name, values: v, errs: map[string]string{}}
				if field != "" && slices.Contains(f.fields, field) {
					p.errs[field] = h.cat.t(q.lang, k)
				} else {
					p.problem = h.cat.t(q.lang, k)
				}
				h.redisplay(w, q, f, http.StatusUnprocessableEntity, p)
				return
			}
			h.fail(w, q, err)
			return
		}
		if err := h.awaitProjection(q.ctx, f.reader, res); err != nil {
			h.fail(w, q, err)
			return
		}
		target := f.landing(id, res) + "?lang=" + q.lang
		if len(res.EventIDs) > 0 {
			target += "#e-" + res.EventIDs[0].String()
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// ruleError names, for a refusal of the domain's rules (a cancelled
// measure, a report corrected already), the field it belongs next to (""
// for the whole form) and the catalog key that says it.
func ruleError(err error) (field, key string, ok bool) {
	for _, r := range []struct {
		err        error
		field, key string
	}{
		{domain.ErrReportNotFound, "corrects", "form.err.corrects"},
		{domain.ErrAlreadyCorrected, "corrects", "form.err.already_corrected"},
		{domain.ErrTargetEqualsBaseline, "target", "form.err.target_baseline"},
		{domain.ErrAlreadyAssigned, "person_id", "form.err.assigned"},
		{domain.ErrNotAssigned, "person_id", "form.err.rejected"},
		{domain.ErrAlreadyExists, "", "form.err.exists"},
		{domain.ErrNotRespondent, "", "form.err.rejected"},
		{domain.ErrCancelled, "", "form.err.cancelled"},
		{domain.ErrWithdrawn, "", "form.err.withdrawn"},
		{domain.ErrRoadmapClosed, "", "form.err.closed"},
		{domain.ErrValidation, "", "form.err.rejected"},
		{domain.ErrInvalidTransition, "", "form.err.rejected"},
		{domain.ErrUnknownReference, "", "form.err.rejected"},
	} {
		if errors.Is(err, r.err) {
			return r.field, r.key, true
		}
	}
	return "", "", false
}

// plainText: valid UTF-8 without NUL or other control characters than
// line breaks and tabs; anything else is refused next to its field.
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f {
			return false
		}
	}
	return true
}

// policyError turns an API policy's refusal into the page's.
func policyError(err error) error {
	status := api.PolicyStatus(err)
	if status == 0 {
		status = councils.PolicyStatus(err)
	}
	switch status {
	case http.StatusForbidden:
		return &pageError{status: http.StatusForbidden, key: "error.forbidden", detail: err.Error()}
	case http.StatusNotFound:
		return &pageError{status: http.StatusNotFound, key: "error.not_found", detail: err.Error()}
	}
	return err
}

func (h *Handler) messages(lang string, fe *formErrors) map[string]string {
	out := map[string]string{}
	for f, k := range fe.errs {
		out[f] = h.cat.t(lang, k)
	}
	return out
}

// redisplay renders the form's page again with the posted form.
func (h *Handler) redisplay(w http.ResponseWriter, q *request, f formDef, status int, p *posted) {
	q.posted = p
	q.r.URL.RawQuery = url.Values{"lang": {q.lang}}.Encode()
	d, err := f.redisp(h, q)
	if err != nil {
		h.fail(w, q, err)
		return
	}
	if err := h.finishChrome(q, d); err != nil {
		h.fail(w, q, err)
		return
	}
	h.render(w, q, f.page, status, d)
}

// changesSince names the events appended to a stream after version.
func (h *Handler) changesSince(ctx context.Context, lang, stream string, version int64) ([]string, error) {
	recs, err := h.cfg.Store.ReadStream(ctx, stream, eventstore.Version(version+1), 20)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rec := range recs {
		ev, m, err := domain.Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			return nil, err
		}
		kind, _, detail, _ := h.describe(lang, ev, domain.Text{})
		line := kind + " — " + stamp(m.RecordedAt)
		if detail != "" {
			line += " — " + detail
		}
		if m.Reason != "" {
			line += " — " + m.Reason
		}
		out = append(out, line)
	}
	return out, nil
}

// awaitProjection waits, bounded by Config.ReadYourWrites, until the
// projector the landing page reads has applied the command's event, so
// that the page shows it. Past the bound the page is shown anyway (it
// marks itself as behind the log then).
func (h *Handler) awaitProjection(ctx context.Context, projector string, res commands.Result) error {
	if res.Stream == "" || res.Version == 0 {
		return nil
	}
	recs, err := h.cfg.Store.ReadStream(ctx, res.Stream, eventstore.Version(res.Version), 1)
	if err != nil || len(recs) == 0 {
		return err
	}
	pos := recs[0].Position
	deadline := time.Now().Add(h.cfg.ReadYourWrites)
	for pause := 5 * time.Millisecond; ; pause = min(pause*2, 100*time.Millisecond) {
		cp, err := projections.Checkpoint(ctx, h.cfg.DB, projector)
		if err != nil {
			return err
		}
		if !cp.Less(pos) {
			return nil
		}
		if time.Now().Add(pause).After(deadline) {
			h.cfg.Logger.WarnContext(ctx, "read-your-writes: the projector did not catch up in time", "projector", projector,
				"position", pos.String(), "checkpoint", cp.String(), "wait", h.cfg.ReadYourWrites)
			return nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// measureForms builds the forms a signed-in person may use on a measure's
// page: none on a past date (forms write now), none the API's policies
// refuse: an officer's, and a council member's assessment.
func (h *Handler) measureForms(q *request, id string, st domain.IndicatorState, version int64, reports []formOption) ([]pageForm, error) {
	if q.sess == nil || q.hasAxes() {
		return nil, nil
	}
	forms, err := h.officerForms(q, id, st, version, reports)
	if err != nil {
		return nil, err
	}
	assess, err := h.assessForm(q, id, version)
	if err != nil || assess == nil {
		return forms, err
	}
	return append(forms, *assess), nil
}

// assessForm is the assessment form, for a member of at least one
// council: the councils offered are those the API's policy lets them
// assess for.
func (h *Handler) assessForm(q *request, id string, version int64) (*pageForm, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	// The candidates come from the councils read model; the API's policy
	// has the last word on each.
	var ids []string
	if err := h.cfg.WriteDB.SelectContext(q.ctx, &ids, `SELECT DISTINCT council_id FROM rm_council_members
	WHERE generation = (SELECT active_generation FROM projectors WHERE name = 'councils.v1') AND member_id = $1 AND left_at IS NULL
	ORDER BY council_id LIMIT 50`, q.sess.Actor().ID); err != nil {
		return nil, err
	}
	var opts []formOption
	for _, cid := range ids {
		if err := councils.MayAssess(q.ctx, h.cfg.WriteDB, cid, q.sess.Actor().ID); err != nil {
			if councils.PolicyStatus(err) != 0 {
				continue
			}
			return nil, err
		}
		c, err := projections.GetCouncil(q.ctx, h.cfg.DB, cid)
		if err != nil {
			return nil, err
		}
		opts = append(opts, formOption{Value: cid, Label: text(c.Name, q.lang)})
	}
	if len(opts) == 0 {
		return nil, nil
	}
	f := h.buildForm(q, "assess", "/measures/"+id+"/assess", version, []formField{
		{Name: "council_id", Label: t("form.council"), Type: "select", Options: opts},
		{Name: "position", Label: t("form.position"), Type: "select", Options: []formOption{
			{Value: string(domain.PositionAgree), Label: t("position.agree")}, {Value: string(domain.PositionDisagree), Label: t("position.disagree")}}},
		{Name: "comment", Label: t("form.comment"), Type: "textarea"},
		{Name: "evidence_url", Label: t("form.evidence_url"), Hint: t("form.evidence_url_hint"), Type: "url"},
		{Name: "evidence_description", Label: t("form.evidence_description"), Type: "textarea"},
		{Name: "evidence_sha256", Label: t("form.evidence_sha256"), Hint: t("form.evidence_sha256_hint"), Type: "text"},
	})
	return &f, nil
}

// officerForms are the forms of the people who may change the measure.
func (h *Handler) officerForms(q *request, id string, st domain.IndicatorState, version int64, reports []formOption) ([]pageForm, error) {
	if err := api.MayChangeIndicator(q.ctx, h.cfg.WriteDB, h.cfg.Store, q.sess.TokenHolder, id); err != nil {
		if api.PolicyStatus(err) != 0 {
			return nil, nil
		}
		return nil, err
	}
	if st.Status == domain.StatusCancelled {
		return nil, nil
	}
	t := func(k string) string { return h.cat.t(q.lang, k) }
	reading := []formField{{Name: "value", Label: t("form.value"), Type: "number"}}
	if st.Kind == domain.KindMilestone {
		reading = []formField{{Name: "done", Label: t("form.done"), Type: "checkbox"}}
	}
	evidence := []formField{
		{Name: "evidence_url", Label: t("form.evidence_url"), Hint: t("form.evidence_url_hint"), Type: "url"},
		{Name: "evidence_description", Label: t("form.evidence_description"), Type: "textarea"},
		{Name: "evidence_sha256", Label: t("form.evidence_sha256"), Hint: t("form.evidence_sha256_hint"), Type: "text"},
	}
	reason := formField{Name: "reason", Label: t("form.reason"), Type: "textarea"}
	var forms []pageForm
	add := func(name string, fields []formField) {
		forms = append(forms, h.buildForm(q, name, "/measures/"+id+"/"+name, version, fields))
	}
	add("report", append(slices.Clone(reading), evidence...))
	if len(reports) > 0 {
		sel := formField{Name: "corrects", Label: t("form.corrects"), Type: "select", Options: reports}
		add("correct", append(append([]formField{sel}, reading...), append(slices.Clone(evidence), reason)...))
	}
	add("retarget", []formField{
		{Name: "target", Label: t("form.target"), Hint: fmt.Sprintf(t("form.now_hint"), numPtr(st.Target)), Type: "number"},
		{Name: "deadline", Label: t("form.deadline"), Hint: fmt.Sprintf(t("form.now_hint"), st.Deadline.String()), Type: "date"},
		reason,
	})
	add("cancel", []formField{reason})
	return forms, nil
}

// buildForm fills a form for the page: a fresh key per render, the
// version read, the session's CSRF token; a posted form gets its values
// and errors back.
func (h *Handler) buildForm(q *request, name, action string, version int64, fields []formField) pageForm {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	f := pageForm{ID: "form-" + name, Heading: t("form." + name + ".heading"), Lead: t("form." + name + ".lead"),
		Action: action + "?lang=" + q.lang, Submit: t("form." + name + ".submit")}
	key := uuid.NewString()
	ver := strconv.FormatInt(version, 10)
	p := q.posted
	if p != nil && p.name == name {
		if !p.fresh {
			// The same key: the form failed, nothing was recorded, and a
			// double submit of the corrected form must still record once.
			key, ver = p.values.Get("key"), p.values.Get("version")
		}
		f.Error, f.Changes = p.problem, p.changes
		for i := range fields {
			fd := &fields[i]
			fd.Value = p.values.Get(fd.Name)
			fd.Checked = fd.Type == "checkbox" && (fd.Value == "on" || fd.Value == "true")
			fd.Error = p.errs[fd.Name]
			for j := range fd.Options {
				fd.Options[j].Selected = fd.Options[j].Value == fd.Value
			}
		}
		if len(p.errs) > 0 && f.Error == "" {
			f.Error = t("form.has_errors")
		}
	}
	f.Fields = fields
	f.Hidden = []hiddenField{{"csrf", q.sess.CSRF()}, {"key", key}, {"version", ver}}
	return f
}

// replyForms are the signed-in deputy's reply forms on their own page: one
// per assessment the API's policy lets them answer and they have not
// answered yet, each pinned to that assessment's version.
func (h *Handler) replyForms(q *request, deputyID string, as []domain.AssessmentState) ([]pageForm, error) {
	if q.sess == nil || q.hasAxes() || q.sess.Actor().ID != deputyID {
		return nil, nil
	}
	t := func(k string) string { return h.cat.t(q.lang, k) }
	var forms []pageForm
	for _, a := range as {
		// A refused post comes back to its form even when the assessment
		// can no longer be answered (withdrawn meanwhile): it says why.
		refused := q.posted != nil && q.posted.values.Get("assessment_id") == a.ID
		if !refused && a.Withdrawn || slices.ContainsFunc(a.Replies, func(r domain.AssessmentReply) bool { return r.RespondentID == deputyID }) {
			continue
		}
		if err := councils.MayReply(q.ctx, h.cfg.WriteDB, a.ID, deputyID); err != nil {
			if councils.PolicyStatus(err) != 0 {
				continue
			}
			return nil, err
		}
		_, version, err := projections.GetAssessment(q.ctx, h.cfg.DB, a.ID)
		if err != nil {
			return nil, err
		}
		// Each form is one assessment's: a refused post comes back to its
		// own form only.
		own := *q
		if q.posted != nil && q.posted.values.Get("assessment_id") != a.ID {
			own.posted = nil
		}
		f := h.buildForm(&own, "reply", "/deputies/"+deputyID+"/reply", version, []formField{
			{Name: "reply", Label: t("form.reply"), Type: "textarea"},
			{Name: "evidence_url", Label: t("form.evidence_url"), Hint: t("form.evidence_url_hint"), Type: "url"},
			{Name: "evidence_description", Label: t("form.evidence_description"), Type: "textarea"},
			{Name: "evidence_sha256", Label: t("form.evidence_sha256"), Hint: t("form.evidence_sha256_hint"), Type: "text"},
		})
		f.ID = "form-reply-" + a.ID
		f.Lead = fmt.Sprintf(t("form.reply.lead"), stamp(a.AssessedAt), t("position."+string(a.Position)), a.Comment)
		f.Hidden = append(f.Hidden, hiddenField{"assessment_id", a.ID})
		forms = append(forms, f)
	}
	return forms, nil
}
