package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/ui/portal/webkit/wire"
)

// fakeView records what the helper asks of the web view.
type fakeView struct {
	h         *helper
	loads     []string
	headers   []map[string][]string
	evals     []string
	current   string
	canBack   bool
	verifyOK  bool
	allowed   []string
	destroyed bool
	quitted   bool
}

func (v *fakeView) load(url string, headers map[string][]string) {
	v.loads = append(v.loads, url)
	v.headers = append(v.headers, headers)
}
func (v *fakeView) eval(id int64, js string) { v.evals = append(v.evals, js) }
func (v *fakeView) back() bool               { return v.canBack }
func (v *fakeView) uri() string              { return v.current }
func (v *fakeView) setHost(string)           {}
func (v *fakeView) verify(cert any, host string, port int) uint32 {
	if v.verifyOK && cert == "good" {
		return 0
	}
	return 1 // unknown-ca
}
func (v *fakeView) allow(cert any, host string) { v.allowed = append(v.allowed, host) }
func (v *fakeView) destroy() {
	v.destroyed = true
	v.h.onDestroyed()
}
func (v *fakeView) quit() { v.quitted = true }

type rig struct {
	h   *helper
	v   *fakeView
	out *bytes.Buffer
}

const testToken = "00112233445566778899aabbccddeeff"

func newRig() *rig {
	out := &bytes.Buffer{}
	h := newHelper(&lineWriter{w: out}, slog.New(slog.DiscardHandler), testToken)
	v := &fakeView{h: h}
	h.v = v
	// Tasks run when the test calls dispatch.
	h.schedule = func() {}
	return &rig{h: h, v: v, out: out}
}

// lines returns and forgets what the helper wrote.
func (r *rig) lines() []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.out.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			panic(err)
		}
		out = append(out, m)
	}
	r.out.Reset()
	return out
}

func (r *rig) open(id int64, url string) {
	r.h.handle(wire.Request{ID: id, Op: wire.OpOpen, URL: url, Headers: map[string][]string{"X-MP-Test": {"1"}}})
}

// page plays WebKit's load events for a successful load of uri.
func (r *rig) page(uri string) {
	r.h.onLoadChanged(loadStarted, uri)
	r.h.onLoadChanged(loadCommitted, uri)
	r.h.onLoadChanged(loadFinished, uri)
}

func kinds(lines []map[string]any) []string {
	var out []string
	for _, l := range lines {
		if e, ok := l["event"].(string); ok {
			out = append(out, e)
		} else if l["ok"] == true {
			out = append(out, "ok")
		} else {
			out = append(out, "error:"+l["code"].(string))
		}
	}
	return out
}

func TestOpenLoads(t *testing.T) {
	r := newRig()
	const u = "https://localhost:8443/mobileplans?eid=1"
	r.open(1, u)
	if len(r.v.loads) != 1 || r.v.loads[0] != u || r.v.headers[0]["X-MP-Test"][0] != "1" {
		t.Fatalf("loads %v %v", r.v.loads, r.v.headers)
	}
	r.page(u)
	got := r.lines()
	if want := []string{"loaded", "ok"}; !reflect.DeepEqual(kinds(got), want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
	if r.h.origin != "https://localhost:8443" {
		t.Fatalf("origin %q", r.h.origin)
	}
}

// TestTLS: a refused certificate that verifies against --ca is allowed
// and the same request (with its headers) loaded again once; one that does
// not is reported and fails the open.
func TestTLS(t *testing.T) {
	const u = "https://localhost:8443/"
	tests := []struct {
		name      string
		verifyOK  bool
		cert      string
		want      []string
		wantLoads int
	}{
		{"trusted CA", true, "good", []string{"tls-trusted", "loaded", "ok"}, 2},
		{"other CA", false, "bad", []string{"tls-error", "error:tls"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			r.v.verifyOK = tt.verifyOK
			r.open(1, u)
			r.h.onLoadChanged(loadStarted, u)
			r.h.onTLSError(u, tt.cert, 1)
			r.h.onLoadChanged(loadFinished, "")
			r.h.dispatch()
			if len(r.v.loads) == 2 {
				if r.v.headers[1]["X-MP-Test"] == nil {
					t.Fatal("the retry lost the headers")
				}
				r.page(u)
			}
			if got := kinds(r.lines()); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("lines %v, want %v", got, tt.want)
			}
			if len(r.v.loads) != tt.wantLoads {
				t.Fatalf("%d loads, want %d", len(r.v.loads), tt.wantLoads)
			}
			if tt.verifyOK != (len(r.v.allowed) == 1 && r.v.allowed[0] == "localhost") {
				t.Fatalf("allowed %v", r.v.allowed)
			}
		})
	}
}

