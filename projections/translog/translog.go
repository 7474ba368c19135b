// Package translog keeps the transparency log of the event store: every
// event, in global order, is a leaf of an RFC 6962 Merkle tree
// (golang.org/x/mod/sumdb/tlog), and the tree's root is signed at intervals
// as a checkpoint (golang.org/x/mod/sumdb/note). Anyone holding an earlier
// checkpoint and the log's public key can then prove that today's log still
// begins with the history they saw: nothing was changed, removed or
// reordered. docs/audit.md is the specification.
//
// The log is a read model: Projector appends leaves and tree hashes in the
// transaction that moves its checkpoint, so every event is logged exactly
// once. A Checkpointer signs the tree as it grows; InclusionProof,
// ConsistencyProof and TreeHash serve the proofs; VerifyDatabase re-reads
// the event store and reports every event that no longer matches its leaf.
package translog

import (
	"context"
	"embed"
	"errors"

	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore/postgres/pgmigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Component names the log's migrations in ledger_migrations.
const Component = "translog"

// Migrate creates or upgrades the log's tables. The projections' own
// migrations (projections.Migrate) must have run: the log's generation is
// kept in their projectors table.
func Migrate(ctx context.Context, db *sqlx.DB) error {
	return pgmigrate.Run(ctx, db, Component, migrationFiles, "migrations")
}

// Name is the projector's permanent name. A new leaf encoding would be a
// new projector (translog.v2) with a new log, never a rewrite of this one.
const Name = "translog.v1"

// activeGeneration is the generation readers use. Each statement resolves
// it itself: a rebuild reproduces the same hashes, so a reader that sees
// the switch between two statements still gets consistent answers.
const activeGeneration = `(SELECT active_generation FROM projectors WHERE name = 'translog.v1')`

// Errors, matched with errors.Is.
var (
	// ErrNotFound: no such leaf, tree size or checkpoint (yet).
	ErrNotFound = errors.New("translog: not found")
	// ErrInvalid: the request itself is malformed (a negative index, a
	// leaf outside the tree it should be proved in, ...).
	ErrInvalid = errors.New("translog: invalid request")
	// ErrInconsistent: the tree does not extend a signed checkpoint. The
	// Checkpointer refuses to sign such a tree; it means the log was
	// rewritten.
	ErrInconsistent = errors.New("translog: the log does not extend its last checkpoint")
)

// Querier runs queries on a database or inside a transaction.
type Querier = sqlx.QueryerContext
