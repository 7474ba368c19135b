package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"promiseledger/api/apidoc"
	"promiseledger/domain"
	"promiseledger/projections"
)

// The OpenAPI 3.1 document is generated (package apidoc): each route of
// the table has a descriptor here, request and response schemas are
// reflected from the Go types the handlers decode and encode (their prose
// is on the types, in doc tags), and who may send a write is read from the
// write's own policy. New refuses a route without a descriptor. Objects
// are closed (additionalProperties: false), so a response field the
// document does not know fails the tests that validate every answer.

const infoDescription = `An event-sourced ledger of a party's election promises: roadmaps of measures (indicators), progress reports with evidence, corrections recorded beside what they correct, and implementation percentages computed by published methods.

**Reading** is public. **Writing** needs a bearer token; the actor recorded in every event is the token's person (or "token:<id>"), never a field of the body. Roles: admin (every command), officer (indicators of the roadmaps they are an assigned responsible of), council and deputy (the council routes). Each operation says who may call it (x-policy, and the roles as x-roles).

**Errors** are RFC 9457 problem documents (application/problem+json) with a stable type URI (urn:promiseledger:problem:<slug>). 400: the request cannot be read — malformed JSON, a value of the wrong JSON type, an unknown field, trailing data, a bad query parameter or header. 422: the request was read, but its values break a rule (errors[] lists each field, e.g. title.kk); also an Idempotency-Key reused for a different request. 409: the target's state forbids the command (stale version, already exists, closed roadmap, cancelled indicator, invalid transition, already assigned / not assigned). 404: the addressed resource does not exist (including malformed ids in the path). 401: no valid token; 403: the token may not do this.

**Concurrency**: every write answers with an ETag of the stream's version. Send it back as If-Match (or expected_version in the body; If-Match wins) and the write fails with 409 and current_version if anything happened in between. A write sent without a version is decided again on the latest state when another write lands first, for up to a few seconds; if others keep landing first it fails with 409 write-contention and Retry-After, having recorded nothing: send it again.

**Unavailability**: while the database cannot be reached, requests answer 503 (type unavailable) with Retry-After, never 500. A write that got a 503 may or may not have been recorded; send it again with the same Idempotency-Key and it is recorded once.

**Retries**: send an Idempotency-Key header with a write. A retry with the same key (same token, route, target and body) records nothing new and answers as the first time, with duplicate: true and the header Idempotent-Replayed: true. The same key for a different request is refused with 422.

**Parameters**: a route refuses (400, errors[] naming each) a query parameter it does not take, a parameter given twice, a path or query value that is not UTF-8 text, holds a control character or is over 1024 bytes, and booleans other than true and false. Nothing is silently ignored: a misspelt as_of is an error, not today's figure.

**Paging**: lists take limit (default 50, at most the server's LEDGER_MAX_PAGE_SIZE, 500 by default) and return next_cursor (null on the last page) and a Link rel=next header; pass cursor= to continue. Cursors are opaque.

**Time axes**: as_of selects what had taken effect by a time (corrections included, because they take the effective date of what they correct); known_at selects what the ledger had recorded by a time (later corrections left out). A date means the end of that day in UTC.

**Words**: a roadmap's level is republican (the one roadmap of the republic) or regional (every other roadmap: a region's, a city's or a district's — the "local" roadmaps of the program's wording). Percentages are 0–100 with two decimals everywhere.`

var (
	apiTags = []apidoc.Tag{
		{Name: "catalog", Description: "Programs, territories and roadmaps."},
		{Name: "indicators", Description: "The measures of roadmaps, their reports and corrections."},
		{Name: "figures", Description: "Implementation percentages, on both time axes."},
		{Name: "history", Description: "The events behind every number, straight from the event store."},
		{Name: "operations", Description: "Health, readiness, metrics and this document."},
	}
	securitySchemes = apidoc.Schema{"bearer": apidoc.Schema{"type": "http", "scheme": "bearer",
		"description": "A token issued by an administrator (`ledger token create`): `Authorization: Bearer plt_…`. Reading needs none."}}
	// responseHeaders describe the headers operations name.
	responseHeaders = map[string]string{
		"ETag":                `The stream's version, quoted ("7"): send it back in If-Match.`,
		"Location":            "Where to read what was created.",
		"Idempotent-Replayed": `"true" when the answer repeats an earlier request with the same Idempotency-Key.`,
		"Link":                `The next page: <url>; rel="next".`,
		"WWW-Authenticate":    "Bearer challenge.",
		"Retry-After":         "Seconds to wait before trying again.",
	}
)

