//go:build unix

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// needChromium skips where the portal's browser cannot run.
func needChromium(t *testing.T) {
	t.Helper()
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if _, err := exec.LookPath(n); err == nil {
			if _, err := exec.LookPath("certutil"); err == nil {
				return
			}
		}
	}
	t.Skip("Chromium and certutil are needed (apt-get install -y chromium libnss3-tools)")
}

// liveOutput is the command's output as it is written, for a test that
// answers prompts.
type liveOutput struct {
	mu   sync.Mutex
	buf  strings.Builder
	read int
	more chan struct{}
}

func newLiveOutput() *liveOutput { return &liveOutput{more: make(chan struct{}, 1)} }

func (l *liveOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *liveOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await waits for re in the output not yet consumed and returns the
// submatches; the output up to the match is consumed.
func (l *liveOutput) await(ctx context.Context, t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for {
		l.mu.Lock()
		s := l.buf.String()[l.read:]
		if loc := re.FindStringSubmatchIndex(s); loc != nil {
			m := re.FindStringSubmatch(s)
			l.read += loc[1]
			l.mu.Unlock()
			return m
		}
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("no %q in the output:\n%s", re, l.String())
		}
	}
}

// activateRun runs `mobileplans activate` in process with stdin and a
// live output.
type activateRun struct {
	out  *liveOutput
	in   *io.PipeWriter
	done chan error
}

func startActivate(ctx context.Context, args ...string) *activateRun {
	pr, pw := io.Pipe()
	r := &activateRun{out: newLiveOutput(), in: pw, done: make(chan error, 1)}
	root := NewRootCommand(r.out, r.out)
	root.SetIn(pr)
	root.SetArgs(args)
	go func() { r.done <- root.ExecuteContext(ctx) }()
	return r
}

func (r *activateRun) send(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(r.in, line); err != nil {
		t.Fatal(err)
	}
}

func (r *activateRun) wait(ctx context.Context, t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		t.Fatalf("activate did not end:\n%s", r.out.String())
	}
	return nil
}

var doneLine = regexp.MustCompile(`✔ Profile (89[0-9]+) is enabled; network: home`)

// TestActivateAutopilot is `make demo`'s journey: the bundled stack, the
// portal in headless Chromium walked by the autopilot script, the download
// and activation, the balance.
func TestActivateAutopilot(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script, err := filepath.Abs("../scripts/contoso-autopilot.txt")
	if err != nil {
		t.Fatal(err)
	}
	r := startActivate(ctx, "activate", "--mock", "--mock-dir", t.TempDir(), "--autopilot", script)
	r.in.Close()
	if err := r.wait(ctx, t); err != nil {
		t.Fatalf("activate: %v\n%s", err, r.out.String())
	}
	out := r.out.String()
	for _, want := range []string{"Operators in US:", "Contoso Cellular [contoso]", "→ download", "installing", "→ enable", "Balance (MODIRECTPAYG):"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !doneLine.MatchString(out) {
		t.Fatalf("no success line:\n%s", out)
	}
}

// TestActivateInteractive walks the portal as a person at a terminal:
// every answer is read off the page as the command printed it (the number
// of the control with a given label).
func TestActivateInteractive(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	r := startActivate(ctx, "activate", "--mock", "--mock-dir", dir, "--browser", "headless")
	defer r.in.Close()
	ref := func(label string) string {
		t.Helper()
		return r.out.await(ctx, t, regexp.MustCompile(`\[(\d+)\][^\n]*`+regexp.QuoteMeta(label)))[1]
	}
	r.out.await(ctx, t, regexp.MustCompile(`Choose an operator`))
	r.send(t, "1")
	r.out.await(ctx, t, regexp.MustCompile(`Press Enter`))
	r.send(t, "")
	r.send(t, ref("Create an account"))
	name, email, pass := ref("Full name"), ref("E-mail"), ref("Password")
	r.send(t, name+"=Grace Hopper")
	r.send(t, email+"=grace@example.test")
	r.send(t, pass+"=cobol forever")
	r.send(t, "r")
	r.out.await(ctx, t, regexp.MustCompile(`grace@example\.test`))
	r.send(t, ref("Create account"))
	r.send(t, ref("Contoso 5 GB prepaid"))
	r.send(t, ref("Next"))
	r.send(t, ref("I accept"))
	r.send(t, ref("Buy"))
	m := r.out.await(ctx, t, doneLine)
	if err := r.wait(ctx, t); err != nil {
		t.Fatalf("activate: %v\n%s", err, r.out.String())
	}
	// The password never reached the terminal.
	if strings.Contains(r.out.String(), "cobol forever") {
		t.Fatal("the password was echoed")
	}
	// The agent's state is kept in the stack directory.
	if _, err := os.Stat(filepath.Join(dir, "agent", "agent.json")); err != nil {
		t.Fatalf("agent state: %v", err)
	}
	t.Logf("installed %s", m[1])
}

// TestActivateCancel: q at the portal cancels; nothing is installed and
// the command ends without an error.
func TestActivateCancel(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startActivate(ctx, "activate", "--mock", "--mock-dir", t.TempDir(), "--browser", "headless", "--operator", "contoso")
	r.out.await(ctx, t, regexp.MustCompile(`Press Enter`))
	r.send(t, "")
	r.out.await(ctx, t, regexp.MustCompile(`Sign in`))
	r.send(t, "q")
	if err := r.wait(ctx, t); err != nil {
		t.Fatalf("activate after q: %v\n%s", err, r.out.String())
	}
	if !strings.Contains(r.out.String(), "Cancelled") {
		t.Fatalf("no cancel message:\n%s", r.out.String())
	}
}

// TestActivateUsage: flag mistakes are usage errors before anything
// starts.
func TestActivateUsage(t *testing.T) {
	for _, args := range [][]string{
		{"activate"},
		{"activate", "--mock", "--discovery", "https://mps.example.test"},
		{"activate", "--mock", "--browser", "lynx"},
	} {
		r := startActivate(context.Background(), args...)
		r.in.Close()
		err := <-r.done
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
