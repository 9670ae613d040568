//go:build unix

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMockStackCommand starts `mobileplans mock`, uses its simulated modem
// and SM-DP+ from another CLI run (order, then download with the printed
// CI trusted), and stops it by cancelling, as Ctrl-C does.
func TestMockStackCommand(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"--json", "mock", "--dir", dir}, pw, &errOut)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no output from mock: %v (%s)", err, errOut.String())
	}
	var env struct {
		Payload struct {
			Data struct {
				Endpoints []struct{ Name, URL string } `json:"endpoints"`
			} `json:"data"`
		} `json:"payload"`
	}
	if err := json.Unmarshal([]byte(line), &env); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	urls := map[string]string{}
	for _, e := range env.Payload.Data.Endpoints {
		urls[e.Name] = e.URL
	}
	modemPath, smdpURL := urls["simulated modem (AT)"], urls["SM-DP+ (ES9+, ES2+)"]
	ci := filepath.Join(dir, "test-pki", "ci.pem")
	if modemPath == "" || smdpURL == "" {
		t.Fatalf("endpoints %v", urls)
	}
	smdpAddr := strings.TrimPrefix(smdpURL, "https://")
	pkiDir := []string{"--test-pki", filepath.Join(dir, "test-pki")}
	code, out, stderr := runCLIRaw(t, append(pkiDir, "--json", "mock", "order", "--smdp", smdpAddr)...)
	if code != 0 {
		t.Fatalf("order: %s %s", out, stderr)
	}
	var order struct {
		Payload struct {
			Data orderData `json:"data"`
		} `json:"payload"`
	}
	if err := json.Unmarshal([]byte(out), &order); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLIRaw(t, "--device", modemPath, "--trust-ci", ci, "profile", "download", "--bpp-cache", "none", "-a", order.Payload.Data.ActivationCode)
	if code != 0 || !strings.Contains(out, order.Payload.Data.ICCID) {
		t.Fatalf("download via the stack: %d %s %s", code, out, stderr)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("mock exited %d: %s", code, errOut.String())
	}
}