// Parameters.

var (
	roadmapIDParam   = apidoc.PathParam("id", "The roadmap's id (a UUID). A malformed id is 404; bytes that are not text (NUL, invalid UTF-8, control characters) are 400.")
	indicatorIDParam = apidoc.PathParam("id", "The indicator's id (a UUID). A malformed id is 404; bytes that are not text (NUL, invalid UTF-8, control characters) are 400.")
	ifMatchParam     = apidoc.HeaderParam("If-Match", `The version you read, quoted ("7"): the write fails with 409 if the stream has moved on. "*" pins nothing. Wins over expected_version in the body.`,
		apidoc.Schema{"type": "string"})
	idempotencyKeyParam = apidoc.HeaderParam("Idempotency-Key", "Makes a retry safe: the same key with the same request records nothing new and answers as the first time (Idempotent-Replayed: true). 1–255 printable characters without spaces; use a new key for every new request.",
		apidoc.Schema{"type": "string", "maxLength": 255})
	requestIDParam = apidoc.HeaderParam("X-Request-Id", "Your id for the request; echoed, logged, and used as the correlation id of the events the request records. One is made when absent.",
		apidoc.Schema{"type": "string", "maxLength": 128})
	limitParam = apidoc.QueryParam("limit", "Page size: 1 to the server's maximum, LEDGER_MAX_PAGE_SIZE (default 500); 50 when absent. Larger is a 400.",
		apidoc.Schema{"type": "integer", "minimum": 1, "maximum": DefaultMaxPageSize})
	cursorParam     = apidoc.QueryParam("cursor", "The next_cursor of the previous page.", apidoc.Schema{"type": "string"})
	checkpointParam = apidoc.QueryParam("checkpoint", "Answer as of this signed state of the transparency log: the tree size of a signed checkpoint (GET /v1/audit/checkpoint). Only the events of leaves below it count, so the answer is the same whenever it is asked (docs/methodology.md, \"Provenance\"). 400 when no signed checkpoint has that size.",
		apidoc.Schema{"type": "integer", "minimum": 1})
	timeAxisSchema = apidoc.Schema{"type": "string", "description": "A date, YYYY-MM-DD (the end of that day, UTC), or an RFC 3339 time."}
)

func enumSchema(values ...string) apidoc.Schema {
	return apidoc.Schema{"type": "string", "enum": values}
}

func stringSchema() apidoc.Schema { return apidoc.Schema{"type": "string"} }

func uuidSchema() apidoc.Schema { return apidoc.Schema{"type": "string", "format": "uuid"} }

func figureScopeParams() []apidoc.Param {
	return []apidoc.Param{
		apidoc.QueryParam("scope", "What the figures are about: all (default), roadmap, territory (the territory and every territory below it), level or program.",
			enumSchema("all", "roadmap", "territory", "level", "program")),
		apidoc.QueryParam("id", "The scope's id: a roadmap or program UUID, a KATO code, or a level: republican, regional (local is another name for it) or district (the regional roadmaps of district rank). Required unless scope=all.", stringSchema()),
		apidoc.QueryParam("program", "Narrow any scope to one program (UUID).", uuidSchema()),
		apidoc.QueryParam("method", "Only this method's figure (default: every method).", enumSchema(methodNames()...)),
	}
}

// Responses.

func problemAnswer(status int, desc string, headers ...string) apidoc.Response {
	r := apidoc.Response{Status: status, Description: desc, Body: problem{}, Media: problemMedia}
	if len(headers) > 0 {
		r.Headers = map[string]string{}
		for _, h := range headers {
			r.Headers[h] = ""
		}
	}
	return r
}

const problemMedia = "application/problem+json"

// badParamsDesc says what every route refuses in its path and query
// (package params).
const badParamsDesc = "A path or query parameter cannot be read (errors[] names each): a parameter the route does not take, one given twice, " +
	"a value that is not UTF-8 text, holds a control character or is over 1024 bytes, a boolean other than true or false, " +
	"a limit outside 1 to the server's maximum; or another bad value or cursor."

