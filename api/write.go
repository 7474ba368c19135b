package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/api/kernel"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// The write bodies' common fields and the answer to a write are the
// kernel's, shared by every route group.
type (
	writeCommon = kernel.WriteCommon
	writeResult = kernel.WriteResult
)

// commandBody is a pointer to a write body.
type commandBody[T any] = kernel.CommandBody[T]

// policy decides whether the principal may send a write to this target. It
// runs before the body is read and returns a *problem (403, 404) or an
// unexpected error.
//
// who and roles are what the OpenAPI document says of the route (x-policy,
// x-roles), so the document says what the check does.
type policy struct {
	who   string
	roles []Role
	allow func(ctx context.Context, r *http.Request, p *principal) error
}

// writeSpec describes how a write route answers.
type writeSpec struct {
	policy  policy
	created bool // 201 rather than 200
	// location, if set, names the created resource.
	location func(commands.Result) string
	// reportID: the event recorded a report, whose id is its event id.
	reportID bool
}

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
	return writeRoute{spec: spec, body: new(T), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info := requestInfoFrom(ctx)
		w.Header().Set("Cache-Control", "no-store")
		p := info.principal
		if p == nil {
			s.writeError(w, r, unauthorized("writing needs a token: send Authorization: Bearer <token>", false))
			return
		}
		if err := spec.policy.allow(ctx, r, p); err != nil {
			s.writeError(w, r, err)
			return
		}
		var body T
		claim := func(r *http.Request, key string, raw []byte) (uuid.UUID, error) {
			return kernel.Idempotency{DB: s.cfg.DB}.Claim(ctx, p.TokenID, info.route, key, r, raw)
		}
		h, err := kernel.ReadCommand[T, B](w, r, s.cfg.MaxBodyBytes, &body, claim)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// The actor comes from the token, never from the body; the
		// correlation id from the request id.
		h.Actor, h.CorrelationID = p.actor(), info.correlation
		res, err := run(ctx, r, h, &body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		kernel.Written{Created: spec.created, Location: spec.location, ReportID: spec.reportID}.Answer(w, res)
	})}
}

// writeRoute is a write handler that knows its policy, its body type and
// its status, for the route table's OpenAPI operation.
type writeRoute struct {
	http.Handler
	spec writeSpec
	body any
}

// IdempotencyKeys returns the claim of an Idempotency-Key in the API's key
// store, for handlers mounted behind the Server (Config.Mounts): the
// council routes use it so that a key means one request on every route.
// It is the kernel's one store (kernel.Idempotency), keyed by the token and
// route the edge found; a key used before for another request is an error
// wrapping eventstore.ErrDuplicateEvent (422). The request must have come
// through the Server's edge, which authenticated it.
func IdempotencyKeys(db *sqlx.DB) func(r *http.Request, key string, body []byte) (uuid.UUID, error) {
	return func(r *http.Request, key string, body []byte) (uuid.UUID, error) {
		info := requestInfoFrom(r.Context())
		if info.principal == nil {
			return uuid.Nil, errors.New("idempotency key: the request did not come through the API's edge with a token")
		}
		return kernel.Idempotency{DB: db}.Claim(r.Context(), info.principal.TokenID, info.route, key, r, body)
	}
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
	Start string `json:"start" format:"date" doc:"The first day, YYYY-MM-DD."`
	End   string `json:"end" format:"date" doc:"The last day, YYYY-MM-DD."`
}

func (f *fieldErrors) period(field string, p periodBody) domain.Period {
	return domain.Period{Start: f.date(field+".start", p.Start), End: f.date(field+".end", p.End)}
}

// Policies.

func adminWrite(what string) policy {
	return policy{who: "an administrator (role admin)", roles: []Role{RoleAdmin}, allow: func(_ context.Context, _ *http.Request, p *principal) error {
		if p.Role != RoleAdmin {
			return forbidden(fmt.Sprintf("only an administrator may %s; this token's role is %s", what, p.Role))
		}
		return nil
	}}
}

// roadmapWrite guards a write to the roadmap in the path: administrators
// always, officers (when allowed) if they are assigned to it.
func (s *Server) roadmapWrite(what string, officers bool) policy {
	pol := policy{who: "an administrator (role admin)", roles: []Role{RoleAdmin}}
	if officers {
		pol = policy{who: "an administrator (role admin), or an officer (role officer) whose person id is an assigned responsible of the roadmap",
			roles: []Role{RoleAdmin, RoleOfficer}}
	}
	pol.allow = func(ctx context.Context, r *http.Request, p *principal) error {
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
	return pol
}

// indicatorWrite guards a write to the indicator in the path:
// administrators always, officers if they are assigned to its roadmap.
func (s *Server) indicatorWrite(what string) policy {
	return policy{who: "an administrator (role admin), or an officer (role officer) whose person id is an assigned responsible of the indicator's roadmap",
		roles: []Role{RoleAdmin, RoleOfficer}, allow: func(ctx context.Context, r *http.Request, p *principal) error {
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
		}}
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