// TestTLSOnce: a certificate refused again after it was allowed is not
// retried a second time.
func TestTLSOnce(t *testing.T) {
	r := newRig()
	r.v.verifyOK = true
	const u = "https://localhost:8443/"
	r.open(1, u)
	for range 2 {
		r.h.onLoadChanged(loadStarted, u)
		r.h.onTLSError(u, "good", 1)
		r.h.onLoadChanged(loadFinished, "")
		r.h.dispatch()
	}
	if got, want := kinds(r.lines()), []string{"tls-trusted", "tls-error", "error:tls"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
}

// TestOpenFragment: an open that only changes the fragment is answered at
// once (WebKit sends no load events for it).
func TestOpenFragment(t *testing.T) {
	r := newRig()
	r.v.current = "https://localhost:8443/a?x=1"
	r.open(1, "https://localhost:8443/a?x=1#plans")
	r.open(2, "https://localhost:8443/b#plans")
	if got := kinds(r.lines()); !reflect.DeepEqual(got, []string{"ok"}) || len(r.v.loads) != 2 || r.h.nav == nil || r.h.nav.id != 2 {
		t.Fatalf("lines %v, loads %v, waiting %+v", got, r.v.loads, r.h.nav)
	}
}

func TestLoadFailures(t *testing.T) {
	const u = "https://localhost:8443/a"
	var (
		refused   = loadError{"Could not connect", "g-io-error-quark", 39, failOther}
		replaced  = loadError{"Load request cancelled", "WebKitNetworkError", 302, failReplaced}
		ioCancel  = loadError{"Operation was cancelled", "g-io-error-quark", 19, failIOCancelled}
		sameAgain = []string{"loaded", "ok"}
	)
	tests := []struct {
		name    string
		failing []loadError // one load each; the last one succeeds unless it fails
		url     string
		want    []string
		loads   int
	}{
		{"network error", []loadError{refused}, u, []string{"load-failed", "error:load"}, 1},
		{"our load cancelled", []loadError{replaced}, u, []string{"error:cancelled"}, 1},
		// The page's earlier navigation, replaced by ours: the open
		// goes on.
		{"another load cancelled", []loadError{replaced}, "https://localhost:8443/b", nil, 1},
		// WebKit's own cancellation: loaded again, once.
		{"cancelled by WebKit", []loadError{ioCancel}, u, sameAgain, 2},
		{"cancelled by WebKit three times", []loadError{ioCancel, ioCancel, ioCancel}, u, sameAgain, 4},
		{"cancelled by WebKit every time", []loadError{ioCancel, ioCancel, ioCancel, ioCancel}, u, []string{"load-failed", "error:load"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			r.open(1, u)
			for _, e := range tt.failing {
				r.h.onLoadChanged(loadStarted, u)
				r.h.onLoadFailed(tt.url, e)
				r.h.onLoadChanged(loadFinished, "")
				r.h.dispatch()
			}
			if len(r.v.loads) > len(tt.failing) {
				r.page(u)
			}
			if got := kinds(r.lines()); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("lines %v, want %v", got, tt.want)
			}
			if len(r.v.loads) != tt.loads {
				t.Fatalf("%d loads, want %d", len(r.v.loads), tt.loads)
			}
		})
	}
}

