package webkit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/internal/ring"
	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portal/webkit/wire"
)

// HelperName is the helper's executable name (plus ".exe" on Windows).
const HelperName = "mobileplans-portal"

// DefaultCloseTimeout is how long Close waits for the helper to exit
// before it kills it.
const DefaultCloseTimeout = 5 * time.Second

// Bounds of the queues of Calls and Events: beyond them, messages nobody
// reads are dropped (and logged).
const (
	maxQueuedCalls  = 4096
	maxQueuedEvents = 256
)

// ErrUnavailable is wrapped by Start's error when there is no usable
// WebKitGTK helper: the binary is missing, was built without WebKit, or
// GTK cannot open a display (the helper's exit code 2). Callers fall back
// to another browser.
var ErrUnavailable = errors.New("webkit: the WebKitGTK portal helper is not available")

// ErrClosed is returned by requests after the helper has exited or Close
// was called.
var ErrClosed = errors.New("webkit: the portal window is closed")

// ErrCertificate is wrapped by OpenWithHeaders' error when the page's TLS
// certificate was refused (see the tls-error event).
var ErrCertificate = errors.New("webkit: the server certificate is not trusted")

// Options configure Start.
type Options struct {
	// HelperPath is the helper executable; "" looks for HelperName next to
	// os.Executable(), then on PATH.
	HelperPath string
	// AllowedHost is the callback host ("host" or "host:port") the bridge
	// accepts calls from. Required.
	AllowedHost string
	// CAFile is a PEM file of test CAs the helper accepts server
	// certificates of, in addition to the system's; RootCAs is the same as
	// PEM bytes (written to a temporary file). At most one of them.
	CAFile  string
	RootCAs []byte
	// Title of the window; "" means "Mobile Plans".
	Title string
	// Width and Height of the portal frame; 0 means 800x600.
	Width, Height int
	// Logger receives diagnostics and, at debug level, the helper's
	// stderr; nil discards them.
	Logger *slog.Logger
	// Env is added to the helper's environment (os.Environ()), e.g.
	// DISPLAY=:1.
	Env []string
	// CloseTimeout bounds Close's wait for the helper to exit before it is
	// killed; 0 means DefaultCloseTimeout.
	CloseTimeout time.Duration
}

// EventKind names an Event.
type EventKind string

// The events of the window.
const (
	// EventLoaded: a main-frame load finished (URL).
	EventLoaded EventKind = wire.EvLoaded
	// EventLoadFailed: a main-frame load failed (URL, Error); the window
	// shows no error page, the app shows its own.
	EventLoadFailed EventKind = wire.EvLoadFailed
	// EventTLSError: a main-frame certificate was refused (URL, Host,
	// Flags, Error); nothing of the page is shown.
	EventTLSError EventKind = wire.EvTLSError
	// EventTLSTrusted: a certificate WebKit refused verified against the
	// CAs of Options.CAFile / RootCAs and is accepted for Host.
	EventTLSTrusted EventKind = wire.EvTLSTrusted
	// EventPopupBlocked: the page tried to open a window (URL).
	EventPopupBlocked EventKind = wire.EvPopupBlocked
	// EventDownloadBlocked: the page started a download (URL), cancelled.
	EventDownloadBlocked EventKind = wire.EvDownloadBlock
	// EventBridgeRefused: a message reached the helper's message handler
	// without passing the top frame's bridge, or from a document that is
	// not the main frame's committed one (Origin, DocumentOrigin, Reason).
	EventBridgeRefused EventKind = wire.EvBridgeRefused
	// EventWebProcessTerminated: the page's web process ended (Reason:
	// crashed, exceeded-memory-limit); the view is blank until the next
	// open.
	EventWebProcessTerminated EventKind = wire.EvTerminated
	// EventCloseRequested: the user pressed the window's close button
	// while the guard is on (Guard); the window stays until Close.
	EventCloseRequested EventKind = wire.EvCloseRequested
	// EventClosed: the window is gone; the helper exits.
	EventClosed EventKind = wire.EvClosed
)

