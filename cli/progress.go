package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// progressBar renders progress of long work. On a terminal it redraws one
// line with a bar; otherwise (a pipe, a file, --json) it prints one plain
// line per stage change and every tenth of the way.
type progressBar struct {
	w         io.Writer
	tty       bool
	width     int
	lastStage string
	lastTenth int
	drawn     bool
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newProgressBar(w io.Writer, plain bool) *progressBar {
	return &progressBar{w: w, tty: !plain && isTerminal(w), width: 30, lastTenth: -1}
}

// update shows stage with done of total steps (total 0: no bar).
func (b *progressBar) update(stage string, done, total int) {
	if b.tty {
		line := stage
		if total > 0 {
			n := min(b.width*done/total, b.width)
			line = fmt.Sprintf("%-14s [%s%s] %3d%% %d/%d", stage, strings.Repeat("#", n), strings.Repeat(".", b.width-n), 100*done/total, done, total)
		}
		fmt.Fprintf(b.w, "\r\033[K%s", line)
		b.drawn = true
		b.lastStage = stage
		return
	}
	tenth := -1
	if total > 0 {
		tenth = 10 * done / total
	}
	if stage == b.lastStage && tenth == b.lastTenth {
		return
	}
	b.lastStage, b.lastTenth = stage, tenth
	if total > 0 {
		fmt.Fprintf(b.w, "%s %d/%d\n", stage, done, total)
	} else {
		fmt.Fprintln(b.w, stage)
	}
}

// finish ends the bar's line on a terminal.
func (b *progressBar) finish() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
