package portalhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Evaler runs JavaScript in the page and decodes its JSON result.
type Evaler interface {
	Eval(ctx context.Context, js string, out any) error
}

// ControlKind is the kind of a page control in a Snapshot.
type ControlKind string

// Control kinds.
const (
	KindLink     ControlKind = "link"
	KindButton   ControlKind = "button"
	KindText     ControlKind = "text"     // text, email, password, tel, number, search, url fields and text areas
	KindCheckbox ControlKind = "checkbox" // Checked tells its state
	KindRadio    ControlKind = "radio"    // Checked tells its state
	KindSelect   ControlKind = "select"   // Options lists the choices
)

// Control is one thing a person can act on in the page.
type Control struct {
	// Ref numbers the control within its snapshot, from 1.
	Ref     int         `json:"ref"`
	Kind    ControlKind `json:"kind"`
	Label   string      `json:"label"`
	Value   string      `json:"value,omitempty"`
	Checked bool        `json:"checked,omitempty"`
	Secret  bool        `json:"secret,omitempty"` // a password field: Value is never shown
	Options []string    `json:"options,omitempty"`
}

// Page is the visible text and the controls of the page, in document
// order.
type Page struct {
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	Lines    []string  `json:"lines"`
	Controls []Control `json:"controls"`
}

// snapshotJS collects the visible headings, paragraphs and controls of
// the main frame and stamps each control with data-mp-ref.
const snapshotJS = `(function(){
  var out = {title: document.title || "", url: location.href, lines: [], controls: []};
  if (!document.body) { return out; }
  function visible(e) {
    if (e.hidden || e.closest("[hidden]")) { return false; }
    var s = getComputedStyle(e);
    if (s.display === "none" || s.visibility === "hidden") { return false; }
    if (e.type === "radio" || e.type === "checkbox") { return true; }
    var r = e.getBoundingClientRect();
    return r.width > 0 || r.height > 0;
  }
  function clean(s) { return String(s || "").replace(/\s+/g, " ").trim(); }
  function label(e) {
    var t = e.getAttribute("aria-label");
    if (!t && e.labels && e.labels.length) { t = e.labels[0].innerText; }
    if (!t && e.id) { var l = document.querySelector("label[for='" + CSS.escape(e.id) + "']"); if (l) { t = l.innerText; } }
    if (!t && (e.tagName === "A" || e.tagName === "BUTTON")) { t = e.innerText; }
    if (!t && e.tagName === "INPUT" && (e.type === "submit" || e.type === "button")) { t = e.value; }
    if (!t) { t = e.getAttribute("placeholder") || e.getAttribute("title") || e.name || e.id; }
    return clean(t);
  }
  document.querySelectorAll("[data-mp-ref]").forEach(function (e) { e.removeAttribute("data-mp-ref"); });
  var sel = "h1,h2,h3,p,li,dt,dd,[role=alert],a[href],button,input,select,textarea";
  var n = 0;
  document.body.querySelectorAll(sel).forEach(function (e) {
    if (!visible(e)) { return; }
    var tag = e.tagName;
    var kind = "";
    if (tag === "A") { kind = "link"; }
    else if (tag === "BUTTON") { kind = "button"; }
    else if (tag === "SELECT") { kind = "select"; }
    else if (tag === "TEXTAREA") { kind = "text"; }
    else if (tag === "INPUT") {
      var t = (e.type || "text").toLowerCase();
      if (t === "hidden") { return; }
      if (t === "submit" || t === "button" || t === "reset") { kind = "button"; }
      else if (t === "checkbox") { kind = "checkbox"; }
      else if (t === "radio") { kind = "radio"; }
      else { kind = "text"; }
    }
    if (!kind) {
      if (e.querySelector(sel.replace("h1,h2,h3,p,li,dt,dd,[role=alert],", ""))) {
        // text around controls: keep only its own text nodes
        var own = "";
        e.childNodes.forEach(function (c) { if (c.nodeType === 3) { own += c.textContent; } });
        own = clean(own);
        if (own) { out.lines.push(own); }
        return;
      }
      var text = clean(e.innerText);
      if (text && !e.closest("label,button,a")) { out.lines.push(text); }
      return;
    }
    if (e.disabled) { return; }
    n++;
    e.setAttribute("data-mp-ref", String(n));
    var c = {ref: n, kind: kind, label: label(e)};
    if (kind === "text") {
      c.secret = (e.type === "password");
      if (!c.secret) { c.value = e.value || ""; }
    }
    if (kind === "checkbox" || kind === "radio") { c.checked = !!e.checked; }
    if (kind === "select") {
      c.options = Array.prototype.map.call(e.options, function (o) { return clean(o.text); });
      c.value = e.selectedIndex >= 0 ? clean(e.options[e.selectedIndex].text) : "";
    }
    out.lines.push("[" + n + "]");
    out.controls.push(c);
  });
  return out;
})()`

// Snapshot reads the page's visible text and controls. Each control's
// place in the text is marked "[ref]" in Lines.
func Snapshot(ctx context.Context, e Evaler) (Page, error) {
	var p Page
	if err := e.Eval(ctx, snapshotJS, &p); err != nil {
		return Page{}, fmt.Errorf("portalhost: reading the page: %w", err)
	}
	return p, nil
}

// Control returns the control with ref.
func (p Page) Control(ref int) (Control, bool) {
	for _, c := range p.Controls {
		if c.Ref == ref {
			return c, true
		}
	}
	return Control{}, false
}

