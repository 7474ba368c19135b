package audit

import (
	"strings"

	"promiseledger/api/params"
)

// PathPrefix is where the main API mounts the handler; OpenAPIPaths uses
// it.
const PathPrefix = "/v1/audit"

type obj = map[string]any

// openAPIPath is the OpenAPI path of a route pattern: a wildcard that
// takes the rest of the path ({tile...}) is an ordinary path parameter
// there, documented as spanning several segments.
func openAPIPath(pattern string) string {
	return PathPrefix + strings.ReplaceAll(pattern, "...}", "}")
}

func param(name, in, desc string, schema obj, required bool) obj {
	return obj{"name": name, "in": in, "description": desc, "required": required, "schema": schema}
}

func query(name, desc string, schema obj) obj { return param(name, "query", desc, schema, false) }

var (
	intSchema   = obj{"type": "integer", "minimum": 0}
	strSchema   = obj{"type": "string"}
	b64Schema   = obj{"type": "string", "contentEncoding": "base64"}
	timeSchema  = obj{"type": "string", "description": "An RFC 3339 time, or a date YYYY-MM-DD (midnight UTC)."}
	problemResp = obj{"description": "An RFC 9457 problem.", "content": obj{"application/problem+json": obj{"schema": obj{
		"type": "object", "required": []string{"type", "title", "status"},
		"properties": obj{"type": strSchema, "title": strSchema, "status": intSchema, "detail": strSchema, "instance": strSchema,
			"errors": obj{"type": "array", "description": "Each parameter at fault (400).", "items": obj{"type": "object", "required": []string{"field", "problem"},
				"properties": obj{"field": strSchema, "problem": strSchema}}}},
	}}}}
	checkpointRefSchema = obj{"type": "object", "required": []string{"origin", "tree_size", "root_hash"}, "additionalProperties": false,
		"properties": obj{"origin": strSchema, "tree_size": intSchema, "root_hash": b64Schema}}
	eventSchema = obj{"type": "object", "required": []string{"leaf_index", "event_id", "leaf_hash", "stream", "version", "type"},
		"additionalProperties": false,
		"properties": obj{
			"leaf_index": intSchema, "event_id": obj{"type": "string", "format": "uuid"}, "leaf_hash": b64Schema,
			"missing": obj{"type": "boolean", "description": "The log holds no copy of this leaf's bytes (only a leaf logged before copies were kept, whose event had changed or gone by then); only the leaf's fields are given."},
			"stream":  strSchema, "version": intSchema, "type": strSchema,
			"stored_at":    obj{"type": "string", "format": "date-time"},
			"stored_at_ns": obj{"type": "string", "description": "stored_at in nanoseconds since 1970, decimal: the value the leaf hashes."},
			"position":     obj{"type": "string", "description": "Where the event store had the event when it was logged, COMMIT/PREPARE (not part of the leaf)."},
			"data_base64":  b64Schema, "metadata_base64": b64Schema,
			"data":     obj{"description": "data as JSON, when it is JSON"},
			"metadata": obj{"description": "metadata as JSON, when it is JSON"},
			"proof":    obj{"type": "array", "items": b64Schema, "description": "Inclusion proof in the checkpoint (stream history only)."},
		}}
	filterParams = []obj{
		query("stream", "Only this stream.", strSchema),
		query("type", "Only this event type.", strSchema),
		query("actor", "Only events whose metadata names this actor_id.", strSchema),
		query("effective_from", "effective_at (metadata) at or after.", timeSchema),
		query("effective_to", "effective_at (metadata) before.", timeSchema),
		query("recorded_from", "recorded_at (metadata) at or after.", timeSchema),
		query("recorded_to", "recorded_at (metadata) before.", timeSchema),
	}
	checkpointParam = query("checkpoint", "Tree size of the checkpoint (default: the latest).", intSchema)
	limitParam      = query("limit", "Page size: 1 to the server's maximum, LEDGER_MAX_PAGE_SIZE (default 500, the same as every list of the API); 100 when absent. Above the maximum is a 400.",
		obj{"type": "integer", "minimum": 1, "maximum": params.DefaultMaxPageSize})
)

