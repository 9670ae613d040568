package webkit

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portalhost"
)

var _ portalhost.Browser = (*Browser)(nil)

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeHelper(mode, os.Args[1:], os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

const allowedHost = "portal.contoso.test"

// startFake starts the test binary as the helper in mode.
func startFake(t *testing.T, mode string, opts Options) (*Browser, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if opts.HelperPath == "" {
		opts.HelperPath = exe
	}
	if opts.AllowedHost == "" {
		opts.AllowedHost = allowedHost
	}
	// GORACE: a -race binary otherwise sleeps a second at exit.
	opts.Env = append(opts.Env, fakeEnv+"="+mode, "GORACE=atexit_sleep_ms=0")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	return Start(ctx, opts)
}

func newFake(t *testing.T, opts Options) *Browser {
	t.Helper()
	b, err := startFake(t, fakeOK, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// nextEvent returns the next event of kind, skipping others.
func nextEvent(t *testing.T, b *Browser, kind EventKind) Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-b.Events():
			if !ok {
				t.Fatalf("events closed before %s", kind)
			}
			if ev.Kind == kind {
				return ev
			}
		case <-t.Context().Done():
			t.Fatalf("no %s event", kind)
		}
	}
}

func TestStartUnavailable(t *testing.T) {
	tests := []struct {
		name        string
		mode        string
		helper      string
		unavailable bool
		wantErr     string
	}{
		{name: "missing binary", mode: fakeOK, helper: filepath.Join(t.TempDir(), "mobileplans-portal"), unavailable: true},
		{name: "no display", mode: fakeUnavailable, unavailable: true, wantErr: "GTK cannot open a display"},
		{name: "built without webkit", mode: fakeStub, unavailable: true, wantErr: "built without WebKitGTK"},
		{name: "other failure", mode: fakeCrash, unavailable: false, wantErr: "loading the CAs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := startFake(t, tt.mode, Options{HelperPath: tt.helper})
			if err == nil {
				b.Close()
				t.Fatal("Start succeeded")
			}
			if got := errors.Is(err, ErrUnavailable); got != tt.unavailable {
				t.Fatalf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not say %q", err, tt.wantErr)
			}
		})
	}
}

func TestStartOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no allowed host", Options{HelperPath: "/bin/true"}},
		{"CAFile and RootCAs", Options{HelperPath: "/bin/true", AllowedHost: allowedHost, CAFile: "a.pem", RootCAs: []byte("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Start(t.Context(), tt.opts); err == nil || errors.Is(err, ErrUnavailable) {
				t.Fatalf("Start: %v, want a configuration error", err)
			}
		})
	}
}

func TestFindHelperOnPath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, HelperName)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	got, err := findHelper("")
	if err != nil || got != p {
		t.Fatalf("findHelper = %q, %v; want %q", got, err, p)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := findHelper(""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("findHelper without a helper: %v", err)
	}
}

func TestOpen(t *testing.T) {
	b := newFake(t, Options{})
	if b.Version() != "2.50.6-fake" {
		t.Errorf("version %q", b.Version())
	}
	tests := []struct {
		name    string
		url     string
		headers http.Header
		event   EventKind
		wantErr error
	}{
		{name: "loads", url: "https://portal.contoso.test/mobileplans?eid=1", event: EventLoaded},
		{name: "with headers", url: "https://portal.contoso.test/again",
			headers: http.Header{"X-Mp-Lpaerror-Codes": {"8"}, "X-Mp-Lpaerror-Iccids": {"89", "90"}}, event: EventLoaded},
		{name: "untrusted certificate", url: "https://tls.test/", event: EventTLSError, wantErr: ErrCertificate},
		{name: "load failure", url: "https://fail.test/", event: EventLoadFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.OpenWithHeaders(t.Context(), tt.url, tt.headers)
			ev := nextEvent(t, b, tt.event)
			if ev.URL != tt.url {
				t.Errorf("event %+v, want the URL %s", ev, tt.url)
			}
			switch {
			case tt.event == EventLoaded && err != nil:
				t.Fatalf("open: %v", err)
			case tt.event != EventLoaded && err == nil:
				t.Fatal("open succeeded")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("open: %v, want %v", err, tt.wantErr)
			}
			var oe *OpError
			if err != nil && !errors.As(err, &oe) {
				t.Fatalf("open: %v is not an *OpError", err)
			}
			if tt.headers != nil {
				var got map[string][]string
				if err := b.Eval(t.Context(), "headers", &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, map[string][]string(tt.headers)) {
					t.Fatalf("helper got headers %v, want %v", got, tt.headers)
				}
			}
		})
	}
}