func commonErrors() []apidoc.Response {
	return []apidoc.Response{
		problemAnswer(500, "Something went wrong on the server; the problem names the request id to quote."),
		problemAnswer(503, "Unavailable for a moment (type unavailable): the database cannot be reached, or the request was cancelled or timed out. Try again after Retry-After seconds; a write sent again with the same Idempotency-Key is recorded once.", "Retry-After"),
	}
}

// readDoc is a public read's descriptor.
type readDoc struct {
	id, tag, summary, desc string
	ok                     apidoc.Response
	params                 []apidoc.Param
	// errs replace or add to the default 400/401/500/503 answers.
	errs []apidoc.Response
}

// writeDoc is a write's descriptor; its policy, body type and status come
// from the handler (writeRoute).
type writeDoc struct {
	id, tag, summary, desc string
	params                 []apidoc.Param
}

// routeDocs describe every route of routeTable, keyed by "METHOD pattern".
func routeDocs() map[string]any {
	badQuery := problemAnswer(400, badParamsDesc+" The cursor must have been issued for this list.")
	notFoundRoadmap := problemAnswer(404, "There is no such roadmap (in the read model).")
	notFoundIndicator := problemAnswer(404, "There is no such indicator.")
	figuresErrors := []apidoc.Response{badQuery,
		problemAnswer(404, "The scope names nothing the ledger knows (unknown-scope)."),
		problemAnswer(503, "checkpoint=N names a signed checkpoint the read models have not applied yet, or the database is unavailable: try again after Retry-After seconds.", "Retry-After"),
	}
	ok := func(desc string, body any, headers ...string) apidoc.Response {
		r := apidoc.Response{Status: 200, Description: desc, Body: body}
		if len(headers) > 0 {
			r.Headers = map[string]string{}
			for _, h := range headers {
				r.Headers[h] = ""
			}
		}
		return r
	}
	return map[string]any{
		"POST /v1/programs": writeDoc{id: "registerProgram", tag: "catalog", summary: "Register an election program",
			desc: "Records program.registered.v1. Without an id the program takes the event's id, so a retry with the same Idempotency-Key registers the same program."},
		"GET /v1/programs": readDoc{id: "listPrograms", tag: "catalog", summary: "List programs", desc: "Every registered program, by the start of its period.",
			ok: ok("The programs.", items[projections.ProgramInfo]{})},
		"POST /v1/territories": writeDoc{id: "registerTerritory", tag: "catalog", summary: "Register a territory",
			desc: "Records territory.registered.v1 under its KATO code. The parent must be registered first, and be of the kind this kind belongs to (a district to a region, …). kind also accepts the territory list's short names city_republican and city_regional."},
		"GET /v1/territories": readDoc{id: "listTerritories", tag: "catalog", summary: "List territories",
			desc: "Registered territories by KATO code; with parent, only that territory's direct children.",
			ok:   ok("The territories.", items[projections.TerritoryInfo]{}), errs: []apidoc.Response{badQuery},
			params: []apidoc.Param{apidoc.QueryParam("parent", "Only the direct children of this KATO code.", stringSchema())}},
		"POST /v1/roadmaps": writeDoc{id: "registerRoadmap", tag: "catalog", summary: "Register a roadmap",
			desc: "Records roadmap.registered.v1: a program's plan for one territory. The program and the territory must be registered, the period must lie within the program's, and level is republican exactly for the republic. Location names the new roadmap."},
		"GET /v1/roadmaps": readDoc{id: "listRoadmaps", tag: "catalog", summary: "List roadmaps",
			desc: "Roadmaps ordered by territory code, then id, with their measure counts. Filters combine with AND; an unknown territory or program simply matches nothing.",
			ok:   ok("One page of roadmaps.", page[projections.RoadmapSummary]{}, "Link"), errs: []apidoc.Response{badQuery},
			params: []apidoc.Param{
				apidoc.QueryParam("level", "republican (the republic's roadmap), regional (every other roadmap: the program's 216 local ones; local is another name for it) or district (the regional roadmaps of districts, cities of regional significance and city districts: the rank the councils and the league call district).", enumSchema(levelWords()...)),
				apidoc.QueryParam("territory", "Exactly this territory (KATO code).", stringSchema()),
				apidoc.QueryParam("within", "This territory and every territory below it (KATO code): a region's roadmap and its districts'.", stringSchema()),
				apidoc.QueryParam("program", "One program (UUID).", uuidSchema()),
				apidoc.QueryParam("status", "registered, active or closed.", enumSchema("registered", "active", "closed")),
				cursorParam, limitParam}},
		"GET /v1/roadmaps/{id}": readDoc{id: "getRoadmap", tag: "catalog", summary: "Open a roadmap",
			desc: "The roadmap, all its indicators (with overdue judged against today in Kazakhstan), its figures by every method, and the figures of its territory and of each territory above it for the same program — the district's percentage beside its region's and the republic's. ETag is the roadmap stream's version, for If-Match on the roadmap's writes (the body also changes with its indicators). Read models follow the event log within moments: a roadmap just registered may be 404 for that long.",
			ok:   ok("The roadmap.", roadmapDetail{}, "ETag"), errs: []apidoc.Response{notFoundRoadmap}, params: []apidoc.Param{roadmapIDParam}},
		"POST /v1/roadmaps/{id}/activate": writeDoc{id: "activateRoadmap", tag: "catalog", summary: "Activate a roadmap",
			desc:   "Records roadmap.activated.v1. Only a registered roadmap can be activated (an active one is 409 invalid-transition, a closed one 409 roadmap-closed).",
			params: []apidoc.Param{roadmapIDParam}},
		"POST /v1/roadmaps/{id}/close": writeDoc{id: "closeRoadmap", tag: "catalog", summary: "Close a roadmap",
			desc:   "Records roadmap.closed.v1; reason is required. A closed roadmap accepts no commands and no new indicators; its indicators still take reports and corrections.",
			params: []apidoc.Param{roadmapIDParam}},
		"POST /v1/roadmaps/{id}/responsibles": writeDoc{id: "assignRoadmapResponsible", tag: "catalog", summary: "Assign a responsible to a roadmap",
			desc:   "Records roadmap.responsible_assigned.v1: a deputy or an official becomes answerable for the roadmap. An officer token whose person id is assigned here may then write to the roadmap's indicators.",
			params: []apidoc.Param{roadmapIDParam}},
		"DELETE /v1/roadmaps/{id}/responsibles/{person_id}": writeDoc{id: "unassignRoadmapResponsible", tag: "catalog", summary: "Unassign a roadmap's responsible",
			desc: "Records roadmap.responsible_unassigned.v1. A reason is required: in the body, or as the reason query parameter.",
			params: []apidoc.Param{roadmapIDParam, apidoc.PathParam("person_id", "The person to release."),
				apidoc.QueryParam("reason", "Why (when the request has no body).", stringSchema())}},
		"POST /v1/roadmaps/{id}/indicators": writeDoc{id: "addIndicator", tag: "indicators", summary: "Add an indicator to a roadmap",
			desc:   "Records indicator.added.v1 in the indicator's own stream. A milestone has no baseline, target or unit; a numeric indicator needs all three (its direction is derived). weight defaults to 1. The roadmap must exist (404) and not be closed (409). Location names the new indicator.",
			params: []apidoc.Param{roadmapIDParam}},
		"GET /v1/roadmaps/{id}/history": readDoc{id: "roadmapHistory", tag: "history", summary: "A roadmap's history",
			desc: "Every event of the roadmap and of its indicators, from the event store, in the global order: who recorded what, when it took effect, when it was recorded, and why.",
			ok:   ok("The events.", historyResponse{}), errs: []apidoc.Response{problemAnswer(404, "There is no such roadmap.")}, params: []apidoc.Param{roadmapIDParam}},
		"GET /v1/indicators": readDoc{id: "listIndicators", tag: "indicators", summary: "List indicators",
			desc: "Indicators ordered by deadline, then id. overdue is judged against today in Kazakhstan: neither done nor cancelled, and the deadline has passed.",
			ok:   ok("One page of indicators.", page[projections.IndicatorSummary]{}, "Link"), errs: []apidoc.Response{badQuery},
			params: []apidoc.Param{
				apidoc.QueryParam("roadmap", "One roadmap (UUID).", uuidSchema()),
				apidoc.QueryParam("status", "not_started, in_progress, done or cancelled.", enumSchema("not_started", "in_progress", "done", "cancelled")),
				apidoc.QueryParam("overdue", "true: only overdue indicators; false: only the others.", apidoc.Schema{"type": "boolean"}),
				apidoc.QueryParam("responsible", "The indicator's own responsible person.", stringSchema()),
				apidoc.QueryParam("roadmap_responsible", "Indicators of the roadmaps this person is assigned to: an officer's measures.", stringSchema()),
				apidoc.QueryParam("no_evidence", "true: only indicators, not cancelled, without a report in force that carries evidence.", apidoc.Schema{"type": "boolean"}),
				cursorParam, limitParam}},
		"GET /v1/indicators/{id}": readDoc{id: "getIndicator", tag: "indicators", summary: "Open an indicator",
			desc: "The indicator's state with every report and correction in the order recorded; a correction names what it corrects (corrects) and the corrected report names it back (corrected_by). ETag is the indicator stream's version, for If-Match on its writes.",
			ok:   ok("The indicator.", projections.IndicatorDetail{}, "ETag"), errs: []apidoc.Response{notFoundIndicator}, params: []apidoc.Param{indicatorIDParam}},
		"GET /v1/indicators/{id}/history": readDoc{id: "indicatorHistory", tag: "history", summary: "An indicator's history",
			desc: "Every event of the indicator, from the event store, in order. Corrections carry corrects, the report they correct.",
			ok:   ok("The events.", historyResponse{}), errs: []apidoc.Response{notFoundIndicator}, params: []apidoc.Param{indicatorIDParam}},
		"POST /v1/indicators/{id}/reports": writeDoc{id: "reportProgress", tag: "indicators", summary: "Report progress",
			desc:   "Records indicator.progress_reported.v1: a value (numeric) or done (milestone), with evidence (a url, a sha256 of a document, or both). as_of (or effective_at) is when the reading was true; default now. The report's id is its event id (report_id).",
			params: []apidoc.Param{indicatorIDParam}},
		"POST /v1/indicators/{id}/corrections": writeDoc{id: "correctReport", tag: "indicators", summary: "Correct a report",
			desc:   "Records indicator.report_corrected.v1: what the report named in corrects should have said. reason is required. The correction takes effect when the corrected report did, so figures as of that date change, while figures known_at a time before the correction do not. Only the latest of a chain can be corrected.",
			params: []apidoc.Param{indicatorIDParam}},
		"POST /v1/indicators/{id}/retarget": writeDoc{id: "retargetIndicator", tag: "indicators", summary: "Re-target an indicator",
			desc:   "Records indicator.retargeted.v1: a new target, deadline or weight (absent fields stay). reason is required; a request that changes nothing is 422.",
			params: []apidoc.Param{indicatorIDParam}},
		"POST /v1/indicators/{id}/status": writeDoc{id: "changeIndicatorStatus", tag: "indicators", summary: "Set an indicator's status",
			desc:   "Records indicator.status_changed.v1. Moving backwards, or marking a numeric indicator done below its target, needs a reason; setting the current status is 409.",
			params: []apidoc.Param{indicatorIDParam}},
		"POST /v1/indicators/{id}/cancel": writeDoc{id: "cancelIndicator", tag: "indicators", summary: "Cancel an indicator",
			desc:   "Records indicator.cancelled.v1; reason is required. Final: later commands on the indicator are 409.",
			params: []apidoc.Param{indicatorIDParam}},
		"POST /v1/indicators/{id}/responsible": writeDoc{id: "assignIndicatorResponsible", tag: "indicators", summary: "Assign an indicator's responsible",
			desc:   "Records indicator.responsible_assigned.v1, replacing the previous responsible person.",
			params: []apidoc.Param{indicatorIDParam}},
		"GET /v1/figures": readDoc{id: "figures", tag: "figures", summary: "Implementation percentages",
			desc: "The figures of a scope by every published method (or one), with their provenance: the signed checkpoint, the methods and the instants answered for. Without as_of, known_at and checkpoint: now, from the read models (provenance basis live). With either: folded from the events — as_of keeps what had taken effect by then (corrections recorded later included), known_at keeps what had been recorded by then (the ledger's answer on that day). A date means the end of that day in UTC.",
			ok:   ok("The figures.", figuresResponse{}), errs: figuresErrors,
			params: append(figureScopeParams(),
				apidoc.QueryParam("as_of", "A date (end of day, UTC) or an RFC 3339 time.", timeAxisSchema),
				apidoc.QueryParam("known_at", "A date (end of day, UTC) or an RFC 3339 time.", timeAxisSchema), checkpointParam)},
		"GET /v1/figures/series": readDoc{id: "figureSeries", tag: "figures", summary: "Daily series of percentages",
			desc: "One row per day from from to to (at most 3700 days): the figures as they stood at the end of each day (UTC), optionally as known at known_at. Compact: the scope once, then rows whose values follow columns (date, measures, done, cancelled, then numerator, denominator and percent of each method shown). format=csv gives the same as CSV, its first line the provenance as a comment (# provenance basis=… tree_size=… root_hash=… …).",
			ok: apidoc.Response{Status: 200, Description: "The series.", Body: seriesResponse{},
				Content: []apidoc.Content{{Media: "text/csv", Schema: stringSchema()}}},
			errs: figuresErrors,
			params: append(figureScopeParams(),
				apidoc.QueryParam("from", "First day, YYYY-MM-DD.", apidoc.Schema{"type": "string", "format": "date"}).Require(),
				apidoc.QueryParam("to", "Last day, YYYY-MM-DD.", apidoc.Schema{"type": "string", "format": "date"}).Require(),
				apidoc.QueryParam("format", "json (default) or csv.", enumSchema("json", "csv")),
				apidoc.QueryParam("known_at", "A date (end of day, UTC) or an RFC 3339 time.", timeAxisSchema), checkpointParam)},
		"GET /v1/methods": readDoc{id: "methods", tag: "figures", summary: "Published methods",
			desc: "Every method and version a figure can name: what it counts, over what, and since when it applies.",
			ok:   ok("The methods.", methodsResponse{})},
		"GET /healthz": readDoc{id: "healthz", tag: "operations", summary: "Liveness", desc: "200 while the process serves requests; touches nothing else.",
			ok: ok("Alive.", healthResponse{})},
		"GET /readyz": readDoc{id: "readyz", tag: "operations", summary: "Readiness",
			desc: "200 when the database answers and every projector runs and is at most the configured lag (30 s by default) behind; 503 otherwise, with checks saying what is not ready.",
			ok:   ok("Ready.", readyResponse{}), errs: []apidoc.Response{problemAnswer(503, "Not ready: checks[] says why.", "Retry-After")}},
		"GET /metrics": readDoc{id: "metrics", tag: "operations", summary: "Prometheus metrics",
			desc: "HTTP requests by route pattern, method and status; request durations; projector lag, errors and generations.",
			ok: apidoc.Response{Status: 200, Description: "Prometheus text exposition.",
				Content: []apidoc.Content{{Media: "text/plain", Schema: stringSchema()}}}},
		"GET /openapi.json": readDoc{id: "openapi", tag: "operations", summary: "This document", desc: "The OpenAPI 3.1 description of the API, generated from the route table and the Go types.",
			ok: apidoc.Response{Status: 200, Description: "The document.",
				Content: []apidoc.Content{{Media: "application/json", Schema: apidoc.Schema{"type": "object"}}}}},
	}
}

