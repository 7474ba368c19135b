package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/projections"
)

// writeCommon holds the fields every write body may carry.
type writeCommon struct {
	// Reason says why; some commands require it.
	Reason string `json:"reason"`
	// ExpectedVersion pins the write to the version the client read; an
	// If-Match header wins over it.
	ExpectedVersion *int64 `json:"expected_version"`
	// EffectiveAt is when the fact became true (RFC 3339); default now.
	EffectiveAt string `json:"effective_at"`
}

func (c *writeCommon) common() *writeCommon { return c }

// commandBody is a pointer to a write body.
type commandBody[T any] interface {
	*T
	common() *writeCommon
}

// policy decides whether the principal may send a write to this target. It
// runs before the body is read and returns a *problem (403, 404) or an
// unexpected error.
type policy func(ctx context.Context, r *http.Request, p *principal) error

// writeSpec describes how a write route answers.
type writeSpec struct {
	policy  policy
	created bool // 201 rather than 200
	// location, if set, names the created resource.
	location func(commands.Result) string
	// reportID: the event recorded a report, whose id is its event id.
	reportID bool
}

// writeResult is the answer to every successful write.
type writeResult struct {
	ID        string      `json:"id"`
	Stream    string      `json:"stream"`
	Version   int64       `json:"version"`
	EventIDs  []uuid.UUID `json:"event_ids"`
	Duplicate bool        `json:"duplicate"`
	ReportID  string      `json:"report_id,omitempty"`
}

// idempotencyNamespace derives event ids from Idempotency-Keys. Fixed
// forever: changing it would make every stored key mean a new event.
var idempotencyNamespace = uuid.MustParse("0b6f2d52-8f43-4b8e-a1f7-5c2e9d4a7b10")

