package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/mobileplans/mobileplans/ui/portal/webkit/wire"
)

// The WebKitLoadEvent values of load-changed.
const (
	loadStarted = iota
	loadRedirected
	loadCommitted
	loadFinished
)

// view is the web view and its window as the helper drives them (cgo.go
// implements it over GTK and WebKitGTK). Every method runs on the GTK main
// thread.
type view interface {
	// load starts a main-frame navigation to url with extra headers.
	load(url string, headers map[string][]string)
	// eval evaluates js in the page's main world; the result comes back as
	// helper.onEvalDone(id, ...).
	eval(id int64, js string)
	// uri is the web view's current URI.
	uri() string
	// back goes back in the history; false when there is nothing to go
	// back to.
	back() bool
	// setHost shows the host name of the page in the header bar.
	setHost(host string)
	// verify checks the certificate chain cert for host:port against the
	// CAs of --ca and returns the GTlsCertificateFlags (0: valid).
	verify(cert any, host string, port int) uint32
	// allow makes WebKit accept cert for host.
	allow(cert any, host string)
	// destroy destroys the window; helper.onDestroyed follows.
	destroy()
	// quit ends the main loop.
	quit()
}

// navigation is a main-frame load the helper started: for an open request
// (id > 0, answered when it ends) or to retry a page's navigation after a
// certificate was allowed (id 0).
type navigation struct {
	id      int64
	url     string
	headers map[string][]string
	// retried: loaded again after its certificate was allowed.
	retried bool
	// requeued counts the loads again after WebKit cancelled it on its
	// own.
	requeued int
}

// maxRequeue bounds the loads of an open again after WebKit cancelled it
// on its own (see onLoadFailed).
const maxRequeue = 3

// loadError is the GError of a failed load.
type loadError struct {
	msg, domain string
	code        int
	kind        failKind
}

// failKind classifies a load failure.
type failKind int

const (
	failOther failKind = iota
	// failReplaced: WEBKIT_NETWORK_ERROR_CANCELLED, another navigation
	// replaced this one.
	failReplaced
	// failIOCancelled: G_IO_ERROR_CANCELLED, WebKit cancelled its network
	// task.
	failIOCancelled
)

func (e loadError) String() string { return fmt.Sprintf("%s (%s %d)", e.msg, e.domain, e.code) }

// helper is the portal helper's state. The reader goroutine only posts
// tasks; everything else runs on the GTK main thread, so the fields below
// mu need no lock.
type helper struct {
	v     view
	out   *lineWriter
	log   *slog.Logger
	token string
	// schedule makes the main loop call dispatch (mp_schedule).
	schedule func()

	mu    sync.Mutex
	tasks []func()

	origin  string      // of the last committed main-frame URI
	guard   bool        // the close button asks the app instead of closing
	closing bool        // the window is being destroyed
	nav     *navigation // the open request waiting for its load
	retry   *navigation // to reload when the failed load has finished
	failed  bool        // the current load failed: no loaded event
}

func newHelper(out *lineWriter, log *slog.Logger, token string) *helper {
	return &helper{out: out, log: log, token: token}
}

// post runs f on the main thread (any goroutine).
func (h *helper) post(f func()) {
	h.mu.Lock()
	h.tasks = append(h.tasks, f)
	h.mu.Unlock()
	h.schedule()
}

// dispatch runs the posted tasks (main thread).
func (h *helper) dispatch() {
	h.mu.Lock()
	tasks := h.tasks
	h.tasks = nil
	h.mu.Unlock()
	for _, f := range tasks {
		f()
	}
}

func (h *helper) emit(ev wire.Line) {
	if err := h.out.write(ev); err != nil {
		h.log.Debug("writing an event", "event", ev.Event, "err", err)
	}
}

func (h *helper) replyOK(id int64, result any) {
	r := wire.Line{ID: id, OK: true}
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			h.replyErr(id, wire.CodeBadRequest, err.Error())
			return
		}
		r.Result = b
	}
	if err := h.out.write(r); err != nil {
		h.log.Debug("writing a reply", "id", id, "err", err)
	}
}

func (h *helper) replyErr(id int64, code, msg string) {
	if err := h.out.write(wire.Line{ID: id, Error: msg, Code: code}); err != nil {
		h.log.Debug("writing a reply", "id", id, "err", err)
	}
}

