package councils

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"promiseledger/api/params"
)

// The OpenAPI 3.1 description of this package's routes, as Go data. Schemas
// are inlined (no $ref), so the path items can be merged into any document
// as they are.

type obj = map[string]any

// OpenAPIPaths returns an OpenAPI 3.1 path item for every route of the
// handler, keyed by path ("/v1/councils/{id}"). Each call returns fresh
// maps, so the caller may change them.
func OpenAPIPaths() map[string]any {
	paths := map[string]any{}
	for _, rt := range routeTable() {
		path := patternPath(rt.pattern)
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		item[strings.ToLower(rt.method)] = operationObject(rt)
	}
	return paths
}

func operationObject(rt route) obj {
	op := rt.op
	o := obj{"operationId": "councils_" + op.id, "summary": op.summary, "tags": []string{op.tag}}
	desc := "Public: no credentials needed."
	switch {
	case len(op.roles) > 0:
		// x-roles is the machine-readable "who may call": a test calls the
		// route with every role's token and expects 403 exactly for the others.
		desc = "Who may call: a token with the role " + strings.Join(op.roles, " or ") + "."
		o["x-roles"] = slices.Clone(op.roles)
		o["security"] = []obj{{"bearer": []string{}}}
	case op.access != "":
		desc = "Who may call: " + op.access + "."
		o["security"] = []obj{{"bearer": []string{}}}
	}
	if rt.method != http.MethodGet {
		desc += " Writes take an Idempotency-Key header (a retry with the same key answers as the first time, with duplicate: true), " +
			"If-Match (or expected_version) to pin the stream version, reason and effective_at; the actor is the authenticated person, never a body field."
	}
	o["description"] = desc
	params := append([]obj(nil), op.params...)
	if rt.method != http.MethodGet {
		params = append(params, idempotencyKeyParam, ifMatchParam)
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.body != nil {
		o["requestBody"] = obj{"required": rt.method == http.MethodPost,
			"content": obj{"application/json": obj{"schema": op.body}}}
	}
	responses := obj{}
	switch {
	case rt.method != http.MethodGet && op.created:
		responses["201"] = jsonResponse("Recorded.", writeResultSchema)
		responses["200"] = jsonResponse("Already recorded by an earlier request with the same Idempotency-Key (duplicate: true).", writeResultSchema)
	case rt.method != http.MethodGet:
		responses["200"] = jsonResponse("Recorded (or replayed, with duplicate: true).", writeResultSchema)
	default:
		responses["200"] = jsonResponse("OK.", op.result)
	}
	for _, code := range append([]int{400, 500, 503}, op.errs...) {
		if code == 400 && rt.method == http.MethodGet {
			responses["400"] = obj{"description": badParamsDescription,
				"content": obj{"application/problem+json": obj{"schema": problemSchema}}}
			continue
		}
		responses[strconv.Itoa(code)] = obj{"description": problemDescriptions[code],
			"content": obj{"application/problem+json": obj{"schema": problemSchema}}}
	}
	o["responses"] = responses
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

func jsonResponse(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func enum(desc string, values ...string) obj {
	return obj{"type": "string", "enum": values, "description": desc}
}

func num(desc string) obj     { return obj{"type": "number", "description": desc} }
func integer(desc string) obj { return obj{"type": "integer", "description": desc} }
func boolean(desc string) obj { return obj{"type": "boolean", "description": desc} }
func nullable(o obj) obj {
	c := maps.Clone(o)
	c["type"] = []any{o["type"], "null"}
	return c
}

func array(items obj, desc string) obj {
	return obj{"type": "array", "items": items, "description": desc}
}

func object(desc string, required []string, props obj) obj {
	o := obj{"type": "object", "properties": props, "description": desc}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func merge(os ...obj) obj {
	out := obj{}
	for _, o := range os {
		maps.Copy(out, o)
	}
	return out
}

func withProps(base obj, props obj) obj {
	o := maps.Clone(base)
	p := maps.Clone(base["properties"].(obj))
	maps.Copy(p, props)
	o["properties"] = p
	return o
}

func pageOf(items obj) obj {
	return object("One page.", []string{"items", "next_cursor"}, obj{
		"items":       array(items, ""),
		"next_cursor": nullable(str("Pass as cursor= for the next page; null on the last.")),
	})
}

// ref returns a named schema, inlined.
func ref(name string) obj {
	s, ok := schemas()[name]
	if !ok {
		panic(fmt.Sprintf("councils: no schema %q", name))
	}
	return s
}

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

func boolParam(name, desc string) obj { return queryParam(name, desc, obj{"type": "boolean"}) }

var (
	councilIDParam        = pathParam("id", "The council's id (a UUID). A malformed id is 404; bytes that are not text (NUL, invalid UTF-8, control characters) are 400.")
	recommendationIDParam = pathParam("id", "The recommendation's id (a UUID).")
	assessmentIDParam     = pathParam("id", "The assessment's id (a UUID).")
	deputyIDParam         = pathParam("id", "The deputy's person id.")
	levelParam            = queryParam("level", "republican, regional or district.", enum("", "republican", "regional", "district"))
	katoParam             = queryParam("kato", "Exactly this territory.", str(""))
	withinParam           = queryParam("within", "This territory and every territory below it.", str(""))
	limitParam            = queryParam("limit", "Page size: 1 to the server's maximum, LEDGER_MAX_PAGE_SIZE (default 500); 50 when absent. Larger is a 400.", obj{"type": "integer", "minimum": 1, "maximum": params.DefaultMaxPageSize})
	cursorParam           = queryParam("cursor", "The next_cursor of the previous page.", str(""))
	asOfParam             = queryParam("as_of", "As things stood then: events effective by this time (RFC 3339, or a date meaning the end of that day, UTC; capped at now).", str(""))
	knownAtParam          = queryParam("known_at", "As the ledger knew it then: events recorded by this time.", str(""))
	methodParam           = queryParam("method", "A rating method's name (default: the first published, by name).", str(""))
	versionParam          = queryParam("version", "A version of the method (default: the one in force for the period).", obj{"type": "integer", "minimum": 1})
	periodParam           = queryParam("period", "The period's first day, YYYY-MM-DD (default: the latest period).", str(""))
	// Ratings are not recomputed at a past log state (docs/rating.md): the
	// parameter exists so that a reader who tries it learns what to ask.
	ratingCheckpointParam = queryParam("checkpoint", "Not accepted: always a 400. Ratings are published per rating method version on the as_of/known_at axes, not recomputed at a past log state; the problem names the known_at (the checkpoint's signed_at) that asks for the ratings as known when that checkpoint was signed.", obj{"type": "integer", "minimum": 1})
	leagueParams          = []obj{asOfParam, knownAtParam, methodParam, versionParam, periodParam, ratingCheckpointParam,
		queryParam("limit", "At most this many rows, from the top of the table: 1 to the server's maximum (default 500); absent: every row.", obj{"type": "integer", "minimum": 1, "maximum": params.DefaultMaxPageSize})}
	idempotencyKeyParam = obj{"name": "Idempotency-Key", "in": "header", "required": false, "schema": obj{"type": "string", "maxLength": 255},
		"description": "Makes a retry safe: the same key with the same request (token, route, target, body) records nothing new and answers as the first time; the same key with another request is a 422. Keys are kept in the same store as the main routes'."}
	ifMatchParam = obj{"name": "If-Match", "in": "header", "required": false, "schema": obj{"type": "string"},
		"description": `The stream version you read, quoted ("7"); 409 if it has moved on.`}
	recommendationListParams = []obj{
		queryParam("body_id", "A state body's id.", str("")),
		queryParam("status", "drafted, submitted, acknowledged, answered, implemented, not_implemented or withdrawn.",
			enum("", "drafted", "submitted", "acknowledged", "answered", "implemented", "not_implemented", "withdrawn")),
		boolParam("overdue", "true: only those whose answer is overdue (today, or on the as_of date); false or absent: all."),
		asOfParam, knownAtParam, limitParam, cursorParam,
	}
	// overdueListParams: /v1/recommendations/overdue lists overdue ones by
	// definition, so it does not take overdue (overdue=false there would
	// say the opposite of what it answers).
	overdueListParams = slices.DeleteFunc(slices.Clone(recommendationListParams), func(p obj) bool { return p["name"] == "overdue" })
)

// Schemas.

var (
	text         = object("A text in Kazakh, Russian and English.", []string{"kk", "ru", "en"}, obj{"kk": str(""), "ru": str(""), "en": str("")})
	date         = obj{"type": "string", "format": "date", "description": "YYYY-MM-DD."}
	instant      = obj{"type": "string", "format": "date-time"}
	period       = object("A closed range of days.", []string{"start", "end"}, obj{"start": date, "end": date})
	evidence     = object("A public link, the SHA-256 of a document, or both.", nil, obj{"url": str(""), "sha256": str(""), "description": str("")})
	commonFields = obj{
		"reason":           str("Why; required for corrections, withdrawals, leaving, releasing and revised verdicts."),
		"effective_at":     str("When the fact became true (RFC 3339); default now."),
		"expected_version": integer("The stream version you read; If-Match wins over it."),
	}
	reasonSchema  = object("", nil, commonFields)
	problemSchema = object("An RFC 9457 problem.", []string{"type", "title", "status"}, obj{
		"type": str(""), "title": str(""), "status": integer(""), "detail": str(""), "instance": str(""),
		"errors":          array(object("", []string{"field", "problem"}, obj{"field": str(""), "problem": str("")}), ""),
		"state":           str("Where the record stands (illegal transitions)."),
		"allowed_from":    array(str(""), "The states the move is allowed from."),
		"current_version": integer("The stream's version (version conflicts)."),
	})
	writeResultSchema = object("What a write recorded.", []string{"id", "stream", "version", "event_ids", "duplicate"}, obj{
		"id": str("The aggregate's id."), "stream": str(""), "version": integer(""), "event_ids": array(str(""), ""), "duplicate": boolean(""),
	})
	registerCouncilSchema = withProps(object("", []string{"territory_kato", "level", "name"}, obj{
		"id": str("Optional UUID; default the event's id."), "territory_kato": str(""),
		"level": enum("", "republican", "regional", "district"), "name": text,
	}), commonFields)
	joinSchema = withProps(object("Only an id, a role and a public display name are recorded.", []string{"member_id", "role", "display_name"}, obj{
		"member_id": str("An opaque person id."), "role": enum("", "chair", "member"), "display_name": str("A public name: no contact data."),
	}), commonFields)
	linksSchema = object("", nil, obj{"roadmap_ids": array(str(""), ""), "indicator_ids": array(str(""), ""), "topics": array(str("A slug."), "")})
	draftSchema = withProps(object("", []string{"title", "proposal", "addressee"}, obj{
		"id": str("Optional UUID."), "title": text, "proposal": text,
		"addressee": object("The state body.", []string{"id", "name"}, obj{"id": str("A slug."), "name": text}),
		"links":     linksSchema,
	}), commonFields)
	submitSchema      = withProps(object("", nil, obj{"response_deadline": date}), commonFields)
	acknowledgeSchema = withProps(object("", nil, obj{"reference": str("The body's incoming number.")}), commonFields)
	answerSchema      = withProps(object("", []string{"decision", "reply", "evidence"}, obj{
		"decision": enum("", "accepted", "partially_accepted", "rejected"), "reply": str(""), "evidence": evidence,
	}), commonFields)
	correctAnswerSchema = withProps(answerSchema, obj{"corrects": str("The answer's id (its event id).")})
	judgeSchema         = withProps(object("", []string{"verdict"}, obj{
		"verdict": enum("", "implemented", "not_implemented"), "comment": str(""), "evidence": evidence,
	}), commonFields)
	dissentSchema = withProps(object("", []string{"opinion"}, obj{"opinion": str("")}), commonFields)
	assessSchema  = withProps(object("", []string{"indicator_id", "position", "comment"}, obj{
		"id": str("Optional UUID."), "indicator_id": str(""), "report_id": str("The report assessed; default the latest."),
		"position": enum("", "agree", "disagree"), "comment": str(""), "evidence": evidence,
	}), commonFields)
	replySchema    = withProps(object("", []string{"reply"}, obj{"reply": str(""), "evidence": evidence}), commonFields)
	assemblySchema = object("The Mazhilis, or a maslikhat of a territory.", []string{"kind", "territory_kato", "level"}, obj{
		"kind": enum("", "mazhilis", "maslikhat"), "territory_kato": str(""), "level": enum("", "republican", "regional", "district"),
	})
	registerDeputySchema = withProps(object("", []string{"deputy_id", "display_name", "assembly"}, obj{
		"deputy_id": str("The deputy's person id (the id they authenticate with)."), "display_name": str(""), "assembly": assemblySchema,
	}), commonFields)
	factionSchema        = withProps(object("", []string{"faction"}, obj{"faction": str("A slug.")}), commonFields)
	responsibilitySchema = withProps(object("", []string{"subject", "subject_id"}, obj{
		"subject": enum("", "roadmap", "indicator"), "subject_id": str(""),
	}), commonFields)
	countsProps = obj{
		"receptions_held": integer(""), "people_received": integer(""), "appeals_handled": integer(""),
		"outcomes": object("They add up to appeals_handled.", []string{"positive", "explained", "rejected", "pending"}, obj{
			"positive": integer(""), "explained": integer(""), "rejected": integer(""), "pending": integer(""),
		}),
	}
	countsSchema   = withProps(object("Counts only.", []string{"receptions_held", "people_received", "appeals_handled", "outcomes"}, countsProps), commonFields)
	activitySchema = withProps(countsSchema, obj{"period": period})
	membersSchema  = object("", []string{"council_id", "items"}, obj{
		"council_id": str(""), "as_of": nullable(instant),
		"items": array(object("A membership period.", []string{"member_id", "role", "display_name", "joined_at", "left_at"}, obj{
			"member_id": str(""), "role": enum("", "chair", "member"), "display_name": str(""), "joined_at": instant, "left_at": nullable(instant),
		}), ""),
	})
	ratesSchema = object("", []string{"on", "items"}, obj{
		"on": date, "as_of": nullable(instant),
		"items": array(object("A state body's figures; every rate with its counts.", nil, obj{
			"body_id": str(""), "name": text, "submitted": integer(""), "due": integer("Submitted and past the deadline, or answered."),
			"answered": integer(""), "answered_on_time": integer(""), "overdue": integer(""), "accepted": integer(""),
			"partially_accepted": integer(""), "rejected": integer(""), "implemented": integer(""), "not_implemented": integer(""),
			"answer_rate": nullable(num("answered / due")), "on_time_rate": nullable(num("answered_on_time / due")),
			"acceptance_rate":     nullable(num("(accepted + partially_accepted) / answered")),
			"implementation_rate": nullable(num("implemented / judged")),
		}), ""),
	})
)

// provenanceSchema mirrors the main document's Provenance schema
// (api/openapi.go), inlined like every schema here.
func provenanceSchema() obj {
	return object("Where the answer came from: the latest signed checkpoint when it was computed, the method version and the instants answered for (docs/methodology.md, \"Provenance\"). Ratings are live answers (basis live).",
		[]string{"basis", "checkpoint", "computed_at", "as_of", "known_at", "methods"}, obj{
			"basis": enum("", "checkpoint", "live"),
			"checkpoint": nullable(object("A signed state of the transparency log.", []string{"tree_size", "root_hash", "note", "signed_at"}, obj{
				"tree_size": integer(""), "root_hash": str("Standard base64."), "note": str("The signed note."), "signed_at": instant,
			})),
			"computed_at": instant, "as_of": instant, "known_at": instant,
			"methods": array(object("", []string{"name", "version"}, obj{"name": str(""), "version": integer("")}), ""),
		})
}

func schemas() map[string]obj {
	component := object("One component of a score.", nil, obj{
		"key": str(""), "source": str(""), "weight": num(""), "normalization": obj{"type": "object"}, "has_data": boolean(""),
		"raw": num(""), "numerator": num(""), "denominator": num(""), "min": num(""), "max": num(""), "normalized": num("In [0, 1]."),
		"points": num("100 × weight ÷ sum of weights × normalized."), "events": array(str(""), "The events that fed the raw value."),
	})
	rating := object("A deputy's rating in one period under one method version.", nil, obj{
		"method": str(""), "version": integer(""), "period": period, "provisional": boolean("The period had not ended at the cut."),
		"deputy_id": str(""), "display_name": str(""), "assembly_id": str(""), "level": str(""), "faction_days": integer(""),
		"rated": boolean(""), "not_rated": str("The minimum-data rule missed."), "score": nullable(num("0–100")),
		"rank_assembly": nullable(integer("")), "assembly_rated": integer(""), "rank_level": nullable(integer("")), "level_rated": integer(""),
		"components": array(component, ""), "in_force": boolean("This version is the one in force for the period."), "cut": instant,
	})
	row := object("A rating, without its breakdown.", nil, obj{
		"method": str(""), "version": integer(""), "period": period, "in_force": boolean(""), "provisional": boolean(""), "rated": boolean(""),
		"not_rated": str(""), "score": nullable(num("")), "rank_assembly": nullable(integer("")), "assembly_rated": integer(""),
		"rank_level": nullable(integer("")), "level_rated": integer(""), "faction_days": integer(""),
	})
	storedEvent := object("An event behind a number.", nil, obj{
		"event_id": str(""), "stream": str(""), "version": integer(""), "type": str(""), "data": obj{"type": "object"},
		"actor_id": str(""), "reason": str(""), "effective_at": instant, "recorded_at": instant,
	})
	formula := object("", []string{"period", "components", "minimum"}, obj{
		"period": object("", []string{"kind", "from"}, obj{"kind": enum("", "month", "quarter", "half_year", "year"), "from": date}),
		"components": array(object("", []string{"key", "title", "source", "weight", "normalization"}, obj{
			"key": str(""), "title": text,
			"source": enum("", "receptions_held", "people_received", "appeals_handled", "appeals_positive_share", "appeals_closed_share",
				"indicators_done_share", "indicators_progress", "assessment_reply_share"),
			"weight": num(""),
			"normalization": object("", []string{"kind"}, obj{"kind": enum("", "min_max", "ratio_to_target", "identity"),
				"scope": enum("min_max only", "level", "assembly"), "target": num("ratio_to_target only")}),
		}), ""),
		"minimum": object("", []string{"faction_days", "components", "peers"}, obj{"faction_days": integer(""), "components": integer(""), "peers": integer("")}),
	})
	method := object("A published rating method version.", nil, obj{
		"method": str(""), "version": integer(""), "title": text, "summary": str(""), "formula": formula, "effective_from": date,
		"published_at": instant, "event_id": str(""),
	})
	return map[string]obj{
		"Council": object("A public council.", nil, obj{
			"id": str(""), "territory_kato": str(""), "level": str(""), "name": text, "members": integer("Current members."),
			"version": integer(""), "registered_at": instant, "updated_at": instant,
		}),
		"Recommendation": object("A recommendation with its derived facts.", nil, obj{
			"id": str(""), "council_id": str(""), "title": text, "proposal": text,
			"addressee": object("", nil, obj{"id": str(""), "name": text}), "links": linksSchema, "drafted_by": str(""),
			"status":            enum("", "drafted", "submitted", "acknowledged", "answered", "implemented", "not_implemented", "withdrawn"),
			"response_deadline": date, "reference": str(""), "answers": array(obj{"type": "object"}, "Answers and corrections."),
			"judgements": array(obj{"type": "object"}, ""), "dissents": array(obj{"type": "object"}, ""),
			"decision": str(""), "verdict": str(""), "overdue": boolean("Derived: awaiting an answer past the deadline."),
			"answered_late": boolean(""), "version": integer(""),
			"drafted_at": instant, "submitted_at": instant, "acknowledged_at": instant, "answered_at": instant, "withdrawn_at": instant,
		}),
		"Assessment": object("A council's assessment of an indicator's reported status.", nil, obj{
			"id": str(""), "council_id": str(""), "indicator_id": str(""), "roadmap_id": str(""), "reported_status": str(""),
			"report_id": str(""), "position": enum("", "agree", "disagree"), "comment": str(""), "evidence": evidence,
			"respondents": array(str(""), "Who may reply."), "assessed_by": str(""), "assessed_at": instant, "event_id": str(""),
			"replies": array(obj{"type": "object"}, ""), "withdrawn": boolean(""), "withdrawn_at": instant, "withdraw_reason": str(""),
		}),
		"Deputy": object("A deputy.", nil, obj{
			"id": str(""), "display_name": str(""), "assembly_id": str(""), "level": str(""), "version": integer(""), "in_faction": boolean(""),
			"state": obj{"type": "object", "description": "Faction periods, responsibilities, activity reports (counts)."},
		}),
		"DeputyRating": object("", []string{"deputy", "method", "version", "current", "history", "versions"}, obj{
			"deputy": object("", nil, obj{"id": str(""), "display_name": str(""), "assembly_id": str(""), "level": str(""), "in_faction": boolean("")}),
			"method": str(""), "version": integer(""), "as_of": nullable(instant), "known_at": nullable(instant),
			"current": rating, "history": array(row, "Every period under the version."),
			"versions": array(object("", nil, obj{"version": integer(""), "title": text, "effective_from": date, "published_at": instant,
				"rating": merge(row, obj{"type": []any{"object", "null"}})}), "Every published version, with the same period's rating."),
			"events":     obj{"type": "object", "additionalProperties": array(storedEvent, ""), "description": "/v1/me/rating only: the events behind each component, by key."},
			"provenance": provenanceSchema(),
		}),
		"League": object("A league table.", nil, obj{
			"method": str(""), "version": integer(""), "versions": array(integer(""), ""), "in_force": boolean(""), "period": period,
			"provisional": boolean(""), "level": str(""), "assembly_id": str(""), "as_of": nullable(instant),
			"rows": array(object("", nil, obj{"deputy_id": str(""), "display_name": str(""), "assembly_id": str(""), "rated": boolean(""),
				"not_rated": str(""), "score": nullable(num("")), "rank_assembly": nullable(integer("")), "assembly_rated": integer(""),
				"rank_level": nullable(integer("")), "level_rated": integer(""), "faction_days": integer("")}), "Rated deputies by rank, then the rest."),
			"provenance": provenanceSchema(),
		}),
		"RatingMethod": method,
		"RatingMethodInput": withProps(object("", []string{"method", "title", "summary", "formula", "effective_from"}, obj{
			"method": str("A slug."), "version": integer("Optional: the next."), "title": text, "summary": str(""), "formula": formula, "effective_from": date,
		}), commonFields),
	}
}
