package chromium

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// trustRoots creates the NSS shared database $home/.pki/nssdb, which
// Chromium on Linux reads for locally added trust anchors, and imports each
// CA certificate of pemData with the trust flags "C,," (a CA trusted to
// issue TLS server certificates). Nothing else is trusted and no check is
// turned off: a server certificate must still chain to one of these CAs (or
// to Chromium's own roots), name the host and be in its validity period.
func trustRoots(ctx context.Context, home string, pemData []byte) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w: trusting a test CA is implemented for Linux (NSS) only", ErrUnavailable)
	}
	certs, err := caCerts(pemData)
	if err != nil {
		return err
	}
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		return fmt.Errorf("%w: certutil not found (Debian: apt-get install -y libnss3-tools)", ErrUnavailable)
	}
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		return fmt.Errorf("chromium: %w", err)
	}
	dbArg := "sql:" + db
	if err := runCertutil(ctx, certutil, "-N", "-d", dbArg, "--empty-password"); err != nil {
		return err
	}
	for i, c := range certs {
		f := filepath.Join(home, "ca-"+strconv.Itoa(i)+".pem")
		if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
			return fmt.Errorf("chromium: %w", err)
		}
		nick := "mobileplans test CA " + strconv.Itoa(i)
		if err := runCertutil(ctx, certutil, "-A", "-d", dbArg, "-n", nick, "-t", "C,,", "-i", f); err != nil {
			return err
		}
	}
	return nil
}

// caCerts parses pemData: one or more CERTIFICATE blocks, each a CA.
func caCerts(pemData []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := pemData; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("chromium: RootCAs: %w", err)
		}
		if !c.BasicConstraintsValid || !c.IsCA {
			return nil, fmt.Errorf("chromium: RootCAs: %q is not a CA certificate", c.Subject.CommonName)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("chromium: RootCAs holds no PEM certificate")
	}
	return out, nil
}

func runCertutil(ctx context.Context, certutil string, args ...string) error {
	out, err := exec.CommandContext(ctx, certutil, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("chromium: certutil %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}
