package smdp

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

const fuzzToken = "fuzz-token"

// fuzzServer is a Server for the fuzz targets, answering without TLS
// (ES2+ with the bearer token).
func fuzzServer(f testing.TB) (*Server, http.Handler) {
	f.Helper()
	p, err := pki.Generate(pki.Options{SMDPHost: testHost})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(context.Background(), Config{PKI: p, InventorySize: 2, OperatorToken: fuzzToken, DBPath: fastDBPath(f)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	return srv, srv.Handler()
}

// fuzzPost runs one request and checks the invariants of every answer:
// no internal error, JSON with a header on 200, nothing on 204.
func fuzzPost(t *testing.T, h http.Handler, path string, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fuzzToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	switch rec.Code {
	case http.StatusOK:
		var resp headerOnly
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%s: 200 with undecodable body %q: %v", path, rec.Body.Bytes(), err)
		}
		if st := resp.Header.FunctionExecutionStatus.Status; st != es9.StatusSuccess && st != es9.StatusFailed {
			t.Fatalf("%s: status %q", path, st)
		}
	case http.StatusNoContent:
		if rec.Body.Len() != 0 {
			t.Fatalf("%s: 204 with a body", path)
		}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
	default:
		t.Fatalf("%s: HTTP %d for %q: %s", path, rec.Code, body, rec.Body.Bytes())
	}
	return rec.Code
}

// fastDBPath puts the fuzz database on a RAM file system when there is one:
// the many commits of a fuzz run would otherwise wait for slow disk syncs
// at every WAL checkpoint.
func fastDBPath(tb testing.TB) string {
	dir := tb.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "smdp-fuzz-*"); err == nil {
			tb.Cleanup(func() { os.RemoveAll(d) })
			dir = d
		}
	}
	return filepath.Join(dir, "smdp.db")
}

func es9Paths() []string {
	return []string{es9.PathInitiateAuthentication, es9.PathAuthenticateClient, es9.PathGetBoundProfilePackage,
		es9.PathHandleNotification, es9.PathCancelSession, PathDownloadOrder, PathConfirmOrder, PathCancelOrder,
		PathReleaseProfile}
}

func mustJSON(f *testing.F, v any) []byte {
	f.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzHandlers feeds arbitrary bodies to every ES9+ and ES2+ function.
func FuzzHandlers(f *testing.F) {
	srv, h := fuzzServer(f)
	c := newCard(f, srv.pki, 1, srv.now)
	ch := c.newChallenge()
	txid := "00112233445566778899AABBCCDDEEFF"
	seeds := []struct {
		path int
		body []byte
	}{
		{0, mustJSON(f, es9.InitiateAuthenticationRequest{SMDPAddress: testHost, EUICCChallenge: ch[:], EUICCInfo1: c.info1().Encode()})},
		{0, []byte(`{"smdpAddress":"x","euiccChallenge":"AAAA","euiccInfo1":"vyAA"}`)},
		{1, mustJSON(f, es9.AuthenticateClientRequest{TransactionID: txid, AuthenticateServerResponse: []byte{0xBF, 0x38, 0x00}})},
		{2, mustJSON(f, es9.GetBoundProfilePackageRequest{TransactionID: txid, PrepareDownloadResponse: []byte{0xBF, 0x21, 0x00}})},
		{3, mustJSON(f, es9.HandleNotificationRequest{PendingNotification: []byte{0xBF, 0x37, 0x00}})},
		{4, mustJSON(f, es9.CancelSessionRequest{TransactionID: txid, CancelSessionResponse: []byte{0xBF, 0x41, 0x03, 0x81, 0x01, 0x05}})},
		{5, mustJSON(f, DownloadOrderRequest{EID: c.eid})},
		{5, []byte(`{"iccid":"89001010000000000018F","profileType":"standard"}`)},
		{6, []byte(`{"iccid":"89001010000000000018","releaseFlag":true,"matchingId":"A-B","confirmationCode":"1"}`)},
		{7, []byte(`{"iccid":"89001010000000000018","finalProfileStatusIndicator":"Available"}`)},
		{8, []byte(`{"iccid":"89001010000000000018"}`)},
		{1, []byte(`{"transactionId":12}`)},
		{2, []byte(`null`)},
	}
	for _, s := range seeds {
		f.Add(uint8(s.path), s.body)
	}
	paths := es9Paths()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		fuzzPost(t, h, paths[int(which)%len(paths)], body)
	})
}

// FuzzNotification feeds arbitrary TLVs as pending notifications.
func FuzzNotification(f *testing.F) {
	srv, h := fuzzServer(f)
	c := newCard(f, srv.pki, 2, srv.now)
	c.txid, c.serverAddress, c.dpOID = []byte{1, 2, 3}, testHost, srv.oid
	f.Add(c.otherNotification(rsp.EventEnable, "89001010000000000018"))
	f.Add(c.loadBPP(nil).Raw)
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0xBF, 0x37, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		body, err := json.Marshal(es9.HandleNotificationRequest{PendingNotification: raw})
		if err != nil {
			t.Fatal(err)
		}
		if code := fuzzPost(t, h, es9.PathHandleNotification, body); code != http.StatusNoContent {
			t.Fatalf("HTTP %d, want 204", code)
		}
	})
}
