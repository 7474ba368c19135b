// Package kernel is the one HTTP kernel every route group (api,
// api/councils, api/audit) answers through: problem documents and the
// mapping of errors to them, strict body decoding, path and query checks
// read from the OpenAPI operations, idempotency keys, and the page
// envelope. A rule fixed here holds on every route. It imports none of the
// route groups.
package kernel
