package euicc

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/binary"
	"testing"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

func TestDecodePLMN(t *testing.T) {
	tests := []struct {
		mcc, mnc string
	}{
		{"001", "01"}, {"310", "410"}, {"262", "01"}, {"999", "999"},
	}
	for _, tt := range tests {
		b, err := encodePLMN(tt.mcc, tt.mnc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodePLMN(b)
		if err != nil || got != tt.mcc+tt.mnc {
			t.Errorf("decodePLMN(%X) = %q %v, want %s", b, got, err, tt.mcc+tt.mnc)
		}
	}
	for _, bad := range [][]byte{{0x00, 0xF1}, {0xA0, 0xF1, 0x10}, {0x00, 0x11, 0x1A}} {
		if got, err := decodePLMN(bad); err == nil {
			t.Errorf("decodePLMN(%X) = %q", bad, got)
		}
	}
}

// loadFixture is a card with a prepared download session whose one-time
// key is fixed, so that one BPP stays valid for every fresh session.
type loadFixture struct {
	e     *dlEnv
	base  *state
	otSK  *ecdh.PrivateKey
	pr    dlParams
	segs  [][]byte
	upp   []byte
	iccid rsp.ICCID
}

func newLoadFixture(t testing.TB, filler int) *loadFixture {
	t.Helper()
	e := newDLEnv(t)
	e.c.write = func(string, []byte) error { return nil } // keep the fuzzer off the disk
	otSK, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fx := &loadFixture{e: e, otSK: otSK, iccid: testICCID}
	fx.pr = e.defaultParams(testICCID)
	fx.pr.spec.Filler = filler
	var out dlOutcome
	fx.segs = e.buildBPP(&fx.pr, otSK.PublicKey().Bytes(), &out)
	fx.upp = out.upp
	e.c.mu.Lock()
	fx.base = e.c.st.clone()
	e.c.mu.Unlock()
	return fx
}

// reset restores the card state and opens a prepared session; c.mu must
// be held.
func (fx *loadFixture) reset() {
	c := fx.e.c
	c.st = fx.base.clone()
	c.sess = &session{
		txid:          fx.pr.txid,
		serverAddress: testDPAddress,
		smdpOID:       fx.e.p.SMDPOID,
		ci:            fx.e.p.CI.Cert,
		prepared:      true,
		dppb:          &fx.e.p.DPpb.Key.PublicKey,
		otSK:          fx.otSK,
		otPK:          fx.otSK.PublicKey().Bytes(),
	}
}

// encodeTransfers packs transfers as 2-byte length + data.
func encodeTransfers(segs [][]byte) []byte {
	var b []byte
	for _, s := range segs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeTransfers is the inverse of encodeTransfers; a short last length
// takes what is left.
func decodeTransfers(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := min(int(binary.BigEndian.Uint16(b)), len(b)-2)
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}

func FuzzLoadBPP(f *testing.F) {
	fx := newLoadFixture(f, 64)
	// The fixture's package installs: the seeds reach every step.
	func() {
		c := fx.e.c
		c.mu.Lock()
		defer c.mu.Unlock()
		fx.reset()
		var last es10Result
		for _, s := range fx.segs {
			last = c.loadBPP(s)
		}
		r, err := rsp.DecodeProfileInstallationResult(last.data)
		if err != nil || r.Err() != nil {
			f.Fatalf("fixture package does not install: %v %v", err, r.Err())
		}
	}()
	f.Add(encodeTransfers(fx.segs))
	// The whole BPP as one transfer, and every element split on its own.
	f.Add(encodeTransfers([][]byte{bytes.Join(fx.segs, nil)}))
	tampered := make([][]byte, len(fx.segs))
	for i, s := range fx.segs {
		tampered[i] = bytes.Clone(s)
	}
	tampered[len(tampered)-1][12] ^= 0x40
	f.Add(encodeTransfers(tampered))
	f.Add(encodeTransfers(fx.segs[:3]))
	f.Add([]byte{0x00, 0x04, 0xBF, 0x36, 0x81, 0x00})

	f.Fuzz(func(t *testing.T, data []byte) {
		c := fx.e.c
		c.mu.Lock()
		defer c.mu.Unlock()
		fx.reset()
		var results [][]byte
		for _, tr := range decodeTransfers(data) {
			if c.sess == nil {
				break
			}
			r := c.loadBPP(tr)
			if len(r.data) > 0 {
				results = append(results, r.data)
			}
		}
		if err := c.st.validate(); err != nil {
			t.Fatalf("state invalid after the load: %v", err)
		}
		if len(results) > 1 {
			t.Fatalf("%d installation results in one session", len(results))
		}
		installed := len(c.st.Profiles) - len(fx.base.Profiles)
		success := false
		if len(results) == 1 {
			r, err := rsp.DecodeProfileInstallationResult(results[0])
			if err != nil {
				t.Fatalf("result %X: %v", results[0], err)
			}
			success = r.Err() == nil
			if len(c.st.Notifications) != len(fx.base.Notifications)+1 {
				t.Fatal("installation result not kept as a notification")
			}
		}
		switch {
		case installed == 0 && !success:
		case installed == 1 && success:
			p := c.st.Profiles[len(c.st.Profiles)-1]
			if p.ICCID != string(fx.iccid) || !bytes.Equal(p.Content, fx.upp) || p.Enabled {
				t.Fatalf("installed profile %s is not the authentic package", p.ICCID)
			}
		default:
			t.Fatalf("%d profiles installed, success reported: %v", installed, success)
		}
	})
}

// BenchmarkDownload measures the card side of a whole download of a
// profile package of about 12 KB: AuthenticateServer, PrepareDownload and
// the LoadBoundProfilePackage transfers, through APDUs. The SM-DP+ side
// (signatures, BPP protection) is not timed.
func BenchmarkDownload(b *testing.B) {
	e := newDLEnv(b)
	e.c.write = func(string, []byte) error { return nil }
	e.c.mu.Lock()
	base := e.c.st.clone()
	e.c.mu.Unlock()
	size := 0
	for b.Loop() {
		b.StopTimer()
		e.c.mu.Lock()
		e.c.st = base.clone()
		e.c.mu.Unlock()
		pr := e.defaultParams(testICCID)
		var out dlOutcome
		b.StartTimer()
		auth := e.authenticate(&pr, &out)
		otPK, _ := e.prepare(&pr, auth, &out)
		b.StopTimer()
		segs := e.buildBPP(&pr, otPK, &out)
		size = len(out.upp)
		b.StartTimer()
		e.load(&pr, segs, &out)
		if out.result == nil || out.result.Err() != nil {
			b.Fatalf("download failed: %+v", out)
		}
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64(size), "upp-bytes")
}
