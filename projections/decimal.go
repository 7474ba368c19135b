package projections

// Exact arithmetic behind the published figures (docs/methodology.md,
// "Exact numbers and rounding"). Every input number is the decimal an event
// states (events are written in the shortest form that reads back as the
// same binary64 number, so strconv's shortest form recovers it); a measure's
// contribution is computed exactly and rounded half-even to 6 places
// (integer micro-units); sums of micro-units are exact integers, so no
// summation order can change them; a percent is 100 × numerator ÷
// denominator, exactly, rounded half-even to 2 places.

import (
	"math/big"
	"strconv"

	"promiseledger/domain"
)

// microPerUnit: numerators and weights are kept in millionths.
const microPerUnit = 1_000_000

// decimalOf returns the decimal a number was written as: the shortest
// decimal that reads back as f.
func decimalOf(f float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	if !ok { // NaN or ±Inf never pass the domain's validation
		return new(big.Rat)
	}
	return r
}

// roundHalfEven rounds num/den (den > 0) to the nearest integer, ties to
// the even integer.
func roundHalfEven(num, den *big.Int) *big.Int {
	q, m := new(big.Int).DivMod(num, den, new(big.Int)) // floor division: 0 <= m < den
	twice := new(big.Int).Lsh(m, 1)
	switch c := twice.Cmp(den); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		q.Add(q, big.NewInt(1))
	}
	return q
}

// microOf rounds r half-even to 6 decimal places and returns millionths.
func microOf(r *big.Rat) int64 {
	num := new(big.Int).Mul(r.Num(), big.NewInt(microPerUnit))
	return roundHalfEven(num, r.Denom()).Int64()
}

// percentHundredths is 100 × num ÷ den rounded half-even to 2 places, in
// hundredths of a percent. den must be above 0.
func percentHundredths(num, den int64) int64 {
	n := new(big.Int).Mul(big.NewInt(num), big.NewInt(10_000))
	return roundHalfEven(n, big.NewInt(den)).Int64()
}

// completionRat is domain.IndicatorState.Completion computed exactly from
// the decimals the events state.
func completionRat(s domain.IndicatorState) *big.Rat {
	switch {
	case s.Status == domain.StatusDone:
		return big.NewRat(1, 1)
	case s.Status == domain.StatusCancelled || s.Kind != domain.KindNumeric:
		return new(big.Rat)
	case s.LatestValue == nil || s.Baseline == nil || s.Target == nil || *s.Target == *s.Baseline:
		return new(big.Rat)
	}
	b := decimalOf(*s.Baseline)
	num := new(big.Rat).Sub(decimalOf(*s.LatestValue), b)
	den := new(big.Rat).Sub(decimalOf(*s.Target), b)
	c := num.Quo(num, den)
	switch {
	case c.Sign() < 0:
		return new(big.Rat)
	case c.Cmp(big.NewRat(1, 1)) > 0:
		return big.NewRat(1, 1)
	}
	return c
}

// weightedMicro is a measure's weight and weight × completion, each rounded
// half-even to 6 places.
func weightedMicro(s domain.IndicatorState) (weight, weighted int64) {
	w := decimalOf(s.Weight)
	return microOf(w), microOf(new(big.Rat).Mul(w, completionRat(s)))
}

// roundRatio is num ÷ den rounded half-even to places decimal places, for
// ratios of counts (den above 0).
func roundRatio(num, den int64, places int) float64 {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	n := new(big.Int).Mul(big.NewInt(num), scale)
	r, _ := new(big.Rat).SetFrac(roundHalfEven(n, big.NewInt(den)), scale).Float64()
	return r
}
