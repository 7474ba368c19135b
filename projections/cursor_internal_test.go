package projections

import (
	"errors"
	"testing"
)

// A crafted cursor carrying a NUL must be refused before its key reaches
// SQL, where PostgreSQL would fail the query (a 500).
func TestCursorWithNULIsInvalid(t *testing.T) {
	t.Parallel()
	for name, key := range map[string]string{"nul": "a\x00b", "only nul": "\x00"} {
		if _, err := decodeCursor("roadmaps", encodeCursor("roadmaps", key), 1); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%s: decodeCursor = %v, want ErrInvalidCursor", name, err)
		}
	}
	if k, err := decodeCursor("roadmaps", encodeCursor("roadmaps", "ok"), 1); err != nil || k[0] != "ok" {
		t.Errorf("plain cursor: %v %v", k, err)
	}
}
