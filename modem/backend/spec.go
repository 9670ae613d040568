package backend

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Kind is a modem backend.
type Kind string

// Backends.
const (
	// KindAuto picks a backend: ModemManager when it manages a modem,
	// else the first AT serial port that answers.
	KindAuto Kind = "auto"
	// KindMM is ModemManager over D-Bus (Linux).
	KindMM Kind = "mm"
	// KindAT is AT commands on a serial port.
	KindAT Kind = "at"
)

// Spec says which modem to open: KindAuto, KindMM with an optional IMEI
// ("" = the only or first modem), or KindAT with the port's path.
type Spec struct {
	Kind Kind
	IMEI string // KindMM only
	Port string // KindAT only
}

// ErrBadSpec is wrapped by *SpecError.
var ErrBadSpec = errors.New("backend: invalid modem spec")

// SpecError is a spec string ParseSpec cannot read.
type SpecError struct {
	Spec   string
	Reason string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("modem %q: %s (want auto, mm, mm:IMEI, at:PORT or a port path such as /dev/ttyUSB2 or COM3)", e.Spec, e.Reason)
}

func (e *SpecError) Is(target error) bool { return target == ErrBadSpec }

// maxSpec bounds a spec string (a path, an IMEI).
const maxSpec = 4096

// ParseSpec reads a modem spec: "auto" (or ""), "mm", "mm:IMEI",
// "at:PORT", or a bare port: an absolute path (/dev/ttyUSB2) or a Windows
// port name (COM3, \\.\COM12). It fails with a *SpecError.
func ParseSpec(s string) (Spec, error) {
	bad := func(reason string) (Spec, error) { return Spec{}, &SpecError{Spec: s, Reason: reason} }
	if len(s) > maxSpec {
		return bad(fmt.Sprintf("longer than %d bytes", maxSpec))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r == unicode.ReplacementChar || unicode.IsControl(r) }) {
		return bad("contains control characters or invalid UTF-8")
	}
	switch {
	case s == "" || strings.EqualFold(s, "auto"):
		return Spec{Kind: KindAuto}, nil
	case strings.EqualFold(s, "mm"):
		return Spec{Kind: KindMM}, nil
	}
	if kind, rest, ok := strings.Cut(s, ":"); ok {
		switch {
		case strings.EqualFold(kind, "mm"):
			if !validIMEI(rest) {
				return bad("the ModemManager modem is named by its IMEI (equipment identifier): 8 to 32 letters or digits")
			}
			return Spec{Kind: KindMM, IMEI: rest}, nil
		case strings.EqualFold(kind, "at"):
			if strings.TrimSpace(rest) != rest || rest == "" {
				return bad("no serial port after at: (or spaces around it)")
			}
			return Spec{Kind: KindAT, Port: rest}, nil
		}
	}
	if isBarePort(s) {
		return Spec{Kind: KindAT, Port: s}, nil
	}
	return bad("unknown backend")
}

// validIMEI accepts what ModemManager reports as EquipmentIdentifier: an
// IMEI (15 digits), an IMEISV, or a CDMA MEID/ESN in hex.
func validIMEI(s string) bool {
	if len(s) < 8 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// isBarePort reports a path (/dev/ttyUSB2) or a Windows port name (COM3,
// \\.\COM12).
func isBarePort(s string) bool {
	if strings.TrimSpace(s) != s {
		return false
	}
	if strings.HasPrefix(s, "/") && len(s) > 1 {
		return true
	}
	if strings.HasPrefix(s, `\\.\`) && len(s) > 4 {
		return true
	}
	if len(s) > 3 && strings.EqualFold(s[:3], "COM") {
		for _, r := range s[3:] {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	return false
}

// String is the spec in ParseSpec's syntax.
func (s Spec) String() string {
	switch s.Kind {
	case KindMM:
		if s.IMEI == "" {
			return "mm"
		}
		return "mm:" + s.IMEI
	case KindAT:
		return "at:" + s.Port
	}
	return "auto"
}