// write builds the handler of a write route. Every write goes through the
// same steps, in this order, and a request refused at any step appends
// nothing:
//
//  1. a token (401), allowed to write to this target (403, 404);
//  2. a body not too large (413), JSON (415), of the request's shape (400);
//  3. If-Match and Idempotency-Key headers well formed (400);
//  4. the key not used before for another request (422);
//  5. the command: 201/200, or the problem its error maps to.
func write[T any, B commandBody[T]](s *Server, spec writeSpec, run func(ctx context.Context, r *http.Request, h commands.Header, b B) (commands.Result, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info := requestInfoFrom(ctx)
		w.Header().Set("Cache-Control", "no-store")
		p := info.principal
		if p == nil {
			s.writeError(w, r, unauthorized("writing needs a token: send Authorization: Bearer <token>", false))
			return
		}
		if err := spec.policy(ctx, r, p); err != nil {
			s.writeError(w, r, err)
			return
		}
		raw, err := s.readBody(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var body T
		if err := decodeStrict(raw, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
		h, err := s.header(r, p, B(&body).common())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if key, ok := r.Header[http.CanonicalHeaderKey("Idempotency-Key")]; ok {
			if h.EventID, err = s.idempotent(ctx, r, p, strings.Join(key, ","), raw); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		res, err := run(ctx, r, h, &body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out := writeResult{ID: res.ID, Stream: res.Stream, Version: res.Version, EventIDs: res.EventIDs, Duplicate: res.Duplicate}
		if out.EventIDs == nil {
			out.EventIDs = []uuid.UUID{}
		}
		if spec.reportID && len(res.EventIDs) > 0 {
			out.ReportID = res.EventIDs[0].String()
		}
		w.Header().Set("ETag", etag(res.Version))
		if spec.location != nil {
			w.Header().Set("Location", spec.location(res))
		}
		if res.Duplicate {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		status := http.StatusOK
		if spec.created {
			status = http.StatusCreated
		}
		writeJSON(w, status, out)
	})
}

// readBody reads a request body within MaxBodyBytes. An empty body is
// allowed (it means {}); any other must be JSON.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := newProblem(http.StatusRequestEntityTooLarge, ptBodyTooLarge, "Request body too large",
		fmt.Sprintf("a request body may have at most %d bytes", s.cfg.MaxBodyBytes))
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return nil, tooLarge
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, newProblem(http.StatusBadRequest, ptMalformedBody, "Unreadable request body", err.Error())
	}
	if len(bytes.TrimSpace(raw)) > 0 && !isJSON(r.Header.Get("Content-Type")) {
		return nil, newProblem(http.StatusUnsupportedMediaType, ptUnsupportedMedia, "Unsupported media type",
			"send the body as application/json")
	}
	return raw, nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// decodeStrict reads one JSON object into v, refusing unknown fields,
// values of the wrong JSON type and trailing data (400). An empty body
// leaves v zero, for the domain to say what is missing (422). Text the
// decoder would silently turn into U+FFFD (invalid UTF-8, a lone surrogate
// escape) is refused first, with 422 naming the field.
func decodeStrict(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := domain.CheckJSONText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return newProblem(http.StatusBadRequest, ptMalformedBody, "Malformed JSON body", "the body holds more than one JSON value")
	}
	return nil
}

func malformed(err error) *problem {
	p := newProblem(http.StatusBadRequest, ptMalformedBody, "Malformed JSON body", "")
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		p.Detail = fmt.Sprintf("not valid JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ) && typ.Field == "":
		p.Detail = "the body must be a JSON object"
	case errors.As(err, &typ):
		p.Detail = "a field has a value of the wrong JSON type"
		p.Errors = []fieldProblem{{Field: typ.Field, Problem: fmt.Sprintf("got a JSON %s, want %s", typ.Value, jsonKind(typ.Type.String()))}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p.Detail = "the body has a field this request does not take"
		p.Errors = []fieldProblem{{Field: name, Problem: "unknown field"}}
	case errors.Is(err, io.ErrUnexpectedEOF):
		p.Detail = "the JSON ends too early"
	default:
		p.Detail = err.Error()
	}
	return p
}

// jsonKind names the JSON type a Go type is read from.
func jsonKind(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case goType == "string":
		return "string"
	case goType == "bool":
		return "boolean"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "float"):
		return "number"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return "object"
}

// header builds the command header: the actor from the token, never from
// the body; the correlation id from the request id; the expected version
// from If-Match (which wins) or the body; the effective time from the body.
func (s *Server) header(r *http.Request, p *principal, c *writeCommon) (commands.Header, error) {
	info := requestInfoFrom(r.Context())
	h := commands.Header{Actor: p.actor(), Reason: c.Reason, CorrelationID: info.correlation, ExpectedVersion: c.ExpectedVersion}
	if values := r.Header.Values("If-Match"); len(values) > 0 {
		v, err := parseIfMatch(strings.Join(values, ","))
		if err != nil {
			return h, err
		}
		h.ExpectedVersion = v
	}
	var f fieldErrors
	if h.ExpectedVersion != nil && *h.ExpectedVersion < 0 {
		f.add("expected_version", "must not be negative")
	}
	h.EffectiveAt = f.instant("effective_at", c.EffectiveAt)
	return h, f.err()
}

// parseIfMatch reads If-Match: "<version>". "*" means any version (no pin).
func parseIfMatch(v string) (*int64, error) {
	v = strings.TrimSpace(v)
	if v == "*" {
		return nil, nil
	}
	bad := badRequest(`If-Match must be one entity tag, the quoted version you read: If-Match: "7"`,
		fieldProblem{Field: "If-Match", Problem: "not a version"})
	if strings.HasPrefix(v, "W/") {
		return nil, bad
	}
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || n < 0 {
		return nil, bad
	}
	return &n, nil
}

// idempotent derives the command's event id from an Idempotency-Key, and
// records which request the key was first used for: the same key with a
// different request (another route, target or body) is refused with 422
// before anything runs.
func (s *Server) idempotent(ctx context.Context, r *http.Request, p *principal, key string, raw []byte) (uuid.UUID, error) {
	return claimIdempotencyKey(ctx, s.cfg.DB, r, p, key, raw)
}

// IdempotencyKeys returns the claim of an Idempotency-Key in the API's key
// store, for handlers mounted behind the Server (Config.Mounts): the
// council routes use it so that a key means one request on every route.
// It derives the event id exactly as the API's own writes do; a key used
// before for another request is an error wrapping
// eventstore.ErrDuplicateEvent (422), a malformed key one wrapping
// ErrMalformedIdempotencyKey (400). The request must have come through the
// Server's edge, which authenticated it.
func IdempotencyKeys(db *sqlx.DB) func(r *http.Request, key string, body []byte) (uuid.UUID, error) {
	return func(r *http.Request, key string, body []byte) (uuid.UUID, error) {
		p := requestInfoFrom(r.Context()).principal
		if p == nil {
			return uuid.Nil, errors.New("idempotency key: the request did not come through the API's edge with a token")
		}
		id, err := claimIdempotencyKey(r.Context(), db, r, p, key, body)
		var pr *problem
		if errors.As(err, &pr) && pr.Status == http.StatusBadRequest {
			return uuid.Nil, fmt.Errorf("%s: %w", pr.Detail, ErrMalformedIdempotencyKey)
		}
		return id, err
	}
}

// ErrMalformedIdempotencyKey: an Idempotency-Key that is not 1 to 255
// printable ASCII characters without spaces or quotes.
var ErrMalformedIdempotencyKey = errors.New("malformed Idempotency-Key")

func claimIdempotencyKey(ctx context.Context, db *sqlx.DB, r *http.Request, p *principal, key string, raw []byte) (uuid.UUID, error) {
	key = strings.Trim(strings.TrimSpace(key), `"`)
	if !plainToken(key, 255) {
		return uuid.Nil, badRequest("Idempotency-Key must be 1 to 255 printable characters without spaces",
			fieldProblem{Field: "Idempotency-Key", Problem: "malformed"})
	}
	route := requestInfoFrom(ctx).route // "METHOD /pattern"
	id := uuid.NewSHA1(idempotencyNamespace, []byte(p.TokenID.String()+"\n"+route+"\n"+key))
	fp := sha256.New()
	fmt.Fprintf(fp, "%s %s?%s\n", r.Method, r.URL.Path, r.URL.RawQuery)
	fp.Write(bytes.TrimSpace(raw))
	fingerprint := fp.Sum(nil)

	// Claim the key, or read who claimed it. A concurrent claim of the same
	// key can hide the row from this statement's snapshot: look again.
	const q = `WITH ins AS (
	INSERT INTO api_idempotency_keys (token_id, key, route, fingerprint, event_id) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (token_id, key) DO NOTHING RETURNING fingerprint
)
SELECT fingerprint FROM ins UNION ALL SELECT fingerprint FROM api_idempotency_keys WHERE token_id = $1 AND key = $2`
	for range 3 {
		var stored []byte
		err := db.QueryRowxContext(ctx, q, p.TokenID, key, route, fingerprint, id).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return uuid.Nil, fmt.Errorf("claim idempotency key: %w", err)
		case !bytes.Equal(stored, fingerprint):
			return uuid.Nil, fmt.Errorf("idempotency key %q was first used for another request: %w", key, eventstore.ErrDuplicateEvent)
		}
		return id, nil
	}
	return uuid.Nil, errors.New("claim idempotency key: the key's row did not appear")
}

