package smdp

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mobileplans/mobileplans/esim/pki"
)

// Defaults of Config.
const (
	DefaultInventorySize  = 20
	DefaultICCIDPrefix    = "8900101"
	DefaultMCCMNC         = "00101"
	DefaultSPN            = "Contoso Cellular"
	DefaultProfileName    = "Contoso Cellular Prepaid"
	DefaultProfileType    = "standard"
	DefaultSessionTTL     = 15 * time.Minute
	DefaultMaxCCAttempts  = 3
	defaultMaxRequestBody = 1 << 20
)

// Config configures New.
type Config struct {
	// PKI holds the CI (trust anchor for eUICC certificates) and the
	// DPauth, DPpb and DPtls certificates with their keys. Required.
	PKI *pki.PKI
	// Address is the SM-DP+ address as it appears in activation codes,
	// FQDN[:port]. initiateAuthentication compares smdpAddress with it
	// case-insensitively; serverSigned1 and the notification addresses in
	// the profile metadata carry it. Empty means the DPtls host of PKI
	// (the subject CN of DPtls).
	Address string
	// DBPath is the SQLite database file. Empty means a fresh database in
	// a temporary directory that Close removes.
	DBPath string
	// Logger receives the logs; nil discards them. Matching IDs,
	// confirmation codes and keys are never logged in full.
	Logger *slog.Logger
	// Now is the clock (session expiry, certificate validity); nil means
	// time.Now.
	Now func() time.Time
	// Faults injects errors; nil injects none.
	Faults *Faults

	// InventorySize is the number of profiles generated when the database
	// holds none (first start); 0 means DefaultInventorySize.
	InventorySize int
	// ICCIDPrefix starts every generated ICCID (19 digits plus a Luhn
	// digit); empty means DefaultICCIDPrefix.
	ICCIDPrefix string
	// MCCMNC is the home network of the generated profiles (IMSI prefix,
	// profileOwner); empty means DefaultMCCMNC.
	MCCMNC string
	// SPN is the service provider name; empty means DefaultSPN.
	SPN string
	// ProfileName is the profile name in the metadata; empty means
	// DefaultProfileName.
	ProfileName string
	// ProfileType is the ES2+ profileType of the generated profiles; empty
	// means DefaultProfileType.
	ProfileType string
	// ProfileFiller is the number of filler bytes (phonebook records) in
	// each generated profile package, see saip.Spec.Filler; 0 means
	// saip.DefaultFiller, a package of about 12 KB.
	ProfileFiller int

	// SessionTTL is how long an ES9+ session lives after
	// initiateAuthentication; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// MaxCCAttempts is the number of wrong confirmation codes after which
	// an order is put in error; 0 means DefaultMaxCCAttempts.
	MaxCCAttempts int
	// ReplaceSessionKeys makes every BPP carry a ReplaceSessionKeys
	// request (A2) and protect the profile with fresh random keys.
	ReplaceSessionKeys bool

	// OperatorCAs verifies client certificates on ES2+ (mutual TLS); the
	// certificate must carry the clientAuth extended key usage. Nil means
	// the CI of PKI (see IssueOperatorCertificate).
	OperatorCAs *x509.CertPool
	// OperatorToken, when not empty, is accepted on ES2+ as
	// "Authorization: Bearer <token>" instead of a client certificate.
	OperatorToken string
	// MaxRequestBody limits request bodies; 0 means 1 MiB.
	MaxRequestBody int64
}

// withDefaults validates c and fills the defaults.
func (c Config) withDefaults() (Config, error) {
	if c.PKI == nil || c.PKI.CI == nil || c.PKI.DPauth == nil || c.PKI.DPpb == nil || c.PKI.DPtls == nil {
		return c, errors.New("smdp: Config.PKI with CI, DPauth, DPpb and DPtls is required")
	}
	if c.PKI.DPauth.Key == nil || c.PKI.DPpb.Key == nil {
		return c, fmt.Errorf("smdp: %w: DPauth and DPpb keys", pki.ErrNoKey)
	}
	if len(c.PKI.SMDPOID) == 0 {
		return c, errors.New("smdp: the PKI has no SM-DP+ OID")
	}
	if c.Address == "" {
		c.Address = c.PKI.DPtls.Cert.Subject.CommonName
	}
	if err := checkAddress(c.Address); err != nil {
		return c, err
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.InventorySize == 0 {
		c.InventorySize = DefaultInventorySize
	}
	if c.InventorySize < 0 {
		return c, fmt.Errorf("smdp: InventorySize %d is negative", c.InventorySize)
	}
	if c.ICCIDPrefix == "" {
		c.ICCIDPrefix = DefaultICCIDPrefix
	}
	if !allDigits(c.ICCIDPrefix) || len(c.ICCIDPrefix) < 2 || len(c.ICCIDPrefix) > 12 {
		return c, fmt.Errorf("smdp: ICCIDPrefix %q is not 2 to 12 digits", c.ICCIDPrefix)
	}
	if c.MCCMNC == "" {
		c.MCCMNC = DefaultMCCMNC
	}
	if _, err := encodePLMN(c.MCCMNC); err != nil {
		return c, err
	}
	if c.SPN == "" {
		c.SPN = DefaultSPN
	}
	if c.ProfileName == "" {
		c.ProfileName = DefaultProfileName
	}
	if len(c.SPN) > 32 || len(c.ProfileName) > 64 {
		return c, errors.New("smdp: SPN must be at most 32 and ProfileName at most 64 bytes")
	}
	if c.ProfileType == "" {
		c.ProfileType = DefaultProfileType
	}
	if c.ProfileFiller < 0 {
		return c, fmt.Errorf("smdp: ProfileFiller %d is negative", c.ProfileFiller)
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.SessionTTL < 0 {
		return c, fmt.Errorf("smdp: SessionTTL %v is negative", c.SessionTTL)
	}
	if c.MaxCCAttempts == 0 {
		c.MaxCCAttempts = DefaultMaxCCAttempts
	}
	if c.MaxCCAttempts < 0 {
		return c, fmt.Errorf("smdp: MaxCCAttempts %d is negative", c.MaxCCAttempts)
	}
	if c.OperatorCAs == nil {
		c.OperatorCAs = c.PKI.RootPool()
	}
	if c.MaxRequestBody == 0 {
		c.MaxRequestBody = defaultMaxRequestBody
	}
	return c, nil
}

// checkAddress accepts host[:port] with a non-empty host free of spaces,
// slashes and '$' (the activation code separator).
func checkAddress(a string) error {
	host := a
	if h, p, err := net.SplitHostPort(a); err == nil {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("smdp: Address %q has an invalid port", a)
		}
		host = h
	}
	if host == "" || strings.ContainsAny(host, " /\\$@?#") {
		return fmt.Errorf("smdp: Address %q is not FQDN[:port]", a)
	}
	return nil
}
