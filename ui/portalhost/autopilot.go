package portalhost

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// StepOp is what a Step does.
type StepOp string

// Step operations.
const (
	// OpClick clicks the element (waiting for a navigation it starts).
	OpClick StepOp = "click"
	// OpClickIf clicks the element if the page has it, else does nothing.
	OpClickIf StepOp = "click-if"
	// OpFill sets a field's value (or picks a select's option).
	OpFill StepOp = "fill"
	// OpWait waits for the element to appear.
	OpWait StepOp = "wait"
)

// Step is one line of an autopilot script.
type Step struct {
	Op       StepOp
	Selector string
	Value    string
	Line     int
}

// maxScript bounds an autopilot script.
const maxScript = 64 << 10

// ParseScript reads an autopilot script: one step per line,
//
//	click SELECTOR
//	click-if SELECTOR
//	fill SELECTOR VALUE...
//	wait SELECTOR
//
// where SELECTOR is a CSS selector without spaces (or a JSON string) and
// VALUE is the rest of the line. Blank lines and lines starting with # are
// skipped.
func ParseScript(r io.Reader) ([]Step, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxScript+1))
	sc.Buffer(make([]byte, 4096), maxScript+1)
	var steps []Step
	n, size := 0, 0
	for sc.Scan() {
		n++
		size += len(sc.Bytes()) + 1
		if size > maxScript {
			return nil, fmt.Errorf("portalhost: autopilot script longer than %d bytes", maxScript)
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		op, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		sel, value, err := selector(rest)
		if err != nil {
			return nil, fmt.Errorf("portalhost: autopilot line %d: %w", n, err)
		}
		st := Step{Op: StepOp(op), Selector: sel, Value: value, Line: n}
		switch st.Op {
		case OpClick, OpClickIf, OpWait:
			if value != "" {
				return nil, fmt.Errorf("portalhost: autopilot line %d: %s takes only a selector", n, op)
			}
		case OpFill:
		default:
			return nil, fmt.Errorf("portalhost: autopilot line %d: unknown step %q (want click, click-if, fill or wait)", n, op)
		}
		steps = append(steps, st)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("portalhost: autopilot script: %w", err)
	}
	return steps, nil
}

// selector splits "SELECTOR rest" where SELECTOR may be a JSON string.
func selector(s string) (sel, rest string, err error) {
	if s == "" {
		return "", "", errors.New("missing selector")
	}
	if s[0] == '"' {
		d := json.NewDecoder(strings.NewReader(s))
		if err := d.Decode(&sel); err != nil {
			return "", "", fmt.Errorf("selector: %w", err)
		}
		rest = strings.TrimSpace(s[d.InputOffset():])
	} else {
		sel, rest, _ = strings.Cut(s, " ")
		rest = strings.TrimSpace(rest)
	}
	if sel == "" {
		return "", "", errors.New("empty selector")
	}
	return sel, rest, nil
}

// StepTimeout bounds the wait for a step's element.
const StepTimeout = 30 * time.Second

// Autopilot runs the steps in the page; each waits up to StepTimeout for
// its element. progress, when set, is told each step before it runs.
func Autopilot(ctx context.Context, e Evaler, steps []Step, progress func(Step)) error {
	for _, st := range steps {
		if progress != nil {
			progress(st)
		}
		if err := runStep(ctx, e, st); err != nil {
			return fmt.Errorf("portalhost: autopilot line %d (%s %s): %w", st.Line, st.Op, st.Selector, err)
		}
	}
	return nil
}

func runStep(ctx context.Context, e Evaler, st Step) error {
	if st.Op == OpClickIf {
		ok, err := present(ctx, e, st.Selector)
		if err != nil || !ok {
			return err
		}
		return act(ctx, e, st.Selector, nil)
	}
	if err := waitFor(ctx, e, st.Selector); err != nil {
		return err
	}
	switch st.Op {
	case OpClick:
		return act(ctx, e, st.Selector, nil)
	case OpFill:
		v := st.Value
		return act(ctx, e, st.Selector, &v)
	}
	return nil
}

func present(ctx context.Context, e Evaler, sel string) (bool, error) {
	b, err := json.Marshal(sel)
	if err != nil {
		return false, err
	}
	var ok bool
	if err := e.Eval(ctx, `!!document.querySelector(`+string(b)+`)`, &ok); err != nil {
		return false, err
	}
	return ok, nil
}

func waitFor(ctx context.Context, e Evaler, sel string) error {
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	for {
		ok, err := present(ctx, e, sel)
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%w: %w", ErrNoControl, err)
			}
			return fmt.Errorf("%w: %s did not appear within %s", ErrNoControl, sel, StepTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
