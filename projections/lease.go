package projections

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/projections/logsub"
)

// leaseRetry is how often a process that does not hold a projector's lease
// tries again; leaseCheck is how often a holder checks it still holds it.
// A holder whose connection died learns it at its next check, and until
// then may work beside the process that took the lease over: the work is
// done twice, never applied twice (see AdvisoryLease). A check every 2s
// was the largest part of an idle ledger's cost to the server (a round
// trip per projector), for a rare case that costs only repeated work.
const (
	leaseRetry = time.Second
	leaseCheck = 30 * time.Second
)

// AdvisoryLease runs each projector in one process at a time: the lease is
// a PostgreSQL session advisory lock held on a dedicated connection. When
// the holder dies its connection closes, the server releases the lock, and
// a waiting process takes over within leaseRetry. Exactly-once does not
// rest on the lease — Process locks the projector's row and skips applied
// events — the lease only avoids doing the work twice.
func AdvisoryLease(db *sqlx.DB, logger *slog.Logger) logsub.LeaseFunc {
	return func(ctx context.Context, consumer string) (context.Context, func(), error) {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("lease %s: %w", consumer, err)
		}
		key := leaseKey(consumer)
		if err := waitForLock(ctx, conn, key); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("lease %s: %w", consumer, err)
		}
		logger.Debug("projector lease taken", "projector", consumer)
		leaseCtx, cancel := context.WithCancel(ctx)
		go watchLease(leaseCtx, cancel, conn, consumer, logger)
		release := func() {
			cancel()
			ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
			defer stop()
			conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, key) //nolint:errcheck // closing the session releases it anyway
			conn.Close()
		}
		return leaseCtx, release, nil
	}
}

func waitForLock(ctx context.Context, conn *sql.Conn, key int64) error {
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(leaseRetry):
		}
	}
}

// watchLease ends the lease when its connection fails: the lock may be gone.
func watchLease(ctx context.Context, cancel context.CancelFunc, conn *sql.Conn, consumer string, logger *slog.Logger) {
	t := time.NewTicker(leaseCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, stop := context.WithTimeout(ctx, leaseCheck)
			err := conn.PingContext(pctx)
			stop()
			if err != nil && ctx.Err() == nil {
				logger.Warn("projector lease lost", "projector", consumer, "err", err)
				cancel()
				return
			}
		}
	}
}

func leaseKey(consumer string) int64 {
	h := fnv.New64a()
	h.Write([]byte("ledger-projector:" + consumer))
	return int64(h.Sum64())
}
