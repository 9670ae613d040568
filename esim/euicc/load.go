package euicc

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/bsp"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/saip"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// defaultMaxProfileSize is the default bound on an unprotected profile
// package (Options.MaxProfileSize).
const defaultMaxProfileSize = 256 << 10

// Bounds of StoreMetadata fields (sgp22.md 2.5, 2.6).
const (
	maxSPNLen         = 32
	maxProfileNameLen = 64
	maxIconLen        = 1024
)

// simaResponseOK is the SAIP EUICCResponse reporting success
// (peStatus { status ok }) returned in a successful installation result.
var simaResponseOK = []byte{0x30, 0x07, 0xA0, 0x05, 0x30, 0x03, 0x80, 0x01, 0x00}

// loader is a BPP being loaded: the secure channel and profile parser,
// and what has been received so far. Nothing of it is persisted before the
// whole BPP has been verified and parsed.
type loader struct {
	w   *bsp.Unwrapper
	upp *saip.Parser
	// configured is set once ConfigureISDP has been accepted.
	configured bool
	// iccid is the metadata's ICCID once StoreMetadata has been decoded,
	// for the installation result even when the metadata is refused.
	iccid    rsp.ICCID
	metadata *rsp.StoreMetadataRequest
	content  []byte
}

// installFailure is a failed BPP step with its SGP.22 bppCommandId and
// errorReason.
type installFailure struct {
	cmd    rsp.BPPCommandID
	reason rsp.InstallErrorReason
	err    error
}

func (f *installFailure) Error() string {
	return fmt.Sprintf("%s: %s: %v", f.cmd, f.reason, f.err)
}

func (f *installFailure) Unwrap() error { return f.err }

func failAt(cmd rsp.BPPCommandID, reason rsp.InstallErrorReason, err error) *installFailure {
	return &installFailure{cmd: cmd, reason: reason, err: err}
}

// isBPPTransfer reports whether a request with this tag is a
// LoadBoundProfilePackage transfer: the BF36 that starts a BPP, or, while
// a BPP is being loaded, one of its sequence headers or segments.
func (c *Card) isBPPTransfer(tag tlv.Tag) bool {
	if tag == rsp.TagBoundProfilePackage {
		return true
	}
	if c.sess == nil || c.sess.load == nil {
		return false
	}
	switch tag {
	case bsp.TagFirstSequenceOf87, bsp.TagSequenceOf88, bsp.TagSecondSequenceOf87, bsp.TagSequenceOf86,
		tlv.Tag(bsp.TagProfileSegment), tlv.Tag(bsp.TagEncryptedSegment), tlv.Tag(bsp.TagMACOnlySegment):
		return true
	}
	return false
}

// loadBPP implements ES10b.LoadBoundProfilePackage (sgp22.md 4.5-4.7):
// every transfer (one STORE DATA command sequence) is fed to the BSP
// unwrapper; intermediate transfers are answered with 9000 and no data, the
// last one with the signed ProfileInstallationResult. The profile is
// committed, together with its install notification, only once the whole
// package has been verified and parsed. Any error answers a
// ProfileInstallationResult with the error, which is also kept as a
// pending notification, and ends the session. Without a session that has
// passed PrepareDownload the transfer is refused with 6985.
func (c *Card) loadBPP(req []byte) es10Result {
	s := c.sess
	if s == nil || !s.prepared {
		c.log.Info("LoadBoundProfilePackage without a prepared download session")
		return status(apdu.SWConditionsNotSatisf)
	}
	if s.load == nil {
		s.load = c.newLoader(s)
	}
	res, err := s.load.w.Feed(req)
	if err != nil {
		var le *bsp.LoadError
		if errors.As(err, &le) {
			return c.installFailed(s, failAt(rsp.BPPCommandID(le.Command), rsp.InstallErrorReason(le.Reason), err))
		}
		return c.installFailed(s, failAt(rsp.BPPCommandID(s.load.w.Command()), rsp.InstallUnknownError, err))
	}
	if f := c.loadStep(s, res); f != nil {
		return c.installFailed(s, f)
	}
	if !res.Done {
		return ok(nil)
	}
	return c.installCommit(s)
}

