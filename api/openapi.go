package api

import (
	"maps"
	"slices"

	"promiseledger/projections"
)

// The OpenAPI 3.1 document, written by hand as Go data. Tests check that it
// names exactly the routes the server registers, and that the responses of
// the main routes validate against the schemas here; response and request
// objects say additionalProperties: false, so an undocumented field fails
// those tests.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func strFormat(format, desc string) obj {
	return obj{"type": "string", "format": format, "description": desc}
}

func enum(desc string, values ...string) obj {
	return obj{"type": "string", "enum": values, "description": desc}
}

func number(desc string) obj  { return obj{"type": "number", "description": desc} }
func integer(desc string) obj { return obj{"type": "integer", "description": desc} }
func boolean(desc string) obj { return obj{"type": "boolean", "description": desc} }

func array(items obj, desc string) obj {
	return obj{"type": "array", "items": items, "description": desc}
}

// object is a closed object: only the listed properties, the required ones
// always present.
func object(desc string, required []string, props obj) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if desc != "" {
		o["description"] = desc
	}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func merge(ps ...obj) obj {
	out := obj{}
	for _, p := range ps {
		maps.Copy(out, p)
	}
	return out
}

const (
	dateDesc     = "A calendar date, YYYY-MM-DD."
	instantDesc  = "An RFC 3339 time in UTC."
	uuidDesc     = "A UUID in canonical form (lower case, with hyphens)."
	textDesc     = "A name in the three languages the ledger publishes."
	versionDesc  = "The stream's version (the number of its events): send it back in If-Match to pin a write to what you read."
	problemMedia = "application/problem+json"
)

func openAPIDocument(version string) obj {
	if version == "" {
		version = "dev"
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "PromiseLedger API",
			"version":     version,
			"description": infoDescription,
		},
		"servers": []obj{{"url": "/"}},
		"tags": []obj{
			{"name": "catalog", "description": "Programs, territories and roadmaps."},
			{"name": "indicators", "description": "The measures of roadmaps, their reports and corrections."},
			{"name": "figures", "description": "Implementation percentages, on both time axes."},
			{"name": "history", "description": "The events behind every number, straight from the event store."},
			{"name": "operations", "description": "Health, readiness, metrics and this document."},
		},
		"paths": openAPIPaths(),
		"components": obj{
			"schemas": openAPISchemas(),
			"securitySchemes": obj{
				"bearer": obj{"type": "http", "scheme": "bearer",
					"description": "A token issued by an administrator (`ledger token create`): `Authorization: Bearer plt_…`. Reading needs none."},
			},
		},
	}
}

const infoDescription = `An event-sourced ledger of a party's election promises: roadmaps of measures (indicators), progress reports with evidence, corrections recorded beside what they correct, and implementation percentages computed by published methods.

**Reading** is public. **Writing** needs a bearer token; the actor recorded in every event is the token's person (or "token:<id>"), never a field of the body. Roles: admin (every command), officer (indicators of the roadmaps they are an assigned responsible of), council and deputy (read only, for now).

**Errors** are RFC 9457 problem documents (application/problem+json) with a stable type URI (urn:promiseledger:problem:<slug>). 400: the request cannot be read — malformed JSON, a value of the wrong JSON type, an unknown field, trailing data, a bad query parameter or header. 422: the request was read, but its values break a rule (errors[] lists each field, e.g. title.kk); also an Idempotency-Key reused for a different request. 409: the target's state forbids the command (stale version, already exists, closed roadmap, cancelled indicator, invalid transition, already assigned / not assigned). 404: the addressed resource does not exist (including malformed ids in the path). 401: no valid token; 403: the token may not do this.

**Concurrency**: every write answers with an ETag of the stream's version. Send it back as If-Match (or expected_version in the body; If-Match wins) and the write fails with 409 and current_version if anything happened in between. A write sent without a version is decided again on the latest state when another write lands first, for up to a few seconds; if others keep landing first it fails with 409 write-contention and Retry-After, having recorded nothing: send it again.

**Unavailability**: while the database cannot be reached, requests answer 503 (type unavailable) with Retry-After, never 500. A write that got a 503 may or may not have been recorded; send it again with the same Idempotency-Key and it is recorded once.

**Retries**: send an Idempotency-Key header with a write. A retry with the same key (same token, route, target and body) records nothing new and answers as the first time, with duplicate: true and the header Idempotent-Replayed: true. The same key for a different request is refused with 422.

**Parameters**: a route refuses (400, errors[] naming each) a query parameter it does not take, a parameter given twice, a path or query value that is not UTF-8 text, holds a control character or is over 1024 bytes, and booleans other than true and false. Nothing is silently ignored: a misspelt as_of is an error, not today's figure.

**Paging**: lists take limit (default 50, at most the server's LEDGER_MAX_PAGE_SIZE, 500 by default) and return next_cursor (null on the last page) and a Link rel=next header; pass cursor= to continue. Cursors are opaque.

**Time axes**: as_of selects what had taken effect by a time (corrections included, because they take the effective date of what they correct); known_at selects what the ledger had recorded by a time (later corrections left out). A date means the end of that day in UTC.`

// Parameters.

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": obj{"type": "string"}}
}

func queryParam(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": schema}
}

func requiredQuery(name, desc string, schema obj) obj {
	p := queryParam(name, desc, schema)
	p["required"] = true
	return p
}