// Event is something that happened in the window.
type Event struct {
	Kind  EventKind
	URL   string
	Host  string
	Error string
	// Flags name the certificate problems of a tls-error
	// (GTlsCertificateFlags: unknown-ca, bad-identity, expired, ...).
	Flags []string
	// Origin is the main frame's origin, DocumentOrigin the origin of the
	// document that posted a refused message; Reason says why.
	Origin, DocumentOrigin, Reason string
}

// OpError is a request the helper could not carry out.
type OpError struct {
	Op string
	// Code classifies it: bad-request, load, cancelled, superseded, tls,
	// js, closed.
	Code    string
	Message string
}

func (e *OpError) Error() string { return "webkit: " + e.Op + ": " + e.Message }

// Is makes a tls error match ErrCertificate and a closed one ErrClosed.
func (e *OpError) Is(target error) bool {
	return (target == ErrCertificate && e.Code == wire.CodeTLS) || (target == ErrClosed && e.Code == wire.CodeClosed)
}

// Browser is one helper process: a window with one web view that carries
// the Mobile Plans bridge. It satisfies portalhost.Browser. Its methods
// are safe for concurrent use.
type Browser struct {
	log          *slog.Logger
	cmd          *exec.Cmd
	tmp          string // removed by Close
	closeTimeout time.Duration

	stdin   io.WriteCloser
	stdout  io.Reader
	stderrR io.Reader
	writeMu sync.Mutex

	calls  *queue[portal.Message]
	events *queue[Event]
	ready  chan struct{}
	eof    chan struct{} // stdout ended
	errEOF chan struct{} // stderr ended
	done   chan struct{} // the helper exited and was waited for
	stop   chan struct{} // Close: stop delivering
	stderr *ring.Lines   // the last lines of the helper's stderr, for errors

	mu       sync.Mutex
	nextID   int64
	pending  map[int64]chan wire.Line
	version  string
	startErr string // an error event before ready
	killed   bool
	exitErr  error

	closeOnce sync.Once
	closeErr  error
}

// Start launches the helper and waits until its window is ready. ctx
// bounds the start only; Close ends the helper. The error wraps
// ErrUnavailable when there is no usable helper.
func Start(ctx context.Context, opts Options) (*Browser, error) {
	if opts.AllowedHost == "" {
		return nil, errors.New("webkit: Options.AllowedHost is required")
	}
	if opts.CAFile != "" && len(opts.RootCAs) > 0 {
		return nil, errors.New("webkit: set Options.CAFile or Options.RootCAs, not both")
	}
	path, err := findHelper(opts.HelperPath)
	if err != nil {
		return nil, err
	}
	b := &Browser{
		log:          opts.Logger,
		closeTimeout: opts.CloseTimeout,
		calls:        newQueue[portal.Message](maxQueuedCalls),
		events:       newQueue[Event](maxQueuedEvents),
		ready:        make(chan struct{}),
		eof:          make(chan struct{}),
		errEOF:       make(chan struct{}),
		done:         make(chan struct{}),
		stop:         make(chan struct{}),
		stderr:       ring.New(stderrTailLines),
		pending:      make(map[int64]chan wire.Line),
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.closeTimeout <= 0 {
		b.closeTimeout = DefaultCloseTimeout
	}
	caFile := opts.CAFile
	if len(opts.RootCAs) > 0 {
		if b.tmp, err = os.MkdirTemp("", "mobileplans-webkit-"); err != nil {
			return nil, fmt.Errorf("webkit: %w", err)
		}
		caFile = filepath.Join(b.tmp, "ca.pem")
		if err := os.WriteFile(caFile, opts.RootCAs, 0o600); err != nil {
			b.removeTmp()
			return nil, fmt.Errorf("webkit: %w", err)
		}
	}
	args := helperArgs(opts, caFile, b.log.Enabled(ctx, slog.LevelDebug))
	b.cmd = exec.Command(path, args...)
	b.cmd.Env = append(os.Environ(), opts.Env...)
	ownProcessGroup(b.cmd)
	if err := b.pipes(); err != nil {
		b.removeTmp()
		return nil, err
	}
	if err := b.cmd.Start(); err != nil {
		b.removeTmp()
		return nil, fmt.Errorf("%w: starting %s: %w", ErrUnavailable, path, err)
	}
	go b.readStderr()
	go b.readStdout()
	go b.wait()
	go b.calls.run(b.stop)
	go b.events.run(b.stop)

	select {
	case <-b.ready:
		b.log.Debug("webkit: helper ready", "helper", path, "webkit", b.Version(), "allowedHost", opts.AllowedHost)
		return b, nil
	case <-b.done:
		select {
		case <-b.ready:
			// Ready, then gone: Done tells the caller.
			return b, nil
		default:
		}
		err = b.startError(path)
	case <-ctx.Done():
		err = fmt.Errorf("webkit: starting %s: %w%s", path, context.Cause(ctx), b.stderrTail())
	}
	b.kill()
	_ = b.Close()
	return nil, err
}

func helperArgs(opts Options, caFile string, debug bool) []string {
	title := opts.Title
	if title == "" {
		title = "Mobile Plans"
	}
	w, h := opts.Width, opts.Height
	if w == 0 || h == 0 {
		w, h = 800, 600
	}
	args := []string{"--allowed-host", opts.AllowedHost, "--title", title,
		"--width", strconv.Itoa(w), "--height", strconv.Itoa(h)}
	if caFile != "" {
		args = append(args, "--ca", caFile)
	}
	if debug {
		args = append(args, "--log-level", "debug")
	}
	return args
}

// findHelper resolves the helper executable or returns ErrUnavailable.
func findHelper(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return p, nil
	}
	name := HelperName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode()&0o111 != 0) {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s is neither next to this program nor on PATH (go build -tags webkit ./cmd/mobileplans-portal)",
			ErrUnavailable, name)
	}
	return p, nil
}