// newLoader opens the BSP unwrapper whose key agreement checks the BF23
// against the session and derives the session keys with the card's EID.
func (c *Card) newLoader(s *session) *loader {
	eid := rsp.EID(c.st.EID).Encode()
	agree := func(isc *bsp.InitialiseSecureChannel) (bsp.SessionKeys, error) {
		if !bytes.Equal(isc.TransactionID, s.txid) {
			return bsp.SessionKeys{}, fmt.Errorf("%w: BF23 is not for the current session", bsp.ErrTransactionID)
		}
		if err := pki.VerifyTR03111(s.dppb, isc.SignedData(s.otPK), isc.Signature); err != nil {
			return bsp.SessionKeys{}, fmt.Errorf("%w: %w", bsp.ErrSignature, err)
		}
		otSK := s.otSK
		s.otSK = nil // one-time key: never used for a second agreement
		if otSK == nil {
			return bsp.SessionKeys{}, errors.New("euicc: one-time key already used")
		}
		return isc.SessionKeys(otSK, eid)
	}
	return &loader{
		w:   bsp.NewUnwrapper(agree, bsp.Options{Logger: c.log}),
		upp: saip.NewParser(c.maxProfileSize),
	}
}

// loadStep handles what one transfer produced.
func (c *Card) loadStep(s *session, res bsp.Result) *installFailure {
	l := s.load
	if res.ConfigureISDP != nil {
		if _, err := rsp.DecodeConfigureISDPRequest(res.ConfigureISDP); err != nil {
			return failAt(rsp.BPPConfigureISDP, rsp.InstallIncorrectInputValues, err)
		}
		l.configured = true
	}
	if res.StoreMetadata != nil {
		if !l.configured {
			return failAt(rsp.BPPConfigureISDP, rsp.InstallIncorrectInputValues, errors.New("empty ConfigureISDP"))
		}
		m, err := rsp.DecodeStoreMetadataRequest(res.StoreMetadata)
		if err != nil {
			return failAt(rsp.BPPStoreMetadata, rsp.InstallIncorrectInputValues, err)
		}
		l.iccid = m.ICCID
		if f := c.checkMetadata(&m); f != nil {
			return f
		}
		l.metadata = &m
	}
	if (len(res.ProfileData) > 0 || res.Done) && l.metadata == nil {
		return failAt(rsp.BPPStoreMetadata, rsp.InstallIncorrectInputValues, errors.New("empty StoreMetadata"))
	}
	if len(res.ProfileData) > 0 {
		if len(l.content)+len(res.ProfileData) > c.maxProfileSize ||
			int64(profileNVM+len(l.metadata.Icon)+len(l.content)+len(res.ProfileData)) > c.st.freeNVM() {
			return failAt(rsp.BPPLoadProfileElements, rsp.InstallInsufficientMemoryForProfile,
				fmt.Errorf("profile package exceeds %d bytes or the free memory", len(l.content)+len(res.ProfileData)))
		}
		l.content = append(l.content, res.ProfileData...)
		if _, err := l.upp.Write(res.ProfileData); err != nil {
			if errors.Is(err, saip.ErrTooLarge) {
				return failAt(rsp.BPPLoadProfileElements, rsp.InstallInsufficientMemoryForProfile, err)
			}
			return failAt(rsp.BPPLoadProfileElements, rsp.InstallPEProcessingError, err)
		}
	}
	return nil
}