// operations are the route table's descriptors: a route without one is
// an error, so no route is served undocumented.
func operations(routes []route) ([]apidoc.Op, error) {
	return apidoc.Describe("api", routes, func(rt route) string { return rt.method + " " + rt.pattern }, routeDocs(),
		func(rt route, d any) (apidoc.Op, error) {
			switch d := d.(type) {
			case readDoc:
				return readOperation(rt, d), nil
			case writeDoc:
				wr, isWrite := rt.handler.(writeRoute)
				if !isWrite {
					return apidoc.Op{}, errors.New("described as a write but its handler is not one")
				}
				return writeOperation(rt, d, wr), nil
			}
			return apidoc.Op{}, fmt.Errorf("descriptor of type %T", d)
		})
}

func readOperation(rt route, d readDoc) apidoc.Op {
	responses := []apidoc.Response{d.ok}
	defaults := append([]apidoc.Response{
		problemAnswer(400, badParamsDesc),
		problemAnswer(401, "An Authorization header was sent with a token that is unknown or revoked (reading needs none)."),
	}, commonErrors()...)
	for _, def := range append(slices.Clone(d.errs), defaults...) {
		if !slices.ContainsFunc(responses, func(r apidoc.Response) bool { return r.Status == def.Status }) {
			responses = append(responses, def)
		}
	}
	return apidoc.Op{Method: rt.method, Path: rt.pattern, ID: d.id, Tag: d.tag, Summary: d.summary, Description: d.desc,
		Params: append(slices.Clone(d.params), requestIDParam), Responses: responses}
}

