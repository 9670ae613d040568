package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// File names (without extension) of the entities in a PKI directory. The
// CI comes last: Save writes it last, so its presence marks a complete set.
const (
	fileEUM    = "eum"
	fileDPauth = "dpauth"
	fileDPpb   = "dppb"
	fileDPtls  = "dptls"
	fileCI     = "ci"
)

const (
	certExt  = ".pem"
	keyExt   = ".key"
	certPerm = 0o644
	keyPerm  = 0o600
	dirPerm  = 0o700
)

// entities lists the PKI's entities with their file names in write order.
func (p *PKI) entities() []struct {
	name string
	e    *Entity
} {
	return []struct {
		name string
		e    *Entity
	}{{fileEUM, p.EUM}, {fileDPauth, p.DPauth}, {fileDPpb, p.DPpb}, {fileDPtls, p.DPtls}, {fileCI, p.CI}}
}

// Save writes the PKI as PEM files into dir (created with mode 0700 if
// missing): <name>.pem for each certificate and <name>.key (PKCS#8, mode
// 0600) for each loaded key, each file replaced atomically, ci.pem last.
func (p *PKI) Save(dir string) error {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("pki: save: %w", err)
	}
	for _, it := range p.entities() {
		if it.e == nil {
			return fmt.Errorf("pki: save: %s is missing", it.name)
		}
		if err := it.e.Save(dir, it.name); err != nil {
			return err
		}
	}
	return nil
}

// Save writes the entity as <dir>/<name>.pem and, when it has a key,
// <dir>/<name>.key (PKCS#8 PEM, mode 0600), each replaced atomically. The
// key is written first.
func (e *Entity) Save(dir, name string) error {
	if e.Key != nil {
		k, err := MarshalKey(e.Key)
		if err != nil {
			return fmt.Errorf("pki: save %s: %w", name, err)
		}
		if err := writeFileAtomic(filepath.Join(dir, name+keyExt), k, keyPerm); err != nil {
			return fmt.Errorf("pki: save %s: %w", name, err)
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, name+certExt), MarshalCertificate(e.DER), certPerm); err != nil {
		return fmt.Errorf("pki: save %s: %w", name, err)
	}
	return nil
}

// LoadEntity reads <dir>/<name>.pem (PEM or DER) and, if present,
// <dir>/<name>.key, and checks that the key belongs to the certificate.
// With keyRequired a missing key file is an error.
func LoadEntity(dir, name string, keyRequired bool) (*Entity, error) {
	certPath := filepath.Join(dir, name+certExt)
	b, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("pki: load %s: %w", name, err)
	}
	cert, err := ParseCertificatePEM(b)
	if err != nil {
		return nil, fmt.Errorf("pki: load %s: %w", certPath, err)
	}
	e := &Entity{Cert: cert, DER: cert.Raw}
	keyPath := filepath.Join(dir, name+keyExt)
	kb, err := os.ReadFile(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !keyRequired:
		return e, nil
	case err != nil:
		return nil, fmt.Errorf("pki: load %s key: %w", name, err)
	}
	key, err := ParseKey(kb)
	if err != nil {
		return nil, fmt.Errorf("pki: load %s: %w", keyPath, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("pki: load %s: %w: key does not match the certificate %s", name, ErrBadKey, certPath)
	}
	e.Key = key
	return e, nil
}

// Load reads a PKI directory written by Save, or an equivalent set of
// externally issued certificates. The CI and EUM keys are optional; the
// DPauth, DPpb and DPtls keys are required. Each certificate is checked to
// chain to ci.pem with its role (validity periods are not checked here), and
// DPpb and DPtls must carry the SM-DP+ OID of DPauth.
func Load(dir string) (*PKI, error) {
	return load(dir, time.Now, nil)
}

func load(dir string, now func() time.Time, log *slog.Logger) (*PKI, error) {
	p := &PKI{now: now, log: log}
	var err error
	if p.CI, err = LoadEntity(dir, fileCI, false); err != nil {
		return nil, err
	}
	if p.EUM, err = LoadEntity(dir, fileEUM, false); err != nil {
		return nil, err
	}
	if p.DPauth, err = LoadEntity(dir, fileDPauth, true); err != nil {
		return nil, err
	}
	if p.DPpb, err = LoadEntity(dir, fileDPpb, true); err != nil {
		return nil, err
	}
	if p.DPtls, err = LoadEntity(dir, fileDPtls, true); err != nil {
		return nil, err
	}
	roots := p.Roots()
	for _, c := range []struct {
		e    *Entity
		role Role
	}{{p.CI, RoleCI}, {p.EUM, RoleEUM}, {p.DPauth, RoleDPauth}, {p.DPpb, RoleDPpb}, {p.DPtls, RoleDPtls}} {
		if _, err := verifyParsed(c.e.Cert, nil, roots, c.role, time.Time{}, false); err != nil {
			return nil, fmt.Errorf("pki: load %s: %w", dir, err)
		}
	}
	if p.SMDPOID, err = RegisteredID(p.DPauth.Cert); err != nil {
		return nil, fmt.Errorf("pki: load %s: DPauth: %w", dir, err)
	}
	for _, e := range []*Entity{p.DPpb, p.DPtls} {
		oid, err := RegisteredID(e.Cert)
		if err != nil {
			return nil, fmt.Errorf("pki: load %s: %w", dir, err)
		}
		if !oid.Equal(p.SMDPOID) {
			return nil, fmt.Errorf("pki: load %s: %w: %q carries SM-DP+ OID %v, DPauth %v", dir, ErrBadCert, e.Cert.Subject.String(), oid, p.SMDPOID)
		}
	}
	return p, nil
}

