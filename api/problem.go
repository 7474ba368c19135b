package api

import (
	"context"
	"net/http"

	"promiseledger/api/kernel"
)

// The problem documents, the mapping of errors to them and the JSON
// writer are the kernel's, shared by every route group; these names keep
// the handlers short.
const problemTypePrefix = kernel.TypePrefix

// Problem types, by slug.
const (
	ptBadRequest         = kernel.SlugBadRequest
	ptMalformedBody      = kernel.SlugMalformedBody
	ptUnsupportedMedia   = kernel.SlugUnsupportedMedia
	ptBodyTooLarge       = kernel.SlugBodyTooLarge
	ptUnauthorized       = kernel.SlugUnauthorized
	ptForbidden          = kernel.SlugForbidden
	ptNotFound           = kernel.SlugNotFound
	ptMethodNotAllowed   = kernel.SlugMethodNotAllowed
	ptValidation         = kernel.SlugValidation
	ptVersionConflict    = kernel.SlugVersionConflict
	ptWriteContention    = kernel.SlugWriteContention
	ptAlreadyExists      = kernel.SlugAlreadyExists
	ptAlreadyAssigned    = kernel.SlugAlreadyAssigned
	ptNotAssigned        = kernel.SlugNotAssigned
	ptInvalidTransition  = kernel.SlugInvalidTransition
	ptRoadmapClosed      = kernel.SlugRoadmapClosed
	ptIndicatorCancelled = kernel.SlugIndicatorCancelled
	ptIdempotencyReused  = kernel.SlugIdempotencyReused
	ptUnknownScope       = kernel.SlugUnknownScope
	ptInvalidCursor      = kernel.SlugInvalidCursor
	ptNotReady           = kernel.SlugNotReady
	ptUnavailable        = kernel.SlugUnavailable
	ptInternal           = kernel.SlugInternal
)

type (
	problem      = kernel.Problem
	fieldProblem = kernel.FieldProblem
)

var (
	newProblem   = kernel.New
	badRequest   = kernel.BadRequest
	notFound     = kernel.NotFound
	forbidden    = kernel.Forbidden
	unauthorized = kernel.Unauthorized
	classify     = kernel.Classify
	writeJSON    = kernel.WriteJSON
	etag         = kernel.ETag
)

// responder answers the API's errors; database outages are logged once
// each, not once per request answered 503.
func (s *Server) responder() kernel.Responder {
	return kernel.Responder{Logger: s.cfg.Logger, Unavailable: func(ctx context.Context, err error) {
		s.unavailable.Failed(ctx, "database unavailable; answering 503", err)
	}}
}

// writeError answers with the problem err maps to (see kernel.Responder).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.responder().Error(w, r, err)
}

func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	kernel.WriteProblem(w, r, p)
}