func jsonResp(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func noteResp(desc string) obj {
	return obj{"description": desc, "headers": obj{
		"Audit-Tree-Size": obj{"description": "The checkpoint's tree size.", "schema": intSchema},
		"Audit-Log-Key":   obj{"description": "The log's verifier key (as GET /v1/audit/key): check the note with it, and compare it with the key you pinned.", "schema": strSchema},
	}, "content": obj{"text/plain": obj{"schema": obj{"type": "string",
		"description": "A signed note: \"<origin>\\n<tree size>\\n<base64 root>\\n\", a blank line, the log's signature line and the witnesses' cosignature lines."}}}}
}

// OpenAPIPaths returns the OpenAPI 3.1 paths object of the audit API,
// under PathPrefix, for the main API document to merge. Schemas are
// inline, so the fragment needs no components.
func OpenAPIPaths() map[string]any {
	p := func(s string) string { return PathPrefix + s }
	withFilters := func(extra ...obj) []obj { return append(append([]obj{}, filterParams...), extra...) }
	get := func(summary string, params []obj, ok obj) obj {
		op := obj{"summary": summary, "tags": []string{"audit"}, "responses": obj{"200": ok, "400": problemResp, "404": problemResp, "503": problemResp}}
		if len(params) > 0 {
			op["parameters"] = params
		}
		return obj{"get": op}
	}
	tiles := get("C2SP tlog-tiles: a hash tile (tile/<L>/<N>[.p/<W>]) or an entry bundle (tile/entries/<N>[.p/<W>]) within the latest checkpoint. An entry is a leaf's exact bytes (docs/audit.md). Full tiles are immutable (Cache-Control: immutable); partial ones are cached for 60 s.",
		[]obj{{"name": "tile", "in": "path", "required": true, "allowReserved": true, "schema": strSchema,
			"description": "The rest of the tile path after tile/, several segments: 0/x001/234, 1/005.p/17, entries/000."}},
		obj{"description": "The tile's bytes.", "headers": obj{"Cache-Control": obj{"schema": strSchema}},
			"content": obj{"application/octet-stream": obj{"schema": obj{"type": "string", "contentEncoding": "binary"}}}})
	// An entry bundle cannot carry a leaf above 65535 bytes.
	tiles["get"].(obj)["responses"].(obj)["501"] = problemResp
	return map[string]any{
		p("/checkpoint"): get("The latest signed checkpoint, with witnesses' cosignatures.",
			[]obj{query("cosigned", "The latest checkpoint with at least this many cosignatures.", intSchema)},
			noteResp("The checkpoint.")),
		p("/checkpoints/{size}"): get("The checkpoint of one tree size.",
			[]obj{param("size", "path", "Tree size.", intSchema, true)}, noteResp("The checkpoint.")),
		p("/proof/inclusion"): get("Proof that a leaf is in a tree (RFC 6962 audit path).",
			[]obj{query("index", "Leaf index (or give event_id).", intSchema), query("event_id", "Event id (or give index).", obj{"type": "string", "format": "uuid"}),
				query("tree_size", "Tree size (default: the latest checkpoint).", intSchema)},
			jsonResp("The proof.", obj{"type": "object", "additionalProperties": false,
				"required":   []string{"leaf_index", "event_id", "tree_size", "leaf_hash", "root_hash", "proof"},
				"properties": obj{"leaf_index": intSchema, "event_id": strSchema, "tree_size": intSchema, "leaf_hash": b64Schema, "root_hash": b64Schema, "proof": obj{"type": "array", "items": b64Schema}}})),
		p("/proof/consistency"): get("Proof that a tree is a prefix of a larger one (RFC 6962).",
			[]obj{param("old", "query", "The smaller tree size.", intSchema, true), query("new", "The larger tree size (default: the latest checkpoint).", intSchema)},
			jsonResp("The proof.", obj{"type": "object", "additionalProperties": false,
				"required":   []string{"old_size", "new_size", "old_root", "new_root", "proof"},
				"properties": obj{"old_size": intSchema, "new_size": intSchema, "old_root": b64Schema, "new_root": b64Schema, "proof": obj{"type": "array", "items": b64Schema}}})),
		p("/events"): get("The logged events, oldest first, one page at a time.",
			withFilters(query("cursor", "next_cursor of the previous page.", strSchema), limitParam),
			jsonResp("A page.", obj{"type": "object", "additionalProperties": false, "required": []string{"checkpoint", "events"},
				"properties": obj{"checkpoint": obj{"oneOf": []obj{checkpointRefSchema, {"type": "null"}}},
					"events": obj{"type": "array", "items": eventSchema}, "next_cursor": strSchema}})),
		p("/events.ndjson"): get("Every event of a checkpoint, one JSON object a line: a header naming the checkpoint, the events, an end line.",
			withFilters(checkpointParam),
			obj{"description": "The export.", "content": obj{"application/x-ndjson": obj{"schema": strSchema}}}),
		p("/events.csv"): get("Every event of a checkpoint as CSV; the first line is a comment naming the checkpoint, the last a comment \"# end events=N\" (without it the download was cut).",
			withFilters(checkpointParam),
			obj{"description": "The export.", "content": obj{"text/csv": obj{"schema": strSchema}}}),
		p("/streams/{stream}/history"): get("The events of one stream in a checkpoint, oldest first, each with its inclusion proof, one page at a time.",
			[]obj{param("stream", "path", "Stream name.", strSchema, true), checkpointParam,
				query("cursor", "next_cursor of the previous page (ask with the same checkpoint).", strSchema),
				limitParam},
			jsonResp("A page of the history.", obj{"type": "object", "additionalProperties": false, "required": []string{"stream", "checkpoint", "note", "events"},
				"properties": obj{"stream": strSchema, "checkpoint": checkpointRefSchema, "note": strSchema, "current_version": intSchema,
					"events":      obj{"type": "array", "items": eventSchema},
					"next_cursor": obj{"type": "string", "description": "Continues the history; absent on the last page."}}})),
		p("/key"): get("The log's public key, which signs every checkpoint. Pin the key the operator published out of band (docs/operations.md), not this answer alone.",
			nil, jsonResp("The key.", obj{"type": "object", "additionalProperties": false,
				"required": []string{"origin", "verifier_key", "algorithm", "public_key", "key_hash", "tiles_url"},
				"properties": obj{"origin": strSchema,
					"verifier_key": obj{"type": "string", "description": "Signed-note verifier key, <name>+<key hash>+<base64 key>: what `ledger verify --key` takes."},
					"algorithm":    obj{"type": "string", "enum": []string{"Ed25519"}},
					"public_key":   obj{"type": "string", "contentEncoding": "base64", "description": "The raw 32-byte Ed25519 public key."},
					"key_hash":     obj{"type": "string", "description": "The note key hash, 8 hex digits."},
					"tiles_url":    obj{"type": "string", "description": "The log's C2SP tlog-tiles prefix on this server."}}})),
		p(TilesPrefix + "/checkpoint"): get("C2SP tlog-tiles: the latest checkpoint (signed note with cosignatures). Cache-Control: max-age=5.",
			nil, noteResp("The checkpoint.")),
		p(TilesPrefix + "/tile/{tile}"): tiles,
		p("/cosignatures"): obj{"post": obj{
			"summary": "A witness submits a checkpoint with its cosignature added.",
			"tags":    []string{"audit"},
			"requestBody": obj{"required": true, "content": obj{"text/plain": obj{"schema": obj{"type": "string",
				"description": "The checkpoint note with the witness's signature line."}}}},
			"responses": obj{
				"201": jsonResp("Stored.", obj{"type": "object", "additionalProperties": false, "required": []string{"tree_size", "witnesses"},
					"properties": obj{"tree_size": intSchema, "witnesses": obj{"type": "array", "items": strSchema}}}),
				"400": problemResp, "403": problemResp, "404": problemResp, "409": problemResp, "413": problemResp, "422": problemResp,
				"503": problemResp,
			},
		}},
	}
}