func (b *Browser) pipes() error {
	var err error
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		return fmt.Errorf("webkit: %w", err)
	}
	if b.stdout, err = b.cmd.StdoutPipe(); err != nil {
		return fmt.Errorf("webkit: %w", err)
	}
	if b.stderrR, err = b.cmd.StderrPipe(); err != nil {
		return fmt.Errorf("webkit: %w", err)
	}
	return nil
}

// startError explains an exit before ready.
func (b *Browser) startError(path string) error {
	b.mu.Lock()
	msg, exitErr := b.startErr, b.exitErr
	b.mu.Unlock()
	if msg == "" {
		msg = "exited before its window was ready"
	}
	var ee *exec.ExitError
	if errors.As(exitErr, &ee) && ee.ExitCode() == 2 {
		return fmt.Errorf("%w: %s: %s%s", ErrUnavailable, path, msg, b.stderrTail())
	}
	return fmt.Errorf("webkit: %s: %s (%v)%s", path, msg, exitErr, b.stderrTail())
}

// readStdout decodes the helper's lines until EOF.
func (b *Browser) readStdout() {
	defer close(b.eof)
	defer b.calls.end()
	defer b.events.end()
	sc := bufio.NewScanner(b.stdout)
	sc.Buffer(make([]byte, 64<<10), wire.MaxLine)
	for sc.Scan() {
		l, err := wire.ParseLine(sc.Bytes())
		if err != nil {
			b.log.Warn("webkit: bad line from the helper", "err", err)
			continue
		}
		b.handleLine(l)
	}
	if err := sc.Err(); err != nil {
		// A line beyond wire.MaxLine: the stream is out of step; end it.
		b.log.Error("webkit: reading the helper", "err", err)
		b.kill()
	}
}

