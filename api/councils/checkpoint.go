package councils

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"promiseledger/api/kernel"
	"promiseledger/projections/translog"
)

// refuseCheckpoint answers ?checkpoint=N on a rating answer (a deputy's
// rating, a league table) with a 400. Ratings are not recomputed at a past
// log state: each is published per rating method version on the as_of /
// known_at axes (docs/rating.md), so the answer names the known_at that
// asks for the ratings as known when checkpoint N was signed. Without the
// parameter it returns nil.
func (s *server) refuseCheckpoint(r *http.Request) error {
	q := s.query(r)
	v := q.Str("checkpoint")
	if !r.URL.Query().Has("checkpoint") {
		return nil
	}
	const why = "ratings take no checkpoint: they are published per rating method version, on the as_of and known_at axes, not recomputed at a past log state"
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != v {
		return kernel.BadRequest(why, kernel.FieldProblem{Field: "checkpoint",
			Problem: "is not accepted on ratings; ask with known_at=<the signed_at of a checkpoint> for the ratings as known then"})
	}
	cp, err := translog.CheckpointAt(r.Context(), s.cfg.DB, n)
	if errors.Is(err, translog.ErrNotFound) {
		return kernel.BadRequest(why, kernel.FieldProblem{Field: "checkpoint",
			Problem: fmt.Sprintf("is not accepted on ratings, and no signed checkpoint has tree size %d; ask with known_at=<the signed_at of a checkpoint> for the ratings as known then", n)})
	}
	if err != nil {
		return err
	}
	knownAt := cp.CreatedAt.UTC().Format(time.RFC3339Nano)
	return kernel.BadRequest(why, kernel.FieldProblem{Field: "checkpoint",
		Problem: fmt.Sprintf("is not accepted on ratings; checkpoint %d was signed at %s: ask with known_at=%s for the ratings as known then", n, knownAt, knownAt)})
}
