package chromium

import (
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
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mobileplans/mobileplans/ui/portal"
)

// BindingName is the CDP binding (Runtime.addBinding) the injected bridge
// uses as its transport: window.__mobileplansHost(messageString).
const BindingName = "__mobileplansHost"

// maxQueued bounds the messages waiting for a reader of Calls; beyond it a
// page flooding the binding loses messages (logged).
const maxQueued = 4096

// ErrUnavailable is wrapped by New's error when Chromium or certutil is not
// installed, so that tests can skip.
var ErrUnavailable = errors.New("chromium: Chromium is not available")

// Options configure New.
type Options struct {
	// AllowedHost is the callback host the bridge accepts calls from
	// ("host" or "host:port").
	AllowedHost string
	// RootCAs holds PEM CA certificates Chromium trusts in addition to its
	// own roots (imported into a fresh NSS database; see the package doc).
	RootCAs []byte
	// HostMap maps host names to "ip:port" addresses for Chromium's
	// resolver (--host-resolver-rules), so https://portal.contoso.test/ can
	// reach a test server on a loopback port.
	HostMap map[string]string
	// ExecPath is the browser executable; "" looks up chromium,
	// chromium-browser and google-chrome on PATH.
	ExecPath string
	// Width and Height of the viewport in CSS pixels; 0 means 800x600, the
	// portal's default frame (mobile-plans.md 3.1).
	Width, Height int
	// Window shows the browser in a window on the display instead of
	// running it headless.
	Window bool
	// NoBridge starts a plain browser: no bridge script and no binding are
	// installed, so pages see no Mobile Plans objects and Calls delivers
	// nothing. Tests use it to play the user's system browser.
	NoBridge bool
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Browser is one Chromium with one tab that has the Mobile Plans bridge
// injected into every document. Its methods are safe for concurrent use;
// they run one at a time (a navigation holds the tab until the page has
// loaded). Calls may be read from any goroutine.
type Browser struct {
	log       *slog.Logger
	dir       string
	tab       context.Context
	cancel    context.CancelFunc // the browser
	alloc     context.CancelFunc // the allocator (waits for the process)
	calls     chan portal.Message
	wake      chan struct{}
	done      chan struct{}
	pumped    chan struct{}
	output    *tailBuffer
	closeOnce sync.Once
	closeErr  error
	// op serialises the actions on the tab.
	op sync.Mutex

	mu       sync.Mutex
	origins  map[runtime.ExecutionContextID]string
	uniqueID map[string]runtime.ExecutionContextID
	queue    []portal.Message
}

// New starts headless Chromium with a fresh profile and HOME in a temporary
// directory, trusting opts.RootCAs, with the bridge for opts.AllowedHost
// injected into every new document and its CDP binding reporting to Calls.
// ctx bounds the start only; Close ends the browser.
func New(ctx context.Context, opts Options) (*Browser, error) {
	exe, err := findBrowser(opts.ExecPath)
	if err != nil {
		return nil, err
	}
	rules, err := resolverRules(opts.HostMap)
	if err != nil {
		return nil, err
	}
	if opts.Width == 0 || opts.Height == 0 {
		opts.Width, opts.Height = 800, 600
	}
	dir, err := os.MkdirTemp("", "mobileplans-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium: %w", err)
	}
	home, profile := filepath.Join(dir, "home"), filepath.Join(dir, "profile")
	if err := os.Mkdir(home, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("chromium: %w", err)
	}
	if len(opts.RootCAs) > 0 {
		if err := trustRoots(ctx, home, opts.RootCAs); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	b := &Browser{
		log:      opts.Logger,
		dir:      dir,
		calls:    make(chan portal.Message),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		pumped:   make(chan struct{}),
		output:   &tailBuffer{max: 8 << 10},
		origins:  make(map[runtime.ExecutionContextID]string),
		uniqueID: make(map[string]runtime.ExecutionContextID),
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	flags := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", !opts.Window),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(opts.Width, opts.Height),
		chromedp.Env("HOME=" + home),
		chromedp.CombinedOutput(b.output),
	}
	if rules != "" {
		flags = append(flags, chromedp.Flag("host-resolver-rules", rules))
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.WithoutCancel(ctx), flags...)
	tab, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(b.onEvent))
	b.tab, b.cancel, b.alloc = tab, cancel, allocCancel

	// The first Do starts the browser and ties it to tab; ctx may only
	// abort the start.
	stop := context.AfterFunc(ctx, cancel)
	bridge := portal.BridgeJS(portal.BridgeConfig{AllowedHost: opts.AllowedHost, Transport: BindingName})
	err = chromedp.Do(tab, chromedp.EmulateViewport(int64(opts.Width), int64(opts.Height)), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if opts.NoBridge {
			return nil
		}
		if _, err := cdp.Call(ctx, t, runtime.AddBinding, runtime.AddBindingParams{Name: BindingName}); err != nil {
			return fmt.Errorf("Runtime.addBinding: %w", err)
		}
		if _, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: bridge}); err != nil {
			return fmt.Errorf("Page.addScriptToEvaluateOnNewDocument: %w", err)
		}
		return nil
	}))
	stopped := stop()
	if err == nil && !stopped {
		err = context.Cause(ctx)
	}
	if err != nil {
		b.shutdown()
		return nil, fmt.Errorf("chromium: starting %s: %w%s", exe, err, b.output.tail())
	}
	go b.pump()
	b.log.Debug("chromium: chromium started", "exec", exe, "allowedHost", opts.AllowedHost)
	return b, nil
}

