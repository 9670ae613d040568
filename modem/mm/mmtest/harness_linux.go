//go:build linux

package mmtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/modem/mm"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
)

// Env is one running harness: a private bus, the polkit stand-in, the
// simulated modem on a pty and ModemManager managing it.
type Env struct {
	// Dir holds the bus socket, the fake sysfs tree and the logs.
	Dir string
	// Addr is the private bus's address (unix:path=...).
	Addr string
	// IMEI is the simulated modem's IMEI.
	IMEI string
	// SIM is the simulated modem; its fault switches act on what
	// ModemManager sees.
	SIM *sim.Modem
	// Card is the simulated eUICC the harness created (nil when
	// Options.Card was given).
	Card *euicc.Card
	// PTY is the modem's port as ModemManager names and opens it, "/dev/"
	// followed by the port name ModemManager reports: /dev/pts/N (PTS)
	// in the mount namespace, and /dev/../../..<Dir>/ttyMM0, a link to
	// PTS while ModemManager runs, in the fallback (NoNamespace).
	PTY string
	// PTS is the simulated modem's pseudo-terminal, /dev/pts/N.
	PTS string
	// NoNamespace reports that ModemManager runs without the private
	// mount namespace, with the port name trick: Options.NoNamespace or
	// MMTEST_NO_NAMESPACE asked for it, or the namespace cannot be made.
	NoNamespace bool
	// Polkit is the stand-in polkit authority.
	Polkit *Polkit

	t      testing.TB
	opts   Options
	ctl    *dbus.Conn
	ttyDir string
	events string
	link   string // the fallback's Dir/ttyMM0
	log    *simLog
	dial   *dialPTY
	// stopModem stops serving the simulated modem.
	stopModem func() error

	mu     sync.Mutex
	bus    *proc
	daemon *proc
	starts int
}

// proc is a child process in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(name string, cmd *exec.Cmd) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("mmtest: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop terminates the process group: SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) error {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("mmtest: %s ignored SIGTERM for %v and was killed", p.name, grace)
	}
	// Whatever the process left in its group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// New starts the harness and waits until ModemManager exports the
// simulated modem; everything is torn down when the test ends. It skips
// the test (or fails it, with MMTEST_REQUIRE=1) when the harness cannot
// run here: ModemManager or dbus-daemon not installed, or neither the
// mount namespace nor the fallback possible.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	if why := unavailable(); why != "" {
		skip(t, why)
	}
	opts = opts.withDefaults()
	e := &Env{t: t, opts: opts, log: newSimLog(opts.Modem.Log)}
	switch {
	case opts.NoNamespace:
		e.NoNamespace = true
		t.Logf("mmtest: without a mount namespace (Options.NoNamespace)")
	case noNamespaceEnv():
		e.NoNamespace = true
		t.Logf("mmtest: without a mount namespace (%s=%s)", noNamespaceVar, os.Getenv(noNamespaceVar))
	default:
		if why := namespaceUnavailable(); why != "" {
			e.NoNamespace = true
			t.Logf("mmtest: without a mount namespace: %s", why)
		}
	}
	if e.NoNamespace {
		if why := fallbackUnavailable(); why != "" {
			skip(t, why)
		}
	}
	if err := e.start(); err != nil {
		t.Fatal(err)
	}
	return e
}

// noNamespaceVar forces the fallback for every harness, as
// Options.NoNamespace does for one.
const noNamespaceVar = "MMTEST_NO_NAMESPACE"

func noNamespaceEnv() bool {
	v := os.Getenv(noNamespaceVar)
	return v != "" && v != "0"
}

// unavailable says why the harness cannot run in either mode, or "".
func unavailable() string {
	for _, bin := range []string{"ModemManager", "dbus-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Sprintf("%s not found (install the Debian packages: apt-get install -y %s)", bin, AptPackages)
		}
	}
	return ""
}

// fallbackUnavailable says why the fallback cannot run, or "": the name
// trick climbs out of /sys/class/tty and /dev, which must exist.
func fallbackUnavailable() string {
	for _, dir := range []string{"/sys/class/tty", "/dev"} {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Sprintf("no mount namespace (%s), and the fallback needs the directory %s", namespaceUnavailable(), dir)
		}
	}
	return ""
}

var (
	nsOnce sync.Once
	nsWhy  string
)

