//go:build unix

package launch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStartMock: a mock session runs the agent on the simulated modem of
// the bundled stack; its state stays in MockDir; Close stops it all.
func TestStartMock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bundled stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tests := []struct {
		name       string
		portalHost string
	}{
		{"localhost portal", ""},
		{"named portal", "portal.contoso.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			se, err := Start(ctx, Settings{Mock: true, MockDir: dir}, Options{PortalHost: tt.portalHost})
			if err != nil {
				t.Fatal(err)
			}
			d, err := se.Agent.Device(ctx)
			if err != nil || d.EID == "" || len(d.Profiles) == 0 {
				t.Fatalf("Device = %+v, %v", d, err)
			}
			if se.Stack == nil || len(se.Portal.RootCAs) == 0 || se.Portal.CallbackHost == "" {
				t.Fatalf("portal trust %+v", se.Portal)
			}
			if got := se.Portal.HostMap[tt.portalHost]; (tt.portalHost != "") != (got != "") {
				t.Fatalf("host map %v for portal host %q", se.Portal.HostMap, tt.portalHost)
			}
			if err := se.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "euicc.json")); err != nil {
				t.Fatalf("the simulated eUICC's state was not kept: %v", err)
			}
			if _, err := se.Agent.Device(ctx); err == nil {
				t.Fatal("the agent still answers after Close")
			}
		})
	}
}

// TestStartDeviceErrors: unusable device settings fail before anything
// runs, with the field named.
func TestStartDeviceErrors(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "nope.pem")
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		s     Settings
		field string
	}{
		{"no discovery", Settings{}, "discovery"},
		{"missing CI file", Settings{Discovery: "https://x.test", Modem: "at:" + os.DevNull, TrustCI: missing}, "trustCI"},
		{"CI file without a certificate", Settings{Discovery: "https://x.test", Modem: "at:" + os.DevNull, TrustCI: notPEM}, "trustCI"},
		{"missing CA file", Settings{Discovery: "https://x.test", Modem: "at:" + os.DevNull, TrustCA: missing}, "trustCA"},
		{"CA file without a certificate", Settings{Discovery: "https://x.test", Modem: "at:" + os.DevNull, TrustCA: notPEM}, "trustCA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start(ctx, tt.s, Options{})
			var se *SettingsError
			if !errors.As(err, &se) || se.Field != tt.field {
				t.Fatalf("Start = %v, want a SettingsError on %s", err, tt.field)
			}
		})
	}
}
