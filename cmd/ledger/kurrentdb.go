package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"promiseledger/commands"
	"promiseledger/eventstore/kurrentdb"
)

// openKurrentDB keeps events in KurrentDB and everything else — read
// models, checkpoints, tokens, the transparency log — in PostgreSQL.
func openKurrentDB(ctx context.Context, c common, migrate bool, logger *slog.Logger) (*services, error) {
	db, err := sqlx.Open("postgres", c.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("read-model database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("read-model database: %w", err)
	}
	if migrate {
		if err := migrateAll(ctx, db, false); err != nil {
			db.Close()
			return nil, err
		}
	}
	store, err := kurrentdb.Open(ctx, kurrentdb.Config{URL: c.KurrentDBURL, Logger: logger})
	if err != nil {
		db.Close()
		return nil, err
	}
	cmds, err := commands.New(commands.Deps{Store: store})
	if err != nil {
		store.Close()
		db.Close()
		return nil, err
	}
	return &services{store: store, db: db, cmds: cmds, close: func() { store.Close(); db.Close() }}, nil
}