// namespaceUnavailable says, once per process, why ModemManager cannot
// run in a private mount namespace here, or "". It needs root (the
// namespace and the tmpfs need CAP_SYS_ADMIN) and sh, mount, mkdir and
// ln, and it tries: a throwaway child unshares its mount namespace and
// runs nsScript as StartDaemon does, with true instead of ModemManager.
// That fails, deterministically, where a container lacks CAP_SYS_ADMIN
// or seccomp forbids unshare or mount.
func namespaceUnavailable() string {
	nsOnce.Do(func() { nsWhy = probeNamespace() })
	return nsWhy
}

func probeNamespace() string {
	if os.Geteuid() != 0 {
		return "not root (the mount namespace needs CAP_SYS_ADMIN)"
	}
	for _, bin := range []string{"sh", "mount", "mkdir", "ln"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " not found (the mount namespace is set up with sh, mount, mkdir and ln)"
		}
	}
	cmd := exec.Command("sh", "-c", nsScript, "mmtest-ns", "/nonexistent", "0", "true")
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg != "" {
			msg = ": " + msg
		}
		return fmt.Sprintf("cannot make a private mount namespace with a tmpfs on /sys/class/tty (%v%s)", err, msg)
	}
	return ""
}

// skip skips t, or fails it when MMTEST_REQUIRE is set (CI installs the
// daemon, so there a missing daemon is a failure).
func skip(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("MMTEST_REQUIRE") != "" {
		t.Fatalf("mmtest: %s (MMTEST_REQUIRE is set)", why)
	}
	t.Skipf("mmtest: %s", why)
}

func (e *Env) start() (err error) {
	t := e.t
	// The bus socket path must stay short (sun_path), so not t.TempDir().
	dir, err := os.MkdirTemp("", "mmtest-")
	if err != nil {
		return err
	}
	e.Dir = dir
	if e.NoNamespace {
		// The port name is built from the directory's absolute path.
		if e.Dir, err = filepath.Abs(dir); err != nil {
			_ = os.RemoveAll(dir)
			return err
		}
	}
	t.Cleanup(e.teardown)
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, e.diagnostics())
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), e.opts.StartTimeout)
	defer cancel()

	if err := e.startBus(ctx); err != nil {
		return err
	}
	if e.Polkit, err = startPolkit(e.Addr, !e.opts.DenyPolkit); err != nil {
		return err
	}
	if err := e.startModem(); err != nil {
		return err
	}
	if e.ctl, err = dbus.Connect(e.Addr); err != nil {
		return fmt.Errorf("mmtest: connect to the private bus: %w", err)
	}
	if err := e.StartDaemon(ctx); err != nil {
		return err
	}
	if _, err := e.WaitModem(ctx); err != nil {
		return err
	}
	return nil
}

// startBus runs a private dbus-daemon.
func (e *Env) startBus(ctx context.Context) error {
	sock := filepath.Join(e.Dir, "bus.sock")
	conf := filepath.Join(e.Dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig(sock)), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	cmd.Env = cleanEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := os.Create(filepath.Join(e.Dir, "bus.stderr"))
	if err != nil {
		return err
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	p, err := startProc("dbus-daemon", cmd)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.bus = p
	e.mu.Unlock()
	// The daemon prints its address once it listens.
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-line:
		if a == "" {
			return fmt.Errorf("mmtest: dbus-daemon printed no address")
		}
		e.Addr = a
	case <-p.done:
		return fmt.Errorf("mmtest: dbus-daemon exited: %v", p.err)
	case <-ctx.Done():
		return fmt.Errorf("mmtest: dbus-daemon did not start: %w", ctx.Err())
	}
	return nil
}

