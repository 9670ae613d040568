package euicc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

func TestOpenNew(t *testing.T) {
	for _, seed := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "sub", "euicc.json")
		c, err := Open(path, Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != stateFileMode {
			t.Errorf("state file mode %v, want %v", fi.Mode().Perm(), os.FileMode(stateFileMode))
		}
		if _, err := rsp.ParseEID(string(c.EID())); err != nil || !strings.HasPrefix(string(c.EID()), testEIN) {
			t.Errorf("EID %s: %v", c.EID(), err)
		}
		l := openISDR(t, c)
		ps := l.profiles(rsp.GetProfilesInfoRequest{})
		act, ok := c.Active()
		if !seed {
			if len(ps) != 0 || ok {
				t.Errorf("unseeded card has %d profiles, active %v", len(ps), ok)
			}
			continue
		}
		if len(ps) != 2 || !ok || act.ICCID != ps[0].ICCID || act.MCCMNC != "00101" {
			t.Fatalf("seeded card: %d profiles, active %+v", len(ps), act)
		}
		for _, p := range ps {
			if len(p.ICCID) < 19 || len(p.ICCID) > 20 || !luhnValid(string(p.ICCID)) {
				t.Errorf("ICCID %s has no valid Luhn check digit", p.ICCID)
			}
		}
		if ps[1].State != rsp.ProfileDisabled || ps[1].Owner == nil || !bytes.Equal(ps[1].Owner.MCCMNC, []byte{0x00, 0xF1, 0x20}) {
			t.Errorf("second profile %+v", ps[1])
		}
	}
}

func TestReopen(t *testing.T) {
	c, path := openTest(t, Options{})
	l := openISDR(t, c)
	_, b := seeded(t, c)
	if l.enable(byICCID(b), false) != rsp.EnableOK {
		t.Fatal("enable")
	}
	l.do(rsp.SetNicknameRequest{ICCID: b, Nickname: "travel"}.Encode())
	l.do(rsp.SetDefaultDPAddressRequest{Address: "smdp.example.test"}.Encode())
	l.do(rsp.NotificationSentRequest{Seq: 1}.Encode())
	want := snapshot(t, c)
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, want) {
		t.Fatal("the file does not hold the live state")
	}

	c2, err := Open(path, Options{Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, c2); !bytes.Equal(got, want) {
		t.Fatalf("re-opened state differs:\n%s\nwant\n%s", got, want)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, onDisk) {
		t.Fatal("re-opening rewrote the state file")
	}
	if c2.EID() != c.EID() || !c2.creds.Key.Equal(c.creds.Key) {
		t.Fatal("identity changed across re-open")
	}
	act, _ := c2.Active()
	if act.ICCID != b {
		t.Fatalf("active %s, want %s", act.ICCID, b)
	}
	l2 := openISDR(t, c2)
	ns := l2.list(0)
	if len(ns) != 1 || ns[0].Seq != 2 {
		t.Fatalf("notifications after re-open: %+v", ns)
	}
	// Sequence numbers continue.
	if l2.disable(byICCID(b), false) != rsp.DisableOK {
		t.Fatal("disable")
	}
	if ns := l2.list(0); len(ns) != 2 || ns[1].Seq != 3 {
		t.Fatalf("notifications: %+v", ns)
	}
}

