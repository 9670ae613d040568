package at

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLineLen bounds one line; an extended-length +CGLA response is at most
// about 128 KiB of hex, anything longer is noise.
const maxLineLen = 256 << 10

// lineSplitter turns the modem's byte stream into lines. Lines end at CR
// and/or LF; blank lines are skipped; control bytes and invalid UTF-8 are
// removed and counted as garbage; a line longer than the limit is dropped as
// garbage. The result does not depend on how the stream is chunked.
type lineSplitter struct {
	buf      []byte
	max      int
	overflow int // bytes dropped from the current over-long line
}

func newLineSplitter(max int) *lineSplitter { return &lineSplitter{max: max} }

// feed consumes b and calls emit for each complete non-blank line, with
// the number of garbage bytes dropped from it (emit gets an empty line
// when a line was all garbage or too long).
func (s *lineSplitter) feed(b []byte, emit func(line string, garbage int)) {
	for _, c := range b {
		if c == '\r' || c == '\n' {
			s.flush(emit)
			continue
		}
		if s.overflow > 0 || len(s.buf) >= s.max {
			if s.overflow == 0 {
				s.overflow = len(s.buf)
				s.buf = s.buf[:0]
			}
			s.overflow++
			continue
		}
		s.buf = append(s.buf, c)
	}
}

func (s *lineSplitter) flush(emit func(string, int)) {
	if s.overflow > 0 {
		n := s.overflow
		s.overflow = 0
		s.buf = s.buf[:0]
		emit("", n)
		return
	}
	if len(s.buf) == 0 {
		return
	}
	line, garbage := cleanLine(s.buf)
	s.buf = s.buf[:0]
	if line == "" && garbage == 0 {
		return
	}
	emit(line, garbage)
}

// cleanLine removes non-printable bytes and surrounding blanks. Tabs become
// spaces.
func cleanLine(raw []byte) (string, int) {
	var b strings.Builder
	garbage := 0
	for len(raw) > 0 {
		r, size := utf8.DecodeRune(raw)
		raw = raw[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			garbage += size
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			garbage += size
		}
	}
	return strings.TrimSpace(b.String()), garbage
}