// findBrowser resolves the executable or returns ErrUnavailable.
func findBrowser(path string) (string, error) {
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if path != "" {
		names = []string{path}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: none of %s found (Debian: apt-get install -y chromium libnss3-tools)",
		ErrUnavailable, strings.Join(names, ", "))
}

// resolverRules builds --host-resolver-rules from hostMap, refusing values
// that would add rules of their own.
func resolverRules(hostMap map[string]string) (string, error) {
	hosts := make([]string, 0, len(hostMap))
	for h := range hostMap {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	var rules []string
	for _, h := range hosts {
		addr := hostMap[h]
		if h == "" || addr == "" || strings.ContainsAny(h+addr, ", \t\r\n") {
			return "", fmt.Errorf("chromium: bad host mapping %q -> %q", h, addr)
		}
		rules = append(rules, "MAP "+h+" "+addr)
	}
	return strings.Join(rules, ", "), nil
}

// onEvent runs in the tab's read loop (chromedp.WithListener): it must not
// block or run commands. It tracks each execution context's origin as the
// browser reports it, and queues binding calls with that origin.
func (b *Browser) onEvent(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExecutionContextCreated:
		if ev.Context != nil {
			b.origins[ev.Context.ID] = ev.Context.Origin
			b.uniqueID[ev.Context.UniqueID] = ev.Context.ID
		}
	case *runtime.EventExecutionContextDestroyed:
		if id, ok := b.uniqueID[ev.ExecutionContextUniqueID]; ok {
			delete(b.origins, id)
			delete(b.uniqueID, ev.ExecutionContextUniqueID)
		}
	case *runtime.EventExecutionContextsCleared:
		clear(b.origins)
		clear(b.uniqueID)
	case *runtime.EventBindingCalled:
		if ev.Name != BindingName {
			return
		}
		m := portal.Message{Raw: []byte(ev.Payload), Origin: b.origins[ev.ExecutionContextID]}
		if len(b.queue) >= maxQueued {
			b.log.Warn("chromium: bridge message dropped, queue full", "message", m)
			return
		}
		b.queue = append(b.queue, m)
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

// pump hands queued messages to Calls in order until Close.
func (b *Browser) pump() {
	defer close(b.pumped)
	defer close(b.calls)
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.mu.Unlock()
			select {
			case <-b.wake:
				continue
			case <-b.done:
				return
			}
		}
		m := b.queue[0]
		b.queue = b.queue[1:]
		b.mu.Unlock()
		select {
		case b.calls <- m:
		case <-b.done:
			return
		}
	}
}

