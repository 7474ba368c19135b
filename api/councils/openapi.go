package councils

import (
	"net/http"
	"slices"
	"strings"

	"promiseledger/api/apidoc"
	"promiseledger/api/kernel"
	"promiseledger/api/params"
	"promiseledger/domain"
)

// The OpenAPI description of this package's routes is generated (package
// apidoc) from the route table's descriptors (routes.go) and the Go types
// the handlers decode and encode; who may call a role-gated route is the
// same variable its policy checks (x-roles).

// Operations describes every route of the handler, for the API's
// /openapi.json (api.Mount.Ops), which reflects their types beside the
// main routes'.
func Operations() []apidoc.Op {
	table := routeTable()
	ops := make([]apidoc.Op, len(table))
	for i, rt := range table {
		ops[i] = operationOf(rt)
	}
	return ops
}

// OpenAPIPaths returns the path items of this package's routes, keyed by
// path ("/v1/councils/{id}"), as a document of their own would hold them
// (their $refs point into that document's components).
func OpenAPIPaths() map[string]any {
	doc, err := apidoc.Build(apidoc.Info{Title: "councils"}, apidoc.NewReflector(), responseHeaders, Operations())
	if err != nil {
		panic(err) // the route table is code: a test builds it
	}
	return doc["paths"].(apidoc.Schema)
}

var responseHeaders = map[string]string{
	"Retry-After":      "Seconds to wait before trying again.",
	"WWW-Authenticate": "Bearer challenge.",
}

func operationOf(rt route) apidoc.Op {
	op := rt.op
	o := apidoc.Op{Method: rt.method, Path: patternPath(rt.pattern), ID: "councils_" + op.id, Tag: op.tag, Summary: op.summary,
		Roles: slices.Clone(op.roles)}
	desc := "Public: no credentials needed."
	switch {
	case len(op.roles) > 0:
		// x-roles is the machine-readable "who may call": a test calls the
		// route with every role's token and expects 403 exactly for the others.
		o.Policy = "a token with the role " + strings.Join(op.roles, " or ")
		desc = op.summary + "."
	case op.access != "":
		o.Policy = op.access
		desc = op.summary + "."
	}
	if rt.method != http.MethodGet {
		desc += " Writes take an Idempotency-Key header (a retry with the same key answers as the first time, with duplicate: true), " +
			"If-Match (or expected_version) to pin the stream version, reason and effective_at; the actor is the authenticated person, never a body field."
	}
	o.Description = desc
	o.Params = slices.Clone(op.params)
	if rt.method != http.MethodGet {
		o.Params = append(o.Params, idempotencyKeyParam, ifMatchParam)
	}
	if op.body != nil {
		o.Request, o.RequestRequired = op.body, rt.method == http.MethodPost
	}
	switch {
	case rt.method != http.MethodGet && op.created:
		o.Responses = append(o.Responses,
			apidoc.Response{Status: 201, Description: "Recorded.", Body: writeResult{}},
			apidoc.Response{Status: 200, Description: "Already recorded by an earlier request with the same Idempotency-Key (duplicate: true).", Body: writeResult{}})
	case rt.method != http.MethodGet:
		o.Responses = append(o.Responses, apidoc.Response{Status: 200, Description: "Recorded (or replayed, with duplicate: true).", Body: writeResult{}})
	default:
		o.Responses = append(o.Responses, apidoc.Response{Status: 200, Description: "OK.", Body: op.result})
	}
	for _, code := range append([]int{400, 500, 503}, op.errs...) {
		desc := problemDescriptions[code]
		if code == 400 && rt.method == http.MethodGet {
			desc = badParamsDescription
		}
		r := apidoc.Response{Status: code, Description: desc, Body: kernel.Problem{}, Media: "application/problem+json"}
		switch code {
		case 401:
			r.Headers = map[string]string{"WWW-Authenticate": ""}
		case 409, 503:
			r.Headers = map[string]string{"Retry-After": ""}
		}
		o.Responses = append(o.Responses, r)
	}
	return o
}

// badParamsDescription is the 400 of a read: what every route refuses in
// its path and query (package params).
const badParamsDescription = "A path or query parameter cannot be read (errors[] names each): a parameter the route does not take, one given twice, " +
	"a value that is not UTF-8 text, holds a control character or is over 1024 bytes, a boolean other than true or false, " +
	"a limit outside 1 to the server's maximum; or another malformed value or cursor."

