package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/ui/portal"
)

func sampleState() persisted {
	t0 := time.Date(2024, 5, 18, 23, 17, 23, 0, time.UTC)
	return persisted{
		Version: stateVersion,
		Deferred: []DeferredDownload{{ID: "mp-0123456789abcdef", OperatorID: "contoso", OperatorBrand: "Contoso Cellular",
			ActivationCode: "1$smdp.example.com$ABCD-1234", Meta: portal.Meta{UserAccount: "new", MoDirectStatus: "complete", PlanName: "Unlimited"},
			Source: "MobilePlansInlineOperations.notifyProfileDownload", Created: t0, Due: t0.Add(30 * time.Minute)},
			{ID: "app-1", OperatorID: "contoso", Source: "MobilePlans.notifyPurchaseDelayedProfile", Created: t0, Due: t0.Add(time.Hour), Notified: true}},
		Errors: []LPAError{{OperatorID: "contoso", Status: StatusServerNotReachable, Result: portal.ActivationServerNotReachable, Time: t0,
			ICCID: "8900101000000000001", Step: "initiateAuthentication", Message: "connection refused"}},
		Settings: Settings{Location: "US", Market: "GB"},
	}
}

func TestStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.view(); len(p.Deferred) != 0 || len(p.Errors) != 0 || p.Version != stateVersion {
		t.Fatalf("new state %+v", p)
	}
	want := sampleState()
	if err := s.update(func(p *persisted) error { *p = want.clone(); return nil }); err != nil {
		t.Fatal(err)
	}
	// A failing update changes nothing.
	if err := s.update(func(p *persisted) error { p.Deferred = nil; return errors.New("no") }); err == nil {
		t.Fatal("failing update succeeded")
	}
	s2, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := encodeState(want)
	b, _ := encodeState(s2.view())
	if !bytes.Equal(a, b) {
		t.Fatalf("reloaded\n%s\nwant\n%s", b, a)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != StateFile {
		t.Fatalf("directory holds %v", entries)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(dir, StateFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("state file mode %v %v", fi.Mode(), err)
		}
	}
	// The redacted view hides the matching ID.
	if r := want.Deferred[0].redacted(); strings.Contains(r.ActivationCode, "ABCD-1234") {
		t.Fatalf("redacted %q", r.ActivationCode)
	}
}

func TestStoreRefusesCorruptState(t *testing.T) {
	valid, err := encodeState(sampleState())
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		if !bytes.Contains(valid, []byte(old)) {
			t.Fatalf("sample lacks %q", old)
		}
		return strings.Replace(string(valid), old, new, 1)
	}
	tests := []struct {
		name, content string
	}{
		{"empty", ""},
		{"not JSON", "{\"version\": 1,"},
		{"no version", "{}"},
		{"future version", `{"version": 2}`},
		{"unknown field", `{"version": 1, "extra": true}`},
		{"trailing data", string(valid) + "{}"},
		{"duplicate deferred download", edit(`"id": "app-1"`, `"id": "mp-0123456789abcdef"`)},
		{"bad operation id", edit(`"id": "app-1"`, `"id": "a b"`)},
		{"bad activation code", edit("1$smdp.example.com$ABCD-1234", "LPA:1$smdp.example.com$ABCD-1234")},
		{"deferred download without operator", edit(`"operatorId": "contoso",
      "operatorBrand"`, `"operatorId": "",
      "operatorBrand"`)},
		{"unknown status", edit(`"status": "ServerNotReachable"`, `"status": "Oops"`)},
		{"unknown result", edit(`"result": "serverNotReachable"`, `"result": "oops"`)},
		{"bad settings", edit(`"location": "US"`, `"location": "USA"`)},
		{"bad time", edit(`"due": "2024-05-18T23:47:23Z"`, `"due": "tomorrow"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			path := filepath.Join(cfg.StateDir, StateFile)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(context.Background(), cfg)
			var se *StateError
			if !errors.As(err, &se) || !errors.Is(err, ErrCorruptState) || se.Path != path || !strings.Contains(err.Error(), "untouched") {
				t.Fatalf("New: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tt.content {
				t.Fatalf("state file changed: %v", err)
			}
		})
	}
}

func TestStoreInMemory(t *testing.T) {
	s, err := openStore("")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.update(func(p *persisted) error { p.Settings.Market = "US"; return nil }); err != nil {
		t.Fatal(err)
	}
	if s.view().Settings.Market != "US" {
		t.Fatal("update lost")
	}
}

func FuzzDecodeState(f *testing.F) {
	valid, err := encodeState(sampleState())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	empty, _ := encodeState(persisted{Version: stateVersion})
	f.Add(empty)
	f.Add([]byte(`{"version":1,"deferred":[{"id":"x","operatorId":"o","created":"2024-01-01T00:00:00+02:00","due":"2024-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"lpaErrors":[{"operatorId":"o","status":"Other","result":"other","time":"2024-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"settings":{"location":"zz"}}`))
	f.Add([]byte(`{"version":1,"deferred":null,"lpaErrors":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodeState(b)
		if err != nil {
			return
		}
		enc, err := encodeState(p)
		if err != nil {
			t.Fatalf("decoded state does not encode: %v", err)
		}
		p2, err := decodeState(enc)
		if err != nil {
			t.Fatalf("encoded state does not decode: %v\n%s", err, enc)
		}
		enc2, err := encodeState(p2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("not stable:\n%s\n%s", enc, enc2)
		}
	})
}