// Calls delivers every bridge message in the order the page sent it, with
// the frame origin the browser reported. It is closed by Close.
func (b *Browser) Calls() <-chan portal.Message { return b.calls }

// run runs one action in the tab, bounded by ctx as well as by the browser.
func run[T any](ctx context.Context, b *Browser, a chromedp.Action[T]) (T, error) {
	b.op.Lock()
	defer b.op.Unlock()
	rctx, cancel := context.WithCancelCause(b.tab)
	defer cancel(nil)
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	defer stop()
	v, err := chromedp.Run(rctx, a)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	return v, err
}

// Open navigates the tab to url and waits for the page to load. A TLS
// failure (e.g. an untrusted certificate) is an error.
func (b *Browser) Open(ctx context.Context, url string) error {
	if _, err := run(ctx, b, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx, chromedp.Navigate(url))
	}); err != nil {
		return fmt.Errorf("chromium: open %s: %w", url, err)
	}
	return nil
}

// OpenWithHeaders navigates like Open and sends headers with the
// navigation request (the app's launch headers, e.g. X-MP-LPAError-*); they
// are cleared again once the page has loaded.
func (b *Browser) OpenWithHeaders(ctx context.Context, url string, headers http.Header) error {
	h := network.Headers{}
	for k, v := range headers {
		h[k] = strings.Join(v, ",")
	}
	if _, err := run(ctx, b, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		if _, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h}); err != nil {
			return chromedp.Void{}, err
		}
		navErr := chromedp.Do(ctx, chromedp.Navigate(url))
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{}})
		return chromedp.Void{}, errors.Join(navErr, err)
	}); err != nil {
		return fmt.Errorf("chromium: open %s: %w", url, err)
	}
	return nil
}

// Eval evaluates js in the page's main world and decodes its JSON result
// into out (nil: ignore the result). A thrown exception is an error.
func (b *Browser) Eval(ctx context.Context, js string, out any) error {
	raw, err := run(ctx, b, chromedp.Evaluate[[]byte](js))
	if err != nil {
		return fmt.Errorf("chromium: eval: %w", err)
	}
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		raw = []byte("null")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("chromium: eval result: %w", err)
	}
	return nil
}

// Click clicks the first element matching the CSS selector, waiting for it
// to be visible.
func (b *Browser) Click(ctx context.Context, selector string) error {
	if _, err := run(ctx, b, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector)))
	}); err != nil {
		return fmt.Errorf("chromium: click %s: %w", selector, err)
	}
	return nil
}

// Text returns the visible text of the first element matching the CSS
// selector.
func (b *Browser) Text(ctx context.Context, selector string) (string, error) {
	s, err := run(ctx, b, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		return "", fmt.Errorf("chromium: text of %s: %w", selector, err)
	}
	return s, nil
}

// Screenshot returns a PNG of the viewport.
func (b *Browser) Screenshot(ctx context.Context) ([]byte, error) {
	png, err := run(ctx, b, chromedp.CaptureScreenshot())
	if err != nil {
		return nil, fmt.Errorf("chromium: screenshot: %w", err)
	}
	return png, nil
}

// Close ends the browser, closes Calls and removes the temporary profile.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		b.shutdown()
		<-b.pumped
	})
	return b.closeErr
}

// shutdown stops the browser and removes its directory; before pump runs it
// leaves pumped to Close.
func (b *Browser) shutdown() {
	close(b.done)
	b.cancel()
	b.alloc()
	if err := os.RemoveAll(b.dir); err != nil {
		b.closeErr = fmt.Errorf("chromium: %w", err)
	}
}

// tailBuffer keeps the last max bytes written to it (the browser's output).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

var _ io.Writer = (*tailBuffer)(nil)

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

// tail formats the last lines of output for an error message.
func (t *tailBuffer) tail() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	if lines := strings.Split(s, "\n"); len(lines) > 15 {
		s = strings.Join(lines[len(lines)-15:], "\n")
	}
	return "\nchromium output:\n" + s
}
