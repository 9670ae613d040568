package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/internal/launch"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/ui/portal"
	"github.com/mobileplans/mobileplans/ui/portal/chromium"
	"github.com/mobileplans/mobileplans/ui/portalhost"
)

// mockPortalHost is the portal's host name in `activate --mock`: the
// browser maps it to the stack's loopback port, so the portal is served
// like a real operator's (https, no port) and the callback host check is
// the production one.
const mockPortalHost = "portal.contoso.test"

type activateFlags struct {
	mock       bool
	mockDir    string
	discovery  string
	trustWeb   []string
	operator   string
	browser    string
	autopilot  string
	stateDir   string
	location   string
	market     string
	language   string
	waitDefer  bool
	regTimeout time.Duration
}

func newActivateCommand(o *options) *cobra.Command {
	var f activateFlags
	cmd := &cobra.Command{
		Use:   "activate",
		Short: "Buy a plan and activate it: operators for this country, the operator's portal, download, enable, connect",
		Long: `activate runs the Mobile Plans journey in the terminal: it reads the device (modem, eUICC,
profiles, network), lists the operators the discovery service offers for the country, shows the
operator's gateway, and opens the operator's portal in Chromium with the Mobile Plans bridge.
In a headless browser (the default without a display) the portal is shown here as text with
numbered controls: type a number to click, N=TEXT to fill a field, b to go back, r to redraw,
q to cancel. When the portal hands the plan back, the profile is downloaded (SGP.22), installed,
enabled and registered, and the results are reported into the portal page.

--mock runs it all on the bundled stack (discovery service, Contoso Cellular, SM-DP+, and the
simulated modem), in this process, with real TLS from generated CAs.`,
		Example: `  mobileplans activate --mock
  mobileplans activate --mock --autopilot scripts/contoso-autopilot.txt
  mobileplans --device /dev/ttyUSB2 activate --discovery https://mps.example.net --operator contoso`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runActivate(cmd.Context(), o, f, cmd.InOrStdin())
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.mock, "mock", false, "run on the bundled stack and its simulated modem")
	fl.StringVar(&f.mockDir, "mock-dir", "", "state directory of the bundled stack with --mock (default: a new temporary one)")
	fl.StringVar(&f.discovery, "discovery", "", "base URL of the Mobile Plans discovery service (not with --mock)")
	fl.StringArrayVar(&f.trustWeb, "trust-web-ca", nil, "PEM file of a CA to trust for the discovery service and the portal, besides the system roots (repeatable)")
	fl.StringVar(&f.operator, "operator", "", "operator id to choose without asking (e.g. contoso)")
	fl.StringVar(&f.browser, "browser", "auto", "where the portal runs: headless (shown here as text), window (a Chromium window), auto (window when a display exists and no --autopilot)")
	fl.StringVar(&f.autopilot, "autopilot", "", "walk the portal with this script of steps (click SEL, click-if SEL, fill SEL TEXT, wait SEL) instead of asking")
	fl.StringVar(&f.stateDir, "state-dir", "", "the agent's state directory (deferred downloads, failed downloads, settings); default <config dir>/mobileplans/agent, or a temporary one with --mock")
	fl.StringVar(&f.location, "location", "", "ISO 3166 country of the device's location for the portal (default: from the network)")
	fl.StringVar(&f.market, "market", "", "ISO 3166 country of the system's region for the portal (default: the location)")
	fl.StringVar(&f.language, "language", defaultLanguage(), "Accept-Language sent to the portal")
	fl.BoolVar(&f.waitDefer, "wait-deferred", true, "after a deferred download, wait until it is due and offer to install it")
	fl.DurationVar(&f.regTimeout, "registration-timeout", 0, "how long to wait for network registration after enabling (default 2m)")
	return cmd
}

// defaultLanguage is the user's language from the environment, as an
// Accept-Language value.
func defaultLanguage() string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(k)
		if v == "" || v == "C" || v == "POSIX" {
			continue
		}
		v, _, _ = strings.Cut(v, ".")
		v = strings.ReplaceAll(v, "_", "-")
		if v != "" && !strings.ContainsAny(v, "\r\n,;") {
			return v
		}
	}
	return "en-US"
}

// activation is one run of the terminal journey.
type activation struct {
	o        *options
	f        activateFlags
	w        io.Writer
	agent    *app.Agent
	browser  *chromium.Browser
	host     *portalhost.Host
	lines    <-chan string
	replies  chan app.Reply
	events   chan app.Event
	headless bool
	stateDir string
	closers  []func() error
}

