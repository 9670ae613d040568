package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/internal/xvfb"
)

// desktopBin is the desktop app (cgo, GLFW).
var desktopBin goBinary

// buildDesktop builds the desktop app, with the race detector when this
// test binary has it (see raceBuild).
func buildDesktop(t testing.TB) string {
	t.Helper()
	flags := []string{"-tags", "migrated_fynedo"}
	if raceBuild {
		flags = append(flags, "-race")
	}
	return desktopBin.build(t, "mobileplans", ".", flags...)
}

func requireDesktop() bool {
	return os.Getenv("MMTEST_REQUIRE") != "" || os.Getenv("DESKTOP_REQUIRE") != ""
}

// desktopRun is the real app running on an Xvfb display.
type desktopRun struct {
	t       testing.TB
	display string
	cmd     *exec.Cmd
	started time.Time
	// screens receives the screens the app logs as shown, with the time
	// the line was read.
	screens chan shownScreen
	// visible is when the main window was first visible.
	visible time.Duration
	win     string
	out     *strings.Builder
	// logDone is closed when the app's log (stderr) ended.
	logDone chan struct{}
	mu      sync.Mutex
}

type shownScreen struct {
	name string
	at   time.Time
}

// desktopOptions adjust a run of the app.
type desktopOptions struct {
	// mockDir holds the bundled stack's state ("" = a new directory).
	mockDir string
	// portal is MOBILEPLANS_PORTAL ("" = chromium).
	portal string
	// args are more arguments of `ui`.
	args []string
}

// startDesktop runs `mobileplans ui --mock` on display and waits for the
// main window.
func startDesktop(t testing.TB, display string, o desktopOptions) *desktopRun {
	t.Helper()
	bin := buildDesktop(t)
	home := t.TempDir()
	if o.mockDir == "" {
		o.mockDir = filepath.Join(home, "mock")
	}
	if o.portal == "" {
		o.portal = "chromium"
	}
	cmd := exec.Command(bin, append([]string{"--log-level", "info", "ui", "--mock", "--mock-dir", o.mockDir}, o.args...)...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"), "XDG_RUNTIME_DIR="+t.TempDir(), "LANG=en_US.UTF-8",
		"MOBILEPLANS_PORTAL="+o.portal, "GDK_BACKEND=x11", "WAYLAND_DISPLAY=", "NO_AT_BRIDGE=1", "GSETTINGS_BACKEND=memory")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &desktopRun{t: t, display: display, cmd: cmd, screens: make(chan shownScreen, 256), out: &strings.Builder{},
		logDone: make(chan struct{})}
	r.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	go r.readLog(stderr)
	// Poll for the mapped window every 10 ms (xdotool's own --sync polls
	// at 0.5 s, too coarse to time a start).
	deadline := time.Now().Add(60 * time.Second)
	var out []byte
	for {
		search := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Mobile Plans$")
		search.Env = append(os.Environ(), "DISPLAY="+display)
		var err error
		if out, err = search.Output(); err == nil && len(strings.Fields(string(out))) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the main window did not appear: %v\n%s", err, r.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.visible = time.Since(r.started)
	r.win = strings.Fields(string(out))[0]
	return r
}

func (r *desktopRun) readLog(rd io.Reader) {
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		line := sc.Text()
		r.mu.Lock()
		r.out.WriteString(line + "\n")
		r.mu.Unlock()
		if strings.Contains(line, `msg="screen shown"`) {
			if _, name, ok := strings.Cut(line, "name="); ok {
				select { // never blocks the reading of the log
				case r.screens <- shownScreen{strings.Fields(name)[0], time.Now()}:
				default:
				}
			}
		}
	}
	close(r.screens)
	close(r.logDone)
}

func (r *desktopRun) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// waitScreen waits until the app logs that it shows screen name, and
// returns when it logged it.
func (r *desktopRun) waitScreen(name string) time.Time {
	r.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case s, ok := <-r.screens:
			if !ok {
				r.t.Fatalf("the app ended before screen %s:\n%s", name, r.log())
			}
			if s.name == name {
				return s.at
			}
		case <-timeout:
			r.t.Fatalf("screen %s not shown:\n%s", name, r.log())
		}
	}
}

// key sends keys to the main window (xdotool syntax: "ctrl+2", "Tab").
func (r *desktopRun) key(keys ...string) {
	r.t.Helper()
	args := append([]string{"key", "--window", r.win, "--delay", "60"}, keys...)
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+r.display)
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("xdotool %v: %v\n%s", keys, err, out)
	}
}

