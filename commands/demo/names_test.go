package demo

import (
	"slices"
	"strings"
	"testing"
)

// TestPersonNamesPairGenders: a woman's given name goes with the feminine
// surname (-ова, -ева, -ина), a man's with the masculine one.
func TestPersonNamesPairGenders(t *testing.T) {
	t.Parallel()
	r := source(1, "names")
	women, men := 0, 0
	for range 2000 {
		given, surname, ok := strings.Cut(personName(r), " ")
		if !ok {
			t.Fatalf("%q is not a given name and a surname", given)
		}
		feminine := strings.HasSuffix(surname, "ова") || strings.HasSuffix(surname, "ева") || strings.HasSuffix(surname, "ина")
		switch {
		case slices.Contains(femaleNames, given) && feminine:
			women++
		case slices.Contains(maleNames, given) && !feminine && slices.Contains(surnames, surname):
			men++
		default:
			t.Errorf("%s %s pairs a given name and a surname of different genders", given, surname)
		}
	}
	if women == 0 || men == 0 {
		t.Errorf("%d women and %d men", women, men)
	}
}
