package audit

import (
	"strings"

	"promiseledger/api/apidoc"
	"promiseledger/api/params"
)

// PathPrefix is where the main API mounts the handler; the operations'
// paths start with it.
const PathPrefix = "/v1/audit"

// The OpenAPI description of the audit routes is generated (package
// apidoc) from the descriptors below and the Go types the handlers write
// (wire.go); a route without a descriptor stops NewHandler.

// openAPIPath is the OpenAPI path of a route pattern: a wildcard that
// takes the rest of the path ({tile...}) is an ordinary path parameter
// there, documented as spanning several segments.
func openAPIPath(pattern string) string {
	return PathPrefix + strings.ReplaceAll(pattern, "...}", "}")
}

var (
	intSchema  = apidoc.Schema{"type": "integer", "minimum": 0}
	strSchema  = apidoc.Schema{"type": "string"}
	timeSchema = apidoc.Schema{"type": "string", "description": "An RFC 3339 time, or a date YYYY-MM-DD (midnight UTC)."}
	query      = func(name, desc string, s apidoc.Schema) apidoc.Param { return apidoc.QueryParam(name, desc, s) }

	filterParams = []apidoc.Param{
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
		apidoc.Schema{"type": "integer", "minimum": 1, "maximum": params.DefaultMaxPageSize})
	noteHeaders = map[string]string{
		"Audit-Tree-Size": "The checkpoint's tree size.",
		"Audit-Log-Key":   "The log's verifier key (as GET /v1/audit/key): check the note with it, and compare it with the key you pinned.",
	}
	noteSchema = apidoc.Schema{"type": "string",
		"description": "A signed note: \"<origin>\\n<tree size>\\n<base64 root>\\n\", a blank line, the log's signature line and the witnesses' cosignature lines."}
)

// auditDoc is what the document says of one route beside its types.
type auditDoc struct {
	id, summary string
	params      []apidoc.Param
	ok          apidoc.Response
	request     apidoc.Schema // text bodies (cosignatures)
	errs        []int
}

func noteAnswer() apidoc.Response {
	return apidoc.Response{Status: 200, Description: "The checkpoint.", Headers: noteHeaders,
		Content: []apidoc.Content{{Media: "text/plain", Schema: noteSchema}}}
}

func jsonAnswer(status int, desc string, body any) apidoc.Response {
	return apidoc.Response{Status: status, Description: desc, Body: body}
}