// LoadOrGenerate loads the PKI from opts.Dir when ci.pem exists there,
// otherwise generates one (Generate) and saves it into opts.Dir. A loaded
// PKI that does not cover opts.SMDPHost, opts.ExtraTLSHosts or
// opts.EIDPrefix is returned as is, with a warning logged.
func LoadOrGenerate(opts Options) (*PKI, error) {
	if opts.Dir == "" {
		return nil, errors.New("pki: LoadOrGenerate needs Options.Dir")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	_, err = os.Stat(filepath.Join(o.Dir, fileCI+certExt))
	switch {
	case err == nil:
		p, err := load(o.Dir, o.Now, o.Logger)
		if err != nil {
			return nil, err
		}
		p.warnMismatch(o)
		o.Logger.Info("loaded test PKI", "dir", o.Dir, "ciPKID", hex.EncodeToString(p.CIPKID()))
		return p, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("pki: %w", err)
	}
	p, err := Generate(o)
	if err != nil {
		return nil, err
	}
	if err := p.Save(o.Dir); err != nil {
		return nil, err
	}
	o.Logger.Info("generated test PKI", "dir", o.Dir, "ciPKID", hex.EncodeToString(p.CIPKID()))
	return p, nil
}

// warnMismatch logs options a loaded PKI does not satisfy.
func (p *PKI) warnMismatch(o Options) {
	for _, h := range append([]string{o.SMDPHost}, o.ExtraTLSHosts...) {
		if err := p.DPtls.Cert.VerifyHostname(h); err != nil {
			o.Logger.Warn("loaded DPtls certificate does not cover host; delete the PKI directory to regenerate", "dir", o.Dir, "host", h)
		}
	}
	eins, err := PermittedEINs(p.EUM.Cert)
	if err != nil || !inRange(o.EIDPrefix, eins) {
		o.Logger.Warn("loaded EUM certificate does not permit the configured EID prefix", "dir", o.Dir, "prefix", o.EIDPrefix, "permitted", eins)
	}
}

// MarshalCertificate returns the PEM "CERTIFICATE" encoding of der.
func MarshalCertificate(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ParseCertificatePEM parses the first CERTIFICATE block of data, or data
// itself as DER when it holds no PEM block. Errors wrap ErrBadCert.
func ParseCertificatePEM(data []byte) (*x509.Certificate, error) {
	certs, err := parseCertificates(data, true)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// ParseCertificates parses all CERTIFICATE blocks of data (a bundle of CI
// certificates, for example), or data itself as one DER certificate when
// it holds no PEM block. Errors wrap ErrBadCert.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	return parseCertificates(data, false)
}

func parseCertificates(data []byte, first bool) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	sawPEM := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadCert, err)
		}
		out = append(out, c)
		if first {
			return out, nil
		}
	}
	if !sawPEM {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("%w: neither PEM nor DER: %w", ErrBadCert, err)
		}
		return []*x509.Certificate{c}, nil
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no CERTIFICATE block", ErrBadCert)
	}
	return out, nil
}

// MarshalKey returns key as a PKCS#8 "PRIVATE KEY" PEM block.
func MarshalKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey parses an ECDSA P-256 private key: the first "PRIVATE KEY"
// (PKCS#8) or "EC PRIVATE KEY" (SEC 1, as OpenSSL and pySim write it; an
// "EC PARAMETERS" block before it is skipped) PEM block, or, without PEM,
// PKCS#8 or SEC 1 DER. Errors wrap ErrBadKey.
func ParseKey(data []byte) (*ecdsa.PrivateKey, error) {
	rest := data
	sawPEM := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		switch b.Type {
		case "PRIVATE KEY":
			return parsePKCS8(b.Bytes)
		case "EC PRIVATE KEY":
			return checkP256(x509.ParseECPrivateKey(b.Bytes))
		}
	}
	if sawPEM {
		return nil, fmt.Errorf("%w: no PRIVATE KEY or EC PRIVATE KEY block", ErrBadKey)
	}
	if k, err := parsePKCS8(data); err == nil {
		return k, nil
	}
	return checkP256(x509.ParseECPrivateKey(data))
}

func parsePKCS8(der []byte) (*ecdsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %T is not an ECDSA key", ErrBadKey, k)
	}
	return checkP256(ek, nil)
}

func checkP256(k *ecdsa.PrivateKey, err error) (*ecdsa.PrivateKey, error) {
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	if k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: key is on %s, want P-256", ErrBadKey, k.Curve.Params().Name)
	}
	return k, nil
}

// writeFileAtomic writes data to a temporary file in the target's
// directory, syncs it and renames it over path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
