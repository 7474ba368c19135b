package projections

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// TestByteaTextIsHexInput: byteaText writes bytea's hex input form, the
// form the driver writes for a []byte, across its buffer's boundaries.
func TestByteaTextIsHexInput(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 1000, 1 << 20} {
		b := bytes.Repeat([]byte{0, 0xff, '\\', '\n', 'a'}, n)[:n]
		want := `\x` + hex.EncodeToString(b)
		if got := byteaText(b); got != want {
			t.Fatalf("%d bytes: got %.40q…, want %.40q…", n, got, want)
		}
	}
}

// unescapeCopyText reads COPY text's escapes of one column back (the
// subset appendCopyText writes, and \N for NULL).
func unescapeCopyText(t *testing.T, col string) string {
	var b strings.Builder
	for i := 0; i < len(col); i++ {
		if col[i] != '\\' {
			b.WriteByte(col[i])
			continue
		}
		i++
		if i == len(col) {
			t.Fatalf("%q ends in a lone backslash", col)
		}
		switch col[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		default:
			t.Fatalf("%q: an escape \\%c COPY would read otherwise", col, col[i])
		}
	}
	return b.String()
}

// FuzzCopyTextEscapes: whatever the text, a row of COPY text made from it
// is one line of the right number of columns, each reading back as the
// value given (text as it was, bytes as their hex), and NULL stays apart
// from the text `\N`.
func FuzzCopyTextEscapes(f *testing.F) {
	for _, s := range []string{"", `\`, `\N`, "\t\n\r", "a\\tb", "\x00", "\xff\xfe", "Қазақ\u202e", strings.Repeat(`\x`, 100)} {
		f.Add(s, []byte(s))
	}
	f.Fuzz(func(t *testing.T, s string, b []byte) {
		line, err := appendCopyRow(nil, []any{s, nil, b, int64(len(s)), s})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(line, []byte("\n")) || bytes.ContainsAny(line[:len(line)-1], "\n\r") {
			t.Fatalf("%q is not one line", line)
		}
		cols := strings.Split(string(line[:len(line)-1]), "\t")
		if len(cols) != 5 {
			t.Fatalf("%q has %d columns, want 5", line, len(cols))
		}
		if got := unescapeCopyText(t, cols[0]); got != s || cols[4] != cols[0] {
			t.Fatalf("text %q reads back as %q", s, got)
		}
		if cols[1] != `\N` || (cols[0] == `\N`) {
			t.Fatalf("NULL %q and text %q are not apart", cols[1], cols[0])
		}
		if got := unescapeCopyText(t, cols[2]); got != `\x`+hex.EncodeToString(b) {
			t.Fatalf("bytes %x read back as %q", b, got)
		}
	})
}