func writeOperation(rt route, d writeDoc, wr writeRoute) apidoc.Op {
	status, okDesc := http.StatusOK, "Recorded."
	if wr.spec.created {
		status, okDesc = http.StatusCreated, "Recorded: it now exists."
	}
	who := wr.spec.policy.who
	roles := make([]string, len(wr.spec.policy.roles))
	for i, r := range wr.spec.policy.roles {
		roles[i] = string(r)
	}
	responses := append([]apidoc.Response{
		{Status: status, Description: okDesc + " The body names the stream, its new version and the event recorded.", Body: writeResult{},
			Headers: map[string]string{"ETag": "", "Location": "", "Idempotent-Replayed": ""}},
		problemAnswer(400, "The request cannot be read: malformed JSON, a value of the wrong JSON type, an unknown field, trailing data, a malformed If-Match or Idempotency-Key, or a bad path or query parameter (errors[] names it: one the route does not take, bytes that are not UTF-8 text, a control character, a value over 1024 bytes)."),
		problemAnswer(401, "No token, or a token that is unknown or revoked.", "WWW-Authenticate"),
		problemAnswer(403, "The token may not send this command: only "+who+" may."),
		problemAnswer(404, "The addressed roadmap or indicator does not exist."),
		problemAnswer(409, "The target's state forbids it: stale If-Match/expected_version (current_version says where it is), already exists, roadmap closed, indicator cancelled, invalid transition, already assigned or not assigned. "+
			"Or, for a write sent without a version, write-contention: other writes to the same record kept landing first until the server's retry budget ran out; nothing was recorded, send the same request again after Retry-After seconds.", "Retry-After"),
		problemAnswer(413, "The body is larger than the server accepts (1 MiB by default)."),
		problemAnswer(415, "The body is not application/json."),
		problemAnswer(422, "The values break a rule (errors[] lists each field), or the Idempotency-Key was used before for a different request."),
	}, commonErrors()...)
	return apidoc.Op{Method: rt.method, Path: rt.pattern, ID: d.id, Tag: d.tag, Summary: d.summary, Description: d.desc,
		Policy: who, Roles: roles, Request: wr.body, RequestRequired: false,
		Params: append(slices.Clone(d.params), ifMatchParam, idempotencyKeyParam, requestIDParam), Responses: responses}
}