func runActivate(ctx context.Context, o *options, f activateFlags, in io.Reader) (err error) {
	switch f.browser {
	case "auto", "headless", "window":
	default:
		return usageError("--browser %q: want auto, headless or window", f.browser)
	}
	if f.mock && f.discovery != "" {
		return usageError("--mock brings its own discovery service; --discovery is for a real one")
	}
	if !f.mock && f.discovery == "" {
		return usageError("give the discovery service (--discovery URL), or use --mock for the bundled stack")
	}
	var steps []portalhost.Step
	if f.autopilot != "" {
		var err error
		if steps, err = readAutopilot(f.autopilot); err != nil {
			return err
		}
	}
	a := &activation{o: o, f: f, w: o.out, replies: make(chan app.Reply, 16), events: make(chan app.Event, 64)}
	defer func() {
		for i := len(a.closers) - 1; i >= 0; i-- {
			if cerr := a.closers[i](); cerr != nil {
				o.log.Debug("activate: close", "err", cerr)
			}
		}
	}()
	cfg, pt, err := a.setup(ctx)
	if err != nil {
		return err
	}
	a.stateDir = cfg.StateDir
	agent, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	a.agent = agent
	a.closers = append(a.closers, agent.Close)
	go a.pumpEvents()

	if steps == nil {
		a.lines = readLines(in)
	}
	op, err := a.chooseOperator(ctx)
	if err != nil {
		return err
	}
	if err := a.showGateway(ctx, op); errors.Is(err, errStop) {
		return nil
	} else if err != nil {
		return err
	}
	if pt.callbackHost == "" {
		pt.callbackHost = op.CallbackHost
	}

	a.headless = f.browser == "headless" || f.browser == "auto" && (steps != nil || !hasDisplay())
	b, err := chromium.New(ctx, chromium.Options{AllowedHost: pt.callbackHost, RootCAs: pt.roots, HostMap: pt.hostMap,
		Window: !a.headless, Logger: o.log})
	if err != nil {
		if errors.Is(err, chromium.ErrUnavailable) {
			return fmt.Errorf("%w\nthe portal needs Chromium: on Debian, apt-get install -y chromium libnss3-tools", err)
		}
		return err
	}
	a.browser = b
	a.closers = append(a.closers, b.Close)
	a.host = portalhost.New(b, agent, portalhost.Options{Logger: o.log, OnReply: a.onReply})
	go func() { _ = a.host.Serve(ctx) }()
	fmt.Fprintf(a.w, "\nOpening the portal of %s (%s browser)…\n", op.Brand, map[bool]string{true: "headless", false: "window"}[a.headless])
	req, err := a.host.Launch(ctx, op.ID)
	if err != nil {
		return err
	}
	if codes := req.Headers.Get(app.HeaderLPAErrorCodes); codes != "" {
		fmt.Fprintf(a.w, "(telling the portal about the failed downloads: %s)\n", codes)
	}
	if steps != nil {
		return a.runAutopilot(ctx, steps)
	}
	if err := a.interact(ctx); !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// errStop ends the interaction without an error.
var errStop = errors.New("stop")

// portalTrust is how the browser reaches and trusts the portal.
type portalTrust struct {
	roots   []byte            // PEM CAs trusted besides the system's
	hostMap map[string]string // host names mapped to loopback addresses
	// callbackHost is the only host whose pages may call the bridge; ""
	// until the operator is chosen (its registered host).
	callbackHost string
}

// setup builds the agent's configuration: on the bundled stack with --mock,
// else with the modem of the global flags and the given discovery service.
func (a *activation) setup(ctx context.Context) (app.Config, portalTrust, error) {
	o, f := a.o, a.f
	cfg := app.Config{Logger: o.log, Location: strings.ToUpper(f.location), Market: strings.ToUpper(f.market),
		Language: f.language, NetworkRegistrationTimeout: f.regTimeout, StateDir: f.stateDir,
		LPA: lpa.Options{BlockSize: o.blockSize, Logger: o.log}}
	if f.mock {
		pt, err := a.setupMock(ctx, &cfg)
		return cfg, pt, err
	}
	pt, err := a.setupDevice(ctx, &cfg)
	return cfg, pt, err
}

// setupMock starts the bundled stack (internal/launch, as the desktop
// app does) and points cfg at it and its simulated modem; the portal is
// served as https://portal.contoso.test, mapped in Chromium.
func (a *activation) setupMock(ctx context.Context, cfg *app.Config) (portalTrust, error) {
	o := a.o
	if o.device != "" || o.simState != "" {
		return portalTrust{}, usageError("--mock brings its own simulated modem; leave out --device and --sim")
	}
	dir := a.f.mockDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "mobileplans-activate-"); err != nil {
			return portalTrust{}, err
		}
		a.closers = append(a.closers, func() error { return os.RemoveAll(dir) })
	}
	fmt.Fprintf(a.w, "Starting the bundled stack (state in %s)…\n", dir)
	se, mc, err := launch.Prepare(ctx, launch.Settings{Mock: true, MockDir: dir}, launch.Options{
		StateDir: cfg.StateDir, Logger: o.log, StackLogger: a.stackLog(), PortalHost: mockPortalHost,
		AT: at.Config{CommandTimeout: o.atTimeout, APDUTimeout: o.apduTimeout}, ES9Timeout: o.es9Timeout, BlockSize: o.blockSize})
	if err != nil {
		return portalTrust{}, err
	}
	a.closers = append(a.closers, se.Close)
	cfg.Modem, cfg.ES9, cfg.Discovery, cfg.StateDir = mc.Modem, mc.ES9, mc.Discovery, mc.StateDir
	return portalTrust{roots: se.Portal.RootCAs, hostMap: se.Portal.HostMap, callbackHost: se.Portal.CallbackHost}, nil
}

