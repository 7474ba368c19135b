package domain_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
)

// DeputyMetrics reads a deputy's assessments in the order of their ids
// whatever the order given (a level's data gives them sorted, and then
// nothing is copied), and leaves the caller's list as it was.
func TestDeputyMetricsReadsAssessmentsByIDInAnyOrder(t *testing.T) {
	t.Parallel()
	at := time.Date(2021, 3, 10, 9, 0, 0, 0, time.UTC)
	var sorted []domain.AssessmentState
	for i, id := range []string{"a-1", "a-2", "a-3", "a-4"} {
		a := domain.AssessmentState{ID: id, Respondents: []string{"d-1"}, AssessedAt: at, EventID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-00000000000" + string(rune('1'+i)))}
		if i%2 == 0 {
			a.Replies = []domain.AssessmentReply{{RespondentID: "d-1", EventID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-00000000010" + string(rune('1'+i)))}}
		}
		sorted = append(sorted, a)
	}
	in := domain.RatingInputs{Period: domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2021, 12, 31)},
		Cut: time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC), Deputy: domain.DeputyState{ID: "d-1"}}
	in.Assessments = sorted
	want := domain.DeputyMetrics(in)
	if len(want) == 0 {
		t.Fatal("no metric from four assessments")
	}
	shuffled := []domain.AssessmentState{sorted[2], sorted[0], sorted[3], sorted[1]}
	given := slices.Clone(shuffled)
	in.Assessments = shuffled
	if got := domain.DeputyMetrics(in); !reflect.DeepEqual(got, want) {
		t.Errorf("assessments out of order:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(shuffled, given) {
		t.Error("DeputyMetrics reordered the caller's assessments")
	}
}
