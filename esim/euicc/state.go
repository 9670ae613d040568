package euicc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// stateVersion is the version of the JSON state file layout.
const stateVersion = 1

// firstISDP is the first value of the ISD-P AID counter: the AIDs become
// A0000005591010FFFFFFFF8900001000, ...1100, ...1200 (the convention real
// cards use).
const firstISDP = 0x10

// maxISDP bounds the ISD-P counter (two bytes of the AID).
const maxISDP = 0xFFFF

// state is the whole persisted store. It is only ever modified on a copy
// (see Card.mutate) so that a failed write leaves the live state unchanged.
type state struct {
	Version          int                  `json:"version"`
	EID              string               `json:"eid"`
	Credentials      *storedCredentials   `json:"credentials,omitempty"`
	DefaultDPAddress string               `json:"defaultDpAddress,omitempty"`
	RootDSAddress    string               `json:"rootDsAddress"`
	Profiles         []storedProfile      `json:"profiles"`
	Notifications    []storedNotification `json:"notifications"`
	NextSeq          int                  `json:"nextSeq"`
	NextISDP         int                  `json:"nextIsdp"`
	// TrustedCIs are the DER CI certificates the card verifies SM-DP+
	// certificates against (see Options.Issuer).
	TrustedCIs [][]byte `json:"trustedCis,omitempty"`
}

// storedCredentials are the card's key (PKCS#8 DER) and certificates (DER).
type storedCredentials struct {
	Key       []byte   `json:"key"`
	EUICCCert []byte   `json:"euiccCert"`
	EUMCert   []byte   `json:"eumCert"`
	CIPKIDs   [][]byte `json:"ciPkIds"`
}

// storedProfile is one installed profile: its ProfileInfo fields plus what
// the simulated modem needs (IMSI, serving network) and an opaque content
// blob for the profile package.
type storedProfile struct {
	ICCID               string                     `json:"iccid"`
	ISDPAID             []byte                     `json:"isdpAid"`
	Enabled             bool                       `json:"enabled"`
	Nickname            string                     `json:"nickname,omitempty"`
	ServiceProviderName string                     `json:"serviceProviderName"`
	ProfileName         string                     `json:"profileName"`
	IconType            *int                       `json:"iconType,omitempty"`
	Icon                []byte                     `json:"icon,omitempty"`
	Class               int                        `json:"class"`
	NotificationConfig  []storedNotificationConfig `json:"notificationConfig,omitempty"`
	Owner               *storedOwner               `json:"owner,omitempty"`
	PolicyRules         []byte                     `json:"policyRules,omitempty"`
	IMSI                string                     `json:"imsi"`
	MCCMNC              string                     `json:"mccmnc"`
	// Preloaded marks profiles present from manufacture; eUICCMemoryReset's
	// deleteFieldLoadedTestProfiles spares preloaded test profiles.
	Preloaded bool   `json:"preloaded,omitempty"`
	Content   []byte `json:"content,omitempty"`
}

type storedNotificationConfig struct {
	Events  uint8  `json:"events"`
	Address string `json:"address"`
}

type storedOwner struct {
	MCCMNC []byte `json:"mccMnc"`
	GID1   []byte `json:"gid1,omitempty"`
	GID2   []byte `json:"gid2,omitempty"`
}

// storedNotification is a pending notification: its metadata (for
// filtering without re-parsing) and the signed TLV exactly as it is handed
// to the LPA.
type storedNotification struct {
	Seq     int    `json:"seq"`
	Event   uint8  `json:"event"`
	Address string `json:"address"`
	ICCID   string `json:"iccid,omitempty"`
	Raw     []byte `json:"raw"`
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}

func (p storedProfile) clone() storedProfile {
	q := p
	q.ISDPAID = cloneBytes(p.ISDPAID)
	if p.IconType != nil {
		t := *p.IconType
		q.IconType = &t
	}
	q.Icon = cloneBytes(p.Icon)
	q.NotificationConfig = slices.Clone(p.NotificationConfig)
	if p.Owner != nil {
		o := storedOwner{MCCMNC: cloneBytes(p.Owner.MCCMNC), GID1: cloneBytes(p.Owner.GID1), GID2: cloneBytes(p.Owner.GID2)}
		q.Owner = &o
	}
	q.PolicyRules = cloneBytes(p.PolicyRules)
	q.Content = cloneBytes(p.Content)
	return q
}

// clone returns a deep copy.
func (s *state) clone() *state {
	n := *s
	if s.Credentials != nil {
		c := storedCredentials{
			Key:       cloneBytes(s.Credentials.Key),
			EUICCCert: cloneBytes(s.Credentials.EUICCCert),
			EUMCert:   cloneBytes(s.Credentials.EUMCert),
		}
		for _, id := range s.Credentials.CIPKIDs {
			c.CIPKIDs = append(c.CIPKIDs, cloneBytes(id))
		}
		n.Credentials = &c
	}
	if s.TrustedCIs != nil {
		n.TrustedCIs = make([][]byte, len(s.TrustedCIs))
		for i, d := range s.TrustedCIs {
			n.TrustedCIs[i] = cloneBytes(d)
		}
	}
	n.Profiles = make([]storedProfile, len(s.Profiles))
	for i, p := range s.Profiles {
		n.Profiles[i] = p.clone()
	}
	n.Notifications = make([]storedNotification, len(s.Notifications))
	for i, m := range s.Notifications {
		m.Raw = cloneBytes(m.Raw)
		n.Notifications[i] = m
	}
	return &n
}

// marshal encodes the state for the file.
func (s *state) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("euicc: encoding state: %w", err)
	}
	return append(b, '\n'), nil
}

