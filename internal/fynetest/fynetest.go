package fynetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Queue collects UI updates (its Do replaces fyne.Do) for the test's
// goroutine to run: under the test driver, widgets must not change on two
// goroutines at once.
type Queue struct {
	mu   sync.Mutex
	fns  []func()
	wake chan struct{}
}

// NewQueue returns an empty queue.
func NewQueue() *Queue { return &Queue{wake: make(chan struct{}, 1)} }

// Do queues f.
func (q *Queue) Do(f func()) {
	q.mu.Lock()
	q.fns = append(q.fns, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run runs the queued updates (and those they queue) until none is left.
func (q *Queue) Run() {
	for {
		q.mu.Lock()
		fns := q.fns
		q.fns = nil
		q.mu.Unlock()
		if len(fns) == 0 {
			return
		}
		for _, f := range fns {
			f()
		}
	}
}

// Until runs updates until cond holds, failing the test after timeout.
func (q *Queue) Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		q.Run()
		if cond() {
			return
		}
		select {
		case <-q.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// Walk calls f for o and, while f returns true, for the objects under it
// (containers' objects and widgets' rendered objects).
func Walk(o fyne.CanvasObject, f func(fyne.CanvasObject) bool) {
	if o == nil || !f(o) {
		return
	}
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			Walk(c, f)
		}
	case fyne.Widget:
		for _, c := range cachedRenderer(v) {
			Walk(c, f)
		}
	}
}

func cachedRenderer(w fyne.Widget) []fyne.CanvasObject {
	return testRenderer(w).Objects()
}

// Button finds a visible button whose text contains text, in the canvas'
// overlays (dialogs) first, then its content; nil when none.
func Button(c fyne.Canvas, text string) *widget.Button {
	var found *widget.Button
	look := func(o fyne.CanvasObject) bool {
		if found != nil || !o.Visible() {
			return false
		}
		if b, ok := o.(*widget.Button); ok && strings.Contains(b.Text, text) {
			found = b
		}
		return true
	}
	for _, ov := range c.Overlays().List() {
		Walk(ov, look)
		if found != nil {
			return found
		}
	}
	Walk(c.Content(), look)
	return found
}

// HasText reports whether a visible label or hyperlink under the canvas
// (overlays included) contains s.
func HasText(c fyne.Canvas, s string) bool {
	for _, ov := range c.Overlays().List() {
		if ObjectHasText(ov, s) {
			return true
		}
	}
	return ObjectHasText(c.Content(), s)
}

// ObjectHasText reports whether a visible label or hyperlink under o
// contains s.
func ObjectHasText(o fyne.CanvasObject, s string) bool {
	found := false
	look := func(o fyne.CanvasObject) bool {
		if found || !o.Visible() {
			return false
		}
		switch v := o.(type) {
		case *widget.Label:
			found = strings.Contains(v.Text, s)
		case *widget.Hyperlink:
			found = strings.Contains(v.Text, s)
		}
		return true
	}
	Walk(o, look)
	return found
}

// Texts returns every visible label text under the canvas, for failure
// messages.
func Texts(c fyne.Canvas) []string {
	var out []string
	look := func(o fyne.CanvasObject) bool {
		if !o.Visible() {
			return false
		}
		switch v := o.(type) {
		case *widget.Label:
			if v.Text != "" {
				out = append(out, v.Text)
			}
		case *widget.Button:
			out = append(out, "["+v.Text+"]")
		}
		return true
	}
	for _, ov := range c.Overlays().List() {
		Walk(ov, look)
	}
	Walk(c.Content(), look)
	return out
}