// setupDevice points cfg at the modem of the global flags and the
// discovery service of --discovery.
func (a *activation) setupDevice(ctx context.Context, cfg *app.Config) (portalTrust, error) {
	o := a.o
	s, err := o.openSession(ctx)
	if err != nil {
		return portalTrust{}, err
	}
	a.closers = append(a.closers, func() error { s.Close(); return nil })
	cfg.Modem = s.modem
	if cfg.ES9, err = o.es9Client(); err != nil {
		return portalTrust{}, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	var pt portalTrust
	for _, p := range a.f.trustWeb {
		pem, err := os.ReadFile(p)
		if err != nil {
			return portalTrust{}, fmt.Errorf("--trust-web-ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return portalTrust{}, usageError("--trust-web-ca %s: no PEM certificate in it", p)
		}
		pt.roots = append(pt.roots, pem...)
	}
	cfg.Discovery = discovery.NewClient(strings.TrimRight(a.f.discovery, "/"), webClient(pool))
	if cfg.StateDir == "" {
		if cfg.StateDir, err = defaultDataPath("agent"); err != nil {
			return portalTrust{}, err
		}
	}
	return pt, nil
}

// stackLog is the bundled services' logger: their warnings (an MO API
// refusing a test SIM, say) are noise in the terminal journey unless the
// user asked for logs below warn.
func (a *activation) stackLog() *slog.Logger {
	if a.o.logLevel == "warn" {
		return slog.New(slog.NewTextHandler(a.o.errOut, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	return a.o.log
}

func webClient(pool *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

func hasDisplay() bool { return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" }

// readLines delivers the lines of in until EOF (then closes the channel).
func readLines(in io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			ch <- strings.TrimSpace(sc.Text())
		}
	}()
	return ch
}

// ask prints a prompt and returns the next input line; io.EOF when input
// ended.
func (a *activation) ask(ctx context.Context, prompt string) (string, error) {
	if a.lines == nil {
		return "", io.EOF
	}
	fmt.Fprint(a.w, prompt)
	select {
	case l, ok := <-a.lines:
		if !ok {
			fmt.Fprintln(a.w)
			return "", io.EOF
		}
		return l, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// chooseOperator probes the device and lets the user pick an operator.
func (a *activation) chooseOperator(ctx context.Context) (app.Operator, error) {
	d, err := a.agent.Probe(ctx)
	if err != nil {
		return app.Operator{}, err
	}
	fmt.Fprintf(a.w, "\nDevice:   %s %s, IMEI %s\n", d.Manufacturer, d.Model, d.IMEI)
	fmt.Fprintf(a.w, "eUICC:    EID %s, %d profile(s)\n", d.EID, len(d.Profiles))
	for _, p := range d.Profiles {
		mark := " "
		if p.Enabled {
			mark = "*"
		}
		fmt.Fprintf(a.w, "  %s %s  %s\n", mark, p.ICCID, firstOf(p.Nickname, p.ProfileName, p.ServiceProviderName))
	}
	r := d.Registration
	fmt.Fprintf(a.w, "Network:  %s", r.State)
	if r.OperatorCode != "" {
		fmt.Fprintf(a.w, " (%s %s)", r.OperatorCode, r.OperatorName)
	}
	fmt.Fprintln(a.w)
	l, err := a.agent.Operators(ctx)
	if err != nil {
		return app.Operator{}, err
	}
	if len(l.Operators) == 0 {
		return app.Operator{}, fmt.Errorf("no operator offers plans in %s for this device", firstOf(l.Country, "this country"))
	}
	fmt.Fprintf(a.w, "\nOperators in %s:\n", firstOf(l.Country, "your country"))
	for i, op := range l.Operators {
		owned := ""
		if op.Owned {
			owned = " (you have a profile of it)"
		}
		fmt.Fprintf(a.w, "  %d) %s [%s]%s\n", i+1, op.Brand, op.ID, owned)
	}
	if a.f.operator != "" {
		for _, op := range l.Operators {
			if op.ID == a.f.operator {
				return op, nil
			}
		}
		return app.Operator{}, fmt.Errorf("operator %q is not offered here", a.f.operator)
	}
	if len(l.Operators) == 1 && a.lines == nil {
		return l.Operators[0], nil
	}
	for {
		ans, err := a.ask(ctx, fmt.Sprintf("Choose an operator [1-%d, default 1]: ", len(l.Operators)))
		if errors.Is(err, io.EOF) {
			if len(l.Operators) == 1 {
				return l.Operators[0], nil
			}
			return app.Operator{}, usageError("no input: choose the operator with --operator")
		}
		if err != nil {
			return app.Operator{}, err
		}
		if ans == "" {
			ans = "1"
		}
		n, err := strconv.Atoi(ans)
		if err == nil && n >= 1 && n <= len(l.Operators) {
			return l.Operators[n-1], nil
		}
		fmt.Fprintf(a.w, "%q is not one of 1-%d\n", ans, len(l.Operators))
	}
}

// showGateway prints the operator's gateway page and waits for Continue.
func (a *activation) showGateway(ctx context.Context, op app.Operator) error {
	g, err := a.agent.Gateway(ctx, op.ID)
	if err != nil {
		return err
	}
	body, button := "Get connected with a mobile data plan from "+op.Brand+".", "Continue"
	if t := g.Selection; t != nil && t.Template != nil {
		body, button = firstOf(t.Template.BodyText, body), firstOf(t.Template.ButtonText, button)
	}
	fmt.Fprintf(a.w, "\n┌ %s\n│ %s\n└ [%s]\n", op.Brand, body, button)
	if a.lines == nil {
		return nil
	}
	ans, err := a.ask(ctx, fmt.Sprintf("Press Enter to %s, q to stop: ", strings.ToLower(button)))
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if strings.EqualFold(ans, "q") {
		_ = a.agent.Cancel(ctx)
		fmt.Fprintln(a.w, "Cancelled.")
		return errStop
	}
	return nil
}

func (a *activation) onReply(_ portal.Message, r app.Reply, err error) {
	if err != nil && r.Action != app.ActionRejected {
		fmt.Fprintf(a.w, "\n! a bridge call was refused: %v\n", err)
		return
	}
	if r.Action == app.ActionScriptsSet {
		return
	}
	select {
	case a.replies <- r:
	default:
	}
}

// pumpEvents runs the agent's scripts in the page and prints the journey.
func (a *activation) pumpEvents() {
	bar := newProgressBar(a.w, a.o.json)
	for ev := range a.agent.Events() {
		switch e := ev.(type) {
		case app.PortalScript:
			if a.host != nil {
				if err := a.host.RunScript(context.Background(), e); err != nil {
					a.o.log.Info("activate: portal script not run", "kind", e.Kind, "err", err)
				}
			}
			continue
		case app.Progress:
			bar.update(string(e.Stage), e.Done, e.Total)
			continue
		}
		bar.finish()
		switch e := ev.(type) {
		case app.StateChanged:
			switch e.To {
			case app.StateDownload, app.StateInstall, app.StateEnable, app.StateRefresh, app.StateRegister, app.StateConnect:
				fmt.Fprintf(a.w, "→ %s\n", e.To)
			}
		case app.RegistrationAttempt:
			fmt.Fprintf(a.w, "  network: %s (attempt %d)", e.State, e.Attempt)
			if !e.Next.IsZero() && !e.State.Registered() {
				fmt.Fprintf(a.w, ", next try at %s", e.Next.Local().Format("15:04"))
			}
			fmt.Fprintln(a.w)
		case app.Notification:
			fmt.Fprintf(a.w, "\n🔔 %s\n   %s\n", e.Title, e.Body)
		case app.ErrorEvent:
			fmt.Fprintf(a.w, "! %s failed: %v\n", e.State, e.Err)
		}
		select {
		case a.events <- ev:
		default:
		}
	}
}

// interact walks the portal with the user until the journey ends.
func (a *activation) interact(ctx context.Context) error {
	if !a.headless {
		fmt.Fprintln(a.w, "Complete the purchase in the browser window; q here cancels.")
	} else {
		fmt.Fprintln(a.w, "Type a number to click, N=TEXT to fill a field, b back, r redraw, q cancel, ? help.")
	}
	draw := a.headless
	for {
		if draw {
			if err := a.render(ctx); err != nil {
				fmt.Fprintf(a.w, "! %v\n", err)
			}
			draw = false
		}
		fmt.Fprint(a.w, "> ")
		select {
		case <-ctx.Done():
			return a.cancel(ctx.Err())
		case r := <-a.replies:
			done, err := a.onHandBack(ctx, r)
			if done || err != nil {
				return err
			}
			draw = a.headless
		case l, ok := <-a.lines:
			if !ok {
				return a.cancel(errors.New("input ended before the purchase was completed"))
			}
			var err error
			draw, err = a.command(ctx, l)
			if err != nil {
				return err
			}
		}
	}
}

// command runs one line of input; it reports whether to redraw.
func (a *activation) command(ctx context.Context, l string) (bool, error) {
	switch {
	case l == "":
		return false, nil
	case l == "q":
		if err := a.cancel(nil); err != nil {
			return false, err
		}
		fmt.Fprintln(a.w, "\nCancelled. Nothing was installed.")
		return false, errStop
	case l == "r":
		return true, nil
	case l == "?":
		fmt.Fprintln(a.w, "N click control N · N=TEXT fill field N (or pick an option) · b back · r redraw · q cancel")
		return false, nil
	case !a.headless:
		fmt.Fprintln(a.w, "(the portal is in the browser window)")
		return false, nil
	case l == "b":
		if err := a.browser.Eval(ctx, `history.back()`, nil); err != nil {
			fmt.Fprintf(a.w, "! %v\n", err)
		}
		time.Sleep(300 * time.Millisecond)
		return true, nil
	}
	refStr, value, fill := strings.Cut(l, "=")
	ref, err := strconv.Atoi(strings.TrimSpace(refStr))
	if err != nil {
		fmt.Fprintf(a.w, "%q: type a control number (? for help)\n", l)
		return false, nil
	}
	var v *string
	if fill {
		v = &value
	}
	if err := portalhost.Act(ctx, a.browser, ref, v); err != nil {
		fmt.Fprintf(a.w, "! %v\n", err)
		return false, nil
	}
	return !fill, nil
}

func (a *activation) render(ctx context.Context) error {
	p, err := portalhost.Snapshot(ctx, a.browser)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.w)
	p.Render(a.w)
	return nil
}

// cancel cancels the journey (a download in progress is cancelled on the
// eUICC and on the SM-DP+) and returns cause.
func (a *activation) cancel(cause error) error {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := a.agent.Cancel(ctx); err != nil && !errors.Is(err, app.ErrNoJourney) {
		a.o.log.Debug("activate: cancel", "err", err)
	}
	return cause
}

// runAutopilot walks the portal with the script, then follows the
// hand-back.
func (a *activation) runAutopilot(ctx context.Context, steps []portalhost.Step) error {
	errc := make(chan error, 1)
	go func() {
		errc <- portalhost.Autopilot(ctx, a.browser, steps, func(s portalhost.Step) {
			a.o.log.Info("autopilot", "step", string(s.Op), "selector", s.Selector)
		})
	}()
	for {
		select {
		case <-ctx.Done():
			return a.cancel(ctx.Err())
		case err := <-errc:
			if err != nil {
				return a.cancel(err)
			}
			errc = nil
			fmt.Fprintln(a.w, "(autopilot finished; waiting for the portal to hand back)")
		case r := <-a.replies:
			done, err := a.onHandBack(ctx, r)
			if done || err != nil {
				return err
			}
		}
	}
}

// onHandBack follows what the portal handed back; it reports whether the
// journey is over.
func (a *activation) onHandBack(ctx context.Context, r app.Reply) (bool, error) {
	switch r.Action {
	case app.ActionRejected:
		fmt.Fprintf(a.w, "! the portal's call was invalid (%s); the portal was told\n", r.Result)
		return false, nil
	case app.ActionCancelled:
		fmt.Fprintln(a.w, "\nThe purchase was cancelled in the portal. Nothing was installed.")
		return true, nil
	case app.ActionBalanceAdded:
		fmt.Fprintln(a.w, "\nBalance added to your line.")
		return true, nil
	case app.ActionDeferredCancelled:
		fmt.Fprintln(a.w, "\nThe scheduled download was cancelled.")
		return true, nil
	case app.ActionDeferred:
		return a.deferred(ctx, r.Deferred)
	case app.ActionDownloadStarted, app.ActionSwitchStarted:
		return true, a.finish(ctx)
	}
	return false, nil
}

func (a *activation) deferred(ctx context.Context, d *app.DeferredDownload) (bool, error) {
	if d == nil {
		return true, nil
	}
	fmt.Fprintf(a.w, "\nThe profile will be ready at %s; the download is saved in %s.\n",
		d.Due.Local().Format("15:04"), a.stateDir)
	if !a.f.waitDefer || a.lines == nil {
		return true, nil
	}
	fmt.Fprintln(a.w, "Waiting for it (Ctrl-C leaves; it stays scheduled; q cancels the portal)…")
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case r := <-a.replies:
			if r.Action == app.ActionDeferredCancelled {
				fmt.Fprintln(a.w, "The scheduled download was cancelled in the portal.")
				return true, nil
			}
		case l, ok := <-a.lines:
			if !ok {
				return true, nil
			}
			if l == "q" {
				return true, nil
			}
		case ev := <-a.events:
			n, ok := ev.(app.Notification)
			if !ok || n.DeferredID != d.ID {
				continue
			}
			ans, err := a.ask(ctx, "Install it now? [Y/n] ")
			if err != nil && !errors.Is(err, io.EOF) {
				return true, err
			}
			if strings.EqualFold(ans, "n") {
				fmt.Fprintln(a.w, "It stays scheduled.")
				return true, nil
			}
			if err := a.agent.RunDeferred(ctx, d.ID); err != nil {
				return true, err
			}
			return true, a.finish(ctx)
		}
	}
}

// finish waits for the fulfilment and prints its outcome and the balance.
func (a *activation) finish(ctx context.Context) error {
	out, err := a.agent.Wait(ctx)
	if err != nil {
		return err
	}
	// Let the page show the results the agent sent it.
	time.Sleep(300 * time.Millisecond)
	if a.headless && !a.o.json {
		if err := a.render(ctx); err != nil {
			a.o.log.Debug("activate: final page", "err", err)
		}
	}
	if out.State != app.StateDone {
		return fmt.Errorf("the activation %s: %s (%s): %w", out.State, out.Result, out.Status, out.Err)
	}
	fmt.Fprintf(a.w, "\n✔ Profile %s is enabled; network: %s", out.ICCID, out.Registration)
	if out.Connected {
		fmt.Fprint(a.w, ", connected")
	}
	fmt.Fprintln(a.w)
	if bal, err := a.agent.Balance(ctx, out.ICCID); err == nil {
		fmt.Fprintf(a.w, "Balance (%s):", bal.Type)
		if bal.DataRemainingInMB != nil {
			fmt.Fprintf(a.w, " %.0f MB", *bal.DataRemainingInMB)
		}
		if bal.TimeRemainingSeconds != nil {
			fmt.Fprintf(a.w, ", %s left", (time.Duration(*bal.TimeRemainingSeconds) * time.Second).Round(time.Hour))
		}
		fmt.Fprintln(a.w)
	} else {
		a.o.log.Info("activate: balance", "err", err)
	}
	return nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// readAutopilot reads the autopilot script of --autopilot.
func readAutopilot(path string) ([]portalhost.Step, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("autopilot: %w", err)
	}
	defer fh.Close()
	return portalhost.ParseScript(fh)
}
