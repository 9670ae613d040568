package euicc

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// Options configure Open.
type Options struct {
	// Logger receives the card's logs; nil discards them.
	Logger *slog.Logger
	// Credentials are the card's key and certificates. Nil: use the ones in
	// the state file, or generate a test chain (a self-signed test EUM and
	// an eUICC certificate for the EID) and persist it in the state.
	// Supplied credentials are persisted too, so the card keeps its identity;
	// if the eUICC certificate's subject serialNumber is an EID it must be
	// the card's (a new card takes its EID from it).
	Credentials *Credentials
	// Seed adds the two seeded test profiles when Open creates a new state.
	Seed bool
	// ForceGetResponse makes the card answer every SELECT and STORE DATA
	// that has response data with 61xx and no data (T=0 style), so that the
	// data must be fetched with GET RESPONSE.
	ForceGetResponse bool
	// SVN is the SGP.22 version announced in EUICCInfo1/2; zero means 2.2.2.
	SVN rsp.Version
	// Issuer, when set, attaches the card to a PKI: its CI certificates
	// become the card's trusted CIs (persisted, so a later Open without
	// Issuer keeps them; their key identifiers are announced in
	// EUICCInfo1/2), and if the card's certificate chain does not lead to
	// one of them, the card's existing key and EID are certified anew with
	// IssueEUICC and the new chain is persisted. Without an Issuer the CIs
	// stored in the state are used; with none, AuthenticateServer answers
	// ciPKUnknown.
	Issuer Issuer
	// MaxProfileSize bounds the unprotected profile package a download may
	// carry; zero means 256 KiB. Larger packages fail with
	// installFailedDueToInsufficientMemoryForProfile.
	MaxProfileSize int
}

// ErrCorruptState is wrapped by Open's error when the state file exists but
// cannot be parsed or fails validation. The file is left untouched.
var ErrCorruptState = errors.New("euicc: corrupt state file")

// ActiveProfile is what the simulated modem needs of the enabled profile.
type ActiveProfile struct {
	ICCID       rsp.ICCID
	IMSI        string
	MCCMNC      string
	SPN         string
	ProfileName string
}

// numChannels is the number of logical channels: the basic channel 0 and
// the further channels 1..19.
const numChannels = 20

// Card is a simulated eUICC. All methods are safe for concurrent use.
type Card struct {
	mu    sync.Mutex
	path  string
	log   *slog.Logger
	st    *state
	creds *Credentials
	svn   rsp.Version

	forceGetResponse bool
	channels         [numChannels]channel
	busy             uint16
	challenge        []byte
	// trusted are the CI certificates of c.st.TrustedCIs.
	trusted []*x509.Certificate
	// sess is the profile download session (AuthenticateServer until the
	// BPP is loaded or the session is cancelled); nil when there is none.
	sess           *session
	maxProfileSize int
	now            func() time.Time
	// resetAfterResponse is set when a command asked for a card reset
	// (refreshFlag) while its response is still waiting for GET RESPONSE;
	// the reset happens once the response has been delivered.
	resetAfterResponse bool
	resetChannel       int

	resetHook func()

	// write persists the state file; tests replace it to inject failures.
	write func(path string, data []byte) error
	rand  io.Reader
}

// Open loads the card state from path, or creates it when the file does not
// exist: a fresh valid EID, credentials (see Options.Credentials), and the
// seeded test profiles when opts.Seed is set. A state file that exists but
// cannot be parsed is refused with an error wrapping ErrCorruptState and
// left as it is.
func Open(path string, opts Options) (*Card, error) {
	return open(path, opts, writeAtomic, rand.Reader)
}