// readRequests reads the app's requests until EOF, which closes the
// window (reader goroutine).
func (h *helper) readRequests(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), wire.MaxRequestLine)
	for sc.Scan() {
		req, err := wire.ParseRequest(sc.Bytes())
		if err != nil {
			if req.ID > 0 {
				h.replyErr(req.ID, wire.CodeBadRequest, err.Error())
			} else {
				h.log.Warn("request without an id", "err", err)
			}
			continue
		}
		h.post(func() { h.handle(req) })
	}
	if err := sc.Err(); err != nil {
		h.log.Error("reading requests", "err", err)
	}
	h.post(h.close)
}

// handle runs one request (main thread).
func (h *helper) handle(req wire.Request) {
	if h.closing {
		h.replyErr(req.ID, wire.CodeClosed, "the window is closed")
		return
	}
	switch req.Op {
	case wire.OpOpen:
		if h.nav != nil {
			h.replyErr(h.nav.id, wire.CodeSuperseded, "another open replaced this navigation")
		}
		h.retry = nil
		if strings.Contains(req.URL, "#") && sameURL(req.URL, h.v.uri()) {
			// Only the fragment changes: a same-document navigation, which
			// has no load events.
			h.nav = nil
			h.v.load(req.URL, req.Headers)
			h.replyOK(req.ID, map[string]string{"url": req.URL})
			return
		}
		h.nav = &navigation{id: req.ID, url: req.URL, headers: req.Headers}
		h.v.load(req.URL, req.Headers)
	case wire.OpEval:
		h.v.eval(req.ID, req.JS)
	case wire.OpBack:
		h.replyOK(req.ID, h.v.back())
	case wire.OpGuard:
		h.guard = *req.On
		h.replyOK(req.ID, nil)
	case wire.OpClose:
		h.replyOK(req.ID, nil)
		h.close()
	}
}

// close destroys the window (main thread); onDestroyed quits.
func (h *helper) close() {
	if h.closing {
		return
	}
	h.closing = true
	h.v.destroy()
}

// onDestroyed: the window is gone (closed by the app, by the user with
// the guard off, or by stdin EOF).
func (h *helper) onDestroyed() {
	h.closing = true
	if h.nav != nil {
		h.replyErr(h.nav.id, wire.CodeClosed, "the window was closed")
		h.nav = nil
	}
	h.emit(wire.Line{Event: wire.EvClosed})
	h.v.quit()
}

// onCloseRequested decides the window's close button: true keeps the
// window (the guard is on and the app is asked).
func (h *helper) onCloseRequested() bool {
	if h.guard && !h.closing {
		h.emit(wire.Line{Event: wire.EvCloseRequested})
		return true
	}
	h.closing = true
	return false
}

func (h *helper) onLoadChanged(ev int, uri string) {
	h.log.Debug("load-changed", "event", ev, "uri", uri)
	switch ev {
	case loadStarted:
		h.failed = false
	case loadCommitted:
		h.origin = originOf(uri)
		host, _, err := hostPort(uri)
		if err != nil {
			host = ""
		}
		h.v.setHost(host)
	case loadFinished:
		if r := h.retry; r != nil {
			// The certificate is allowed now; load again once WebKit is
			// done with the failed load.
			h.retry = nil
			h.post(func() {
				if !h.closing && (r.id == 0 || h.nav == r) {
					h.v.load(r.url, r.headers)
				}
			})
			return
		}
		if h.failed {
			h.failed = false
			return
		}
		h.emit(wire.Line{Event: wire.EvLoaded, URL: uri})
		if h.nav != nil {
			h.replyOK(h.nav.id, map[string]string{"url": uri})
			h.nav = nil
		}
	}
}

func (h *helper) onLoadFailed(uri string, e loadError) {
	h.failed = true
	ours := h.nav != nil && sameURL(uri, h.nav.url)
	switch {
	case e.kind == failReplaced:
		// A navigation replaced by another is not an error to show; it
		// fails the open request only if it was that request's.
		if ours {
			h.replyErr(h.nav.id, wire.CodeCancelled, e.String())
			h.nav = nil
		}
		return
	case e.kind == failIOCancelled && ours && h.nav.requeued < maxRequeue:
		// WebKitGTK 2.50 sometimes ends a main-frame load with
		// G_IO_ERROR_CANCELLED and no other signal: its server preconnect
		// for the navigation shares the connection and, when the
		// certificate is refused, cancels it under the load. The load is
		// a GET of the app's URL: load it again (a few times; the race is
		// rare).
		h.nav.requeued++
		h.log.Info("load cancelled by WebKit; loading it again", "url", uri, "attempt", h.nav.requeued+1)
		h.retry = h.nav
		return
	}
	h.emit(wire.Line{Event: wire.EvLoadFailed, URL: uri, Error: e.String()})
	if h.nav != nil {
		h.replyErr(h.nav.id, wire.CodeLoad, e.String())
		h.nav = nil
	}
}