func (b *Browser) handleLine(l wire.Line) {
	if l.ID > 0 {
		b.mu.Lock()
		ch := b.pending[l.ID]
		delete(b.pending, l.ID)
		b.mu.Unlock()
		if ch == nil {
			b.log.Debug("webkit: reply to no request", "id", l.ID)
			return
		}
		ch <- l
		return
	}
	switch l.Event {
	case wire.EvReady:
		b.mu.Lock()
		b.version = l.Version
		b.mu.Unlock()
		select {
		case <-b.ready:
		default:
			close(b.ready)
		}
	case wire.EvError:
		b.log.Warn("webkit: helper error", "err", l.Error)
		b.mu.Lock()
		if b.startErr == "" {
			b.startErr = l.Error
		}
		b.mu.Unlock()
	case wire.EvBridge:
		m := portal.Message{Raw: []byte(*l.Message), Origin: l.Origin}
		if !b.calls.push(m) {
			b.log.Warn("webkit: bridge message dropped, queue full", "message", m)
		}
	default:
		ev := Event{Kind: EventKind(l.Event), URL: l.URL, Host: l.Host, Error: l.Error, Flags: l.Flags,
			Origin: l.Origin, DocumentOrigin: l.DocumentOrigin, Reason: l.Reason}
		b.log.Debug("webkit: event", "kind", ev.Kind, "url", ev.URL, "err", ev.Error, "reason", ev.Reason)
		if !b.events.push(ev) {
			b.log.Warn("webkit: event dropped, queue full", "kind", ev.Kind)
		}
	}
}

// readStderr logs the helper's (and WebKit's) stderr at debug level and
// keeps its tail for error messages.
func (b *Browser) readStderr() {
	defer close(b.errEOF)
	sc := bufio.NewScanner(b.stderrR)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		_, _ = io.WriteString(b.stderr, sc.Text()+"\n")
		b.log.Debug("webkit: helper", "stderr", sc.Text())
	}
}

// stderrDrain bounds wait's wait for the end of the helper's stderr: the
// web process inherits it and may outlive the helper by a moment.
const stderrDrain = time.Second

// wait reaps the helper once its stdout has ended. Wait closes the pipes,
// so the stderr reader gets a moment to read what the helper wrote last
// (why it failed to start, often).
func (b *Browser) wait() {
	<-b.eof
	t := time.NewTimer(stderrDrain)
	select {
	case <-b.errEOF:
	case <-t.C:
	}
	t.Stop()
	err := b.cmd.Wait()
	b.mu.Lock()
	b.exitErr = err
	b.mu.Unlock()
	close(b.done)
}

// kill ends the helper and its process group, unless it was reaped
// already.
func (b *Browser) kill() {
	select {
	case <-b.done:
		return
	default:
	}
	b.mu.Lock()
	b.killed = true
	b.mu.Unlock()
	_ = b.cmd.Process.Kill()
	killProcessGroup(b.cmd)
}

func (b *Browser) newID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	return b.nextID
}

// Version is the WebKitGTK version the helper runs.
func (b *Browser) Version() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.version
}

// Calls delivers every bridge message in the order the page sent it, with
// the origin of the main frame's committed document as WebKit reported
// it. It is closed when the helper has exited and the messages were
// delivered, or by Close.
func (b *Browser) Calls() <-chan portal.Message { return b.calls.out }

// Events delivers the window's events (closed like Calls). Events nobody
// reads are dropped beyond a small queue.
func (b *Browser) Events() <-chan Event { return b.events.out }

// Done is closed when the helper has exited.
func (b *Browser) Done() <-chan struct{} { return b.done }

func (b *Browser) send(req wire.Request) error {
	data, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("webkit: %w", err)
	}
	data = append(data, '\n')
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if _, err := b.stdin.Write(data); err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return nil
}

// call sends req and waits for its reply, ctx or the helper's exit.
func (b *Browser) call(ctx context.Context, req wire.Request) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	ch := make(chan wire.Line, 1)
	req.ID = b.newID()
	b.mu.Lock()
	b.pending[req.ID] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.pending, req.ID)
		b.mu.Unlock()
	}()
	select {
	case <-b.done:
		return nil, ErrClosed
	default:
	}
	if err := b.send(req); err != nil {
		return nil, err
	}
	var l wire.Line
	select {
	case l = <-ch:
	case <-b.eof:
		select {
		case l = <-ch:
		default:
			return nil, ErrClosed
		}
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if !l.OK {
		return nil, &OpError{Op: req.Op, Code: l.Code, Message: l.Error}
	}
	return l.Result, nil
}

