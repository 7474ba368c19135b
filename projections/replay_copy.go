package projections

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/jmoiron/sqlx"
)

// CopyInto writes n rows into table with COPY, inside tx; row(i) returns
// the values of row i in the order of columns (string, []byte for bytea,
// int64, int, int32, float64, bool, time.Time, or nil for NULL: what a
// replay's own COPY text writes, see appendCopyRow). A replay writes with it the rows
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
	if conn := rawConnOf(ctx, tx); conn != nil {
		return copyRaw(ctx, conn, table, columns, row, next)
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
	var args []any
	for row != nil {
		args = append(args[:0], row...) // the caller's row is left as it is
		for i, v := range args {
			if b, ok := v.([]byte); ok {
				args[i] = byteaText(b)
			}
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
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

// A transaction that replayRun opens on a connection of its own carries
// the connection in its context (withRawConn): CopyRows then writes the
// COPY's text itself, rows at a time, into the driver's COPY (lib/pq's
// CopyData), where the driver would take every value of every row through
// database/sql's conversions and its own escaping, byte by byte for a
// bytea's hex. At a million events that was ~4 GB of allocations and a
// tenth of the ratings' rebuild (docs/performance.md, "6 December,
// night"). The format is COPY's text format: columns separated by a tab,
// \N for NULL, and a backslash, newline, carriage return or tab in a
// value escaped with a backslash.

type rawConnKey struct{}

type rawConn struct {
	tx   *sqlx.Tx
	conn *sqlx.Conn
}

// withRawConn is ctx carrying conn as the connection tx runs on.
func withRawConn(ctx context.Context, tx *sqlx.Tx, conn *sqlx.Conn) context.Context {
	return context.WithValue(ctx, rawConnKey{}, rawConn{tx: tx, conn: conn})
}

// rawConnOf is the connection ctx carries for tx, nil for any other
// transaction: COPY data must go to the connection of the transaction
// that is asked to hold them.
func rawConnOf(ctx context.Context, tx *sqlx.Tx) *sqlx.Conn {
	if rc, ok := ctx.Value(rawConnKey{}).(rawConn); ok && rc.tx == tx {
		return rc.conn
	}
	return nil
}

// copyChunk is about how much COPY text copyRaw hands the driver at once
// (the driver sends its buffer past 63 KiB).
const copyChunk = 64 << 10

// copyData is lib/pq's COPY statement, which takes COPY text as it is.
type copyData interface {
	CopyData(ctx context.Context, line string) (driver.Result, error)
}

// copyRaw copies row and the rows next returns through the driver's COPY
// on conn, the COPY text made here. next runs while conn is held: it must
// not use the transaction.
//
// Nothing leaves conn.Raw as driver.ErrBadConn or a panic: either makes
// Raw close the *sql.Conn, which waits for the transaction open on it to
// end, and the transaction is only rolled back by our caller, after Raw
// returns: the goroutine would wait for ever (a server that ends the
// backend mid-COPY makes lib/pq answer driver.ErrBadConn). The error is
// carried out unrecognisable (lib/pq has marked its connection bad, so the
// rollback then discards it), and a panic is raised again once Raw has
// returned.
func copyRaw(ctx context.Context, conn *sqlx.Conn, table, columns string, row []any, next func() ([]any, error)) error {
	var panicked any
	err := conn.Raw(func(dc any) (err error) {
		defer func() {
			if p := recover(); p != nil {
				panicked, err = p, errCopyPanicked
			}
			if errors.Is(err, driver.ErrBadConn) {
				err = badConnError{err}
			}
		}()
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("the driver connection %T cannot prepare a COPY", dc)
		}
		stmt, err := prep.PrepareContext(ctx, `COPY `+table+` (`+columns+`) FROM STDIN`)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := stmt.Close(); err == nil && cerr != nil {
				err = cerr
			}
		}()
		cd, ok := stmt.(copyData)
		if !ok {
			return fmt.Errorf("the driver statement %T takes no COPY text", stmt)
		}
		buf := make([]byte, 0, copyChunk+4096)
		send := func() error {
			// CopyData ends the text with the last row's newline; the
			// driver copies it into its buffer before it returns.
			_, err := cd.CopyData(ctx, unsafe.String(unsafe.SliceData(buf), len(buf)-1))
			buf = buf[:0]
			return err
		}
		for row != nil {
			if buf, err = appendCopyRow(buf, row); err != nil {
				return err
			}
			if len(buf) >= copyChunk {
				if err := send(); err != nil {
					return err
				}
			}
			if row, err = next(); err != nil {
				return errFromNext{err}
			}
		}
		if len(buf) > 0 {
			if err := send(); err != nil {
				return err
			}
		}
		//lint:ignore SA1019 lib/pq ends a COPY with Exec(nil): its COPY statement has no ExecContext
		_, err = stmt.Exec(nil)
		return err
	})
	if panicked != nil {
		panic(panicked)
	}
	var bad badConnError
	if errors.As(err, &bad) {
		return fmt.Errorf("copy into %s: %w: the connection broke: %s", table, errCopyConnBroken, bad.err)
	}
	var fromNext errFromNext
	if errors.As(err, &fromNext) {
		return fromNext.err // as the caller's next gave it
	}
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

var (
	errCopyPanicked   = errors.New("copy: panicked")
	errCopyConnBroken = errors.New("copy failed")
)

// badConnError carries driver.ErrBadConn out of conn.Raw without being it
// (see copyRaw).
type badConnError struct{ err error }

func (e badConnError) Error() string { return e.err.Error() }

// errFromNext carries an error of the caller's next out of conn.Raw.
type errFromNext struct{ err error }

func (e errFromNext) Error() string { return e.err.Error() }

// appendCopyRow appends row as a line of COPY text, with its newline.
func appendCopyRow(buf []byte, row []any) ([]byte, error) {
	for i, v := range row {
		if i > 0 {
			buf = append(buf, '\t')
		}
		switch v := v.(type) {
		case nil:
			buf = append(buf, `\N`...)
		case string:
			buf = appendCopyText(buf, v)
		case []byte: // bytea's hex input, its backslash escaped
			buf = append(buf, `\\x`...)
			buf = hex.AppendEncode(buf, v)
		case int64:
			buf = strconv.AppendInt(buf, v, 10)
		case int:
			buf = strconv.AppendInt(buf, int64(v), 10)
		case int32:
			buf = strconv.AppendInt(buf, int64(v), 10)
		case float64:
			buf = strconv.AppendFloat(buf, v, 'f', -1, 64)
		case bool:
			buf = strconv.AppendBool(buf, v)
		case time.Time:
			// RFC 3339 has no year before 1 or after 9999 (the driver
			// writes those its own way); no column of ours holds them.
			if y := v.UTC().Year(); y < 1 || y > 9999 {
				return buf, fmt.Errorf("copy: the time %s is outside the years 1 to 9999", v)
			}
			buf = v.UTC().AppendFormat(buf, time.RFC3339Nano)
		default:
			return buf, fmt.Errorf("copy: a value of type %T", v)
		}
	}
	return append(buf, '\n'), nil
}

// appendCopyText appends s with COPY text's escapes.
func appendCopyText(buf []byte, s string) []byte {
	for {
		i := strings.IndexAny(s, "\\\n\r\t")
		if i < 0 {
			return append(buf, s...)
		}
		buf = append(buf, s[:i]...)
		switch s[i] {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		}
		s = s[i+1:]
	}
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
