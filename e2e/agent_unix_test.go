//go:build unix

package e2e

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/service/discovery"
	"github.com/mobileplans/mobileplans/service/stack"
)

// stackAgent opens the stack's simulated modem over its pty and starts an
// agent on it that trusts the stack's GSMA CI (ES9+) and web CA
// (discovery), with a state directory of the test's own; tune adjusts the
// config before the agent starts (nil: none). Both are closed when the
// test ends.
func stackAgent(t *testing.T, ctx context.Context, st *stack.Stack, tune func(*app.Config)) (*at.Modem, *app.Agent) {
	t.Helper()
	m, err := at.Open(ctx, at.Config{Device: st.ModemPath, CommandTimeout: 10 * time.Second, APDUTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	pool, err := lpa.TrustPool(st.PKI.CI.Cert)
	if err != nil {
		t.Fatal(err)
	}
	es9c, err := lpa.NewES9Client(lpa.ES9Options{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: st.WebCA.Pool(), MinVersion: tls.VersionTLS12}}}
	cfg := app.Config{
		Modem:     m,
		Discovery: discovery.NewClient(st.DiscoveryURL, hc),
		ES9:       es9c,
		StateDir:  filepath.Join(t.TempDir(), "agent"),
		Language:  "en-US",
	}
	if tune != nil {
		tune(&cfg)
	}
	agent, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = agent.Close() })
	return m, agent
}