// Open navigates to url and waits until the page has loaded.
func (b *Browser) Open(ctx context.Context, url string) error {
	return b.OpenWithHeaders(ctx, url, nil)
}

// OpenWithHeaders navigates the main frame to url, sending headers with
// that navigation request (the app's launch headers, e.g.
// X-MP-LPAError-*), and waits until the page has loaded. A refused
// certificate is an error wrapping ErrCertificate; a failed load one with
// the network error.
func (b *Browser) OpenWithHeaders(ctx context.Context, url string, headers http.Header) error {
	if _, err := b.call(ctx, wire.Request{Op: wire.OpOpen, URL: url, Headers: headers}); err != nil {
		return fmt.Errorf("webkit: open %s: %w", url, err)
	}
	return nil
}

// Eval evaluates js in the page's main world and decodes its JSON result
// into out (nil: ignore the result). A thrown exception is an error, and
// so is a result WebKit cannot serialise (a DOM node); undefined is null.
func (b *Browser) Eval(ctx context.Context, js string, out any) error {
	raw, err := b.call(ctx, wire.Request{Op: wire.OpEval, JS: js})
	if err != nil {
		return fmt.Errorf("webkit: eval: %w", err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("webkit: eval result: %w", err)
	}
	return nil
}

// Back goes back in the web view's history, like the window's Back button;
// false when there was nothing to go back to. It does not wait for the
// page to load.
func (b *Browser) Back(ctx context.Context) (bool, error) {
	raw, err := b.call(ctx, wire.Request{Op: wire.OpBack})
	if err != nil {
		return false, fmt.Errorf("webkit: back: %w", err)
	}
	var went bool
	if err := json.Unmarshal(raw, &went); err != nil {
		return false, fmt.Errorf("webkit: back: %w", err)
	}
	return went, nil
}

// Guard turns the close guard on or off. While it is on, the window's
// close button does not close the window: the helper sends
// EventCloseRequested and the app decides (Close, or not).
func (b *Browser) Guard(ctx context.Context, on bool) error {
	if _, err := b.call(ctx, wire.Request{Op: wire.OpGuard, On: &on}); err != nil {
		return fmt.Errorf("webkit: guard: %w", err)
	}
	return nil
}

// Close closes the window and ends the helper: the close request, then
// EOF on its stdin, then, after Options.CloseTimeout, a kill of its
// process group. It waits for the process, closes Calls and Events and
// removes the temporary files. It is safe to call more than once.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		go func() {
			// A helper that does not read stdin blocks this write until the
			// kill below breaks the pipe.
			_ = b.send(wire.Request{ID: b.newID(), Op: wire.OpClose})
			_ = b.stdin.Close()
		}()
		t := time.NewTimer(b.closeTimeout)
		select {
		case <-b.done:
			t.Stop()
		case <-t.C:
			b.log.Warn("webkit: the helper did not exit; killing it", "timeout", b.closeTimeout)
			b.kill()
			<-b.done
		}
		close(b.stop)
		b.removeTmp()
		b.mu.Lock()
		exitErr, killed := b.exitErr, b.killed
		b.mu.Unlock()
		if exitErr != nil && !killed {
			b.closeErr = fmt.Errorf("webkit: helper: %w%s", exitErr, b.stderrTail())
		}
	})
	return b.closeErr
}

func (b *Browser) removeTmp() {
	if b.tmp != "" {
		if err := os.RemoveAll(b.tmp); err != nil {
			b.log.Warn("webkit: removing the temporary CA file", "err", err)
		}
	}
}

// stderrTailLines is how many of the helper's last stderr lines an error
// message quotes.
const stderrTailLines = 15

// stderrTail formats the last lines of the helper's stderr for an error
// message.
func (b *Browser) stderrTail() string {
	lines := b.stderr.Lines()
	if len(lines) == 0 {
		return ""
	}
	return "\nhelper stderr:\n" + strings.Join(lines, "\n")
}
