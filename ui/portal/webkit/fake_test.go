package webkit

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/ui/portal/webkit/wire"
)

// fakeEnv selects the fake helper: the test binary, started by Start as
// its helper with this variable set, runs fakeHelper instead of the
// tests. The unit under test is the Go client, so a fake that speaks the
// protocol of cmd/mobileplans-portal is what it needs; the real helper
// runs in e2e/webkit_linux_test.go.
const fakeEnv = "MOBILEPLANS_WEBKIT_FAKE_HELPER"

// The fake's modes.
const (
	fakeOK          = "ok"          // a window that answers everything
	fakeUnavailable = "unavailable" // like GTK without a display: error line, exit 2
	fakeStub        = "stub"        // like a build without -tags webkit
	fakeCrash       = "crash"       // exits 1 before ready
	fakeHang        = "hang"        // ignores close and EOF: only a kill ends it
	fakeExit        = "exit"        // exits right after ready
)

// fakeHelper speaks the helper protocol on in/out. Its window:
//   - open: host tls.test fails with a tls error, fail.test with a load
//     error, anything else loads;
//   - eval: "json:<JSON>" returns the JSON, "throw:<msg>" throws,
//     "bridge:<msg>" posts msg through the bridge, "popup:<url>" tries a
//     popup, "headers" returns the headers of the last open, "ca" the
//     --ca file's content, "user-close" presses the close button,
//     "flood:<n>" posts n bridge messages;
//   - back pops the history of opens.
func fakeHelper(mode string, args []string, in io.Reader, out io.Writer) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	allowed := fs.String("allowed-host", "", "")
	ca := fs.String("ca", "", "")
	fs.String("title", "", "")
	fs.Int("width", 0, "")
	fs.Int("height", 0, "")
	fs.String("log-level", "", "")
	if err := fs.Parse(args); err != nil || *allowed == "" {
		return 64
	}
	enc := json.NewEncoder(out)
	emit := func(v map[string]any) { _ = enc.Encode(v) }
	switch mode {
	case fakeUnavailable:
		fmt.Fprintln(os.Stderr, "Gtk-WARNING: cannot open display")
		emit(map[string]any{"event": "error", "error": "GTK cannot open a display"})
		return 2
	case fakeStub:
		fmt.Fprintln(os.Stderr, "mobileplans-portal: built without WebKitGTK; build with -tags webkit")
		return 2
	case fakeCrash:
		emit(map[string]any{"event": "error", "error": "loading the CAs: broken"})
		return 1
	}
	emit(map[string]any{"event": "ready", "version": "2.50.6-fake"})
	if mode == fakeExit {
		return 0
	}
	var (
		history []string
		headers map[string][]string
		guard   bool
	)
	origin := func() string {
		if len(history) == 0 {
			return ""
		}
		u, _ := url.Parse(history[len(history)-1])
		return u.Scheme + "://" + u.Host
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		req, err := wire.ParseRequest(sc.Bytes())
		if err != nil {
			emit(map[string]any{"id": req.ID, "error": err.Error(), "code": wire.CodeBadRequest})
			continue
		}
		ok := func(result any) { emit(map[string]any{"id": req.ID, "ok": true, "result": result}) }
		fail := func(code, msg string) { emit(map[string]any{"id": req.ID, "error": msg, "code": code}) }
		switch req.Op {
		case wire.OpOpen:
			u, err := url.Parse(req.URL)
			switch {
			case err != nil:
				fail("bad-request", err.Error())
			case u.Hostname() == "tls.test":
				emit(map[string]any{"event": "tls-error", "url": req.URL, "host": "tls.test", "flags": []string{"unknown-ca"},
					"error": "the certificate of tls.test is not trusted"})
				fail("tls", "the certificate of tls.test is not trusted")
			case u.Hostname() == "fail.test":
				emit(map[string]any{"event": "load-failed", "url": req.URL, "error": "Could not connect"})
				fail("load", "Could not connect")
			default:
				history = append(history, req.URL)
				headers = req.Headers
				emit(map[string]any{"event": "loaded", "url": req.URL})
				ok(map[string]string{"url": req.URL})
			}
		case wire.OpEval:
			verb, arg, _ := strings.Cut(req.JS, ":")
			switch verb {
			case "json":
				emit(map[string]any{"id": req.ID, "ok": true, "result": json.RawMessage(arg)})
			case "throw":
				fail("js", arg)
			case "bridge":
				emit(map[string]any{"event": "bridge", "origin": origin(), "message": arg})
				ok(nil)
			case "flood":
				var n int
				fmt.Sscan(arg, &n)
				for i := range n {
					emit(map[string]any{"event": "bridge", "origin": origin(), "message": fmt.Sprint(i)})
				}
				ok(n)
			case "popup":
				emit(map[string]any{"event": "popup-blocked", "url": arg})
				ok(nil)
			case "headers":
				ok(headers)
			case "ca":
				b, err := os.ReadFile(*ca)
				if err != nil {
					fail("js", err.Error())
					continue
				}
				ok(map[string]string{"path": *ca, "pem": string(b)})
			case "user-close":
				if guard {
					emit(map[string]any{"event": "close-requested"})
					ok(nil)
					continue
				}
				ok(nil)
				emit(map[string]any{"event": "closed"})
				return 0
			default:
				fail("js", "ReferenceError: "+req.JS)
			}
		case wire.OpBack:
			went := len(history) > 1
			if went {
				history = history[:len(history)-1]
			}
			ok(went)
		case wire.OpGuard:
			guard = req.On != nil && *req.On
			ok(nil)
		case wire.OpClose:
			if mode == fakeHang {
				continue
			}
			ok(nil)
			emit(map[string]any{"event": "closed"})
			return 0
		default:
			fail("bad-request", "unknown op "+req.Op)
		}
	}
	if mode == fakeHang {
		time.Sleep(time.Hour)
	}
	emit(map[string]any{"event": "closed"})
	return 0
}
