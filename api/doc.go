// Package api serves PromiseLedger over HTTP/JSON, on net/http, versioned
// under /v1. It turns requests into commands (package commands) and answers
// reads from the read models (package projections) and, for histories, from
// the event store itself. GET /openapi.json describes every route; a test
// keeps that document and the route table equal.
//
// # Wiring
//
//	if err := api.Migrate(ctx, db); err != nil { … }   // api_tokens, api_idempotency_keys
//	srv, err := api.New(api.Config{DB: db, Store: store, Commands: handlers, Logger: log, Version: v})
//	hs := api.NewHTTPServer(":8080", srv.Handler())    // timeouts and header limit set
//
// Config has defaults for everything optional (see its fields): bodies up
// to 1 MiB, pages of 50 (at most 500), readiness failing past 30 s of
// projector lag, and a fresh Prometheus registry when none is given.
//
// # Routes and roles
//
// Reading is public. Writing needs "Authorization: Bearer <secret>", a
// token made with CreateToken (only its SHA-256 is stored). Roles:
//
//	admin    every write
//	officer  POST /v1/roadmaps/{id}/indicators and every POST /v1/indicators/{id}/…,
//	         for roadmaps whose responsibles (catalog read model) include the
//	         token's person; an indicator's roadmap is read from its first event
//	council  reads (council assessments will come)
//	deputy   reads (replies will come)
//
// Catalog writes (programs, territories, roadmaps, activate, close,
// responsibles) are admin only. The actor recorded in every event is the
// token's person id (or "token:<token id>" for a token without one) with the
// token's role: never anything the body says. A token sent on a read is
// checked too: a wrong one is 401, not ignored.
//
// # Statuses
//
// Every error is an RFC 9457 problem document (application/problem+json)
// with a stable type URN (urn:promiseledger:problem:<slug>), the request
// path as instance, and the request id. The mapping from error kinds to
// statuses lives in one function, classify:
//
//   - 400 the request cannot be read: malformed JSON, a value of the wrong
//     JSON type, an unknown field, more than one JSON value, a malformed
//     If-Match, Idempotency-Key, query parameter or cursor. The shape is
//     wrong, so no rule was checked. errors[] names the field when known.
//     Every route's path and query values are first checked by package
//     params against the parameters its OpenAPI operation declares: an
//     undeclared or repeated query parameter, a value that is not UTF-8
//     text, holds a control character or is over 1024 bytes, and a
//     boolean other than true or false are 400 naming the parameter.
//   - 422 the request was read and breaks a rule: every domain.ErrValidation
//     (with errors[] from domain.FieldErrors: "title.kk", "evidence.url"),
//     including references to things that do not exist (a roadmap's
//     program, a correction's report), dates that are not YYYY-MM-DD, and
//     missing reasons; also eventstore.ErrDuplicateEvent, an
//     Idempotency-Key reused for another request. Validation is checked
//     before not-found, because validation errors wrap other sentinels.
//   - 409 the target's current state forbids the command: a stale version
//     (eventstore.ErrConflict; the problem carries current_version and the
//     ETag header), ErrAlreadyExists, ErrAlreadyAssigned, ErrNotAssigned,
//     ErrInvalidTransition, ErrRoadmapClosed and ErrCancelled. The request
//     is well formed and might have succeeded a moment earlier, so these are
//     conflicts, not validation errors.
//   - 404 the addressed resource does not exist: domain.ErrNotFound, an id
//     in the path that is not a canonical UUID, a roadmap missing from the
//     path of POST /v1/roadmaps/{id}/indicators, an unknown figures scope,
//     and unknown routes. 405 for a known path with another method (with
//     Allow).
//   - 401 no token, or an unknown or revoked one (with WWW-Authenticate:
//     Bearer); 403 a valid token whose role or assignments do not allow the
//     write.
//   - 413 a body over MaxBodyBytes; 415 a non-empty body that is not JSON.
//     An empty body is read as {}.
//   - 500 anything else, with a generic message; the error is logged once,
//     there, with the request id. 503 when the request was cancelled or timed
//     out.
//
// A refused write appends nothing: the checks run in the order token,
// permission (403/404 on the path), body size, content type, JSON shape,
// headers, idempotency key, and only then the command.
//
// # Writes
//
// Each write calls one command handler and answers 201 (registrations,
// new indicators, reports and corrections) or 200 with
// {id, stream, version, event_ids, duplicate} (plus report_id for reports
// and corrections, which are identified by their event id), an ETag of the
// stream's new version, and Location where a GET exists. Field names are
// the domain's JSON names (snake_case; Text is {kk, ru, en}; dates
// YYYY-MM-DD; times RFC 3339). Every body may carry reason,
// expected_version and effective_at; a report also takes as_of (the same
// as effective_at). DELETE /v1/roadmaps/{id}/responsibles/{person_id}
// takes its reason from the body or the reason query parameter.
//
// Optimistic concurrency: If-Match: "<version>" (or expected_version in the
// body; If-Match wins) makes the command fail with 409 if the stream has
// moved on. "*" pins nothing.
//
// Idempotency (the council routes mounted beside these claim keys in the
// same store, through IdempotencyKeys): with an Idempotency-Key header the command's event id is
// uuid.NewSHA1(a fixed namespace, token id + "\n" + "METHOD /pattern" + "\n"
// + key). A retry finds that event in the stream, records nothing and
// answers as the first time — same status, ETag and body, except that
// duplicate is true — with Idempotent-Replayed: true. Each key is also
// recorded with a fingerprint of its first request (method, path, query,
// body), so the same key with a different request is refused with 422
// before anything runs, whatever the route or target. A request that failed
// may be retried with its key; a changed request needs a new key.
//
// Correlation: X-Request-Id is echoed (one is made when absent or unusable)
// and becomes the correlation id of the events the request records: itself
// when it is a UUID, else a UUID derived from it.
//
// # Reads
//
// Lists (roadmaps, indicators) are paged by keyset: limit (default 50, at
// most MaxPageSize, else 400) and an opaque next_cursor (null on the last
// page; also a Link rel="next" header). Roadmaps are ordered by territory
// code, indicators by deadline. GET /v1/roadmaps filters by level, status,
// program, territory (that territory exactly) and within (that territory
// and every territory below it). GET /v1/indicators filters by roadmap,
// status, overdue, responsible (the indicator's), roadmap_responsible (an
// officer's measures) and no_evidence. Overdue is derived against today in
// Config.Location (Asia/Almaty): neither done nor cancelled, deadline
// passed.
//
// GET /v1/roadmaps/{id} gives the roadmap, its indicators, its figures by
// every method, and territory_chain: its territory and each territory above
// it with the figures of the same program's roadmaps within — the
// district's percentage beside its region's and the republic's.
//
// GET /v1/figures and /v1/figures/series take scope (all, roadmap,
// territory — with everything below it —, level, program), id, program
// and method. Without as_of and known_at, figures come from the running
// sums; with either they are folded from the events: as_of keeps what had
// taken effect by then (a correction recorded later counts, since it takes
// the effective time of what it corrects), known_at what had been recorded
// by then. A date means the end of that day in UTC (projections.EndOfDay).
//
// The history routes read the event store directly (decoded by
// domain.Decode, so retired shapes appear upcast): a roadmap's history
// merges its indicators' events in the global order.
//
// Read models follow the event log asynchronously: a write's answer carries
// the new version, and GET answers carry the version they show.
//
// # Operations
//
// GET /healthz: the process is alive. GET /readyz: the database answers and
// every projector has run, is not stopped and lags at most ReadyMaxLag;
// otherwise 503 with checks[]. GET /metrics: Prometheus, with
// ledger_http_requests_total{route,method,status},
// ledger_http_request_duration_seconds{route,method} (route is the path
// pattern, or "unmatched") and the projector collector.
package api