// fieldErrors collects problems found while the API parses a body's
// strings (dates, times) before any command runs; they answer 422 like the
// domain's own.
type fieldErrors struct {
	errs domain.ValidationErrors
}

func (f *fieldErrors) add(field, problem string) {
	f.errs = append(f.errs, &domain.ValidationError{Field: field, Problem: problem})
}

func (f *fieldErrors) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	return f.errs
}

// date parses YYYY-MM-DD; empty is the zero date, for the domain to require.
func (f *fieldErrors) date(field, s string) domain.Date {
	if s == "" {
		return domain.Date{}
	}
	d, err := domain.ParseDate(s)
	if err != nil || !d.Valid() {
		f.add(field, "must be a date written YYYY-MM-DD")
		return domain.Date{}
	}
	return d
}

// instant parses RFC 3339; empty is the zero time (now, for the command).
func (f *fieldErrors) instant(field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		f.add(field, "must be a time in RFC 3339, e.g. 2021-06-01T09:00:00+05:00")
		return time.Time{}
	}
	return t.UTC()
}

// periodBody is a period as sent: two dates.
type periodBody struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

func (f *fieldErrors) period(field string, p periodBody) domain.Period {
	return domain.Period{Start: f.date(field+".start", p.Start), End: f.date(field+".end", p.End)}
}

