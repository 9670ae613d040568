package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUICommand: `ui` hands its flags to the desktop app; a bad autopilot
// script is refused before the app starts.
func TestUICommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(good, []byte("# buy\nclick #buy\nfill #name Ada Lovelace\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("tap #buy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		fail    bool
		started bool
		check   func(UIOptions) bool
		errText string
	}{
		{name: "no command starts the app", args: nil, started: true,
			check: func(o UIOptions) bool { return !o.Mock && o.Autopilot == nil }},
		{name: "mock and autopilot", args: []string{"ui", "--mock", "--mock-dir", dir, "--autopilot", good}, started: true,
			check: func(o UIOptions) bool {
				return o.Mock && o.MockDir == dir && len(o.Autopilot) == 2 && o.Autopilot[1].Value == "Ada Lovelace"
			}},
		{name: "bad script", args: []string{"ui", "--autopilot", bad}, fail: true, errText: "unknown step"},
		{name: "missing script", args: []string{"ui", "--autopilot", filepath.Join(dir, "none.txt")}, fail: true, errText: "autopilot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *UIOptions
			run := func(_ context.Context, o UIOptions) error { got = &o; return nil }
			var out, errOut bytes.Buffer
			code := ExecuteWithUI(context.Background(), tt.args, &out, &errOut, run)
			if (code != 0) != tt.fail {
				t.Fatalf("exit %d, want failure %v: %s", code, tt.fail, errOut.String())
			}
			if (got != nil) != tt.started {
				t.Fatalf("app started: %v, want %v", got != nil, tt.started)
			}
			if tt.check != nil && !tt.check(*got) {
				t.Fatalf("options %+v", *got)
			}
			if !strings.Contains(errOut.String(), tt.errText) {
				t.Fatalf("stderr %q lacks %q", errOut.String(), tt.errText)
			}
		})
	}
}