// onTLSError: WebKit refused the main frame's certificate. It is accepted
// only when it verifies against the CAs of --ca for the URI's host and
// port; then WebKit is told to accept that certificate for the host and
// the navigation is loaded again, once.
func (h *helper) onTLSError(uri string, cert any, webkitFlags uint32) {
	h.failed = true
	nav := h.nav
	if nav == nil {
		nav = &navigation{url: uri}
	}
	host, port, err := hostPort(uri)
	var flags uint32
	reason := ""
	switch {
	case err != nil:
		reason = err.Error()
	case nav.retried:
		reason = "the certificate was refused again after it had been allowed"
	default:
		if flags = h.v.verify(cert, host, port); flags == 0 {
			h.v.allow(cert, host)
			nav.retried = true
			h.retry = nav
			h.emit(wire.Line{Event: wire.EvTLSTrusted, URL: uri, Host: host})
			return
		}
		reason = fmt.Sprintf("the certificate of %s is not trusted (WebKit: %s; --ca: %s)", host,
			strings.Join(tlsFlagNames(webkitFlags), ", "), strings.Join(tlsFlagNames(flags), ", "))
	}
	h.emit(wire.Line{Event: wire.EvTLSError, URL: uri, Host: host, Flags: tlsFlagNames(flags | webkitFlags), Error: reason})
	if h.nav != nil {
		h.replyErr(h.nav.id, wire.CodeTLS, reason)
		h.nav = nil
	}
}

// onMessage: a string (nil: another value) posted to the "mobileplans"
// message handler.
func (h *helper) onMessage(posted *string) {
	refuse := func(reason, docOrigin string) {
		h.emit(wire.Line{Event: wire.EvBridgeRefused, Origin: h.origin, DocumentOrigin: docOrigin, Reason: reason})
	}
	if posted == nil {
		refuse("the message is not a string", "")
		return
	}
	docOrigin, msg, ok := splitMessage(*posted, h.token)
	switch {
	case !ok:
		refuse("not posted through the bridge of the top frame", "")
	case h.origin == "" || !strings.EqualFold(docOrigin, h.origin):
		refuse("posted by a document that is not the main frame's committed one", docOrigin)
	case len(msg) > wire.MaxBridgeMessage:
		refuse(fmt.Sprintf("the message is larger than %d bytes", wire.MaxBridgeMessage), docOrigin)
	default:
		h.emit(wire.Line{Event: wire.EvBridge, Origin: h.origin, Message: &msg})
	}
}

// onWebProcessTerminated: the page's process is gone (a crash, its memory
// limit); the view is blank until the next open.
func (h *helper) onWebProcessTerminated(reason int) {
	names := []string{"crashed", "exceeded-memory-limit", "terminated-by-api"}
	r := fmt.Sprintf("reason %d", reason)
	if reason >= 0 && reason < len(names) {
		r = names[reason]
	}
	h.origin = ""
	h.retry = nil
	h.emit(wire.Line{Event: wire.EvTerminated, Reason: r})
	if h.nav != nil {
		h.replyErr(h.nav.id, wire.CodeCrashed, "the web process ended: "+r)
		h.nav = nil
	}
}

func (h *helper) onBlocked(kind, uri string) {
	ev := wire.EvPopupBlocked
	if kind == "download" {
		ev = wire.EvDownloadBlock
	}
	h.emit(wire.Line{Event: ev, URL: uri})
}

// onEvalDone answers an eval: json is the result's JSON, or nil with the
// error message.
func (h *helper) onEvalDone(id int64, result *string, errMsg string) {
	switch {
	case result == nil:
		h.replyErr(id, wire.CodeJS, errMsg)
	case len(*result) > wire.MaxEvalResult:
		h.replyErr(id, wire.CodeJS, fmt.Sprintf("the result is larger than %d bytes", wire.MaxEvalResult))
	case !json.Valid([]byte(*result)):
		h.replyErr(id, wire.CodeJS, "the result is not valid JSON")
	default:
		if err := h.out.write(wire.Line{ID: id, OK: true, Result: json.RawMessage(*result)}); err != nil {
			h.log.Debug("writing a reply", "id", id, "err", err)
		}
	}
}
