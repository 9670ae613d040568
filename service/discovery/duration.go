package discovery

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Bounds of parseISODuration: time.Duration holds about 292 years.
const (
	maxDurationYears = 290
	maxDurationDays  = maxDurationYears * 366
)

// parseISODuration parses an ISO 8601 duration of the form
// PnYnMnWnDTnHnMnS (every part optional, at least one present, in this
// order; the last part may have a decimal fraction with '.' or ',' when it
// is D, H, M or S). Years, months, weeks and days are calendar amounts
// counted from the instant from (UTC); a day fraction counts 24 hours.
// Negative durations are refused.
func parseISODuration(s string, from time.Time) (time.Duration, error) {
	bad := func(reason string) error { return fmt.Errorf("duration %q: %s", s, reason) }
	if len(s) < 3 || s[0] != 'P' {
		return 0, bad("want PnYnMnWnDTnHnMnS")
	}
	type part struct {
		whole int64
		frac  int64 // nanoseconds of the unit, 0..999999999
		set   bool
	}
	// Designators in order: date part Y M W D, then time part H M S.
	var y, mo, w, d, h, mi, sec part
	dateOrder := []struct {
		unit byte
		p    *part
	}{{'Y', &y}, {'M', &mo}, {'W', &w}, {'D', &d}}
	timeOrder := []struct {
		unit byte
		p    *part
	}{{'H', &h}, {'M', &mi}, {'S', &sec}}

	rest := s[1:]
	inTime := false
	next := 0 // index into the current order list
	seen, fractional := false, false
	timeParts := 0
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, bad("second T")
			}
			inTime, next = true, 0
			rest = rest[1:]
			if rest == "" {
				return 0, bad("T without a time part")
			}
			continue
		}
		if fractional {
			return 0, bad("only the last part may have a fraction")
		}
		// Digits, optional fraction, designator.
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, bad("expected a number")
		}
		if i > 12 {
			return 0, bad("number too long")
		}
		var whole int64
		for _, c := range rest[:i] {
			whole = whole*10 + int64(c-'0')
		}
		var frac int64
		if i < len(rest) && (rest[i] == '.' || rest[i] == ',') {
			j := i + 1
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			if j == i+1 {
				return 0, bad("fraction without digits")
			}
			digits := rest[i+1 : j]
			for k := 0; k < 9; k++ {
				frac *= 10
				if k < len(digits) {
					frac += int64(digits[k] - '0')
				}
			}
			fractional = true
			i = j
		}
		if i >= len(rest) {
			return 0, bad("number without a designator")
		}
		unit := rest[i]
		rest = rest[i+1:]
		order := dateOrder
		if inTime {
			order = timeOrder
		}
		found := false
		for next < len(order) {
			o := order[next]
			next++
			if o.unit == unit {
				*o.p = part{whole: whole, frac: frac, set: true}
				found = true
				break
			}
		}
		if !found {
			return 0, bad(fmt.Sprintf("designator %c out of place", unit))
		}
		if fractional && !inTime && unit != 'D' {
			return 0, bad("only days, hours, minutes and seconds may have a fraction")
		}
		seen = true
		if inTime {
			timeParts++
		}
	}
	if !seen {
		return 0, bad("no parts")
	}
	if inTime && timeParts == 0 {
		return 0, bad("T without a time part")
	}

	// Calendar part.
	if y.whole > maxDurationYears || mo.whole > maxDurationYears*12 || w.whole > maxDurationDays/7 || d.whole > maxDurationDays {
		return 0, bad("too large")
	}
	from = from.UTC()
	to := from.AddDate(int(y.whole), int(mo.whole), int(w.whole*7+d.whole))
	total := to.Sub(from)
	if total == math.MaxInt64 {
		return 0, bad("too large")
	}
	// Clock part, with overflow checks.
	for _, c := range []struct {
		p    part
		unit time.Duration
	}{{part{frac: d.frac}, 24 * time.Hour}, {h, time.Hour}, {mi, time.Minute}, {sec, time.Second}} {
		v, ok := mulAdd(c.p.whole, c.unit, c.p.frac*int64(c.unit/time.Second))
		if !ok {
			return 0, bad("too large")
		}
		if total, ok = addDur(total, v); !ok {
			return 0, bad("too large")
		}
	}
	if total < 0 {
		return 0, errors.New("duration out of range")
	}
	return total, nil
}

// mulAdd returns n*unit + extra without overflowing.
func mulAdd(n int64, unit time.Duration, extra int64) (time.Duration, bool) {
	if n > int64(math.MaxInt64/unit) {
		return 0, false
	}
	return addDur(time.Duration(n)*unit, time.Duration(extra))
}

func addDur(a, b time.Duration) (time.Duration, bool) {
	if b > 0 && a > math.MaxInt64-b {
		return 0, false
	}
	return a + b, true
}