// shot saves the main window as dir/name.png after the frame settled.
func (r *desktopRun) shot(dir, name string) string {
	r.t.Helper()
	// The window repaints on its next frame after a change; GLFW runs at
	// the display's rate, so two frames at 60 Hz are well within this.
	time.Sleep(300 * time.Millisecond)
	p := filepath.Join(dir, name+".png")
	cmd := exec.Command("import", "-display", r.display, "-window", r.win, p)
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("import: %v\n%s", err, out)
	}
	return p
}

// rssKB is the app's resident set size.
func (r *desktopRun) rssKB() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	if err != nil {
		r.t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	r.t.Fatal("no VmRSS")
	return 0
}

func (r *desktopRun) stop() {
	if r.cmd.Process == nil || r.cmd.ProcessState != nil {
		return
	}
	// The log is read to its end before Wait closes the pipe: the race
	// detector's report comes last, at exit.
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-r.logDone:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.logDone
	}
	_ = r.cmd.Wait()
	if l := r.log(); strings.Contains(l, "WARNING: DATA RACE") {
		r.t.Errorf("the race detector reported a data race in the app:\n%s", l)
	}
}

func needDesktopTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			if requireDesktop() {
				t.Fatalf("%s not installed (make deps)", tool)
			}
			t.Skipf("%s not installed (make deps)", tool)
		}
	}
}

// TestDesktopScreenshots runs the real app (GLFW, OpenGL through Mesa)
// under Xvfb on the bundled stack and saves a PNG of each main screen in
// the test's output directory (DESKTOP_SCREENSHOTS overrides it; the
// README's come from there). It drives the app with real key presses:
// Tab and Space through the plan flow, Ctrl+1…5 between the tabs.
func TestDesktopScreenshots(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the desktop app")
	}
	needDesktopTools(t)
	display := xvfb.Start(t, "1280x800x24", requireDesktop())
	dir := os.Getenv("DESKTOP_SCREENSHOTS")
	if dir == "" {
		dir = t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A plan bought first, in the terminal journey on the same stack
	// state, so the screens show a device with a purchase behind it.
	mock := filepath.Join(t.TempDir(), "mock")
	buy := exec.Command(buildDesktop(t), "activate", "--mock", "--mock-dir", mock, "--operator", "contoso",
		"--autopilot", filepath.Join("..", "scripts", "contoso-autopilot.txt"))
	buy.Env = append(os.Environ(), "DISPLAY=")
	if out, err := buy.CombinedOutput(); err != nil {
		t.Fatalf("activate: %v\n%s", err, out)
	}
	r := startDesktop(t, display, desktopOptions{mockDir: mock})
	r.waitScreen("device")
	shots := []string{r.shot(dir, "device")}
	r.key("Tab", "space") // "See plans from operators" has the first focus
	r.waitScreen("operators")
	shots = append(shots, r.shot(dir, "operators"))
	r.key("Tab", "space") // the first operator's Choose
	r.waitScreen("gateway")
	shots = append(shots, r.shot(dir, "gateway"))
	for i, name := range []string{"profiles", "balance", "settings", "diagnostics"} {
		r.key(fmt.Sprintf("ctrl+%d", i+2))
		shots = append(shots, r.shot(dir, name))
	}
	r.key("ctrl+1", "Escape")
	r.waitScreen("operators")
	for _, p := range shots {
		st, err := os.Stat(p)
		if err != nil || st.Size() < 5000 {
			t.Fatalf("screenshot %s: %v (%d bytes)", p, err, st.Size())
		}
	}
	t.Logf("screenshots in %s; main window visible after %v, RSS %d MB", dir, r.visible.Round(time.Millisecond), r.rssKB()/1024)
}

// BenchmarkDesktopColdStart measures the real app's cold start under
// Xvfb: process start to the main window visible (window-ms), to the
// device screen with the modem and eUICC read (device-ms), and the
// resident memory once idle on that screen (idle-rss-MB). The app runs
// the bundled stack (discovery, operator, SM-DP+, simulated modem) in the
// same process, so the RSS includes them.
func BenchmarkDesktopColdStart(b *testing.B) {
	needDesktopTools(b)
	display := xvfb.Start(b, "1280x800x24", false)
	buildDesktop(b)
	var win, dev time.Duration
	var rss int
	for b.Loop() {
		r := startDesktop(b, display, desktopOptions{})
		dev += r.waitScreen("device").Sub(r.started)
		win += r.visible
		time.Sleep(2 * time.Second) // idle
		rss += r.rssKB()
		r.stop()
	}
	n := float64(b.N)
	b.ReportMetric(float64(win.Milliseconds())/n, "window-ms")
	b.ReportMetric(float64(dev.Milliseconds())/n, "device-ms")
	b.ReportMetric(float64(rss)/1024/n, "idle-rss-MB")
	b.ReportMetric(0, "ns/op")
}
