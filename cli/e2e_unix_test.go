//go:build unix

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
)

// rig is a simulated modem served on a real pty, reached by the CLI through
// the real serial driver (--device).
type rig struct {
	t     testing.TB
	state string
	card  *euicc.Card
	modem *sim.Modem
	dev   string
}

func newRig(t testing.TB) *rig {
	t.Helper()
	return newRigWith(t, euicc.Options{Seed: true})
}

func newRigWith(t testing.TB, opts euicc.Options) *rig {
	t.Helper()
	state := filepath.Join(t.TempDir(), "euicc.json")
	card, err := euicc.Open(state, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := sim.New(simcard.New(card), sim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	dev, err := m.ServePTY(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = m.Wait()
	})
	return &rig{t: t, state: state, card: card, modem: m, dev: dev}
}

// run executes the CLI with --device and returns exit code, stdout, stderr.
func (r *rig) run(args ...string) (int, string, string) {
	r.t.Helper()
	return runCLI(r.t, append([]string{"--device", r.dev, "--at-timeout", "3s"}, args...)...)
}

func runCLI(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	// Never touch the user's own test PKI from a test.
	return runCLIRaw(t, append([]string{"--test-pki", filepath.Join(t.TempDir(), "pki")}, args...)...)
}

// runCLIRaw runs the CLI with exactly args.
func runCLIRaw(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Execute(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// jsonData runs a --json command that must succeed and decodes payload.data into v.
func (r *rig) jsonData(v any, args ...string) {
	r.t.Helper()
	code, out, errOut := r.run(append([]string{"--json"}, args...)...)
	if code != 0 {
		r.t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	var env struct {
		Type    string `json:"type"`
		Payload struct {
			Code    int             `json:"code"`
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		} `json:"payload"`
	}
	// Progress envelopes may precede the result, which is the last line.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, `{"type":"progress"`) {
			r.t.Fatalf("%v: unexpected line before the result: %s", args, l)
		}
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &env); err != nil {
		r.t.Fatalf("%v: output does not end in one JSON envelope: %v\n%s", args, err, out)
	}
	if env.Type != "lpa" || env.Payload.Code != 0 || env.Payload.Message != "success" {
		r.t.Fatalf("%v: envelope %+v", args, env)
	}
	if v != nil {
		if err := json.Unmarshal(env.Payload.Data, v); err != nil {
			r.t.Fatalf("%v: data: %v\n%s", args, err, env.Payload.Data)
		}
	}
}

func (r *rig) profiles() []profileData {
	var ps []profileData
	r.jsonData(&ps, "profile", "list")
	return ps
}

func (r *rig) notifications() []notificationData {
	var ns []notificationData
	r.jsonData(&ns, "notification", "list")
	return ns
}

// enabledAndOther returns the enabled profile's ICCID and that of the
// last other one ("" where there is none).
func enabledAndOther(ps []profileData) (enabled, other string) {
	for _, p := range ps {
		if p.State == "enabled" {
			enabled = p.ICCID
		} else {
			other = p.ICCID
		}
	}
	return enabled, other
}

func stateOf(ps []profileData, iccid string) string {
	for _, p := range ps {
		if p.ICCID == iccid {
			return p.State
		}
	}
	return "absent"
}

func TestEndToEndProfileManagement(t *testing.T) {
	r := newRig(t)

	var info chipInfoData
	r.jsonData(&info, "chip", "info")
	if info.EID != string(r.card.EID()) || len(info.EID) != 32 {
		t.Fatalf("chip info EID %q, card %q", info.EID, r.card.EID())
	}
	if info.Info2.SVN == "" || info.Info2.ExtCardResource["freeNonVolatileMemory"] == nil {
		t.Fatalf("EUICCInfo2 incomplete: %+v", info.Info2)
	}

	ps := r.profiles()
	if len(ps) != 2 {
		t.Fatalf("want the 2 seeded profiles, got %+v", ps)
	}
	enabled, other := enabledAndOther(ps)
	if enabled == "" || other == "" {
		t.Fatalf("want one enabled and one disabled profile: %+v", ps)
	}

	// Enable the other one: the first is disabled, the card resets and the
	// modem reports the new ICCID.
	r.jsonData(nil, "profile", "enable", other)
	ps = r.profiles()
	if stateOf(ps, other) != "enabled" || stateOf(ps, enabled) != "disabled" {
		t.Fatalf("after enable: %+v", ps)
	}
	var mi struct {
		ICCID string `json:"iccid"`
	}
	r.jsonData(&mi, "modem", "info")
	if mi.ICCID != other {
		t.Fatalf("modem reports ICCID %q after enabling %s", mi.ICCID, other)
	}

	r.jsonData(nil, "profile", "nickname", other, "Travel data")
	for _, p := range r.profiles() {
		if p.ICCID == other && (p.Nickname == nil || *p.Nickname != "Travel data") {
			t.Fatalf("nickname not set: %+v", p)
		}
	}

	// Deleting the disabled profile works; it is gone afterwards.
	r.jsonData(nil, "profile", "delete", enabled)
	if got := stateOf(r.profiles(), enabled); got != "absent" {
		t.Fatalf("deleted profile is %s", got)
	}

	// Notifications: disable(first), enable(other), delete(first), in order.
	ns := r.notifications()
	var ops []string
	for _, n := range ns {
		ops = append(ops, n.Operation)
	}
	if strings.Join(ops, ",") != "disable,enable,delete" {
		t.Fatalf("notifications %+v", ns)
	}
	for i := 1; i < len(ns); i++ {
		if ns[i].Seq <= ns[i-1].Seq {
			t.Fatalf("sequence numbers not increasing: %+v", ns)
		}
	}
	r.jsonData(nil, "notification", "remove", itoa(ns[0].Seq))
	if got := r.notifications(); len(got) != 2 {
		t.Fatalf("after removing one: %+v", got)
	}
	r.jsonData(nil, "notification", "remove", "--all")
	if got := r.notifications(); len(got) != 0 {
		t.Fatalf("after removing all: %+v", got)
	}

	// The state survives: a fresh card on the same state file sees it.
	card2, err := euicc.Open(r.state, euicc.Options{Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := card2.Active(); !ok || string(a.ICCID) != other {
		t.Fatalf("persisted active profile %+v %v", a, ok)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBadInputChangesNothing(t *testing.T) {
	r := newRig(t)
	before, err := os.ReadFile(r.state)
	if err != nil {
		t.Fatal(err)
	}
	ps := r.profiles()
	enabled, _ := enabledAndOther(ps)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  string
	}{
		{"unknown ICCID", []string{"profile", "enable", "8901234567890123452"}, 1, "iccidOrAidNotFound"},
		{"malformed ICCID", []string{"profile", "enable", "89-not-an-iccid"}, 2, "ICCID"},
		{"too short ICCID", []string{"profile", "delete", "8901"}, 2, "ICCID"},
		{"enable the enabled profile", []string{"profile", "enable", enabled}, 1, "profileNotInDisabledState"},
		{"delete the enabled profile", []string{"profile", "delete", enabled}, 1, "profileNotInDisabledState"},
		{"nickname too long", []string{"profile", "nickname", enabled, strings.Repeat("x", 65)}, 2, "64"},
		{"remove unknown notification", []string{"notification", "remove", "999"}, 1, "nothingToDelete"},
		{"purge without --yes", []string{"chip", "purge"}, 2, "--yes"},
		{"unknown flag", []string{"profile", "list", "--bogus"}, 2, "bogus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := r.run(tc.args...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantMsg) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.wantCode, out, errOut)
			}
			code, out, _ = r.run(append([]string{"--json"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(out, `"code":-1`) || !strings.Contains(out, tc.wantMsg) {
				t.Fatalf("--json: exit %d, stdout: %s", code, out)
			}
		})
	}
	after, err := os.ReadFile(r.state)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a refused command changed the eUICC state file")
	}
}

func TestCorruptStateRefused(t *testing.T) {
	state := filepath.Join(t.TempDir(), "euicc.json")
	junk := []byte(`{"version": 1, "profiles": [ truncated`)
	if err := os.WriteFile(state, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "--sim", state, "profile", "list")
	if code != 1 || !strings.Contains(errOut, state) {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	got, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, junk) {
		t.Fatal("corrupt state file was overwritten")
	}
	_, err = euicc.Open(state, euicc.Options{Seed: true})
	if !errors.Is(err, euicc.ErrCorruptState) {
		t.Fatalf("euicc.Open: %v", err)
	}
}

func TestSimFlagInProcess(t *testing.T) {
	state := filepath.Join(t.TempDir(), "euicc.json")
	code, out, errOut := runCLI(t, "--sim", state, "--json", "profile", "list")
	if code != 0 || !strings.Contains(out, `"profileState":"enabled"`) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// The state file was created and is reused.
	if _, err := os.Stat(state); err != nil {
		t.Fatal(err)
	}
}

func TestCMEErrorIsClear(t *testing.T) {
	r := newRig(t)
	code, _, errOut := r.run("modem", "at", "AT+XYZZY")
	if code != 1 || !strings.Contains(errOut, "AT+XYZZY") || !strings.Contains(errOut, "ERROR") {
		t.Fatalf("unknown command: exit %d stderr %q", code, errOut)
	}
	// A +CME ERROR from the modem surfaces with its number and meaning.
	r.modem.SetCCHOSupported(false)
	code, _, errOut = r.run("--transport", "cgla", "chip", "info")
	if code != 1 || !strings.Contains(errOut, "+CME ERROR: 4") || !strings.Contains(strings.ToLower(errOut), "not supported") {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	// auto transport falls back to AT+CSIM and works.
	var info chipInfoData
	r.jsonData(&info, "chip", "info")
	if info.EID != string(r.card.EID()) {
		t.Fatalf("CSIM fallback EID %q", info.EID)
	}
}

func TestModemThatNeverAnswersTimesOut(t *testing.T) {
	r := newRig(t)
	r.modem.SetDrop(true)
	start := time.Now()
	code, _, errOut := runCLI(t, "--device", r.dev, "--at-timeout", "500ms", "modem", "info")
	if code != 1 || !strings.Contains(errOut, "timeout") {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	t.Logf("gave up after %v", time.Since(start))
	r.modem.SetDrop(false)
	var mi map[string]any
	r.jsonData(&mi, "modem", "info")
}

func TestCardBusyReported(t *testing.T) {
	r := newRig(t)
	r.modem.SetCardBusy(0x6F00)
	code, _, errOut := r.run("profile", "list")
	if code != 1 || !strings.Contains(errOut, "6F00") {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	r.modem.SetCardBusy(0)
	if len(r.profiles()) != 2 {
		t.Fatal("profiles after busy cleared")
	}
}

func TestAPDUTrace(t *testing.T) {
	r := newRig(t)
	trace := filepath.Join(t.TempDir(), "apdu.log")
	r.jsonData(nil, "--apdu-trace", trace, "chip", "info")
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "> 80E29100") || !strings.Contains(string(b), "BF3E") {
		t.Fatalf("trace:\n%s", b)
	}
}

func TestSimServeCommand(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "modem")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var out, errOut bytes.Buffer
	pr, pw, _ := os.Pipe()
	go func() {
		done <- Execute(ctx, []string{"--test-pki", filepath.Join(dir, "pki"), "sim", "serve", "--state", filepath.Join(dir, "s.json"), "--link", link}, pw, &errOut)
		pw.Close()
	}()
	buf := make([]byte, 512)
	n, _ := pr.Read(buf)
	out.Write(buf[:n])
	if !strings.Contains(out.String(), "/dev/pts/") {
		cancel()
		t.Fatalf("sim serve printed %q (%s)", out.String(), errOut.String())
	}
	code, stdout, stderr := runCLI(t, "--device", link, "--json", "profile", "list")
	cancel()
	if code != 0 || !strings.Contains(stdout, "enabled") {
		t.Fatalf("via link: %d %s %s", code, stdout, stderr)
	}
	if c := <-done; c != 0 {
		t.Fatalf("sim serve exit %d: %s", c, errOut.String())
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Fatalf("link left behind: %v", err)
	}
}

// BenchmarkProfileListCLI measures the wall time of a whole `profile list`
// over the pty: open the port, init the modem, open the channel, list.
func BenchmarkProfileListCLI(b *testing.B) {
	r := newRig(b)
	for b.Loop() {
		var out, errOut bytes.Buffer
		if code := Execute(context.Background(), []string{"--device", r.dev, "profile", "list"}, &out, &errOut); code != 0 {
			b.Fatal(errOut.String())
		}
	}
}

// BenchmarkAPDURoundTrip measures one ES10 exchange (GetEID) over the pty and
// AT+CGLA, and the APDUs and bytes one `profile list` costs.
func BenchmarkAPDURoundTrip(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	m, err := at.Open(ctx, at.Config{Device: r.dev})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	c, err := lpa.New(ctx, apdu.Opener(m.OpenChannel), lpa.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.Run("GetEID", func(b *testing.B) {
		start := c.Stats()
		for b.Loop() {
			if _, err := c.EID(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(c.Stats().APDUs-start.APDUs)/float64(b.N), "apdus/op")
	})
	b.Run("ProfileList", func(b *testing.B) {
		start := c.Stats()
		for b.Loop() {
			if _, err := c.Profiles(ctx); err != nil {
				b.Fatal(err)
			}
		}
		s := c.Stats()
		b.ReportMetric(float64(s.APDUs-start.APDUs)/float64(b.N), "apdus/op")
		b.ReportMetric(float64(s.BytesIn-start.BytesIn)/float64(b.N), "bytesIn/op")
	})
}

func TestProfileListFilter(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		args []string
		want int
		code int
	}{
		{[]string{"--state", "enabled", "-q"}, 1, 0},
		{[]string{"--state", "disabled", "-q"}, 1, 0},
		{[]string{"-q"}, 2, 0},
		{[]string{"--state", "bogus"}, 0, 2},
	}
	for _, tt := range tests {
		code, out, errOut := r.run(append([]string{"profile", "list"}, tt.args...)...)
		if code != tt.code {
			t.Fatalf("%v: exit %d (want %d): %s", tt.args, code, tt.code, errOut)
		}
		if code != 0 {
			continue
		}
		lines := strings.Fields(out)
		if len(lines) != tt.want {
			t.Errorf("%v: %d ICCIDs %q, want %d", tt.args, len(lines), out, tt.want)
		}
		for _, l := range lines {
			if _, err := rsp.ParseICCID(l); err != nil {
				t.Errorf("%v: %q is not an ICCID", tt.args, l)
			}
		}
	}
	enabled := r.profiles()
	for _, p := range enabled {
		if p.State == "enabled" {
			_, out, _ := r.run("profile", "list", "--state", "enabled", "-q")
			if strings.TrimSpace(out) != p.ICCID {
				t.Errorf("enabled filter gave %q, want %s", out, p.ICCID)
			}
		}
	}
}
