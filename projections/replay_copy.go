package projections

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// CopyInto writes n rows into table with COPY, inside tx; row(i) returns
// the values of row i in the order of columns (strings, []byte for bytea,
// int64, float64, bool, or nil for NULL). A replay writes with it the rows
// it knows no other row stands in the way of (its generation started
// empty, and the rows it rewrites it deletes first): COPY only inserts, so
// a key stored already fails the whole statement, and the replay steps
// aside for the page path. Against the unnest of array parameters that
// the page path binds, COPY sends each value once, in its text form (a
// bytea array doubles its bytes into hex, then quotes it, and the server
// parses the whole literal before the first row), and keeps no arbiter
// index to consult: about half the time per row (docs/performance.md, "7
// December"). The transparency log's replay (package translog) writes
// with it too.
func CopyInto(ctx context.Context, tx *sqlx.Tx, table, columns string, n int, row func(i int) []any) error {
	i := 0
	return CopyRows(ctx, tx, table, columns, func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		return row(i - 1), nil
	})
}

// CopyRows is CopyInto for rows made while they are copied: next returns
// the values of the next row, nil after the last one, or an error, which
// CopyRows returns as it is (tx then holds some of the rows, and the
// caller rolls it back).
func CopyRows(ctx context.Context, tx *sqlx.Tx, table, columns string, next func() ([]any, error)) (err error) {
	row, err := next()
	if err != nil || row == nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `COPY `+table+` (`+columns+`) FROM STDIN`)
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	defer func() {
		if cerr := stmt.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("copy into %s: %w", table, cerr)
		}
	}()
	for row != nil {
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		if row, err = next(); err != nil {
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // ends the COPY
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// byteaText is b as bytea's hex input (\x and two digits a byte), for a
// bytea column of COPY. Given the []byte, the driver makes that text and
// then copies it again into a string, both garbage at once: a rebuild's
// facts and ratings are a few hundred MB of them at a million events.
func byteaText(b []byte) string {
	var sb strings.Builder
	sb.Grow(2 + hex.EncodedLen(len(b)))
	sb.WriteString(`\x`)
	var buf [512]byte
	for len(b) > 0 {
		n := min(len(b), len(buf)/2)
		hex.Encode(buf[:], b[:n])
		sb.Write(buf[:2*n])
		b = b[n:]
	}
	return sb.String()
}
