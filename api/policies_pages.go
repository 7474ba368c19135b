package api

import (
	"context"
	"net/http"

	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
)

// The API's policies for the administrators' writes, for other ways in
// (the pages' admin forms) to ask rather than copy, as MayChangeIndicator.

// MayAdminister is the policy of the writes only an administrator may
// make (register a roadmap, a program, a territory): nil for an
// administrator, otherwise an error whose PolicyStatus is 403. Issuing and
// revoking tokens is an administrator's too.
func MayAdminister(who TokenHolder, what string) error {
	p := principal(who)
	return adminWrite(what).allow(context.Background(), nil, &p)
}

// MayChangeRoadmap is the policy of assigning and unassigning a roadmap's
// responsibles (POST /v1/roadmaps/{id}/responsibles, DELETE …/{person_id}):
// nil when the holder may, otherwise an error whose PolicyStatus is 403 or
// 404.
func MayChangeRoadmap(ctx context.Context, db *sqlx.DB, store eventstore.Store, who TokenHolder, roadmapID string) error {
	s := &Server{cfg: Config{DB: db, Store: store}}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
	if err != nil {
		return err
	}
	r.SetPathValue("id", roadmapID)
	p := principal(who)
	return s.roadmapWrite("assign a roadmap's responsibles", false).allow(ctx, r, &p)
}
