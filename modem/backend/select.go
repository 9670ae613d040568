package backend

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mobileplans/mobileplans/modem/mm"
)

// rankMM orders ModemManager's modems for auto-selection: modems with an
// eSIM (an EID, or a SIM of type eSIM) first, then those not failed, each
// group in ModemManager's object path order.
func rankMM(ms []mm.ModemInfo) []mm.ModemInfo {
	out := slices.Clone(ms)
	score := func(m mm.ModemInfo) int {
		s := 0
		if m.SIM == nil || (m.SIM.EID == "" && m.SIM.Type != mm.SIMTypeESIM) {
			s += 2
		}
		if m.State == mm.StateFailed {
			s++
		}
		return s
	}
	slices.SortStableFunc(out, func(a, b mm.ModemInfo) int {
		if d := score(a) - score(b); d != 0 {
			return d
		}
		return strings.Compare(string(a.Path), string(b.Path))
	})
	return out
}

// portClass orders Linux serial port names: kernel WWAN AT ports first
// (/dev/wwan0at0: an AT port by definition), then CDC-ACM (/dev/ttyACM*,
// usually a modem's AT port), then USB serial (/dev/ttyUSB*, where modems
// also expose diagnostics and GNSS ports), then anything else.
func portClass(p string) int {
	base := filepath.Base(p)
	switch {
	case strings.HasPrefix(base, "wwan") && strings.Contains(base, "at"):
		return 0
	case strings.HasPrefix(base, "ttyACM"):
		return 1
	case strings.HasPrefix(base, "ttyUSB"):
		return 2
	case strings.HasPrefix(strings.ToUpper(base), "COM"):
		return 2
	}
	return 3
}

// orderPorts sorts port paths by portClass, then by name with numbers
// compared as numbers (ttyUSB2 before ttyUSB10), and drops duplicates.
func orderPorts(ports []string) []string {
	out := slices.Clone(ports)
	slices.SortStableFunc(out, func(a, b string) int {
		if d := portClass(a) - portClass(b); d != 0 {
			return d
		}
		return naturalCompare(a, b)
	})
	return slices.Compact(out)
}

// naturalCompare compares strings with runs of digits compared by value.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:da], 10, 64)
			nb, _ := strconv.ParseUint(b[:db], 10, 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			if c := strings.Compare(a[:da], b[:db]); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

// digitRun is the length of the leading run of ASCII digits (at most 18,
// so that it fits a uint64).
func digitRun(s string) int {
	n := 0
	for n < len(s) && n < 18 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
