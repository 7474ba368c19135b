package councils

import (
	"context"
	"errors"
	"net/http"

	"github.com/jmoiron/sqlx"

	"promiseledger/api/kernel"
)

// The API's own write policies, for other ways in (the pages' forms) to
// ask rather than copy: nil when the person may write, otherwise an error
// whose PolicyStatus is 403 or 404 (or an unexpected error, status 0).

// MayAssess is the policy of POST /v1/councils/{id}/assessments.
func MayAssess(ctx context.Context, db *sqlx.DB, councilID, actorID string) error {
	return askPolicy(ctx, db, councilID, actorID, (*server).assessPolicy)
}

// MayDraft is the policy of POST /v1/councils/{id}/recommendations.
func MayDraft(ctx context.Context, db *sqlx.DB, councilID, actorID string) error {
	return askPolicy(ctx, db, councilID, actorID, (*server).draftPolicy)
}

// MayReply is the policy of POST /v1/assessments/{id}/replies.
func MayReply(ctx context.Context, db *sqlx.DB, assessmentID, actorID string) error {
	return askPolicy(ctx, db, assessmentID, actorID, (*server).replyPolicy)
}

func askPolicy(ctx context.Context, db *sqlx.DB, pathID, actorID string, p func(*server, context.Context, *http.Request, principal) error) error {
	s := &server{cfg: Config{DB: db}}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
	if err != nil {
		return err
	}
	r.SetPathValue("id", pathID)
	return p(s, ctx, r, principal{actorID: actorID})
}

// PolicyStatus is the HTTP status a policy's refusal answers (403, 404),
// or 0 when err is not a refusal.
func PolicyStatus(err error) int {
	if err == nil {
		return 0
	}
	var p *kernel.Problem
	if errors.As(err, &p) {
		return p.Status
	}
	if st := kernel.Classify(err).Status; st == http.StatusNotFound {
		return st
	}
	return 0
}