var problemDescriptions = map[int]string{
	400: "The request cannot be read: malformed JSON, an unknown field, a malformed header, or a bad path or query parameter " +
		"(errors[] names it: one the route does not take, a value that is not UTF-8 text, holds a control character or is over 1024 bytes).",
	401: "No valid credentials.",
	403: "The credentials may not do this (wrong role, not a current member of the council, not a respondent).",
	404: "The addressed resource does not exist (malformed ids included).",
	409: "The target's state forbids it: an illegal transition (state and allowed_from say why), already exists, a stale version; " +
		"or, for a write sent without a version, write-contention: other writes to the record kept landing first, nothing was recorded, send it again after Retry-After seconds.",
	413: "The body is too large.",
	415: "The body is not JSON.",
	422: "The request breaks a rule: errors[] lists each field; or an Idempotency-Key reused for another event.",
	500: "Something went wrong on our side.",
	503: "Unavailable for a moment (type unavailable): the database cannot be reached, or the request was cancelled or timed out; try again after Retry-After seconds " +
		"(a write sent again with the same Idempotency-Key is recorded once).",
}

// Parameters.

func str() apidoc.Schema { return apidoc.Schema{"type": "string"} }

func queryParam(name, desc string) apidoc.Param { return apidoc.QueryParam(name, desc, str()) }

func boolParam(name, desc string) apidoc.Param {
	return apidoc.QueryParam(name, desc, apidoc.Schema{"type": "boolean"})
}

var (
	pathParam             = apidoc.PathParam
	councilIDParam        = pathParam("id", "The council's id (a UUID). A malformed id is 404; bytes that are not text (NUL, invalid UTF-8, control characters) are 400.")
	recommendationIDParam = pathParam("id", "The recommendation's id (a UUID).")
	assessmentIDParam     = pathParam("id", "The assessment's id (a UUID).")
	deputyIDParam         = pathParam("id", "The deputy's person id.")
	levelParam            = apidoc.QueryParam("level", "republican (the Mazhilis, the republic's council), regional (a region's or a city of republican significance's) or district (a district's or a city of regional significance's).",
		apidoc.Schema{"type": "string", "enum": []string{"republican", "regional", "district"}})
	katoParam    = queryParam("kato", "Exactly this territory.")
	withinParam  = queryParam("within", "This territory and every territory below it.")
	limitSchema  = apidoc.Schema{"type": "integer", "minimum": 1, "maximum": params.DefaultMaxPageSize}
	limitParam   = apidoc.QueryParam("limit", "Page size: 1 to the server's maximum, LEDGER_MAX_PAGE_SIZE (default 500); 50 when absent. Larger is a 400.", limitSchema)
	cursorParam  = queryParam("cursor", "The next_cursor of the previous page.")
	asOfParam    = queryParam("as_of", "As things stood then: events effective by this time (RFC 3339, or a date meaning the end of that day, UTC; capped at now).")
	knownAtParam = queryParam("known_at", "As the ledger knew it then: events recorded by this time.")
	methodParam  = queryParam("method", "A rating method's name (default: the first published, by name).")
	versionParam = apidoc.QueryParam("version", "A version of the method (default: the one in force for the period).", apidoc.Schema{"type": "integer", "minimum": 1})
	periodParam  = queryParam("period", "The period's first day, YYYY-MM-DD (default: the latest period).")
	// Ratings are not recomputed at a past log state (docs/rating.md): the
	// parameter exists so that a reader who tries it learns what to ask.
	ratingCheckpointParam = apidoc.QueryParam("checkpoint", "Not accepted: always a 400. Ratings are published per rating method version on the as_of/known_at axes, not recomputed at a past log state; the problem names the known_at (the checkpoint's signed_at) that asks for the ratings as known when that checkpoint was signed.",
		apidoc.Schema{"type": "integer", "minimum": 1})
	leagueParams = []apidoc.Param{asOfParam, knownAtParam, methodParam, versionParam, periodParam, ratingCheckpointParam,
		apidoc.QueryParam("limit", "At most this many rows, from the top of the table: 1 to the server's maximum (default 500); absent: every row.", limitSchema)}
	idempotencyKeyParam = apidoc.HeaderParam("Idempotency-Key", "Makes a retry safe: the same key with the same request (token, route, target, body) records nothing new and answers as the first time; the same key with another request is a 422. Keys are kept in the same store as the main routes'.",
		apidoc.Schema{"type": "string", "maxLength": 255})
	ifMatchParam             = apidoc.HeaderParam("If-Match", `The stream version you read, quoted ("7"); 409 if it has moved on.`, str())
	recommendationListParams = []apidoc.Param{
		queryParam("body_id", "A state body's id."),
		apidoc.QueryParam("status", "drafted, submitted, acknowledged, answered, implemented, not_implemented or withdrawn.",
			apidoc.Schema{"type": "string", "enum": domain.RecommendationStatus("").Enum()}),
		boolParam("overdue", "true: only those whose answer is overdue (today, or on the as_of date); false or absent: all."),
		asOfParam, knownAtParam, limitParam, cursorParam,
	}
	// overdueListParams: /v1/recommendations/overdue lists overdue ones by
	// definition, so it does not take overdue (overdue=false there would
	// say the opposite of what it answers).
	overdueListParams = slices.DeleteFunc(slices.Clone(recommendationListParams), func(p apidoc.Param) bool { return p.Name == "overdue" })
)