func open(path string, opts Options, write func(string, []byte) error, rnd io.Reader) (*Card, error) {
	c := newCard(path, opts, write, rnd)
	dirty := false
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		st, err := unmarshalState(data)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrCorruptState, path, err)
		}
		c.st = st
	case errors.Is(err, fs.ErrNotExist):
		eid, err := c.initialEID(opts.Credentials)
		if err != nil {
			return nil, err
		}
		if c.st, err = newState(eid, opts.Seed); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("euicc: creating state directory: %w", err)
		}
		dirty = true
		c.log.Info("creating eUICC state", "path", path, "seeded", opts.Seed, "profiles", len(c.st.Profiles))
	default:
		return nil, fmt.Errorf("euicc: reading state: %w", err)
	}

	switch {
	case opts.Credentials != nil:
		cert, err := opts.Credentials.check()
		if err != nil {
			return nil, err
		}
		if eid := certEID(cert); eid != "" && eid != c.st.EID {
			return nil, fmt.Errorf("%w: certificate is for EID %s, the card in %s has %s", ErrCredentials, eid, path, c.st.EID)
		}
		stored, err := opts.Credentials.store()
		if err != nil {
			return nil, err
		}
		if c.st.Credentials == nil || !stored.equal(c.st.Credentials) {
			c.st.Credentials = stored
			dirty = true
		}
		c.creds = opts.Credentials
	case c.st.Credentials == nil:
		creds, err := generateCredentials(c.st.EID, rnd)
		if err != nil {
			return nil, err
		}
		if c.st.Credentials, err = creds.store(); err != nil {
			return nil, err
		}
		c.creds = creds
		dirty = true
		c.log.Info("generated test credentials", "path", path)
	default:
		creds, _, err := c.st.Credentials.parse()
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrCorruptState, path, err)
		}
		c.creds = creds
	}

	if opts.Issuer != nil {
		changed, err := c.applyIssuer(opts.Issuer)
		if err != nil {
			return nil, err
		}
		dirty = dirty || changed
	}
	if c.trusted, err = parseTrustedCIs(c.st.TrustedCIs); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrCorruptState, path, err)
	}

	if dirty {
		b, err := c.st.marshal()
		if err != nil {
			return nil, err
		}
		if err := c.write(path, b); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// newCard returns a card without state; open fills it in.
func newCard(path string, opts Options, write func(string, []byte) error, rnd io.Reader) *Card {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	svn := opts.SVN
	if svn == (rsp.Version{}) {
		svn = rsp.Version{2, 2, 2}
	}
	maxSize := opts.MaxProfileSize
	if maxSize <= 0 {
		maxSize = defaultMaxProfileSize
	}
	c := &Card{
		path:             path,
		log:              log,
		svn:              svn,
		forceGetResponse: opts.ForceGetResponse,
		maxProfileSize:   maxSize,
		now:              time.Now,
		write:            write,
		rand:             rnd,
	}
	c.channels[0].open = true
	return c
}

// initialEID picks the EID of a new card: the one in the supplied eUICC
// certificate if it carries a valid one, else a fresh random EID.
func (c *Card) initialEID(creds *Credentials) (rsp.EID, error) {
	if creds != nil {
		cert, err := x509.ParseCertificate(creds.EUICCCert)
		if err != nil {
			return "", fmt.Errorf("%w: eUICC certificate: %w", ErrCredentials, err)
		}
		if sn := certEID(cert); sn != "" {
			eid, err := rsp.ParseEID(sn)
			if err != nil {
				return "", fmt.Errorf("%w: eUICC certificate serialNumber: %w", ErrCredentials, err)
			}
			return eid, nil
		}
	}
	return newEID(c.rand)
}

func (s *storedCredentials) equal(o *storedCredentials) bool {
	if !bytes.Equal(s.Key, o.Key) || !bytes.Equal(s.EUICCCert, o.EUICCCert) ||
		!bytes.Equal(s.EUMCert, o.EUMCert) || len(s.CIPKIDs) != len(o.CIPKIDs) {
		return false
	}
	for i := range s.CIPKIDs {
		if !bytes.Equal(s.CIPKIDs[i], o.CIPKIDs[i]) {
			return false
		}
	}
	return true
}

// EID returns the card's EID.
func (c *Card) EID() rsp.EID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return rsp.EID(c.st.EID)
}

// Active returns the enabled profile, if any.
func (c *Card) Active() (ActiveProfile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.st.enabled()
	if i < 0 {
		return ActiveProfile{}, false
	}
	p := c.st.Profiles[i]
	return ActiveProfile{
		ICCID:       rsp.ICCID(p.ICCID),
		IMSI:        p.IMSI,
		MCCMNC:      p.MCCMNC,
		SPN:         p.ServiceProviderName,
		ProfileName: p.ProfileName,
	}, true
}

// SetResetHook registers f to be called, outside the card lock, after the
// card has reset itself (EnableProfile/DisableProfile with refreshFlag, or a
// memory reset that deleted the enabled profile). It is not called for
// Reset.
func (c *Card) SetResetHook(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetHook = f
}

// SetBusy makes every following STORE DATA answer the status word sw (for
// example 6F00 or 6985) until it is cleared with SetBusy(0). It is a fault
// hook for tests of the LPA.
func (c *Card) SetBusy(sw uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = sw
}

// Reset performs a card reset: logical channels 1..19 are closed, nothing
// stays selected on the basic channel, pending responses, partial STORE
// DATA commands, the eUICC challenge and any profile download session
// (including a partly loaded profile) are dropped.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetLocked()
}

func (c *Card) resetLocked() {
	for i := range c.channels {
		c.channels[i] = channel{}
	}
	c.channels[0].open = true
	c.challenge = nil
	c.endSession("card reset")
	c.resetAfterResponse = false
}

// ATR returns the card's answer-to-reset: T=0 with a T=15 global interface
// byte TB = 82 marking an eUICC, and compact historical bytes announcing
// logical channels.
func (c *Card) ATR() []byte {
	atr := []byte{
		0x3B,       // TS: direct convention
		0x97,       // T0: TA1, TD1 follow; 7 historical bytes
		0x96,       // TA1: Fi/Di
		0x80,       // TD1: TD2 follows; T=0
		0x3F,       // TD2: TA3, TB3 follow; T=15
		0xC7,       // TA3: clock stop no preference, classes A, B and C
		0x82,       // TB3: eUICC
		0x80,       // historical bytes: category indicator
		0x31, 0xE0, // card service data
		0x73, 0xFE, 0x21, 0x1F, // card capabilities: logical channels assigned by card and interface, 8 or more
	}
	var tck byte
	for _, b := range atr[1:] {
		tck ^= b
	}
	return append(atr, tck)
}

// mutate applies f to a copy of the state, writes the copy to the state
// file, and only then makes it the live state. If f or the write fails the
// live state is unchanged.
func (c *Card) mutate(f func(*state) error) error {
	next := c.st.clone()
	if err := f(next); err != nil {
		return err
	}
	b, err := next.marshal()
	if err != nil {
		return err
	}
	if err := c.write(c.path, b); err != nil {
		c.log.Error("persisting eUICC state failed", "path", c.path, "err", err)
		return err
	}
	c.st = next
	return nil
}
