package projections_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"promiseledger/projections"
)

// TestCopyTextAsTheDriverWrites: the COPY text a replay's run writes
// itself stores every value exactly as the driver's COPY does, over many
// chunks: text with every character COPY escapes (and the characters
// around them), bytea of every byte value, NULLs, integers, floats,
// booleans and times. The two tables must hold the same rows, and those
// rows the values given.
func TestCopyTextAsTheDriverWrites(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, table := range []string{"copy_driver", "copy_raw"} {
		if _, err := e.db.Exec(`CREATE TABLE ` + table + ` (n bigint PRIMARY KEY, s text, b bytea, i int, f float8, ok boolean, at timestamptz, d date)`); err != nil {
			t.Fatal(err)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	texts := []string{"", `\`, `\\`, "\t", "\n", "\r", "\r\n", `a\tb`, "tab\there", "line\nbreak", `\N`, "NULL", `\x00`,
		"Қазақстан Республикасы", "\u202e\u2066bidi\u2069", strings.Repeat(`x\`, 40_000)}
	bytesOf := [][]byte{nil, {}, all, []byte(`\x`), []byte("\\\t\n\r"), make([]byte, 100_000)}
	cet := time.FixedZone("odd", 5*3600+7*60+48) // an offset of seconds, as old zones have
	times := []any{time.Date(2021, 1, 31, 23, 59, 59, 123456000, time.UTC), time.Date(2024, 2, 29, 1, 2, 3, 0, cet), nil}
	floats := []any{0.0, -1.5, 1e-300, math.MaxFloat64, 0.1 + 0.2, nil}
	var rows [][]any
	for n := range 3000 {
		s := any(texts[n%len(texts)])
		if n%17 == 0 {
			s = nil
		}
		b := any(bytesOf[n%len(bytesOf)])
		if bytesOf[n%len(bytesOf)] == nil {
			b = nil
		}
		var i any = n - 1500
		if n%5 == 0 {
			i = int64(n)
		}
		if n%7 == 0 {
			i = int32(-n)
		}
		rows = append(rows, []any{int64(n), s, b, i, floats[n%len(floats)], n%2 == 0, times[n%len(times)], "2021-07-01"})
	}
	const columns = "n, s, b, i, f, ok, at, d"
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := projections.CopyInto(ctx, tx, "copy_driver", columns, len(rows), func(i int) []any { return rows[i] }); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := projections.CopyRowsOnConn(ctx, e.db, "copy_raw", columns, rowsOf(rows)); err != nil {
		t.Fatal(err)
	}
	var differ int
	if err := e.db.Get(&differ, `SELECT count(*) FROM (SELECT * FROM copy_driver EXCEPT SELECT * FROM copy_raw
UNION ALL SELECT * FROM copy_raw EXCEPT SELECT * FROM copy_driver) x`); err != nil {
		t.Fatal(err)
	}
	if differ != 0 {
		t.Fatalf("%d rows differ between the driver's COPY and the replay's", differ)
	}
	type stored struct {
		N  int64
		S  *string
		B  []byte
		I  *int64
		F  *float64
		OK bool
		At *time.Time
	}
	got := map[int64]stored{}
	q, err := e.db.Query(`SELECT n, s, b, i, f, ok, at FROM copy_raw`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var s stored
		if err := q.Scan(&s.N, &s.S, &s.B, &s.I, &s.F, &s.OK, &s.At); err != nil {
			t.Fatal(err)
		}
		got[s.N] = s
	}
	if err := q.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows stored, want %d", len(got), len(rows))
	}
	for _, r := range rows {
		g := got[r[0].(int64)]
		if want, ok := r[1].(string); ok != (g.S != nil) || ok && *g.S != want {
			t.Fatalf("row %d: text %v, want %q", g.N, g.S, r[1])
		}
		if want, ok := r[2].([]byte); ok != (g.B != nil) || ok && string(g.B) != string(want) {
			t.Fatalf("row %d: bytea of %d bytes, want %d", g.N, len(g.B), len(r[2].([]byte)))
		}
		if want := fmt.Sprint(r[3]); g.I == nil || fmt.Sprint(*g.I) != want {
			t.Fatalf("row %d: int %v, want %s", g.N, g.I, want)
		}
		if want, ok := r[4].(float64); ok != (g.F != nil) || ok && *g.F != want {
			t.Fatalf("row %d: float %v, want %v", g.N, g.F, r[4])
		}
		if want, ok := r[6].(time.Time); ok != (g.At != nil) || ok && !g.At.Equal(want) {
			t.Fatalf("row %d: time %v, want %v", g.N, g.At, r[6])
		}
	}
}

// TestCopyTextRefusesWhatItCannotWrite: a value of a type the COPY text
// has no form for fails the copy, naming the type, and the transaction
// holds nothing; an error of the rows' source comes back as it was given.
func TestCopyTextRefusesWhatItCannotWrite(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.db.Exec(`CREATE TABLE copy_raw (n bigint PRIMARY KEY, s text)`); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{{int64(1), "one"}, {int64(2), struct{}{}}}
	err := projections.CopyRowsOnConn(ctx, e.db, "copy_raw", "n, s", rowsOf(rows))
	if err == nil || !strings.Contains(err.Error(), "struct {}") {
		t.Fatalf("got %v, want an error naming the type", err)
	}
	err = projections.CopyRowsOnConn(ctx, e.db, "copy_raw", "n, s", rowsOf([][]any{{int64(1), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}}))
	if err == nil || !strings.Contains(err.Error(), "outside the years") {
		t.Fatalf("got %v, want an error naming the time's year", err)
	}
	// A key stored twice: the server's refusal comes back.
	err = projections.CopyRowsOnConn(ctx, e.db, "copy_raw", "n, s", rowsOf([][]any{{int64(1), "a"}, {int64(1), "b"}}))
	if err == nil || !strings.Contains(err.Error(), "duplicate key") {
		t.Fatalf("got %v, want the server's unique violation", err)
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM copy_raw`); err != nil || n != 0 {
		t.Fatalf("%d rows stored (%v), want none", n, err)
	}
	// The source's own error, as it gave it.
	mine := errors.New("the source failed")
	i := 0
	err = projections.CopyRowsOnConn(ctx, e.db, "copy_raw", "n, s", func() ([]any, error) {
		if i++; i > 3 {
			return nil, mine
		}
		return []any{int64(i), "x"}, nil
	})
	if err != mine { //nolint:errorlint // as it was given, not wrapped
		t.Fatalf("got %v, want the source's error as it was", err)
	}
}

// rowsOf serves rows one at a time, as CopyRows asks for them.
func rowsOf(rows [][]any) func() ([]any, error) {
	i := 0
	return func() ([]any, error) {
		if i == len(rows) {
			return nil, nil
		}
		i++
		return rows[i-1], nil
	}
}

// TestCopyTextSurvivesABrokenConnectionAndAPanic: the server ending the
// backend in the middle of the COPY, and a panic in the rows' source,
// each end the copy (with an error, and with the panic raised again in
// the caller) instead of leaving it waiting for ever on its own
// transaction; the pool goes on serving.
func TestCopyTextSurvivesABrokenConnectionAndAPanic(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.db.Exec(`CREATE TABLE copy_broken (n bigint PRIMARY KEY, s text)`); err != nil {
		t.Fatal(err)
	}
	within := func(name string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { defer close(done); f() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: the copy still waits after a minute", name)
		}
	}
	pad := strings.Repeat("x", 1024)
	within("terminated backend", func() {
		i := 0
		err := projections.CopyRowsOnConn(ctx, e.db, "copy_broken", "n, s", func() ([]any, error) {
			i++
			if i == 2 {
				if _, err := e.db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'COPY copy_broken%'`); err != nil {
					return nil, err
				}
				time.Sleep(500 * time.Millisecond)
			}
			if i > 2000 {
				return nil, nil
			}
			return []any{int64(i), pad}, nil
		})
		if err == nil {
			t.Error("the copy into a terminated backend succeeded")
		}
	})
	within("panic", func() {
		defer func() {
			if p := recover(); p != "the source panicked" {
				t.Errorf("recovered %v, want the source's panic", p)
			}
		}()
		i := 0
		_ = projections.CopyRowsOnConn(ctx, e.db, "copy_broken", "n, s", func() ([]any, error) {
			if i++; i == 10 {
				panic("the source panicked")
			}
			return []any{int64(i), pad}, nil
		})
		t.Error("the panic was not raised again")
	})
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM copy_broken`); err != nil || n != 0 {
		t.Fatalf("%d rows stored (%v), want none and a working pool", n, err)
	}
}
