// Package pgmigrate applies numbered SQL files embedded in the binary, once
// each, under an advisory lock so that concurrent processes do not race.
// Each component (the event store, the read models) keeps its own history.
package pgmigrate

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

const createHistory = `CREATE TABLE IF NOT EXISTS ledger_migrations (
	component  text        NOT NULL,
	version    int         NOT NULL,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (component, version)
)`

// Migration is one file: NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the *.sql files of dir in fsys, ordered by their number.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("pgmigrate: read %s: %w", dir, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("pgmigrate: %s: name must be NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("pgmigrate: read %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("pgmigrate: two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

// Apply runs every migration of component that has not run yet, each in its
// own transaction, and returns how many it applied.
func Apply(ctx context.Context, db *sqlx.DB, component string, migrations []Migration) (int, error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return 0, fmt.Errorf("pgmigrate: %s: %w", component, err)
	}
	defer conn.Close()
	key := lockKey(component)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return 0, fmt.Errorf("pgmigrate: %s: lock: %w", component, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key) //nolint:errcheck // the lock dies with the session anyway
	if _, err := conn.ExecContext(ctx, createHistory); err != nil {
		return 0, fmt.Errorf("pgmigrate: %s: history table: %w", component, err)
	}
	var done []int
	if err := conn.SelectContext(ctx, &done, `SELECT version FROM ledger_migrations WHERE component = $1`, component); err != nil {
		return 0, fmt.Errorf("pgmigrate: %s: read history: %w", component, err)
	}
	applied := 0
	for _, m := range migrations {
		if slices.Contains(done, m.Version) {
			continue
		}
		if err := applyOne(ctx, conn, component, m); err != nil {
			return applied, err
		}
		applied++
	}
	return applied, nil
}

func applyOne(ctx context.Context, conn *sqlx.Conn, component string, m Migration) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pgmigrate: %s %04d: %w", component, m.Version, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("pgmigrate: %s %04d_%s: %w", component, m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_migrations (component, version, name) VALUES ($1, $2, $3)`, component, m.Version, m.Name); err != nil {
		return fmt.Errorf("pgmigrate: %s %04d: record: %w", component, m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("pgmigrate: %s %04d: commit: %w", component, m.Version, err)
	}
	return nil
}

func lockKey(component string) int64 {
	h := fnv.New64a()
	h.Write([]byte("ledger-migrate:" + component))
	return int64(h.Sum64())
}

// Run loads the migrations in dir of fsys and applies those of component
// that have not run yet: what each package's Migrate does.
func Run(ctx context.Context, db *sqlx.DB, component string, fsys fs.FS, dir string) error {
	ms, err := Load(fsys, dir)
	if err != nil {
		return err
	}
	_, err = Apply(ctx, db, component, ms)
	return err
}