// busConfig is a session-type bus on sock that lets anybody own any name.
func busConfig(sock string) string {
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=` + sock + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
}

// cleanEnv is the environment without any bus addresses of the host.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DBUS_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// startModem serves the simulated modem on a pty and builds the fake sysfs
// tree and the initial kernel event for it.
func (e *Env) startModem() error {
	card := e.opts.Card
	if card == nil {
		c, err := euicc.Open(filepath.Join(e.Dir, "euicc.json"), euicc.Options{Seed: true, Logger: e.opts.Logger})
		if err != nil {
			return fmt.Errorf("mmtest: simulated eUICC: %w", err)
		}
		e.Card = c
		card = simcard.New(c)
	}
	mo := e.opts.Modem
	mo.Log = e.log
	if mo.Logger == nil {
		mo.Logger = e.opts.Logger
	}
	if mo.IMEI == "" {
		mo.IMEI = sim.DefaultIMEI
	}
	e.IMEI = mo.IMEI
	e.SIM = sim.New(card, mo)
	ctx, cancel := context.WithCancel(context.Background())
	d, err := serveDialPTY(ctx, e.SIM, e.NoNamespace)
	if err != nil {
		cancel()
		return err
	}
	e.dial, e.PTS, e.PTY = d, d.path, d.path
	e.stopModem = func() error {
		cancel()
		return d.wait()
	}
	manufacturer, model := mo.Manufacturer, mo.Model
	if manufacturer == "" {
		manufacturer = sim.DefaultManufacturer
	}
	if model == "" {
		model = sim.DefaultModel
	}
	if e.ttyDir, err = makeFakeSysfs(filepath.Join(e.Dir, "fakesys"), manufacturer, model); err != nil {
		return err
	}
	name := strings.TrimPrefix(e.PTS, "/dev/")
	if e.NoNamespace {
		e.link = filepath.Join(e.Dir, "ttyMM0")
		if strings.ContainsAny(e.link, ",'\" \t\n") {
			return fmt.Errorf("mmtest: %s cannot be part of a kernel event's port name (set TMPDIR)", e.link)
		}
		name = "../../.." + e.link
		e.PTY = "/dev/" + name
	}
	e.events = filepath.Join(e.Dir, "initial-events")
	ev := fmt.Sprintf("action=add,subsystem=tty,name=%s\n", name)
	return os.WriteFile(e.events, []byte(ev), 0o644)
}

// The port's kernel name, in the initial kernel event, is what
// ModemManager resolves as /sys/class/tty/<name> while it handles the
// event and opens as /dev/<name> when it probes the port, at least 1.5 s
// later.
//
// In the mount namespace it is "pts/N": /dev/pts/N is the pty, and
// /sys/class/tty/pts/N is a link to the fake sysfs tree on the
// namespace's tmpfs.
//
// In the fallback it is "../../..<Dir>/ttyMM0", which names the file
// <Dir>/ttyMM0 under both prefixes (.. stops at /). That file is a
// symbolic link to the fake sysfs tty directory until ModemManager has
// handled the event, and to the pty from then on (pointLink).

// nsScript runs in ModemManager's private mount namespace before it
// becomes ModemManager: $1 is the fake tty directory, $2 the pty number.
const nsScript = `mount -t tmpfs mmtest /sys/class/tty && mkdir /sys/class/tty/pts && ` +
	`ln -s "$1" "/sys/class/tty/pts/$2" && shift 2 && exec "$@"`

// StartDaemon starts ModemManager and waits until it owns its bus name
// (and, in the fallback, until it has taken the port).
//
// ModemManager runs with --test-session (session bus, no system
// services), --test-no-udev (sysfs is read directly) and
// --no-auto-scan --initial-kernel-events: the pty is announced in the
// events file, which ModemManager reads at start, so no D-Bus call is
// involved. DBUS_SYSTEM_BUS_ADDRESS points at the private bus too, so its
// polkit client finds the stand-in.
//
// In the mount namespace mode it runs in a private mount namespace
// (CLONE_NEWNS, mounts private) where /sys/class/tty is a tmpfs holding
// only pts/N -> the fake USB tty directory: ModemManager resolves the
// sysfs path and opens /dev/pts/N under the same name, no timing is
// involved, and the host's /sys is untouched.
//
// In the fallback Dir/ttyMM0 is pointed at the fake USB tty directory
// before ModemManager starts, and at the pty as soon as ModemManager's log
// says it processed the initial kernel event, well before it opens the
// port (at least 1.5 s later). A restart goes through the same steps. If
// the log shows ModemManager opening the port before the link was
// switched (the harness was held up for that long), ModemManager is
// started again, up to three times in all.
func (e *Env) StartDaemon(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		late, err := e.startDaemon(ctx)
		if err != nil || !late {
			return err
		}
		if attempt == 3 {
			return fmt.Errorf("mmtest: ModemManager opened the port before it was linked to the pty, %d times\n%s", attempt, e.diagnostics())
		}
		e.t.Logf("mmtest: ModemManager opened the port before it was linked to the pty; starting it again")
		if err := e.StopDaemon(); err != nil {
			return err
		}
	}
}

// startDaemon is one StartDaemon attempt; late reports that in the
// fallback the link was switched too late.
func (e *Env) startDaemon(ctx context.Context) (late bool, err error) {
	e.mu.Lock()
	if e.daemon != nil && !e.daemon.exited() {
		e.mu.Unlock()
		return false, errors.New("mmtest: ModemManager is already running")
	}
	e.starts++
	logFile := filepath.Join(e.Dir, fmt.Sprintf("mm.%d.log", e.starts))
	e.mu.Unlock()

	args := []string{"--test-session", "--test-no-udev", "--no-auto-scan", "--initial-kernel-events=" + e.events,
		"--log-level=DEBUG", "--log-file=" + logFile}
	if !e.opts.NoDebug {
		args = append(args, "--debug")
	}
	var cmd *exec.Cmd
	if e.NoNamespace {
		if err := pointLink(e.link, e.ttyDir); err != nil {
			return false, err
		}
		cmd = exec.Command("ModemManager", args...)
	} else {
		num := strings.TrimPrefix(e.PTS, "/dev/pts/")
		cmd = exec.Command("sh", append([]string{"-c", nsScript, "mmtest-ns", e.ttyDir, num, "ModemManager"}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	}
	cmd.Env = append(cleanEnv(), "DBUS_SESSION_BUS_ADDRESS="+e.Addr, "DBUS_SYSTEM_BUS_ADDRESS="+e.Addr)
	out, err := os.Create(filepath.Join(e.Dir, fmt.Sprintf("mm.%d.out", e.starts)))
	if err != nil {
		return false, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	p, err := startProc("ModemManager", cmd)
	if err != nil {
		return false, err
	}
	e.mu.Lock()
	e.daemon = p
	e.mu.Unlock()
	if e.NoNamespace {
		// ModemManager handles the initial events once it owns its name,
		// so this comes first: the swap is due as soon as possible.
		if err := waitKernelEvent(ctx, logFile, p); err != nil {
			return false, fmt.Errorf("mmtest: ModemManager did not take the port: %w\n%s", err, e.diagnostics())
		}
		if err := pointLink(e.link, e.PTS); err != nil {
			return false, err
		}
		if b, _ := os.ReadFile(logFile); strings.Contains(string(b), portOpening) {
			return true, nil
		}
	}
	if err := waitName(ctx, e.ctl, mm.BusName, p); err != nil {
		return false, fmt.Errorf("mmtest: ModemManager did not come up: %w\n%s", err, e.diagnostics())
	}
	return false, nil
}

// pointLink makes link a symbolic link to target, atomically (a new link
// renamed over the old one), so that ModemManager never finds it missing.
func pointLink(link, target string) error {
	tmp := link + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mmtest: %w", err)
	}
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("mmtest: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("mmtest: %w", err)
	}
	return nil
}

// ModemManager 1.20's log lines for the initial kernel events
// (mm-base-manager.c, process_initial_kernel_events), written once it has
// handled them, so after it resolved the port's sysfs path.
const (
	eventProcessed = "processed initial kernel event"
	eventFailed    = "as initial kernel event" // couldn't parse/process line '...' as initial kernel event
	eventsFailed   = "couldn't load initial kernel events"
	// mm-port-serial.c logs this just before it opens the port.
	portOpening = "opening serial port"
)

// waitKernelEvent follows ModemManager's log until it reports the initial
// kernel event handled (or failed), or until p exits.
func waitKernelEvent(ctx context.Context, logFile string, p *proc) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		b, _ := os.ReadFile(logFile)
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.Contains(line, eventProcessed):
				return nil
			case strings.Contains(line, eventFailed), strings.Contains(line, eventsFailed):
				return errors.New(strings.TrimSpace(line))
			}
		}
		select {
		case <-tick.C:
		case <-p.done:
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		case <-ctx.Done():
			return fmt.Errorf("no %q in %s: %w", eventProcessed, logFile, ctx.Err())
		}
	}
}

// waitName waits until name has an owner on the bus, following
// NameOwnerChanged, or until p exits.
func waitName(ctx context.Context, conn *dbus.Conn, name string, p *proc) error {
	rule := []dbus.MatchOption{dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, name)}
	if err := conn.AddMatchSignalContext(ctx, rule...); err != nil {
		return err
	}
	defer func() { _ = conn.RemoveMatchSignal(rule...) }()
	sig := make(chan *dbus.Signal, 8)
	conn.Signal(sig)
	defer conn.RemoveSignal(sig)
	for {
		var has bool
		if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err != nil {
			return err
		}
		if has {
			return nil
		}
		select {
		case <-sig:
		case <-p.done:
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// StopDaemon stops ModemManager (SIGTERM, SIGKILL after 10 s) and waits
// until it is gone.
func (e *Env) StopDaemon() error {
	e.mu.Lock()
	p := e.daemon
	e.mu.Unlock()
	if p == nil || p.exited() {
		return nil
	}
	return p.stop(10 * time.Second)
}

// WaitModem waits until ModemManager exports the simulated modem.
func (e *Env) WaitModem(ctx context.Context) (mm.ModemInfo, error) {
	info, err := mm.WaitModem(ctx, e.ctl, e.IMEI)
	if err != nil {
		return info, fmt.Errorf("mmtest: ModemManager did not export the simulated modem: %w\n%s", err, e.diagnostics())
	}
	return info, nil
}

// Conn opens a new connection to the private bus, closed when the test
// ends.
func (e *Env) Conn(t testing.TB) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(e.Addr)
	if err != nil {
		t.Fatalf("mmtest: connect to the private bus: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// DaemonLog returns the log of ModemManager's latest run.
func (e *Env) DaemonLog() string {
	e.mu.Lock()
	n := e.starts
	e.mu.Unlock()
	b, _ := os.ReadFile(filepath.Join(e.Dir, fmt.Sprintf("mm.%d.log", n)))
	return string(b)
}

// CommandCount is the number of AT command lines the simulated modem has
// received; pass it to WaitCommand to wait for a later command.
func (e *Env) CommandCount() int { return len(e.SIM.Commands()) }

// WaitCommand waits until the simulated modem receives, as command number
// after or later, a command line starting with prefix.
func (e *Env) WaitCommand(ctx context.Context, prefix string, after int) error {
	for {
		wake := e.log.wait()
		cmds := e.SIM.Commands()
		for _, c := range cmds[min(after, len(cmds)):] {
			if strings.HasPrefix(c, prefix) {
				return nil
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("mmtest: no %s command reached the modem: %w", prefix, ctx.Err())
		}
	}
}

// PortInput counts what the modem's port has received from ModemManager
// or the AT-port client so far: the reads that returned data and the bytes
// they returned. A writer that sends each command at once arrives in about
// one read per command; ModemManager paces its writes on a tty port (one
// byte per write, send-delay apart), which shows as one read per byte.
func (e *Env) PortInput() (reads, bytes int) { return e.dial.input() }

// Dials returns the packet data dial commands (ATD*99...) the harness
// answered with CONNECT on the simulated modem's behalf.
func (e *Env) Dials() []string { return e.dial.Dials() }

// diagnostics is the tail of the logs, for failure messages.
func (e *Env) diagnostics() string {
	var b strings.Builder
	if l := e.DaemonLog(); l != "" {
		b.WriteString("--- ModemManager log (tail) ---\n")
		b.WriteString(tail(l, 60))
	}
	if l := e.log.String(); l != "" {
		b.WriteString("--- simulated modem (tail) ---\n")
		b.WriteString(tail(l, 40))
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// teardown stops everything in reverse order (ModemManager before the
// modem it holds open) and removes Dir.
func (e *Env) teardown() {
	if e.t.Failed() {
		e.t.Log(e.diagnostics())
	}
	if err := e.StopDaemon(); err != nil {
		e.t.Errorf("%v", err)
	}
	if e.stopModem != nil {
		if err := e.stopModem(); err != nil {
			e.t.Errorf("mmtest: simulated modem: %v", err)
		}
	}
	if e.ctl != nil {
		e.ctl.Close()
	}
	if e.Polkit != nil {
		_ = e.Polkit.close()
	}
	e.mu.Lock()
	bus := e.bus
	e.mu.Unlock()
	if bus != nil {
		if err := bus.stop(5 * time.Second); err != nil {
			e.t.Errorf("%v", err)
		}
	}
	if err := os.RemoveAll(e.Dir); err != nil {
		e.t.Errorf("mmtest: remove %s: %v", e.Dir, err)
	}
}

// simLog keeps the simulated modem's trace, forwards it to the test's
// writer and wakes WaitCommand.
type simLog struct {
	next io.Writer
	mu   sync.Mutex
	buf  strings.Builder
	wake chan struct{}
}

func newSimLog(next io.Writer) *simLog {
	return &simLog{next: next, wake: make(chan struct{})}
}

func (l *simLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.buf.Len() < 4<<20 {
		l.buf.Write(p)
	}
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
	if l.next != nil {
		return l.next.Write(p)
	}
	return len(p), nil
}

func (l *simLog) wait() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wake
}

func (l *simLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