var (
	roadmapIDParam   = pathParam("id", "The roadmap's id (a UUID). A malformed id is 404; bytes that are not text (NUL, invalid UTF-8, control characters) are 400.")
	indicatorIDParam = pathParam("id", "The indicator's id (a UUID). A malformed id is 404; bytes that are not text (NUL, invalid UTF-8, control characters) are 400.")
	ifMatchParam     = obj{"name": "If-Match", "in": "header", "required": false, "schema": obj{"type": "string"},
		"description": `The version you read, quoted ("7"): the write fails with 409 if the stream has moved on. "*" pins nothing. Wins over expected_version in the body.`}
	idempotencyKeyParam = obj{"name": "Idempotency-Key", "in": "header", "required": false, "schema": obj{"type": "string", "maxLength": 255},
		"description": "Makes a retry safe: the same key with the same request records nothing new and answers as the first time (Idempotent-Replayed: true). 1–255 printable characters without spaces; use a new key for every new request."}
	requestIDParam = obj{"name": "X-Request-Id", "in": "header", "required": false, "schema": obj{"type": "string", "maxLength": 128},
		"description": "Your id for the request; echoed, logged, and used as the correlation id of the events the request records. One is made when absent."}
	limitParam = queryParam("limit", "Page size: 1 to the server's maximum, LEDGER_MAX_PAGE_SIZE (default 500); 50 when absent. Larger is a 400.",
		obj{"type": "integer", "minimum": 1, "maximum": projectionsMaxPage})
	cursorParam = queryParam("cursor", "The next_cursor of the previous page.", obj{"type": "string"})
)

// projectionsMaxPage documents DefaultMaxPageSize (a server may be
// configured otherwise).
const projectionsMaxPage = DefaultMaxPageSize

// Responses.

func jsonResponse(desc, schema string, headers ...string) obj {
	r := obj{"description": desc, "content": obj{"application/json": obj{"schema": ref(schema)}}}
	if len(headers) > 0 {
		h := obj{}
		for _, name := range headers {
			h[name] = responseHeaders[name]
		}
		r["headers"] = h
	}
	return r
}

func problemResponse(desc string) obj {
	return obj{"description": desc, "content": obj{problemMedia: obj{"schema": ref("Problem")}}}
}

var responseHeaders = obj{
	"ETag":                obj{"description": `The stream's version, quoted ("7"): send it back in If-Match.`, "schema": obj{"type": "string"}},
	"Location":            obj{"description": "Where to read what was created.", "schema": obj{"type": "string"}},
	"Idempotent-Replayed": obj{"description": `"true" when the answer repeats an earlier request with the same Idempotency-Key.`, "schema": obj{"type": "string"}},
	"Link":                obj{"description": `The next page: <url>; rel="next".`, "schema": obj{"type": "string"}},
	"WWW-Authenticate":    obj{"description": "Bearer challenge.", "schema": obj{"type": "string"}},
	"Retry-After":         obj{"description": "Seconds to wait before trying again.", "schema": obj{"type": "string"}},
}

// commonErrors are the answers every route may give.
func commonErrors(r obj) obj {
	r["500"] = problemResponse("Something went wrong on the server; the problem names the request id to quote.")
	r["503"] = merge(problemResponse("Unavailable for a moment (type unavailable): the database cannot be reached, or the request was cancelled or timed out. Try again after Retry-After seconds; a write sent again with the same Idempotency-Key is recorded once."),
		obj{"headers": obj{"Retry-After": responseHeaders["Retry-After"]}})
	return r
}

// badParamsDesc says what every route refuses in its path and query
// (package params).
const badParamsDesc = "A path or query parameter cannot be read (errors[] names each): a parameter the route does not take, one given twice, " +
	"a value that is not UTF-8 text, holds a control character or is over 1024 bytes, a boolean other than true or false, " +
	"a limit outside 1 to the server's maximum; or another bad value or cursor."

// writeOp documents a write route: its request schema, who may send it,
// and every answer.
func writeOp(id, tag, summary, desc, who, body string, created bool, params ...obj) obj {
	okStatus, okDesc := "200", "Recorded."
	if created {
		okStatus, okDesc = "201", "Recorded: it now exists."
	}
	params = append(params, ifMatchParam, idempotencyKeyParam, requestIDParam)
	responses := commonErrors(obj{
		okStatus: jsonResponse(okDesc+" The body names the stream, its new version and the event recorded.",
			"WriteResult", "ETag", "Location", "Idempotent-Replayed"),
		"400": problemResponse("The request cannot be read: malformed JSON, a value of the wrong JSON type, an unknown field, trailing data, a malformed If-Match or Idempotency-Key, or a bad path or query parameter (errors[] names it: one the route does not take, bytes that are not UTF-8 text, a control character, a value over 1024 bytes)."),
		"401": merge(problemResponse("No token, or a token that is unknown or revoked."), obj{"headers": obj{"WWW-Authenticate": responseHeaders["WWW-Authenticate"]}}),
		"403": problemResponse("The token may not send this command (" + who + ")."),
		"404": problemResponse("The addressed roadmap or indicator does not exist."),
		"409": merge(problemResponse("The target's state forbids it: stale If-Match/expected_version (current_version says where it is), already exists, roadmap closed, indicator cancelled, invalid transition, already assigned or not assigned. "+
			"Or, for a write sent without a version, write-contention: other writes to the same record kept landing first until the server's retry budget ran out; nothing was recorded, send the same request again after Retry-After seconds."),
			obj{"headers": obj{"Retry-After": responseHeaders["Retry-After"]}}),
		"413": problemResponse("The body is larger than the server accepts (1 MiB by default)."),
		"415": problemResponse("The body is not application/json."),
		"422": problemResponse("The values break a rule (errors[] lists each field), or the Idempotency-Key was used before for a different request."),
	})
	op := obj{
		"operationId": id,
		"tags":        []string{tag},
		"summary":     summary,
		"description": desc + "\n\nWho: " + who + ".",
		"security":    []obj{{"bearer": []string{}}},
		"parameters":  params,
		"responses":   responses,
	}
	if body != "" {
		op["requestBody"] = obj{"required": false, "content": obj{"application/json": obj{"schema": ref(body)}},
			"description": "JSON. An empty body means {}."}
	}
	return op
}

