package translog

import (
	"context"
	"errors"
	"testing"
)

// TestScanFeedStopsWhenTheCursorDoesNotAdvance: whatever a page reader
// returns, ScanFeed hands on leaves in strictly increasing order and
// fails with ErrFeedOrder at the first that is not, instead of serving
// the same leaves for ever.
func TestScanFeedStopsWhenTheCursorDoesNotAdvance(t *testing.T) {
	t.Parallel()
	leaves := func(idx ...int64) []FeedEvent {
		out := make([]FeedEvent, len(idx))
		for i, x := range idx {
			out[i].Leaf.Index = x
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    FeedFilter
		// page returns the n-th page asked for, given the cursor.
		page func(n int, after int64) []FeedEvent
		want []int64 // the leaves handed on before the failure
	}{
		{"the same page again (the cursor reset to 0)", FeedFilter{After: -1, PageSize: 3},
			func(int, int64) []FeedEvent { return leaves(0, 1, 2) }, []int64{0, 1, 2}},
		{"a page that ignores the cursor", FeedFilter{After: -1, PageSize: 3},
			func(n int, after int64) []FeedEvent { return leaves(int64(n), int64(n)+1, int64(n)+2) }, []int64{0, 1, 2}},
		{"backwards within a page", FeedFilter{After: -1, PageSize: 3},
			func(int, int64) []FeedEvent { return leaves(5, 4, 6) }, []int64{5}},
		{"a repeated leaf", FeedFilter{After: -1, PageSize: 3},
			func(int, int64) []FeedEvent { return leaves(1, 1, 2) }, []int64{1}},
		{"at or past Before", FeedFilter{After: -1, Before: 2, PageSize: 3},
			func(int, int64) []FeedEvent { return leaves(0, 1, 2) }, []int64{0, 1}},
		{"more than asked", FeedFilter{After: -1, PageSize: 3},
			func(int, int64) []FeedEvent { return leaves(0, 1, 2, 3) }, nil},
		{"at or before the first cursor", FeedFilter{After: 10, PageSize: 3},
			func(int, int64) []FeedEvent { return leaves(10, 11, 12) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			read := func(_ context.Context, _ Querier, _ FeedFilter, after int64, limit int) ([]FeedEvent, error) {
				calls++
				if calls > 100 {
					t.Fatal("ScanFeed keeps asking for pages")
				}
				return tc.page(calls-1, after), nil
			}
			var got []int64
			err := scanFeed(context.Background(), nil, tc.f, read, func(fe FeedEvent) error {
				got = append(got, fe.Leaf.Index)
				return nil
			})
			if !errors.Is(err, ErrFeedOrder) {
				t.Fatalf("err %v, want ErrFeedOrder", err)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && got[len(got)-1] != tc.want[len(tc.want)-1]) {
				t.Errorf("handed on %v, want %v", got, tc.want)
			}
		})
	}
}
