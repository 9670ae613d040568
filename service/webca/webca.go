package webca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority with its key. It is safe for concurrent use.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	now  func() time.Time
}

// Validity of issued certificates unless a caller asks otherwise.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 2 * 365 * 24 * time.Hour
)

// New generates a CA named name. now is the clock for validity periods (nil:
// time.Now).
func New(name string, now func() time.Time) (*CA, error) {
	if now == nil {
		now = time.Now
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("webca: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	t := now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"mobileplans test"}},
		NotBefore:             t.Add(-time.Hour),
		NotAfter:              t.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("webca: self-sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("webca: %w", err)
	}
	return &CA{Cert: cert, Key: key, now: now}, nil
}

func serialNumber() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("webca: serial: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil
}

// Pool returns a pool holding only this CA, for RootCAs or ClientCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// CertPEM returns the CA certificate in PEM.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// ServerCert issues a TLS server certificate for hosts (DNS names or IP
// addresses; at least one).
func (ca *CA) ServerCert(hosts ...string) (tls.Certificate, error) {
	if len(hosts) == 0 {
		return tls.Certificate{}, errors.New("webca: server certificate needs at least one host")
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	t := ca.now()
	return ca.issue(tmpl, t.Add(-time.Hour), t.Add(leafValidity))
}

// ClientCert issues a TLS client certificate with the given subject, valid
// from notBefore to notAfter (zero values: now-1h and now+2y), so tests can
// make expired or not-yet-valid certificates.
func (ca *CA) ClientCert(subject pkix.Name, notBefore, notAfter time.Time) (tls.Certificate, error) {
	t := ca.now()
	if notBefore.IsZero() {
		notBefore = t.Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = t.Add(leafValidity)
	}
	tmpl := &x509.Certificate{
		Subject:     subject,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issue(tmpl, notBefore, notAfter)
}

func (ca *CA) issue(tmpl *x509.Certificate, notBefore, notAfter time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("webca: %w", err)
	}
	if tmpl.SerialNumber, err = serialNumber(); err != nil {
		return tls.Certificate{}, err
	}
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("webca: issue %q: %w", tmpl.Subject.CommonName, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("webca: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// File names used by Save and Load.
const (
	certFile = "webca.pem"
	keyFile  = "webca.key"
)

// Save writes the CA certificate (mode 0644) and key (PKCS#8, mode 0600)
// into dir, each through a temporary file and a rename.
func (ca *CA) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("webca: %w", err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return fmt.Errorf("webca: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, keyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}), 0o600); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, certFile), ca.CertPEM(), 0o644)
}

// CertPath returns where Save puts the CA certificate in dir.
func CertPath(dir string) string { return filepath.Join(dir, certFile) }

// LoadOrNew loads the CA saved in dir, or generates one named name and saves
// it there.
func LoadOrNew(dir, name string, now func() time.Time) (*CA, error) {
	ca, err := Load(dir, now)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return ca, err
	}
	if ca, err = New(name, now); err != nil {
		return nil, err
	}
	return ca, ca.Save(dir)
}

// Load reads a CA saved with Save. A missing directory or file gives an
// error wrapping os.ErrNotExist.
func Load(dir string, now func() time.Time) (*CA, error) {
	if now == nil {
		now = time.Now
	}
	cp, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		return nil, fmt.Errorf("webca: %w", err)
	}
	kp, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, fmt.Errorf("webca: %w", err)
	}
	cb, _ := pem.Decode(cp)
	kb, _ := pem.Decode(kp)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("webca: %s: not PEM", dir)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("webca: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("webca: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("webca: %s: key does not match the certificate", dir)
	}
	return &CA{Cert: cert, Key: key, now: now}, nil
}

func writeAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("webca: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("webca: %w", err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("webca: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("webca: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("webca: %w", err)
	}
	return nil
}