// mutateJSON returns the state file content with f applied to its decoded
// form.
func mutateJSON(t *testing.T, valid []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(valid, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCorruptState(t *testing.T) {
	c, path := openTest(t, Options{})
	l := openISDR(t, c)
	_, b := seeded(t, c)
	l.enable(byICCID(b), false) // two notifications
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	profile := func(m map[string]any, i int) map[string]any {
		return m["profiles"].([]any)[i].(map[string]any)
	}
	tests := []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not json at all")},
		{"truncated", valid[:len(valid)/2]},
		{"null", []byte("null")},
		{"array", []byte("[]")},
		{"future version", mutateJSON(t, valid, func(m map[string]any) { m["version"] = 99 })},
		{"bad EID check digits", mutateJSON(t, valid, func(m map[string]any) {
			e := []byte(m["eid"].(string))
			e[31] = '0' + (e[31]-'0'+1)%10
			m["eid"] = string(e)
		})},
		{"two enabled", mutateJSON(t, valid, func(m map[string]any) {
			profile(m, 0)["enabled"] = true
			profile(m, 1)["enabled"] = true
		})},
		{"duplicate ICCID", mutateJSON(t, valid, func(m map[string]any) { profile(m, 1)["iccid"] = profile(m, 0)["iccid"] })},
		{"bad ICCID", mutateJSON(t, valid, func(m map[string]any) { profile(m, 0)["iccid"] = "12AB" })},
		{"bad class", mutateJSON(t, valid, func(m map[string]any) { profile(m, 0)["class"] = 9 })},
		{"bad key", mutateJSON(t, valid, func(m map[string]any) {
			m["credentials"].(map[string]any)["key"] = "AAAA"
		})},
		{"certificate of another card", mutateJSON(t, valid, func(m map[string]any) {
			other, err := generateCredentials("89049032000000000000000000000011", rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			st, err := other.store()
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(st)
			var cm map[string]any
			json.Unmarshal(raw, &cm)
			m["credentials"] = cm
		})},
		{"sequence number behind", mutateJSON(t, valid, func(m map[string]any) { m["nextSeq"] = 1 })},
		{"notification tampered", mutateJSON(t, valid, func(m map[string]any) {
			m["notifications"].([]any)[0].(map[string]any)["seq"] = 2
		})},
		{"notification garbage", mutateJSON(t, valid, func(m map[string]any) {
			m["notifications"].([]any)[0].(map[string]any)["raw"] = "AAAA"
		})},
		{"ISD-P counter", mutateJSON(t, valid, func(m map[string]any) { m["nextIsdp"] = 0 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(p, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(p, Options{Seed: true})
			if !errors.Is(err, ErrCorruptState) {
				t.Fatalf("Open: %v, want ErrCorruptState", err)
			}
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the file", err)
			}
			after, rerr := os.ReadFile(p)
			if rerr != nil || !bytes.Equal(after, tt.content) {
				t.Fatalf("state file changed: %v", rerr)
			}
			entries, _ := os.ReadDir(filepath.Dir(p))
			if len(entries) != 1 {
				t.Fatalf("%d files in the state directory, want 1", len(entries))
			}
		})
	}
	// The unmodified file still opens.
	p := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(p, mutateJSON(t, valid, func(map[string]any) {}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(p, Options{}); err != nil {
		t.Fatalf("re-encoded valid state: %v", err)
	}
}

func TestWriteFailure(t *testing.T) {
	errDiskFull := errors.New("disk full")
	type op struct {
		name  string
		req   func(a, b rsp.ICCID) []byte
		check func(data []byte) (int, error) // result code
	}
	enableRes := func(d []byte) (int, error) { r, err := rsp.DecodeEnableProfileResponse(d); return int(r.Result), err }
	disableRes := func(d []byte) (int, error) { r, err := rsp.DecodeDisableProfileResponse(d); return int(r.Result), err }
	deleteRes := func(d []byte) (int, error) { r, err := rsp.DecodeDeleteProfileResponse(d); return int(r.Result), err }
	nickRes := func(d []byte) (int, error) { r, err := rsp.DecodeSetNicknameResponse(d); return int(r.Result), err }
	dpRes := func(d []byte) (int, error) {
		r, err := rsp.DecodeSetDefaultDPAddressResponse(d)
		return int(r.Result), err
	}
	sentRes := func(d []byte) (int, error) {
		r, err := rsp.DecodeNotificationSentResponse(d)
		return int(r.Result), err
	}
	resetRes := func(d []byte) (int, error) { r, err := rsp.DecodeMemoryResetResponse(d); return int(r.Result), err }
	ops := []op{
		{"enable B", func(a, b rsp.ICCID) []byte { return rsp.EnableProfileRequest{ID: byICCID(b), Refresh: true}.Encode() }, enableRes},
		{"disable A", func(a, b rsp.ICCID) []byte { return rsp.DisableProfileRequest{ID: byICCID(a)}.Encode() }, disableRes},
		{"delete B", func(a, b rsp.ICCID) []byte { return rsp.DeleteProfileRequest{ID: byICCID(b)}.Encode() }, deleteRes},
		{"nickname", func(a, b rsp.ICCID) []byte { return rsp.SetNicknameRequest{ICCID: a, Nickname: "x"}.Encode() }, nickRes},
		{"default SM-DP+", func(a, b rsp.ICCID) []byte { return rsp.SetDefaultDPAddressRequest{Address: "x.test"}.Encode() }, dpRes},
		{"notification sent", func(a, b rsp.ICCID) []byte { return rsp.NotificationSentRequest{Seq: 1}.Encode() }, sentRes},
		{"memory reset", func(a, b rsp.ICCID) []byte {
			return rsp.MemoryResetRequest{Options: rsp.ResetDeleteOperational | rsp.ResetDefaultSMDP}.Encode()
		}, resetRes},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			c, path := openTest(t, Options{})
			l := openISDR(t, c)
			a, b := seeded(t, c)
			// One pending notification for "notification sent".
			if l.disable(byICCID(a), false) != rsp.DisableOK || l.enable(byICCID(a), false) != rsp.EnableOK {
				t.Fatal("setup")
			}
			hooks := 0
			c.SetResetHook(func() { hooks++ })
			before := snapshot(t, c)
			fileBefore, _ := os.ReadFile(path)
			actBefore, _ := c.Active()

			c.mu.Lock()
			c.write = func(string, []byte) error { return errDiskFull }
			c.mu.Unlock()
			code, err := o.check(l.do(o.req(a, b)))
			if err != nil || code != 127 {
				t.Fatalf("with failing writes: result %d %v, want undefinedError 127", code, err)
			}
			if hooks != 0 {
				t.Fatal("card reset after a failed command")
			}
			if got := snapshot(t, c); !bytes.Equal(got, before) {
				t.Fatal("in-memory state changed although the write failed")
			}
			if act, _ := c.Active(); act != actBefore {
				t.Fatalf("active profile changed: %+v", act)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, fileBefore) {
				t.Fatal("state file changed")
			}

			c.mu.Lock()
			c.write = writeAtomic
			c.mu.Unlock()
			code, err = o.check(l.do(o.req(a, b)))
			if err != nil || code != 0 {
				t.Fatalf("after the disk recovered: result %d %v", code, err)
			}
			if got := snapshot(t, c); bytes.Equal(got, before) {
				t.Fatal("state unchanged after a successful command")
			}
		})
	}
}

// TestReadOnlyDirectory uses real file system permissions instead of an
// injected writer.
func TestReadOnlyDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("directory permissions do not stop file creation on Windows")
	}
	if os.Geteuid() == 0 {
		t.Skip("running as root: permission bits do not stop writes")
	}
	c, path := openTest(t, Options{})
	dir := filepath.Dir(path)
	l := openISDR(t, c)
	_, b := seeded(t, c)
	before := snapshot(t, c)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if got := l.enable(byICCID(b), false); got != rsp.EnableUndefinedError {
		t.Fatalf("enable in a read-only directory: %v", got)
	}
	if !bytes.Equal(snapshot(t, c), before) {
		t.Fatal("state changed")
	}
	os.Chmod(dir, 0o700)
	if got := l.enable(byICCID(b), false); got != rsp.EnableOK {
		t.Fatalf("enable after chmod back: %v", got)
	}
}

func TestOpenWriteFailure(t *testing.T) {
	errDiskFull := errors.New("disk full")
	path := filepath.Join(t.TempDir(), "euicc.json")
	_, err := open(path, Options{Seed: true}, func(string, []byte) error { return errDiskFull }, rand.Reader)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("open: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file exists after a failed creation: %v", err)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	for _, content := range []string{"first", "second, longer content", "3"} {
		if err := writeAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q %v, want %q", got, err, content)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("%d directory entries, want 1 (temporary files left?)", len(entries))
		}
	}
	if err := writeAtomic(filepath.Join(dir, "missing", "s.json"), []byte("x")); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

func TestSuppliedCredentials(t *testing.T) {
	eid, err := rsp.NewEID("89049032", []byte{1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := generateCredentials(string(eid), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "euicc.json")
	c, err := Open(path, Options{Credentials: creds, Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.EID() != eid {
		t.Fatalf("EID %s, want the certificate's %s", c.EID(), eid)
	}
	l := openISDR(t, c)
	i1, err := rsp.DecodeEUICCInfo1(l.do(rsp.GetEUICCInfo1Request{}.Encode()))
	if err != nil || !equalIDs(i1.CIPKIDsForSigning, creds.CIPKIDs) {
		t.Fatalf("EUICCInfo1 %+v %v", i1, err)
	}
	_, b := seeded(t, c)
	l.enable(byICCID(b), false)
	r, err := rsp.DecodeRetrieveNotificationsListResponse(l.do(rsp.RetrieveNotificationsListRequest{}.Encode()))
	if err != nil || len(r.Notifications) != 2 {
		t.Fatalf("notifications %+v %v", r, err)
	}
	for _, pn := range r.Notifications {
		verifyNotification(t, c, pn)
		if !bytes.Contains(pn.Raw, creds.EUICCCert) {
			t.Fatal("notification does not carry the supplied certificate")
		}
	}
	// Persisted: re-open without credentials keeps the identity.
	c2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !c2.creds.Key.Equal(creds.Key) {
		t.Fatal("supplied key not persisted")
	}

	other, _ := openTest(t, Options{})
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name  string
		path  string
		creds *Credentials
	}{
		{"EID mismatch", other.path, creds},
		{"key mismatch", filepath.Join(t.TempDir(), "x.json"), &Credentials{Key: otherKey, EUICCCert: creds.EUICCCert, EUMCert: creds.EUMCert, CIPKIDs: creds.CIPKIDs}},
		{"no CI", filepath.Join(t.TempDir(), "x.json"), &Credentials{Key: creds.Key, EUICCCert: creds.EUICCCert, EUMCert: creds.EUMCert}},
		{"EUM swapped", filepath.Join(t.TempDir(), "x.json"), &Credentials{Key: creds.Key, EUICCCert: creds.EUICCCert, EUMCert: other.creds.EUMCert, CIPKIDs: creds.CIPKIDs}},
		{"no key", filepath.Join(t.TempDir(), "x.json"), &Credentials{EUICCCert: creds.EUICCCert}},
	}
	for _, tt := range tests {
		before, _ := os.ReadFile(tt.path)
		if _, err := Open(tt.path, Options{Credentials: tt.creds}); !errors.Is(err, ErrCredentials) {
			t.Errorf("%s: %v, want ErrCredentials", tt.name, err)
		}
		after, _ := os.ReadFile(tt.path)
		if !bytes.Equal(before, after) {
			t.Errorf("%s: state file changed", tt.name)
		}
	}
}

func TestSeedHelpers(t *testing.T) {
	luhn := []struct {
		s    string
		want bool
	}{
		{"79927398713", true},
		{"79927398710", false},
		{"89014103211118510720", true},
		{"89014103211118510721", false},
	}
	for _, tt := range luhn {
		if got := luhnValid(tt.s); got != tt.want {
			t.Errorf("luhnValid(%s) = %v", tt.s, got)
		}
	}
	plmn := []struct {
		mcc, mnc string
		want     string
	}{
		{"001", "01", "00f110"},
		{"001", "02", "00f120"},
		{"310", "410", "130014"},
		{"262", "01", "62f210"},
	}
	for _, tt := range plmn {
		got, err := encodePLMN(tt.mcc, tt.mnc)
		if err != nil || hex.EncodeToString(got) != tt.want {
			t.Errorf("encodePLMN(%s, %s) = %x %v, want %s", tt.mcc, tt.mnc, got, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{"01", "01"}, {"001", "1"}, {"0a1", "01"}} {
		if _, err := encodePLMN(bad[0], bad[1]); err == nil {
			t.Errorf("encodePLMN(%q, %q) succeeded", bad[0], bad[1])
		}
	}
	if got := hex.EncodeToString(isdpAID(0x10)); got != "a0000005591010ffffffff8900001000" {
		t.Errorf("isdpAID(0x10) = %s", got)
	}
	if got := hex.EncodeToString(isdpAID(0x11)); got != "a0000005591010ffffffff8900001100" {
		t.Errorf("isdpAID(0x11) = %s", got)
	}
	if bytes.Equal(isdpAID(0x10), apdu.ISDR) {
		t.Error("ISD-P AID equals the ISD-R AID")
	}
}