// Render writes the page for a terminal: the title, then the text with
// every control's marker replaced by its description.
func (p Page) Render(w io.Writer) {
	fmt.Fprintf(w, "── %s ──\n", oneLine(p.Title, 70))
	byRef := make(map[string]Control, len(p.Controls))
	for _, c := range p.Controls {
		byRef[fmt.Sprintf("[%d]", c.Ref)] = c
	}
	for _, l := range p.Lines {
		if c, ok := byRef[l]; ok {
			fmt.Fprintf(w, "  %s\n", describe(c))
			continue
		}
		fmt.Fprintf(w, "%s\n", oneLine(l, 200))
	}
}

func describe(c Control) string {
	ref := fmt.Sprintf("[%d]", c.Ref)
	switch c.Kind {
	case KindLink:
		return fmt.Sprintf("%s %s (link)", ref, c.Label)
	case KindButton:
		return fmt.Sprintf("%s <%s>", ref, c.Label)
	case KindText:
		v := c.Value
		if c.Secret {
			v = "••••"
		}
		return fmt.Sprintf("%s %s: %q (type %d=...)", ref, c.Label, v, c.Ref)
	case KindCheckbox:
		return fmt.Sprintf("%s [%s] %s", ref, mark(c.Checked, "x"), c.Label)
	case KindRadio:
		return fmt.Sprintf("%s (%s) %s", ref, mark(c.Checked, "*"), c.Label)
	case KindSelect:
		return fmt.Sprintf("%s %s: %s (type %d=one of %s)", ref, c.Label, c.Value, c.Ref, strings.Join(c.Options, " | "))
	}
	return ref + " " + c.Label
}

func mark(on bool, m string) string {
	if on {
		return m
	}
	return " "
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// ErrNoControl is returned by Act for a ref or selector that names nothing
// actionable on the page.
var ErrNoControl = errors.New("portalhost: no such control on the page")

// actJS acts on the element of a selector: click it, or set its value
// (fields: the text; selects: an option's text or number) with the input
// and change events a person's typing would fire. It returns "" or the
// reason it could not.
const actJS = `(function(sel, op, value){
  var e = document.querySelector(sel);
  if (!e) { return "missing"; }
  if (op === "click") { e.click(); return ""; }
  if (e.tagName === "SELECT") {
    var idx = -1;
    for (var i = 0; i < e.options.length; i++) {
      if (e.options[i].text.trim() === value || e.options[i].value === value) { idx = i; }
    }
    if (idx < 0 && /^[0-9]+$/.test(value) && +value >= 1 && +value <= e.options.length) { idx = +value - 1; }
    if (idx < 0) { return "no option " + value; }
    e.selectedIndex = idx;
  } else if ("value" in e && e.type !== "checkbox" && e.type !== "radio") {
    var proto = e.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, "value").set.call(e, value);
  } else {
    return "not a field";
  }
  e.dispatchEvent(new Event("input", {bubbles: true}));
  e.dispatchEvent(new Event("change", {bubbles: true}));
  return "";
})(%s, %s, %s)`

// Act clicks the control ref of the last Snapshot, or fills it with value
// when value is not nil, and waits for a navigation the click started to
// finish.
func Act(ctx context.Context, e Evaler, ref int, value *string) error {
	return act(ctx, e, fmt.Sprintf(`[data-mp-ref="%d"]`, ref), value)
}

func act(ctx context.Context, e Evaler, selector string, value *string) error {
	op, v := "click", ""
	if value != nil {
		op, v = "fill", *value
	}
	args := make([]any, 0, 3)
	for _, s := range []string{selector, op, v} {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		args = append(args, string(b))
	}
	if op == "click" {
		// A marker that survives only in this document tells a navigation
		// from an in-page action.
		// beforeunload fires when a navigation starts (link, form post), so
		// a slow server is waited for.
		if err := e.Eval(ctx, `window.__mpBeforeAct = true; window.__mpLeaving = false;
			if (!window.__mpHooked) { window.__mpHooked = true;
				addEventListener("beforeunload", function () { window.__mpLeaving = true; }); }`, nil); err != nil {
			return fmt.Errorf("portalhost: %w", err)
		}
	}
	var reason string
	if err := e.Eval(ctx, fmt.Sprintf(actJS, args...), &reason); err != nil {
		return fmt.Errorf("portalhost: %s %s: %w", op, selector, err)
	}
	switch {
	case reason == "missing":
		return fmt.Errorf("%w: %s", ErrNoControl, selector)
	case reason != "":
		return fmt.Errorf("portalhost: %s %s: %s", op, selector, reason)
	}
	if op == "click" {
		return settle(ctx, e)
	}
	return nil
}

// settle waits until the page has loaded: a new document (the marker is
// gone) that is complete, or the old one not leaving for a short while
// (the click did not navigate).
func settle(ctx context.Context, e Evaler) error {
	const (
		poll  = 50 * time.Millisecond
		quiet = 400 * time.Millisecond
		limit = 30 * time.Second
	)
	start := time.Now()
	for {
		var st struct {
			Marker  bool   `json:"marker"`
			Leaving bool   `json:"leaving"`
			Ready   string `json:"ready"`
		}
		err := e.Eval(ctx, `({marker: !!window.__mpBeforeAct, leaving: !!window.__mpLeaving, ready: document.readyState})`, &st)
		if err == nil && st.Ready == "complete" && (!st.Marker || !st.Leaving && time.Since(start) >= quiet) {
			return nil
		}
		if time.Since(start) > limit {
			return fmt.Errorf("portalhost: the page did not finish loading within %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}