// Policies.

func adminWrite(what string) policy {
	return func(_ context.Context, _ *http.Request, p *principal) error {
		if p.Role != RoleAdmin {
			return forbidden(fmt.Sprintf("only an administrator may %s; this token's role is %s", what, p.Role))
		}
		return nil
	}
}

// roadmapWrite guards a write to the roadmap in the path: administrators
// always, officers (when allowed) if they are assigned to it.
func (s *Server) roadmapWrite(what string, officers bool) policy {
	return func(ctx context.Context, r *http.Request, p *principal) error {
		id := r.PathValue("id")
		if domain.ValidateID("id", id) != nil {
			return notFound("there is no roadmap " + id)
		}
		switch {
		case p.Role == RoleAdmin:
			return nil
		case officers && p.Role == RoleOfficer:
			return s.officerOf(ctx, id, p)
		case officers:
			return forbidden(fmt.Sprintf("only an administrator or an officer assigned to the roadmap may %s; this token's role is %s", what, p.Role))
		}
		return forbidden(fmt.Sprintf("only an administrator may %s; this token's role is %s", what, p.Role))
	}
}

// indicatorWrite guards a write to the indicator in the path:
// administrators always, officers if they are assigned to its roadmap.
func (s *Server) indicatorWrite(what string) policy {
	return func(ctx context.Context, r *http.Request, p *principal) error {
		id := r.PathValue("id")
		if domain.ValidateID("id", id) != nil {
			return notFound("there is no indicator " + id)
		}
		switch p.Role {
		case RoleAdmin:
			return nil
		case RoleOfficer:
			roadmapID, err := s.indicatorRoadmap(ctx, id)
			if err != nil {
				return err
			}
			return s.officerOf(ctx, roadmapID, p)
		}
		return forbidden(fmt.Sprintf("only an administrator or an officer assigned to the indicator's roadmap may %s; this token's role is %s", what, p.Role))
	}
}

// officerOf checks that the officer is an assigned responsible of the
// roadmap, as the catalog read model says.
func (s *Server) officerOf(ctx context.Context, roadmapID string, p *principal) error {
	rm, err := projections.GetRoadmap(ctx, s.cfg.DB, roadmapID)
	if errors.Is(err, domain.ErrNotFound) {
		v, verr := s.cfg.Store.StreamVersion(ctx, domain.RoadmapStream(roadmapID))
		switch {
		case verr != nil:
			return verr
		case v == 0:
			return notFound("there is no roadmap " + roadmapID)
		}
		return forbidden("roadmap " + roadmapID + " is too new for its responsibles to be known yet; try again in a moment")
	}
	if err != nil {
		return err
	}
	for _, who := range rm.Responsibles {
		if p.PersonID != "" && who.PersonID == p.PersonID {
			return nil
		}
	}
	return forbidden(fmt.Sprintf("%s is not an assigned responsible of roadmap %s", p.PersonID, roadmapID))
}

// indicatorRoadmap reads the roadmap an indicator belongs to from the
// indicator's first event, which never changes.
func (s *Server) indicatorRoadmap(ctx context.Context, id string) (string, error) {
	first, err := s.cfg.Store.ReadStream(ctx, domain.IndicatorStream(id), 1, 1)
	if err != nil {
		return "", err
	}
	if len(first) == 0 {
		return "", notFound("there is no indicator " + id)
	}
	ev, _, err := domain.Decode(first[0].Type, first[0].Data, first[0].Metadata)
	if err != nil {
		return "", fmt.Errorf("indicator %s: %w", id, err)
	}
	added, ok := ev.(domain.IndicatorAdded)
	if !ok {
		return "", fmt.Errorf("indicator %s starts with %s: %w", id, ev.EventType(), domain.ErrInvalidHistory)
	}
	return added.RoadmapID, nil
}