// unmarshalState decodes and validates a state file's content.
func unmarshalState(b []byte) (*state, error) {
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// enabled returns the index of the enabled profile, or -1.
func (s *state) enabled() int {
	for i, p := range s.Profiles {
		if p.Enabled {
			return i
		}
	}
	return -1
}

// byICCID returns the index of the profile with that ICCID, or -1.
func (s *state) byICCID(iccid rsp.ICCID) int {
	for i, p := range s.Profiles {
		if p.ICCID == string(iccid) {
			return i
		}
	}
	return -1
}

// byAID returns the index of the profile with that ISD-P AID, or -1.
func (s *state) byAID(aid []byte) int {
	for i, p := range s.Profiles {
		if bytes.Equal(p.ISDPAID, aid) {
			return i
		}
	}
	return -1
}

// find resolves a ProfileID (ICCID or ISD-P AID) to an index, or -1.
func (s *state) find(id rsp.ProfileID) int {
	if len(id.AID) > 0 {
		return s.byAID(id.AID)
	}
	if id.ICCID != "" {
		return s.byICCID(id.ICCID)
	}
	return -1
}

// allocISDP returns the next ISD-P AID and advances the counter.
func (s *state) allocISDP() ([]byte, error) {
	for s.NextISDP <= maxISDP {
		aid := isdpAID(s.NextISDP)
		s.NextISDP++
		if s.byAID(aid) < 0 {
			return aid, nil
		}
	}
	return nil, errors.New("euicc: ISD-P AIDs exhausted")
}

// isdpAID builds an ISD-P AID from the counter: the ISD-R AID with the
// counter in bytes 13..14 and 00 in byte 15 (n=0x10 gives ...8900001000).
func isdpAID(n int) []byte {
	aid := []byte{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x00, 0x00}
	aid[13] = byte(n >> 8)
	aid[14] = byte(n)
	return aid
}

// validate checks the invariants the card relies on. It is applied to
// every loaded state file and, in tests, after every command.
func (s *state) validate() error {
	if s.Version != stateVersion {
		return fmt.Errorf("unsupported state version %d (want %d)", s.Version, stateVersion)
	}
	if _, err := rsp.ParseEID(s.EID); err != nil || len(s.EID) != 32 {
		return fmt.Errorf("invalid EID %q", s.EID)
	}
	if s.Credentials != nil {
		_, cert, err := s.Credentials.parse()
		if err != nil {
			return err
		}
		if eid := certEID(cert); eid != "" && eid != s.EID {
			return fmt.Errorf("eUICC certificate is for EID %s, state has %s", eid, s.EID)
		}
	}
	if _, err := parseTrustedCIs(s.TrustedCIs); err != nil {
		return err
	}
	if s.NextSeq < 1 {
		return fmt.Errorf("invalid next sequence number %d", s.NextSeq)
	}
	if s.NextISDP < firstISDP || s.NextISDP > maxISDP+1 {
		return fmt.Errorf("invalid ISD-P counter %d", s.NextISDP)
	}
	enabled := 0
	for i, p := range s.Profiles {
		iccid, err := rsp.ParseICCID(p.ICCID)
		if err != nil || string(iccid) != p.ICCID {
			return fmt.Errorf("profile %d: invalid ICCID %q", i, p.ICCID)
		}
		if len(p.ISDPAID) < 5 || len(p.ISDPAID) > 16 {
			return fmt.Errorf("profile %s: ISD-P AID of %d bytes", p.ICCID, len(p.ISDPAID))
		}
		for j := range i {
			if s.Profiles[j].ICCID == p.ICCID {
				return fmt.Errorf("duplicate ICCID %s", p.ICCID)
			}
			if bytes.Equal(s.Profiles[j].ISDPAID, p.ISDPAID) {
				return fmt.Errorf("duplicate ISD-P AID %X", p.ISDPAID)
			}
		}
		if p.Class < 0 || p.Class > 2 {
			return fmt.Errorf("profile %s: invalid class %d", p.ICCID, p.Class)
		}
		if p.IconType != nil && (*p.IconType < 0 || *p.IconType > 1) {
			return fmt.Errorf("profile %s: invalid icon type %d", p.ICCID, *p.IconType)
		}
		if len(p.Nickname) > rsp.MaxNicknameLen {
			return fmt.Errorf("profile %s: nickname of %d bytes", p.ICCID, len(p.Nickname))
		}
		if p.Owner != nil && len(p.Owner.MCCMNC) != 3 {
			return fmt.Errorf("profile %s: owner MCC/MNC of %d bytes", p.ICCID, len(p.Owner.MCCMNC))
		}
		if p.Enabled {
			enabled++
		}
	}
	if enabled > 1 {
		return fmt.Errorf("%d profiles enabled", enabled)
	}
	for i, n := range s.Notifications {
		if n.Seq < 1 || n.Seq >= s.NextSeq {
			return fmt.Errorf("notification %d: sequence number %d outside 1..%d", i, n.Seq, s.NextSeq-1)
		}
		for j := range i {
			if s.Notifications[j].Seq == n.Seq {
				return fmt.Errorf("duplicate notification sequence number %d", n.Seq)
			}
		}
		pn, err := rsp.DecodePendingNotification(n.Raw)
		if err != nil {
			return fmt.Errorf("notification %d: %w", n.Seq, err)
		}
		md := pn.Metadata
		if md.Seq != n.Seq || uint8(md.Event) != n.Event || md.Address != n.Address || string(md.ICCID) != n.ICCID {
			return fmt.Errorf("notification %d: stored metadata does not match the signed notification", n.Seq)
		}
	}
	return nil
}