// openAPIDocument builds the document of the routes and the mounts'
// operations.
func openAPIDocument(version string, routes []route, mounts []Mount) (apidoc.Schema, []apidoc.Op, error) {
	if version == "" {
		version = "dev"
	}
	ops, err := operations(routes)
	if err != nil {
		return nil, nil, err
	}
	all := slices.Clone(ops)
	for _, m := range mounts {
		all = append(all, m.Ops...)
	}
	doc, err := apidoc.Build(apidoc.Info{Title: "PromiseLedger API", Version: version, Description: infoDescription,
		Tags: apiTags, SecuritySchemes: securitySchemes}, newReflector(), responseHeaders, all)
	if err != nil {
		return nil, nil, err
	}
	// Mounts still described by hand-written path items join as they are.
	paths := doc["paths"].(apidoc.Schema)
	for _, m := range mounts {
		for path, item := range m.Paths {
			if _, dup := paths[path]; dup {
				return nil, nil, fmt.Errorf("api: path %s is described twice", path)
			}
			paths[path] = item
		}
	}
	return doc, ops, nil
}

// newReflector knows the types of other packages that marshal themselves.
func newReflector() *apidoc.Reflector { return apidoc.NewReflector() }

// levelWords are the levels roadmap lists and figures take: republican,
// regional and district (the words the councils and the league use too),
// and local, the program's word for every roadmap below the republic,
// another name of regional.
func levelWords() []string { return append(slices.Clone(projections.LevelWords), levelLocal) }

// levelLocal is read as regional ("216 local roadmaps" are the regional
// ones); answers say regional.
const levelLocal = "local"

func levelWord(w string) string {
	if w == levelLocal {
		return string(domain.LevelRegional)
	}
	return w
}

func methodNames() []string {
	var names []string
	for _, m := range projections.Methods {
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	return names
}
