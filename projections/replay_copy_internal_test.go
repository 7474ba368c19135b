package projections

import (
	"bytes"
	"encoding/hex"
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