// checkMetadata validates StoreMetadata before any profile data arrives.
func (c *Card) checkMetadata(m *rsp.StoreMetadataRequest) *installFailure {
	switch {
	case c.st.byICCID(m.ICCID) >= 0:
		return failAt(rsp.BPPStoreMetadata, rsp.InstallICCIDAlreadyExistsOnEUICC,
			fmt.Errorf("ICCID %s already on the card", shortID(string(m.ICCID))))
	case m.ProfileClass != nil && (*m.ProfileClass < rsp.ProfileClassTest || *m.ProfileClass > rsp.ProfileClassOperational):
		return failAt(rsp.BPPStoreMetadata, rsp.InstallUnsupportedProfileClass, fmt.Errorf("profile class %d", *m.ProfileClass))
	case len(m.ServiceProviderName) > maxSPNLen || len(m.ProfileName) > maxProfileNameLen || len(m.Icon) > maxIconLen,
		!utf8.ValidString(m.ServiceProviderName) || !utf8.ValidString(m.ProfileName),
		m.IconType != nil && (*m.IconType < 0 || *m.IconType > 1),
		m.ProfileOwner != nil && !validPLMN(m.ProfileOwner.MCCMNC):
		return failAt(rsp.BPPStoreMetadata, rsp.InstallIncorrectInputValues, errors.New("metadata field out of range"))
	case int64(profileNVM+len(m.Icon)) > c.st.freeNVM():
		return failAt(rsp.BPPStoreMetadata, rsp.InstallInsufficientMemoryForProfile, errors.New("no memory left for a profile"))
	}
	return nil
}

// installCommit parses the end of the profile package, checks it against
// the metadata and commits the profile with its install notification in
// one state write.
func (c *Card) installCommit(s *session) es10Result {
	l := s.load
	prof, err := l.upp.Close()
	if err != nil {
		return c.installFailed(s, failAt(rsp.BPPLoadProfileElements, rsp.InstallPEProcessingError, err))
	}
	m := l.metadata
	if string(prof.ICCID) != string(m.ICCID) {
		return c.installFailed(s, failAt(rsp.BPPLoadProfileElements, rsp.InstallDataMismatch,
			fmt.Errorf("profile header ICCID %s, metadata ICCID %s", shortID(string(prof.ICCID)), shortID(string(m.ICCID)))))
	}
	p, err := newStoredProfile(m, prof.IMSI, l.content)
	if err != nil {
		return c.installFailed(s, failAt(rsp.BPPStoreMetadata, rsp.InstallIncorrectInputValues, err))
	}
	var result []byte
	err = c.mutate(func(st *state) error {
		if st.byICCID(m.ICCID) >= 0 {
			return failAt(rsp.BPPStoreMetadata, rsp.InstallICCIDAlreadyExistsOnEUICC, errors.New("ICCID already on the card"))
		}
		aid, err := st.allocISDP()
		if err != nil {
			return failAt(rsp.BPPLoadProfileElements, rsp.InstallInsufficientMemoryForProfile, err)
		}
		p.ISDPAID = aid
		st.Profiles = append(st.Profiles, p)
		result, err = c.installResult(st, s, m.ICCID, &rsp.InstallSuccess{AID: bytes.Clone(aid), SimaResponse: bytes.Clone(simaResponseOK)}, nil)
		if err != nil {
			return err
		}
		if err := st.validate(); err != nil {
			return failAt(rsp.BPPStoreMetadata, rsp.InstallIncorrectInputValues, err)
		}
		return nil
	})
	if err != nil {
		var f *installFailure
		if !errors.As(err, &f) {
			f = failAt(rsp.BPPLoadProfileElements, rsp.InstallUnknownError, err)
		}
		return c.installFailed(s, f)
	}
	c.endSession("profile installed")
	c.log.Info("profile installed", "iccid", shortID(string(m.ICCID)), "size", len(l.content))
	return ok(result)
}