// readOp documents a public read.
func readOp(id, tag, summary, desc string, ok obj, extra obj, params ...obj) obj {
	params = append(params, requestIDParam)
	responses := commonErrors(obj{
		"200": ok,
		"400": problemResponse(badParamsDesc),
		"401": problemResponse("An Authorization header was sent with a token that is unknown or revoked (reading needs none)."),
	})
	maps.Copy(responses, extra)
	return obj{
		"operationId": id,
		"tags":        []string{tag},
		"summary":     summary,
		"description": desc,
		"security":    []obj{{}},
		"parameters":  params,
		"responses":   responses,
	}
}

func openAPIPaths() obj {
	badQuery := obj{"400": problemResponse(badParamsDesc + " The cursor must have been issued for this list.")}
	notFoundRoadmap := obj{"404": problemResponse("There is no such roadmap (in the read model).")}
	notFoundIndicator := obj{"404": problemResponse("There is no such indicator.")}
	scopeParams := []obj{
		queryParam("scope", "What the figures are about: all (default), roadmap, territory (the territory and every territory below it), level or program.",
			enum("", "all", "roadmap", "territory", "level", "program")),
		queryParam("id", "The scope's id: a roadmap or program UUID, a KATO code, or republican/regional. Required unless scope=all.", obj{"type": "string"}),
		queryParam("program", "Narrow any scope to one program (UUID).", strFormat("uuid", uuidDesc)),
		queryParam("method", "Only this method's figure (default: every method).", enum("", methodNames()...)),
	}
	figuresErrors := merge(badQuery, obj{
		"404": problemResponse("The scope names nothing the ledger knows (unknown-scope)."),
		"503": problemResponse("checkpoint=N names a signed checkpoint the read models have not applied yet: try again after Retry-After seconds."),
	})
	checkpointParam := queryParam("checkpoint", "Answer as of this signed state of the transparency log: the tree size of a signed checkpoint (GET /v1/audit/checkpoint). Only the events of leaves below it count, so the answer is the same whenever it is asked (docs/methodology.md, \"Provenance\"). 400 when no signed checkpoint has that size.",
		obj{"type": "integer", "minimum": 1})

	return obj{
		"/v1/programs": obj{
			"post": writeOp("registerProgram", "catalog", "Register an election program",
				"Records program.registered.v1. Without an id the program takes the event's id, so a retry with the same Idempotency-Key registers the same program.",
				"admin", "RegisterProgramRequest", true),
			"get": readOp("listPrograms", "catalog", "List programs", "Every registered program, by the start of its period.",
				jsonResponse("The programs.", "ProgramList"), nil),
		},
		"/v1/territories": obj{
			"post": writeOp("registerTerritory", "catalog", "Register a territory",
				"Records territory.registered.v1 under its KATO code. The parent must be registered first, and be of the kind this kind belongs to (a district to a region, …). kind also accepts the territory list's short names city_republican and city_regional.",
				"admin", "RegisterTerritoryRequest", true),
			"get": readOp("listTerritories", "catalog", "List territories",
				"Registered territories by KATO code; with parent, only that territory's direct children.",
				jsonResponse("The territories.", "TerritoryList"), badQuery,
				queryParam("parent", "Only the direct children of this KATO code.", obj{"type": "string"})),
		},
		"/v1/roadmaps": obj{
			"post": writeOp("registerRoadmap", "catalog", "Register a roadmap",
				"Records roadmap.registered.v1: a program's plan for one territory. The program and the territory must be registered, the period must lie within the program's, and level is republican exactly for the republic. Location names the new roadmap.",
				"admin", "RegisterRoadmapRequest", true),
			"get": readOp("listRoadmaps", "catalog", "List roadmaps",
				"Roadmaps ordered by territory code, then id, with their measure counts. Filters combine with AND; an unknown territory or program simply matches nothing.",
				jsonResponse("One page of roadmaps.", "RoadmapPage", "Link"), badQuery,
				queryParam("level", "republican or regional.", enum("", "republican", "regional")),
				queryParam("territory", "Exactly this territory (KATO code).", obj{"type": "string"}),
				queryParam("within", "This territory and every territory below it (KATO code): a region's roadmap and its districts'.", obj{"type": "string"}),
				queryParam("program", "One program (UUID).", strFormat("uuid", uuidDesc)),
				queryParam("status", "registered, active or closed.", enum("", "registered", "active", "closed")),
				cursorParam, limitParam),
		},
		"/v1/roadmaps/{id}": obj{
			"get": readOp("getRoadmap", "catalog", "Open a roadmap",
				"The roadmap, all its indicators (with overdue judged against today in Kazakhstan), its figures by every method, and the figures of its territory and of each territory above it for the same program — the district's percentage beside its region's and the republic's. ETag is the roadmap stream's version, for If-Match on the roadmap's writes (the body also changes with its indicators). Read models follow the event log within moments: a roadmap just registered may be 404 for that long.",
				jsonResponse("The roadmap.", "RoadmapDetail", "ETag"), notFoundRoadmap, roadmapIDParam),
		},
		"/v1/roadmaps/{id}/activate": obj{
			"post": writeOp("activateRoadmap", "catalog", "Activate a roadmap",
				"Records roadmap.activated.v1. Only a registered roadmap can be activated (an active one is 409 invalid-transition, a closed one 409 roadmap-closed).",
				"admin", "CommonRequest", false, roadmapIDParam),
		},
		"/v1/roadmaps/{id}/close": obj{
			"post": writeOp("closeRoadmap", "catalog", "Close a roadmap",
				"Records roadmap.closed.v1; reason is required. A closed roadmap accepts no commands and no new indicators; its indicators still take reports and corrections.",
				"admin", "CommonRequest", false, roadmapIDParam),
		},
		"/v1/roadmaps/{id}/responsibles": obj{
			"post": writeOp("assignRoadmapResponsible", "catalog", "Assign a responsible to a roadmap",
				"Records roadmap.responsible_assigned.v1: a deputy or an official becomes answerable for the roadmap. An officer token whose person id is assigned here may then write to the roadmap's indicators.",
				"admin", "AssignRoadmapResponsibleRequest", false, roadmapIDParam),
		},
		"/v1/roadmaps/{id}/responsibles/{person_id}": obj{
			"delete": writeOp("unassignRoadmapResponsible", "catalog", "Unassign a roadmap's responsible",
				"Records roadmap.responsible_unassigned.v1. A reason is required: in the body, or as the reason query parameter.",
				"admin", "CommonRequest", false, roadmapIDParam,
				pathParam("person_id", "The person to release."),
				queryParam("reason", "Why (when the request has no body).", obj{"type": "string"})),
		},
		"/v1/roadmaps/{id}/indicators": obj{
			"post": writeOp("addIndicator", "indicators", "Add an indicator to a roadmap",
				"Records indicator.added.v1 in the indicator's own stream. A milestone has no baseline, target or unit; a numeric indicator needs all three (its direction is derived). weight defaults to 1. The roadmap must exist (404) and not be closed (409). Location names the new indicator.",
				"admin, or an officer assigned to the roadmap", "AddIndicatorRequest", true, roadmapIDParam),
		},
		"/v1/roadmaps/{id}/history": obj{
			"get": readOp("roadmapHistory", "history", "A roadmap's history",
				"Every event of the roadmap and of its indicators, from the event store, in the global order: who recorded what, when it took effect, when it was recorded, and why.",
				jsonResponse("The events.", "History"), obj{"404": problemResponse("There is no such roadmap.")}, roadmapIDParam),
		},
		"/v1/indicators": obj{
			"get": readOp("listIndicators", "indicators", "List indicators",
				"Indicators ordered by deadline, then id. overdue is judged against today in Kazakhstan: neither done nor cancelled, and the deadline has passed.",
				jsonResponse("One page of indicators.", "IndicatorPage", "Link"), badQuery,
				queryParam("roadmap", "One roadmap (UUID).", strFormat("uuid", uuidDesc)),
				queryParam("status", "not_started, in_progress, done or cancelled.", enum("", "not_started", "in_progress", "done", "cancelled")),
				queryParam("overdue", "true: only overdue indicators; false: only the others.", obj{"type": "boolean"}),
				queryParam("responsible", "The indicator's own responsible person.", obj{"type": "string"}),
				queryParam("roadmap_responsible", "Indicators of the roadmaps this person is assigned to: an officer's measures.", obj{"type": "string"}),
				queryParam("no_evidence", "true: only indicators, not cancelled, without a report in force that carries evidence.", obj{"type": "boolean"}),
				cursorParam, limitParam),
		},
		"/v1/indicators/{id}": obj{
			"get": readOp("getIndicator", "indicators", "Open an indicator",
				"The indicator's state with every report and correction in the order recorded; a correction names what it corrects (corrects) and the corrected report names it back (corrected_by). ETag is the indicator stream's version, for If-Match on its writes.",
				jsonResponse("The indicator.", "Indicator", "ETag"), notFoundIndicator, indicatorIDParam),
		},
		"/v1/indicators/{id}/history": obj{
			"get": readOp("indicatorHistory", "history", "An indicator's history",
				"Every event of the indicator, from the event store, in order. Corrections carry corrects, the report they correct.",
				jsonResponse("The events.", "History"), notFoundIndicator, indicatorIDParam),
		},
		"/v1/indicators/{id}/reports": obj{
			"post": writeOp("reportProgress", "indicators", "Report progress",
				"Records indicator.progress_reported.v1: a value (numeric) or done (milestone), with evidence (a url, a sha256 of a document, or both). as_of (or effective_at) is when the reading was true; default now. The report's id is its event id (report_id).",
				"admin, or an officer assigned to the indicator's roadmap", "ReportProgressRequest", true, indicatorIDParam),
		},
		"/v1/indicators/{id}/corrections": obj{
			"post": writeOp("correctReport", "indicators", "Correct a report",
				"Records indicator.report_corrected.v1: what the report named in corrects should have said. reason is required. The correction takes effect when the corrected report did, so figures as of that date change, while figures known_at a time before the correction do not. Only the latest of a chain can be corrected.",
				"admin, or an officer assigned to the indicator's roadmap", "CorrectReportRequest", true, indicatorIDParam),
		},
		"/v1/indicators/{id}/retarget": obj{
			"post": writeOp("retargetIndicator", "indicators", "Re-target an indicator",
				"Records indicator.retargeted.v1: a new target, deadline or weight (absent fields stay). reason is required; a request that changes nothing is 422.",
				"admin, or an officer assigned to the indicator's roadmap", "RetargetIndicatorRequest", false, indicatorIDParam),
		},
		"/v1/indicators/{id}/status": obj{
			"post": writeOp("changeIndicatorStatus", "indicators", "Set an indicator's status",
				"Records indicator.status_changed.v1. Moving backwards, or marking a numeric indicator done below its target, needs a reason; setting the current status is 409.",
				"admin, or an officer assigned to the indicator's roadmap", "ChangeIndicatorStatusRequest", false, indicatorIDParam),
		},
		"/v1/indicators/{id}/cancel": obj{
			"post": writeOp("cancelIndicator", "indicators", "Cancel an indicator",
				"Records indicator.cancelled.v1; reason is required. Final: later commands on the indicator are 409.",
				"admin, or an officer assigned to the indicator's roadmap", "CommonRequest", false, indicatorIDParam),
		},
		"/v1/indicators/{id}/responsible": obj{
			"post": writeOp("assignIndicatorResponsible", "indicators", "Assign an indicator's responsible",
				"Records indicator.responsible_assigned.v1, replacing the previous responsible person.",
				"admin, or an officer assigned to the indicator's roadmap", "AssignIndicatorResponsibleRequest", false, indicatorIDParam),
		},
		"/v1/figures": obj{
			"get": readOp("figures", "figures", "Implementation percentages",
				"The figures of a scope by every published method (or one), with their provenance: the signed checkpoint, the methods and the instants answered for. Without as_of, known_at and checkpoint: now, from the read models (provenance basis live). With either: folded from the events — as_of keeps what had taken effect by then (corrections recorded later included), known_at keeps what had been recorded by then (the ledger's answer on that day). A date means the end of that day in UTC.",
				jsonResponse("The figures.", "Figures"), figuresErrors,
				append(slices.Clone(scopeParams),
					queryParam("as_of", "A date (end of day, UTC) or an RFC 3339 time.", obj{"type": "string"}),
					queryParam("known_at", "A date (end of day, UTC) or an RFC 3339 time.", obj{"type": "string"}), checkpointParam)...),
		},
		"/v1/figures/series": obj{
			"get": readOp("figureSeries", "figures", "Daily series of percentages",
				"One row per day from from to to (at most 3700 days): the figures as they stood at the end of each day (UTC), optionally as known at known_at. Compact: the scope once, then rows whose values follow columns (date, measures, done, cancelled, then numerator, denominator and percent of each method shown). format=csv gives the same as CSV, its first line the provenance as a comment (# provenance basis=… tree_size=… root_hash=… …).",
				obj{"description": "The series.", "content": obj{
					"application/json": obj{"schema": ref("Series")},
					"text/csv":         obj{"schema": obj{"type": "string"}},
				}}, figuresErrors,
				append(slices.Clone(scopeParams),
					requiredQuery("from", "First day, YYYY-MM-DD.", strFormat("date", dateDesc)),
					requiredQuery("to", "Last day, YYYY-MM-DD.", strFormat("date", dateDesc)),
					queryParam("format", "json (default) or csv.", enum("", "json", "csv")),
					queryParam("known_at", "A date (end of day, UTC) or an RFC 3339 time.", obj{"type": "string"}), checkpointParam)...),
		},
		"/v1/methods": obj{
			"get": readOp("methods", "figures", "Published methods",
				"Every method and version a figure can name: what it counts, over what, and since when it applies.",
				jsonResponse("The methods.", "Methods"), nil),
		},
		"/healthz": obj{
			"get": readOp("healthz", "operations", "Liveness", "200 while the process serves requests; touches nothing else.",
				jsonResponse("Alive.", "Health"), nil),
		},
		"/readyz": obj{
			"get": readOp("readyz", "operations", "Readiness",
				"200 when the database answers and every projector runs and is at most the configured lag (30 s by default) behind; 503 otherwise, with checks saying what is not ready.",
				jsonResponse("Ready.", "Ready"), obj{"503": problemResponse("Not ready: checks[] says why.")}),
		},
		"/metrics": obj{
			"get": readOp("metrics", "operations", "Prometheus metrics",
				"HTTP requests by route pattern, method and status; request durations; projector lag, errors and generations.",
				obj{"description": "Prometheus text exposition.", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}, nil),
		},
		"/openapi.json": obj{
			"get": readOp("openapi", "operations", "This document", "The OpenAPI 3.1 description of the API.",
				obj{"description": "The document.", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}, nil),
		},
	}
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

func problemTypeURIs() []string {
	out := make([]string, len(problemTypes))
	for i, t := range problemTypes {
		out[i] = problemTypePrefix + t
	}
	return out
}

func openAPISchemas() obj {
	text := ref("Text")
	commonProps := obj{
		"reason":           str("Why. Required for closing a roadmap, unassigning, correcting, cancelling, re-targeting, backward status changes and marking a numeric indicator done below target."),
		"expected_version": obj{"type": "integer", "minimum": 0, "description": "The version you read; If-Match wins over it."},
		"effective_at":     strFormat("date-time", "When the fact became true in the world (RFC 3339); default now. Not after now, not before the record took effect."),
	}
	indicatorSummaryProps := obj{
		"id":               strFormat("uuid", uuidDesc),
		"roadmap_id":       strFormat("uuid", uuidDesc),
		"title":            text,
		"kind":             enum("milestone (done or not) or numeric (from baseline to target).", "milestone", "numeric"),
		"status":           enum("Derived from reports, re-targets and explicit changes.", "not_started", "in_progress", "done", "cancelled"),
		"overdue":          boolean("Neither done nor cancelled, and the deadline is before today (in Kazakhstan)."),
		"deadline":         strFormat("date", dateDesc),
		"weight":           number("Weight in weighted-progress."),
		"completion":       number("Share achieved, 0 to 1: 1 when done; for numeric indicators (latest − baseline)/(target − baseline), clamped."),
		"baseline":         number("Numeric indicators only."),
		"target":           number("Numeric indicators only; the target in force."),
		"unit":             ref("Text"),
		"direction":        enum("Numeric indicators only: derived from baseline and target.", "increase", "decrease"),
		"latest_value":     number("The reading of the report with the latest as_of, after corrections."),
		"latest_as_of":     strFormat("date-time", "The as_of of that report."),
		"responsible_id":   str("The indicator's responsible person."),
		"report_count":     integer("Original reports."),
		"correction_count": integer("Corrections."),
		"has_evidence":     boolean("A report in force carries evidence."),
		"version":          integer(versionDesc),
		"updated_at":       strFormat("date-time", "When the last event was recorded."),
	}
	indicatorSummaryRequired := []string{"id", "roadmap_id", "title", "kind", "status", "overdue", "deadline", "weight",
		"completion", "report_count", "correction_count", "has_evidence", "version", "updated_at"}
	figureList := array(ref("Figure"), "One figure per method.")

	return obj{
		"Text": object(textDesc, []string{"kk", "ru", "en"}, obj{
			"kk": str("Kazakh."), "ru": str("Russian."), "en": str("English."),
		}),
		"Period": object("A closed range of days.", []string{"start", "end"}, obj{
			"start": strFormat("date", dateDesc), "end": strFormat("date", dateDesc),
		}),
		"Evidence": object("What backs a report: a public link, the SHA-256 of a document, or both.", nil, obj{
			"url":         strFormat("uri", "An absolute http or https URL."),
			"sha256":      str("64 hexadecimal digits (stored lower case)."),
			"description": str("What the evidence is."),
		}),
		"Responsible": object("A person answerable for a roadmap.", []string{"person_id", "role", "display_name"}, obj{
			"person_id":    str("An opaque person id."),
			"role":         enum("", "deputy", "official"),
			"display_name": str("The name to show."),
		}),
		"FieldError": object("One problem with one field.", []string{"field", "problem"}, obj{
			"field":   str("The snake_case path of the field (title.kk, evidence.url), a query parameter or a header; empty for the request as a whole."),
			"problem": str("What is wrong with it."),
		}),
		"Problem": object("An RFC 9457 problem document.", []string{"type", "title", "status"}, obj{
			"type":            obj{"type": "string", "enum": problemTypeURIs(), "description": "The kind of problem: a stable URN."},
			"title":           str("A short summary of the kind of problem."),
			"status":          integer("The HTTP status."),
			"detail":          str("What went wrong this time."),
			"instance":        str("The request path."),
			"request_id":      str("The request id (X-Request-Id): quote it when reporting a problem."),
			"errors":          array(ref("FieldError"), "Each field at fault (400 and 422)."),
			"current_version": integer("On a version conflict: the stream's current version."),
			"checks":          array(ref("ReadyCheck"), "On /readyz: what was checked."),
		}),
		"WriteResult": object("What a write recorded.", []string{"id", "stream", "version", "event_ids", "duplicate"}, obj{
			"id":        str("The id of the aggregate the command changed or created (a UUID, or a KATO code)."),
			"stream":    str("Its stream."),
			"version":   integer("The stream's version after the command: the new ETag."),
			"event_ids": array(strFormat("uuid", uuidDesc), "The events recorded (one)."),
			"duplicate": boolean("true when this repeats an earlier request with the same Idempotency-Key: nothing new was recorded. The only difference from the first answer."),
			"report_id": strFormat("uuid", "Reports and corrections: the new report's id (its event id)."),
		}),
		"CommonRequest": object("The fields every write takes.", nil, commonProps),
		"RegisterProgramRequest": object("", []string{"name", "kind", "period"}, merge(commonProps, obj{
			"id":     strFormat("uuid", "Optional: the program's id. Default: the event's id."),
			"name":   text,
			"kind":   enum("The main program or the youth program.", "main", "youth"),
			"period": ref("Period"),
		})),
		"RegisterTerritoryRequest": object("", []string{"kato", "name", "kind"}, merge(commonProps, obj{
			"kato": str(`Nine digits, or "0" for the republic.`),
			"name": text,
			"kind": enum("Also accepted: city_republican, city_regional.", "republic", "region", "city_of_republican_significance",
				"district", "city_of_regional_significance", "city_district", "city_republican", "city_regional"),
			"parent_kato": str("Required except for the republic."),
		})),
		"RegisterRoadmapRequest": object("", []string{"program_id", "territory_kato", "level", "title", "period"}, merge(commonProps, obj{
			"id":             strFormat("uuid", "Optional: the roadmap's id. Default: the event's id."),
			"program_id":     strFormat("uuid", uuidDesc),
			"territory_kato": str("The territory's KATO code."),
			"level":          enum("republican exactly for the republic's roadmap.", "republican", "regional"),
			"title":          text,
			"period":         ref("Period"),
		})),
		"AssignRoadmapResponsibleRequest": object("", []string{"person_id", "role", "display_name"}, merge(commonProps, obj{
			"person_id":    str("An opaque person id; an officer token with this person id may write to the roadmap."),
			"role":         enum("", "deputy", "official"),
			"display_name": str("The name to show."),
		})),
		"AddIndicatorRequest": object("", []string{"title", "kind", "deadline"}, merge(commonProps, obj{
			"id":             strFormat("uuid", "Optional: the indicator's id. Default: the event's id."),
			"title":          text,
			"kind":           enum("", "milestone", "numeric"),
			"baseline":       number("Numeric only: where the measure starts."),
			"target":         number("Numeric only: where it should get; differs from the baseline."),
			"unit":           ref("Text"),
			"deadline":       strFormat("date", dateDesc),
			"weight":         number("Above 0; default 1."),
			"responsible_id": str("The person answerable for the measure."),
		})),
		"ReportProgressRequest": object("", []string{"evidence"}, merge(commonProps, obj{
			"value":    number("Numeric indicators: the reading."),
			"done":     boolean("Milestones: whether it is done. Numeric indicators leave it false."),
			"evidence": ref("Evidence"),
			"as_of":    strFormat("date-time", "When the reading was true: the same as effective_at (give one)."),
		})),
		"CorrectReportRequest": object("", []string{"corrects", "evidence", "reason"}, merge(commonProps, obj{
			"corrects": strFormat("uuid", "The report to correct: the latest of its chain."),
			"value":    number("Numeric indicators: what the report should have said."),
			"done":     boolean("Milestones."),
			"evidence": ref("Evidence"),
		})),
		"RetargetIndicatorRequest": object("Give at least one of target, deadline, weight.", []string{"reason"}, merge(commonProps, obj{
			"target":   number("Numeric only; keeps the direction."),
			"deadline": strFormat("date", dateDesc),
			"weight":   number("Above 0."),
		})),
		"ChangeIndicatorStatusRequest": object("", []string{"status"}, merge(commonProps, obj{
			"status": enum("Cancel with /cancel.", "not_started", "in_progress", "done"),
		})),
		"AssignIndicatorResponsibleRequest": object("", []string{"person_id"}, merge(commonProps, obj{
			"person_id": str("The new responsible person."),
		})),
		"Program": object("An election program.", []string{"id", "name", "kind", "period"}, obj{
			"id": strFormat("uuid", uuidDesc), "name": text, "kind": enum("", "main", "youth"), "period": ref("Period"),
		}),
		"ProgramList": object("", []string{"items"}, obj{"items": array(ref("Program"), "")}),
		"Territory": object("An administrative unit.", []string{"kato", "name", "kind"}, obj{
			"kato":        str(`KATO code (nine digits, or "0" for the republic).`),
			"name":        text,
			"kind":        str("republic, region, city_of_republican_significance, district, city_of_regional_significance or city_district."),
			"parent_kato": str("Absent for the republic."),
		}),
		"TerritoryList": object("", []string{"items"}, obj{"items": array(ref("Territory"), "")}),
		"Roadmap": object("A roadmap as the catalog read model knows it.", []string{"id", "program_id", "territory_kato", "level", "title",
			"status", "period", "responsibles", "version", "registered_at", "updated_at", "measures", "done", "cancelled"}, obj{
			"id":             strFormat("uuid", uuidDesc),
			"program_id":     strFormat("uuid", uuidDesc),
			"territory_kato": str("The territory's KATO code."),
			"level":          enum("", "republican", "regional"),
			"title":          text,
			"status":         enum("", "registered", "active", "closed"),
			"period":         ref("Period"),
			"responsibles":   array(ref("Responsible"), "In order of assignment."),
			"version":        integer(versionDesc),
			"registered_at":  strFormat("date-time", instantDesc),
			"updated_at":     strFormat("date-time", instantDesc),
			"measures":       integer("Indicators added and not cancelled."),
			"done":           integer("Indicators done."),
			"cancelled":      integer("Indicators cancelled."),
		}),
		"RoadmapPage": object("", []string{"items", "next_cursor"}, obj{
			"items":       array(ref("Roadmap"), ""),
			"next_cursor": obj{"type": []string{"string", "null"}, "description": "Pass as cursor for the next page; null on the last."},
		}),
		"IndicatorSummary": object("An indicator without its reports.", indicatorSummaryRequired, indicatorSummaryProps),
		"IndicatorPage": object("", []string{"items", "next_cursor"}, obj{
			"items":       array(ref("IndicatorSummary"), ""),
			"next_cursor": obj{"type": []string{"string", "null"}, "description": "Pass as cursor for the next page; null on the last."},
		}),
		"Report": object("A progress report or a correction.", []string{"id", "event_id", "done", "as_of", "evidence", "actor_id", "recorded_at"}, obj{
			"id":           strFormat("uuid", "The report's id (its event id)."),
			"event_id":     strFormat("uuid", uuidDesc),
			"corrects":     strFormat("uuid", "Corrections: the report this one corrects."),
			"corrected_by": strFormat("uuid", "The correction that replaced this report."),
			"value":        number("Numeric indicators."),
			"done":         boolean("Milestones."),
			"as_of":        strFormat("date-time", "When the reading was true (a correction's is that of the report it corrects)."),
			"evidence":     ref("Evidence"),
			"actor_id":     str("Who recorded it."),
			"reason":       str("Why (corrections)."),
			"recorded_at":  strFormat("date-time", "When the ledger learned it."),
		}),
		"Indicator": object("An indicator with all its reports.", append(slices.Clone(indicatorSummaryRequired), "reports", "added_at"),
			merge(indicatorSummaryProps, obj{
				"reports":      array(ref("Report"), "Every report and correction, in the order recorded."),
				"added_at":     strFormat("date-time", "When the indicator took effect."),
				"cancelled_at": strFormat("date-time", "When it was cancelled, if it was."),
			})),
		"Scope": object("What a figure is about.", []string{"kind"}, obj{
			"kind":       enum("", "all", "roadmap", "territory", "level", "program"),
			"id":         str("The scope's id."),
			"program_id": strFormat("uuid", "The program the scope is narrowed to."),
		}),
		"Figure": object("One implementation percentage, naming the method that produced it.",
			[]string{"scope", "method", "method_version", "numerator", "denominator", "percent", "roadmaps", "measures", "done", "cancelled"}, obj{
				"scope":          ref("Scope"),
				"method":         enum("See /v1/methods.", methodNames()...),
				"method_version": integer("The method's version."),
				"numerator":      number("Exact: the sum of each measure's contribution rounded half-even to 6 decimals (docs/methodology.md)."),
				"denominator":    number("Exact, like the numerator."),
				"percent":        obj{"type": []string{"number", "null"}, "description": "100 × numerator / denominator computed exactly, rounded half to even to two decimals (13.875 → 13.88, 25.625 → 25.62); null when the denominator is 0."},
				"roadmaps":       integer("Roadmaps in the scope."),
				"measures":       integer("Indicators added and not cancelled."),
				"done":           integer("Indicators done."),
				"cancelled":      integer("Indicators cancelled (left out of every denominator)."),
				"as_of":          strFormat("date-time", "The effective-time axis, when asked for."),
				"known_at":       strFormat("date-time", "The recorded-time axis, when asked for."),
			}),
		"Figures": object("", []string{"figures", "provenance"}, obj{"figures": figureList, "provenance": ref("Provenance")}),
		"Provenance": object("Where a published number came from (docs/methodology.md, \"Provenance\").",
			[]string{"basis", "checkpoint", "computed_at", "as_of", "known_at", "methods"}, obj{
				"basis": enum("checkpoint: computed from exactly the events of the log's leaves below checkpoint.tree_size (asked with checkpoint=N); live: from the read models at computed_at, which may hold events logged after the checkpoint named — ask again with checkpoint= its tree_size for a number anyone can recompute.",
					"checkpoint", "live"),
				"checkpoint":  obj{"oneOf": []obj{{"type": "null"}, ref("ProvenanceCheckpoint")}, "description": "The signed checkpoint (null only before the log's first)."},
				"computed_at": strFormat("date-time", "When the server computed the answer."),
				"as_of":       strFormat("date-time", "The effective-time instant answered for: as asked, else computed_at (live) or the checkpoint's signing time."),
				"known_at":    strFormat("date-time", "The recorded-time instant answered for, likewise."),
				"methods":     array(object("", []string{"name", "version"}, obj{"name": str(""), "version": integer("")}), "The methods and versions behind the numbers."),
			}),
		"ProvenanceCheckpoint": object("A signed state of the transparency log.", []string{"tree_size", "root_hash", "note", "signed_at"}, obj{
			"tree_size": integer("Leaves in the log at the checkpoint."),
			"root_hash": str("The Merkle tree hash, standard base64."),
			"note":      str("The checkpoint as the log signed it (a signed note; verify with the log's public key)."),
			"signed_at": strFormat("date-time", "When the log signed it."),
		}),
		"Point": object("The figures at the end of one day (UTC).", []string{"date", "figures"}, obj{
			"date": strFormat("date", dateDesc), "figures": figureList,
		}),
		"Series": object("A daily series: the scope once, one row per day.", []string{"scope", "roadmaps", "columns", "rows", "provenance"}, obj{
			"scope":    ref("Scope"),
			"roadmaps": integer("Roadmaps in the scope."),
			"known_at": strFormat("date-time", "The recorded-time axis, when asked for."),
			"columns":  array(str(""), "The meaning of each value of a row: date, measures, done, cancelled, then METHOD.numerator, METHOD.denominator, METHOD.percent for each method shown."),
			"rows": array(obj{"type": "array", "items": obj{"type": []string{"string", "number", "null"}}},
				"One per day, oldest first; values in the order of columns (a percent is null when its denominator is 0)."),
			"provenance": ref("Provenance"),
		}),
		"Method": object("A published, versioned way of computing a percentage.", []string{"name", "version", "summary", "numerator", "denominator", "since"}, obj{
			"name": str(""), "version": integer(""), "summary": str(""), "numerator": str(""), "denominator": str(""),
			"since": strFormat("date", "The method applies to figures from this date."),
		}),
		"Methods": object("", []string{"methods"}, obj{"methods": array(ref("Method"), "")}),
		"TerritoryFigures": object("A territory and the figures of the roadmap's program within it.", []string{"territory", "figures"}, obj{
			"territory": ref("Territory"), "figures": figureList,
		}),
		"RoadmapDetail": object("", []string{"roadmap", "indicators", "figures", "territory_chain", "provenance"}, obj{
			"provenance":      ref("Provenance"),
			"roadmap":         ref("Roadmap"),
			"indicators":      array(ref("IndicatorSummary"), "All of the roadmap's indicators, by deadline."),
			"figures":         figureList,
			"territory_chain": array(ref("TerritoryFigures"), "The roadmap's territory first, then each territory above it up to the republic."),
		}),
		"HistoryEvent": object("An event as stored, decoded by the domain's codec.", []string{"position", "stream", "version", "event_id", "type",
			"actor_id", "effective_at", "recorded_at", "data"}, obj{
			"position":       str("Its place in the global log (COMMIT/PREPARE)."),
			"stream":         str(""),
			"version":        integer("Its version within its stream."),
			"event_id":       strFormat("uuid", uuidDesc),
			"type":           str("A stable event type, e.g. indicator.progress_reported.v1 (docs/events.md)."),
			"stored_type":    str("The type as stored, when an older shape was upcast on read."),
			"actor_id":       str("Who recorded it."),
			"actor_role":     str("The role they acted in."),
			"reason":         str("Why."),
			"correlation_id": strFormat("uuid", "Everything one request caused shares it."),
			"causation_id":   strFormat("uuid", "What caused it, if anything."),
			"effective_at":   strFormat("date-time", "When it became true in the world."),
			"recorded_at":    strFormat("date-time", "When the ledger learned it."),
			"data":           obj{"type": "object", "description": "The event's data, as in docs/events.md."},
			"report_id":      strFormat("uuid", "Reports and corrections: the report's id."),
			"corrects":       strFormat("uuid", "Corrections: the report corrected."),
		}),
		"History": object("", []string{"events"}, obj{"events": array(ref("HistoryEvent"), "In the global order.")}),
		"Health":  object("", []string{"status"}, obj{"status": enum("", "ok"), "version": str("The build's version.")}),
		"ReadyCheck": object("", []string{"name", "ok"}, obj{
			"name":        str("database, or projector <name>."),
			"ok":          boolean(""),
			"detail":      str("What is wrong."),
			"lag_seconds": number("Age of the oldest event the projector has not applied."),
			"lag_events":  integer("Events it has not applied (-1: unknown)."),
		}),
		"Ready": object("", []string{"status", "checks"}, obj{"status": enum("", "ready"), "checks": array(ref("ReadyCheck"), "")}),
	}
}
