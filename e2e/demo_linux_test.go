package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/internal/xvfb"
)

// TestDesktopPurchaseInWebKit is `make demo` with a display, end to end:
// the real app (`mobileplans ui --mock`) under Xvfb with the WebKitGTK
// portal helper next to it. Key presses go from the device screen to
// Contoso Cellular's gateway page and on to its portal, which opens in
// the helper's window; the app's --autopilot walks the portal there (sign
// up, the 5 GB plan, buy), the portal's notifyProfileDownload reaches the
// agent through the helper, and the app shows the result. Then, with the
// app closed, the CLI reads the same simulated eUICC and finds the new
// profile enabled.
func TestDesktopPurchaseInWebKit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the desktop app and the WebKitGTK helper")
	}
	needDesktopTools(t)
	buildPortalHelper(t) // next to the app, where it looks first
	display := xvfb.Start(t, "1280x800x24", requireDesktop())
	mock := filepath.Join(t.TempDir(), "mock")
	r := startDesktop(t, display, desktopOptions{mockDir: mock, portal: "webkit",
		args: []string{"--autopilot", filepath.Join("..", "scripts", "contoso-autopilot.txt")}})
	r.waitScreen("device")
	r.key("Tab", "space") // See plans from operators
	r.waitScreen("operators")
	r.key("Tab", "space") // Choose (Contoso Cellular)
	r.waitScreen("gateway")
	r.key("Tab", "space") // the gateway's button (Get started)
	r.waitScreen("portal")
	r.waitScreen("result")
	log := r.log()
	for _, want := range []string{`msg="portal opened" component=portal kind=webkit`, `msg="autopilot finished"`,
		`msg="fulfilment ended" kind=download state=done`} {
		if !strings.Contains(log, want) {
			t.Errorf("the app's log lacks %s", want)
		}
	}
	if strings.Contains(log, "correct horse") {
		t.Error("the log holds the password the autopilot typed")
	}
	if t.Failed() {
		t.Fatalf("log:\n%s", log)
	}
	r.stop()

	list := exec.Command(buildDesktop(t), "--json", "--sim", filepath.Join(mock, "euicc.json"),
		"--test-pki", filepath.Join(mock, "test-pki"), "profile", "list")
	list.Env = append(os.Environ(), "DISPLAY=")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("profile list: %v\n%s", err, out)
	}
	var res struct {
		Payload struct {
			Code int `json:"code"`
			Data []struct {
				ICCID        string `json:"iccid"`
				State        string `json:"profileState"`
				ProviderName string `json:"serviceProviderName"`
			} `json:"data"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("profile list output %q: %v", out, err)
	}
	var enabled []string
	for _, p := range res.Payload.Data {
		if p.State == "enabled" {
			enabled = append(enabled, p.ProviderName+" "+p.ICCID)
		}
	}
	if len(res.Payload.Data) < 2 || len(enabled) != 1 || !strings.HasPrefix(enabled[0], "Contoso Cellular ") ||
		strings.Contains(enabled[0], "Test") {
		t.Fatalf("profiles after the purchase: %s", out)
	}
	t.Logf("enabled after the purchase in the WebKit window: %s", enabled[0])
}