// newStoredProfile builds the disabled profile from its metadata and the
// IMSI of its package. The serving network is the ProfileOwner's MCC/MNC,
// else the IMSI's first five digits (a 2-digit MNC).
func newStoredProfile(m *rsp.StoreMetadataRequest, imsi string, content []byte) (storedProfile, error) {
	class := rsp.ProfileClassOperational
	if m.ProfileClass != nil {
		class = *m.ProfileClass
	}
	p := storedProfile{
		ICCID:               string(m.ICCID),
		ServiceProviderName: m.ServiceProviderName,
		ProfileName:         m.ProfileName,
		Icon:                bytes.Clone(m.Icon),
		Class:               int(class),
		PolicyRules:         bytes.Clone(m.PPR),
		IMSI:                imsi,
		Content:             content,
	}
	if m.IconType != nil {
		t := int(*m.IconType)
		p.IconType = &t
	}
	for _, nc := range m.NotificationConfig {
		p.NotificationConfig = append(p.NotificationConfig, storedNotificationConfig{Events: uint8(nc.Event), Address: nc.Address})
	}
	if o := m.ProfileOwner; o != nil {
		p.Owner = &storedOwner{MCCMNC: bytes.Clone(o.MCCMNC), GID1: bytes.Clone(o.GID1), GID2: bytes.Clone(o.GID2)}
		mccmnc, err := decodePLMN(o.MCCMNC)
		if err != nil {
			return storedProfile{}, err
		}
		p.MCCMNC = mccmnc
	} else if len(imsi) >= 5 {
		p.MCCMNC = imsi[:5]
	}
	return p, nil
}

// installResult builds the signed ProfileInstallationResult for the
// session with the next sequence number of st and adds it to st as a
// pending install notification. It returns the BF37 TLV.
func (c *Card) installResult(st *state, s *session, iccid rsp.ICCID, success *rsp.InstallSuccess, failure *rsp.InstallFailure) ([]byte, error) {
	md := rsp.NotificationMetadata{Seq: st.NextSeq, Event: rsp.EventInstall, Address: s.serverAddress, ICCID: iccid}
	data := rsp.ProfileInstallationResultData{
		TransactionID: bytes.Clone(s.txid),
		Notification:  md,
		SMDPOID:       s.smdpOID,
		Success:       success,
		Failure:       failure,
	}
	data.Raw = data.Bytes()
	sig, err := signPlain(c.creds.Key, c.rand, data.Raw)
	if err != nil {
		return nil, err
	}
	raw := rsp.ProfileInstallationResult{Data: data, Signature: sig}.Encode()
	st.Notifications = append(st.Notifications, storedNotification{
		Seq: md.Seq, Event: uint8(rsp.EventInstall), Address: md.Address, ICCID: string(iccid), Raw: raw,
	})
	st.NextSeq++
	return raw, nil
}

// installFailed ends the session and answers the ProfileInstallationResult
// with the error, keeping it as a pending install notification. If that
// cannot be persisted the result is still returned.
func (c *Card) installFailed(s *session, f *installFailure) es10Result {
	c.log.Info("profile installation failed", "command", f.cmd.String(), "reason", f.reason.String(), "err", f.err)
	c.endSession("installation failed")
	var iccid rsp.ICCID
	if s.load != nil {
		iccid = s.load.iccid
	}
	failure := &rsp.InstallFailure{Command: f.cmd, Reason: f.reason}
	var result []byte
	err := c.mutate(func(st *state) error {
		var err error
		result, err = c.installResult(st, s, iccid, nil, failure)
		return err
	})
	if err != nil {
		c.log.Error("storing the installation result failed", "err", err)
		if result == nil {
			return status(apdu.SWNoPreciseDiagnosis)
		}
	}
	return ok(result)
}

// validPLMN reports whether b is a 3-byte PLMN identity of BCD digits.
func validPLMN(b []byte) bool {
	_, err := decodePLMN(b)
	return err == nil
}

// decodePLMN decodes a 3-byte PLMN identity (see encodePLMN) to its MCC
// and MNC digits.
func decodePLMN(b []byte) (string, error) {
	if len(b) != 3 {
		return "", fmt.Errorf("euicc: PLMN of %d bytes", len(b))
	}
	n := [6]byte{b[0] & 0xF, b[0] >> 4, b[1] & 0xF, b[2] & 0xF, b[2] >> 4, b[1] >> 4}
	out := make([]byte, 0, 6)
	for i, d := range n {
		if i == 5 && d == 0xF {
			break
		}
		if d > 9 {
			return "", fmt.Errorf("euicc: PLMN %X is not BCD", b)
		}
		out = append(out, '0'+d)
	}
	return string(out), nil
}
