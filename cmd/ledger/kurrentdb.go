package main

import (
	"context"
	"errors"
	"log/slog"
)

// openKurrentDB keeps events in KurrentDB and read models in PostgreSQL.
func openKurrentDB(ctx context.Context, c common, migrate bool, logger *slog.Logger) (*services, error) {
	return nil, errors.New("the KurrentDB event store is not wired yet")
}