func TestEval(t *testing.T) {
	b := newFake(t, Options{})
	type pair struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	tests := []struct {
		name    string
		js      string
		out     any
		want    any
		wantErr string
	}{
		{name: "object", js: `json:{"a":1,"b":"x"}`, out: new(pair), want: &pair{A: 1, B: "x"}},
		{name: "bool", js: `json:true`, out: new(bool), want: ptr(true)},
		{name: "null into a pointer", js: `json:null`, out: new(*int), want: new(*int)},
		{name: "result ignored", js: `json:[1,2]`},
		{name: "exception", js: `throw:Error: boom`, wantErr: "Error: boom"},
		{name: "wrong type", js: `json:"s"`, out: new(int), wantErr: "eval result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Eval(t.Context(), tt.js, tt.out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("eval: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.out != nil && !reflect.DeepEqual(tt.out, tt.want) {
				t.Fatalf("result %#v, want %#v", tt.out, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestCalls: bridge events become portal.Messages with the origin the
// helper reported, which Message.Parse checks like Chromium's.
func TestCalls(t *testing.T) {
	b := newFake(t, Options{})
	meta := `{"planName":"","userAccount":"existing","line":"bailed","moDirectStatus":"cancelled"}`
	msg := `{"v":1,"op":"notifyCancelledPurchase","object":"MobilePlans","origin":"https://portal.contoso.test","args":{"meta":` + meta + `}}`
	tests := []struct {
		name      string
		page      string
		wantOrig  string
		wantParse bool
	}{
		{"allowed host", "https://portal.contoso.test/mobileplans", "https://portal.contoso.test", true},
		{"other host claiming the portal", "https://shop.evil.test/", "https://shop.evil.test", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.Open(t.Context(), tt.page); err != nil {
				t.Fatal(err)
			}
			if err := b.Eval(t.Context(), "bridge:"+msg, nil); err != nil {
				t.Fatal(err)
			}
			var m portal.Message
			select {
			case m = <-b.Calls():
			case <-t.Context().Done():
				t.Fatal("no bridge message")
			}
			if m.Origin != tt.wantOrig || string(m.Raw) != msg {
				t.Fatalf("message %q from %q", m.Raw, m.Origin)
			}
			c, err := m.Parse(allowedHost)
			if tt.wantParse {
				if _, ok := c.(*portal.CancelledPurchase); err != nil || !ok {
					t.Fatalf("parse: %T %v", c, err)
				}
			} else if !errors.Is(err, portal.ErrForeignOrigin) {
				t.Fatalf("parse: %v, want a foreign origin", err)
			}
		})
	}
}

// TestCallsQueue: messages the page posts while nobody reads Calls wait
// in order, and are still delivered after the helper exited.
func TestCallsQueue(t *testing.T) {
	b := newFake(t, Options{})
	if err := b.Open(t.Context(), "https://portal.contoso.test/"); err != nil {
		t.Fatal(err)
	}
	const n = 50
	if err := b.Eval(t.Context(), "flood:50", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Eval(t.Context(), "user-close", nil); err != nil {
		t.Fatal(err)
	}
	<-b.Done()
	i := 0
	for m := range b.Calls() {
		if string(m.Raw) != strconv.Itoa(i) {
			t.Fatalf("message %d is %q", i, m.Raw)
		}
		i++
	}
	if i != n {
		t.Fatalf("%d messages, want %d", i, n)
	}
}

func TestBack(t *testing.T) {
	b := newFake(t, Options{})
	steps := []struct {
		op   string // open URL, or back
		url  string
		want bool
	}{
		{"back", "", false},
		{"open", "https://portal.contoso.test/a", false},
		{"open", "https://portal.contoso.test/b", false},
		{"back", "", true},
		{"back", "", false},
	}
	for i, s := range steps {
		if s.op == "open" {
			if err := b.Open(t.Context(), s.url); err != nil {
				t.Fatal(err)
			}
			continue
		}
		went, err := b.Back(t.Context())
		if err != nil || went != s.want {
			t.Fatalf("step %d: back = %v, %v; want %v", i, went, err, s.want)
		}
	}
}

// TestGuard: with the guard on, the close button only asks; with it off,
// the window closes and the helper exits.
func TestGuard(t *testing.T) {
	b := newFake(t, Options{})
	if err := b.Guard(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	if err := b.Eval(t.Context(), "user-close", nil); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, b, EventCloseRequested)
	if err := b.Guard(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if err := b.Eval(t.Context(), "user-close", nil); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, b, EventClosed)
	<-b.Done()
	if err := b.Eval(t.Context(), "json:1", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("eval after the window closed: %v", err)
	}
}

// TestClose: Close ends the helper, closes the channels and is
// idempotent; requests afterwards fail with ErrClosed.
func TestClose(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		wantErr bool
	}{
		{"helper closes", fakeOK, false},
		{"helper already gone", fakeExit, false},
		{"helper hangs and is killed", fakeHang, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := startFake(t, tt.mode, Options{CloseTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); (err != nil) != tt.wantErr {
				t.Fatalf("Close: %v", err)
			}
			select {
			case <-b.Done():
			default:
				t.Fatal("Done not closed after Close")
			}
			if _, ok := <-b.Calls(); ok {
				t.Fatal("Calls not closed")
			}
			if _, ok := <-b.Events(); ok {
				t.Fatal("Events not closed")
			}
			if err := b.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if err := b.Open(t.Context(), "https://portal.contoso.test/"); !errors.Is(err, ErrClosed) {
				t.Fatalf("open after Close: %v", err)
			}
			if b.cmd.ProcessState == nil {
				t.Fatal("the helper was not waited for")
			}
		})
	}
}

// TestRootCAs: PEM bytes reach the helper as a --ca file, removed by
// Close.
func TestRootCAs(t *testing.T) {
	pem := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	b, err := startFake(t, fakeOK, Options{RootCAs: pem})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Path, PEM string }
	if err := b.Eval(t.Context(), "ca", &got); err != nil {
		t.Fatal(err)
	}
	if got.PEM != string(pem) {
		t.Fatalf("helper read %q", got.PEM)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(got.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("CA file after Close: %v", err)
	}
}

func TestEvalContext(t *testing.T) {
	b := newFake(t, Options{})
	ctx, cancel := context.WithCancelCause(t.Context())
	cause := errors.New("user went away")
	cancel(cause)
	if err := b.Eval(ctx, "json:1", nil); !errors.Is(err, cause) {
		t.Fatalf("eval with a cancelled context: %v", err)
	}
	// The helper still answers the next request.
	var n int
	if err := b.Eval(t.Context(), "json:2", &n); err != nil || n != 2 {
		t.Fatalf("eval = %d, %v", n, err)
	}
}

// TestStubHelper: the real helper built without -tags webkit is
// ErrUnavailable.
func TestStubHelper(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the helper stub")
	}
	stub := filepath.Join(t.TempDir(), HelperName)
	build := exec.Command(goBin, "build", "-o", stub, "../../../cmd/mobileplans-portal")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := Start(t.Context(), Options{HelperPath: stub, AllowedHost: allowedHost})
	if err == nil {
		b.Close()
		t.Fatal("the stub started")
	}
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "-tags webkit") {
		t.Fatalf("Start with the stub: %v", err)
	}
}
