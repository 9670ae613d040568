package cli

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mobileplans/mobileplans/esim/pki"
)

// testPKIHosts are the extra TLS names of the mock SM-DP+ certificate, so a
// server on loopback is reachable under them with full verification.
var testPKIHosts = []string{"localhost", "127.0.0.1"}

// testPKIDir returns the directory of the bundled stack's test PKI: the flag,
// else MOBILEPLANS_TEST_PKI, else <user config dir>/mobileplans/test-pki.
func (o *options) testPKIDir() (string, error) {
	if o.testPKI != "" {
		return o.testPKI, nil
	}
	if d := os.Getenv("MOBILEPLANS_TEST_PKI"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", usageError("no user config directory (%v): give --test-pki DIR", err)
	}
	return filepath.Join(base, "mobileplans", "test-pki"), nil
}

// loadTestPKI loads the test PKI, generating and saving it on first use.
func (o *options) loadTestPKI() (*pki.PKI, error) {
	dir, err := o.testPKIDir()
	if err != nil {
		return nil, err
	}
	p, err := pki.LoadOrGenerate(pki.Options{Dir: dir, ExtraTLSHosts: testPKIHosts, Logger: o.log})
	if err != nil {
		return nil, fmt.Errorf("test PKI in %s: %w", dir, err)
	}
	return p, nil
}

// trustedCIs reads the --trust-ci certificate files: the extra roots the
// LPA accepts for SM-DP+ TLS (besides the system roots).
func (o *options) trustedCIs() ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, path := range o.trustCI {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--trust-ci: %w", err)
		}
		certs, err := pki.ParseCertificates(b)
		if err != nil {
			return nil, fmt.Errorf("--trust-ci %s: %w", path, err)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("--trust-ci %s: %w", path, errors.New("no certificate in the file"))
		}
		out = append(out, certs...)
	}
	return out, nil
}