// routeDocs describe every route of (*handler).routes, keyed by
// "METHOD pattern".
func routeDocs() map[string]auditDoc {
	withFilters := func(extra ...apidoc.Param) []apidoc.Param {
		return append(append([]apidoc.Param{}, filterParams...), extra...)
	}
	reads := []int{400, 404, 503}
	return map[string]auditDoc{
		"GET /checkpoint": {id: "auditCheckpoint", summary: "The latest signed checkpoint, with witnesses' cosignatures.",
			params: []apidoc.Param{query("cosigned", "The latest checkpoint with at least this many cosignatures.", intSchema)}, ok: noteAnswer(), errs: reads},
		"GET /checkpoints/{size}": {id: "auditCheckpointAt", summary: "The checkpoint of one tree size.",
			params: []apidoc.Param{{Name: "size", In: "path", Description: "Tree size.", Required: true, Schema: intSchema}}, ok: noteAnswer(), errs: reads},
		"GET /proof/inclusion": {id: "auditInclusionProof", summary: "Proof that a leaf is in a tree (RFC 6962 audit path).",
			params: []apidoc.Param{query("index", "Leaf index (or give event_id).", intSchema),
				query("event_id", "Event id (or give index).", apidoc.Schema{"type": "string", "format": "uuid"}),
				query("tree_size", "Tree size (default: the latest checkpoint).", intSchema)},
			ok: jsonAnswer(200, "The proof.", InclusionProof{}), errs: reads},
		"GET /proof/consistency": {id: "auditConsistencyProof", summary: "Proof that a tree is a prefix of a larger one (RFC 6962).",
			params: []apidoc.Param{query("old", "The smaller tree size.", intSchema).Require(), query("new", "The larger tree size (default: the latest checkpoint).", intSchema)},
			ok:     jsonAnswer(200, "The proof.", ConsistencyProof{}), errs: reads},
		"GET /events": {id: "auditEvents", summary: "The logged events, oldest first, one page at a time.",
			params: withFilters(query("cursor", "next_cursor of the previous page.", strSchema), limitParam),
			ok:     jsonAnswer(200, "A page.", EventsPage{}), errs: reads},
		"GET /events.ndjson": {id: "auditEventsNDJSON", summary: "Every event of a checkpoint, one JSON object a line: a header naming the checkpoint, the events, an end line.",
			params: withFilters(checkpointParam),
			ok:     apidoc.Response{Status: 200, Description: "The export.", Content: []apidoc.Content{{Media: "application/x-ndjson", Schema: strSchema}}}, errs: reads},
		"GET /events.csv": {id: "auditEventsCSV", summary: "Every event of a checkpoint as CSV; the first line is a comment naming the checkpoint, the last a comment \"# end events=N\" (without it the download was cut).",
			params: withFilters(checkpointParam),
			ok:     apidoc.Response{Status: 200, Description: "The export.", Content: []apidoc.Content{{Media: "text/csv", Schema: strSchema}}}, errs: reads},
		"GET /streams/{stream}/history": {id: "auditStreamHistory", summary: "The events of one stream in a checkpoint, oldest first, each with its inclusion proof, one page at a time.",
			params: []apidoc.Param{apidoc.PathParam("stream", "Stream name."), checkpointParam,
				query("cursor", "next_cursor of the previous page (ask with the same checkpoint).", strSchema), limitParam},
			ok: jsonAnswer(200, "A page of the history.", StreamHistory{}), errs: reads},
		"POST /cosignatures": {id: "auditAddCosignature", summary: "A witness submits a checkpoint with its cosignature added.",
			request: apidoc.Schema{"type": "string", "description": "The checkpoint note with the witness's signature line."},
			ok:      jsonAnswer(201, "Stored.", CosignatureReceipt{}), errs: []int{400, 403, 404, 409, 413, 422, 503}},
		"GET /key": {id: "auditKey", summary: "The log's public key, which signs every checkpoint. Pin the key the operator published out of band (docs/operations.md), not this answer alone.",
			ok: jsonAnswer(200, "The key.", LogKey{}), errs: reads},
		"GET " + TilesPrefix + "/checkpoint": {id: "tlogCheckpoint", summary: "C2SP tlog-tiles: the latest checkpoint (signed note with cosignatures). Cache-Control: max-age=5.",
			ok: noteAnswer(), errs: reads},
		"GET " + TilesPrefix + "/tile/{tile...}": {id: "tlogTile",
			summary: "C2SP tlog-tiles: a hash tile (tile/<L>/<N>[.p/<W>]) or an entry bundle (tile/entries/<N>[.p/<W>]) within the latest checkpoint. An entry is a leaf's exact bytes (docs/audit.md). Full tiles are immutable (Cache-Control: immutable); partial ones are cached for 60 s.",
			params:  []apidoc.Param{apidoc.PathParam("tile", "The rest of the tile path after tile/, several segments: 0/x001/234, 1/005.p/17, entries/000.")},
			ok: apidoc.Response{Status: 200, Description: "The tile's bytes.", Headers: map[string]string{"Cache-Control": "immutable for a full tile; max-age=60 for a partial one."},
				Content: []apidoc.Content{{Media: "application/octet-stream", Schema: apidoc.Schema{"type": "string", "contentEncoding": "binary"}}}},
			// An entry bundle cannot carry a leaf above 65535 bytes.
			errs: []int{400, 404, 501, 503}},
	}
}

// Operations describes the audit routes under PathPrefix, for the API's
// /openapi.json (api.Mount.Ops).
func Operations() []apidoc.Op {
	ops, err := operations((&handler{}).routes())
	if err != nil {
		panic(err) // the route table is code: TestOpenAPIPathsMatchRoutes builds it
	}
	return ops
}

func operations(routes []route) ([]apidoc.Op, error) {
	return apidoc.Describe("audit", routes, func(r route) string { return r.method + " " + r.pattern }, routeDocs(), operation)
}

// operation is the OpenAPI operation of one audit route.
func operation(r route, d auditDoc) (apidoc.Op, error) {
	o := apidoc.Op{Method: r.method, Path: openAPIPath(r.pattern), ID: d.id, Tag: "audit", Summary: d.summary,
		Description: d.summary + " Public: no credentials needed.", Params: d.params, Responses: []apidoc.Response{d.ok}}
	if d.request != nil {
		o.RequestContent, o.RequestRequired = []apidoc.Content{{Media: "text/plain", Schema: d.request}}, true
		o.Description = d.summary + " A witness is recognised by its signature: no token is needed."
	}
	for _, code := range d.errs {
		o.Responses = append(o.Responses, apidoc.Response{Status: code, Description: "An RFC 9457 problem.", Body: problem{}, Media: "application/problem+json"})
	}
	return o, nil
}

// responseHeaders: every header the operations name has its own text.
var responseHeaders = map[string]string{}

// OpenAPIPaths returns the path items of the audit routes, keyed by full
// path, as a document of their own would hold them.
func OpenAPIPaths() map[string]any {
	doc, err := apidoc.Build(apidoc.Info{Title: "audit"}, apidoc.NewReflector(), responseHeaders, Operations())
	if err != nil {
		panic(err)
	}
	return doc["paths"].(apidoc.Schema)
}
