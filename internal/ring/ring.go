package ring

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// Lines is an io.Writer that keeps the last N complete lines written to
// it. A line longer than MaxLine is cut (and marked). Its methods are safe
// for concurrent use.
type Lines struct {
	mu      sync.Mutex
	lines   []string // ring storage
	next    int      // index of the next slot
	full    bool     // the ring wrapped
	partial []byte   // an unterminated line
	total   uint64   // lines ever written
	changed func()
	off     bool
}

// MaxLine bounds one line, in bytes.
const MaxLine = 16 << 10

// New returns a ring of n lines (n < 1 means 1).
func New(n int) *Lines {
	if n < 1 {
		n = 1
	}
	return &Lines{lines: make([]string, n)}
}

// OnChange sets a function called (without the lock held) after each
// Write that completed a line; nil removes it.
func (l *Lines) OnChange(f func()) {
	l.mu.Lock()
	l.changed = f
	l.mu.Unlock()
}

// SetEnabled turns recording on or off (a new ring records); while off,
// Write drops what it is given.
func (l *Lines) SetEnabled(on bool) {
	l.mu.Lock()
	l.off = !on
	if l.off {
		l.partial = nil
	}
	l.mu.Unlock()
}

// Enabled reports whether the ring records.
func (l *Lines) Enabled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.off
}

// Write stores the complete lines of p; it never fails.
func (l *Lines) Write(p []byte) (int, error) {
	n := len(p)
	l.mu.Lock()
	if l.off {
		l.mu.Unlock()
		return n, nil
	}
	added := false
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := MaxLine - len(l.partial)
			if room > 0 {
				l.partial = append(l.partial, p[:min(room, len(p))]...)
			}
			break
		}
		line := p[:i]
		p = p[i+1:]
		if len(l.partial) > 0 {
			line = append(l.partial, line...)
			l.partial = nil
		}
		s := string(line)
		if len(s) > MaxLine {
			s = s[:MaxLine] + " …(cut)"
		}
		l.lines[l.next] = s
		l.next = (l.next + 1) % len(l.lines)
		if l.next == 0 {
			l.full = true
		}
		l.total++
		added = true
	}
	f := l.changed
	l.mu.Unlock()
	if added && f != nil {
		f()
	}
	return n, nil
}

// Lines returns the kept lines, oldest first.
func (l *Lines) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]string(nil), l.lines[:l.next]...)
	}
	out := make([]string, 0, len(l.lines))
	out = append(out, l.lines[l.next:]...)
	return append(out, l.lines[:l.next]...)
}

// Total is the number of lines ever written (kept or not).
func (l *Lines) Total() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Reset forgets every line.
func (l *Lines) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.lines)
	l.next, l.full, l.partial, l.total = 0, false, nil, 0
}

// WriteTo writes the kept lines to w, one per line; it returns the bytes
// written.
func (l *Lines) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, s := range l.Lines() {
		m, err := fmt.Fprintln(w, s)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