func TestBridgeMessages(t *testing.T) {
	const portal = "https://localhost:8443"
	msg := `{"v":1}`
	tests := []struct {
		name   string
		posted *string
		want   string // event
		reason string
	}{
		{"through the shim", ptr(testToken + "\n" + portal + "\n" + msg), wire.EvBridge, ""},
		{"origin case", ptr(testToken + "\nHTTPS://LOCALHOST:8443\n" + msg), wire.EvBridge, ""},
		{"not a string", nil, wire.EvBridgeRefused, "not a string"},
		{"direct post (an iframe)", ptr(msg), wire.EvBridgeRefused, "top frame"},
		{"wrong token", ptr(strings.Repeat("0", 32) + "\n" + portal + "\n" + msg), wire.EvBridgeRefused, "top frame"},
		{"token without separator", ptr(testToken + portal), wire.EvBridgeRefused, "top frame"},
		{"an old document", ptr(testToken + "\nhttps://evil.test\n" + msg), wire.EvBridgeRefused, "committed"},
		{"too large", ptr(testToken + "\n" + portal + "\n" + strings.Repeat("x", wire.MaxBridgeMessage+1)), wire.EvBridgeRefused, "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			r.page(portal + "/mobileplans")
			r.lines()
			r.h.onMessage(tt.posted)
			got := r.lines()
			if len(got) != 1 || got[0]["event"] != tt.want {
				t.Fatalf("lines %v, want one %s", got, tt.want)
			}
			if tt.want == wire.EvBridge && (got[0]["message"] != msg || got[0]["origin"] != portal) {
				t.Fatalf("bridge event %v", got[0])
			}
			if reason, _ := got[0]["reason"].(string); !strings.Contains(reason, tt.reason) {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestBridgeBeforeCommit(t *testing.T) {
	r := newRig()
	r.h.onMessage(ptr(testToken + "\nnull\n{}"))
	if got := r.lines(); len(got) != 1 || got[0]["event"] != wire.EvBridgeRefused {
		t.Fatalf("lines %v", got)
	}
}

// TestGuardAndClose: the close button asks the app while the guard is on;
// op close and stdin EOF close the window and quit.
func TestGuardAndClose(t *testing.T) {
	r := newRig()
	if r.h.onCloseRequested() {
		t.Fatal("close button kept the window without the guard")
	}
	r = newRig()
	r.h.handle(wire.Request{ID: 1, Op: wire.OpGuard, On: ptr(true)})
	if !r.h.onCloseRequested() {
		t.Fatal("close button closed the guarded window")
	}
	if got, want := kinds(r.lines()), []string{"ok", "close-requested"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
	r.open(2, "https://localhost:8443/")
	r.h.handle(wire.Request{ID: 3, Op: wire.OpClose})
	if !r.v.destroyed || !r.v.quitted {
		t.Fatal("close did not destroy the window and quit")
	}
	if got, want := kinds(r.lines()), []string{"ok", "error:closed", "closed"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
	r.h.handle(wire.Request{ID: 4, Op: wire.OpBack})
	if got := kinds(r.lines()); !reflect.DeepEqual(got, []string{"error:closed"}) {
		t.Fatalf("request after close: %v", got)
	}
}

func TestReadRequests(t *testing.T) {
	r := newRig()
	in := strings.Join([]string{
		`{"id":1,"op":"eval","js":"1+1"}`,
		`{"id":2,"op":"teleport"}`,
		`not json`,
		`{"id":3,"op":"back"}`,
	}, "\n")
	r.h.readRequests(strings.NewReader(in))
	r.h.dispatch()
	got := kinds(r.lines())
	// The line without an id is only logged.
	want := []string{"error:bad-request", "ok", "closed"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
	if !reflect.DeepEqual(r.v.evals, []string{"1+1"}) || !r.v.destroyed {
		t.Fatalf("evals %v destroyed %v", r.v.evals, r.v.destroyed)
	}
}

func TestEvalDone(t *testing.T) {
	tests := []struct {
		name   string
		result *string
		errMsg string
		want   string
	}{
		{"value", ptr(`{"a":1}`), "", `{"id":1,"ok":true,"result":{"a":1}}`},
		{"null", ptr(`null`), "", `{"id":1,"ok":true,"result":null}`},
		{"exception", nil, "Error: boom", `{"id":1,"error":"Error: boom","code":"js"}`},
		{"not JSON", ptr(`{`), "", `{"id":1,"error":"the result is not valid JSON","code":"js"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			r.h.onEvalDone(1, tt.result, tt.errMsg)
			if got := strings.TrimSpace(r.out.String()); got != tt.want {
				t.Fatalf("wrote %s, want %s", got, tt.want)
			}
		})
	}
}

func TestWebProcessTerminated(t *testing.T) {
	r := newRig()
	r.page("https://localhost:8443/")
	r.open(2, "https://localhost:8443/next")
	r.lines()
	r.h.onWebProcessTerminated(0)
	got := r.lines()
	if k := kinds(got); !reflect.DeepEqual(k, []string{"web-process-terminated", "error:crashed"}) || got[0]["reason"] != "crashed" {
		t.Fatalf("lines %v", got)
	}
	if r.h.origin != "" {
		t.Fatalf("origin %q after the crash", r.h.origin)
	}
}
