package councils

import (
	"net/http"

	"promiseledger/api/kernel"
)

// writeError answers with the problem err maps to (kernel.Classify), as
// every route group does; unexpected errors are logged here, once, and
// answered with a generic 500.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kernel.Responder{Logger: s.cfg.Logger}.Error(w, r, err)
}
